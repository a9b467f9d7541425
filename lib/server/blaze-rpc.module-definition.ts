import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { BlazeRpcModuleOptions } from '../core/options/blaze-rpc-options.interface.js';
import { BlazeMetrics } from '../observability/blaze-metrics.js';
import { createMetricsDefinition } from '../observability/metrics.providers.js';
import { InferenceStatistics } from '../observability/inference-statistics.js';
import type { BlazeMetricsOptions } from '../observability/metrics-options.interface.js';

/** Options of forRoot/forRootAsync that shape the module itself, so they cannot come from a factory. */
interface BlazeRpcModuleExtras {
  /** Register the module globally. @default true */
  isGlobal: boolean;
  /** Export Prometheus metrics (and serve them at `/metrics`). @default false */
  metrics: boolean | BlazeMetricsOptions;
}

export const {
  ConfigurableModuleClass: BlazeRpcConfigurableModule,
  MODULE_OPTIONS_TOKEN: BLAZE_RPC_MODULE_OPTIONS,
  OPTIONS_TYPE: BLAZE_RPC_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: BLAZE_RPC_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BlazeRpcModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras<BlazeRpcModuleExtras>({ isGlobal: true, metrics: false }, (definition, extras) => {
    const metrics = createMetricsDefinition(extras.metrics);
    return {
      ...definition,
      global: extras.isGlobal,
      imports: [...(definition.imports ?? []), ...(metrics.imports ?? [])],
      providers: [...(definition.providers ?? []), ...(metrics.providers ?? [])],
      exports: [...(definition.exports ?? []), BlazeMetrics, InferenceStatistics],
    };
  })
  .build();
