import { Module, type DynamicModule } from '@nestjs/common';
import { DiscoveryModule } from '@nestjs/core';
import { BLAZE_CONTEXT, RESOLVED_OPTIONS } from '../core/blaze-rpc.constants.js';
import {
  BLAZE_RPC_ASYNC_OPTIONS_TYPE,
  BLAZE_RPC_MODULE_OPTIONS,
  BLAZE_RPC_OPTIONS_TYPE,
  BlazeRpcConfigurableModule,
} from './blaze-rpc.module-definition.js';
import { blazeContextProvider } from '../core/context/blaze-context.provider.js';
import { BlazeRpcExplorer } from '../core/discovery/blaze-rpc.explorer.js';
import { BlazeRpcMetadataAccessor } from '../core/discovery/blaze-rpc-metadata.accessor.js';
import { BlazeHealthService } from '../core/health/blaze-health.service.js';
import type { BlazeRpcModuleOptions } from '../core/options/blaze-rpc-options.interface.js';
import { resolveOptions } from '../core/options/resolve-options.js';
import { LiveModels } from './live-models.service.js';
import { ModelRegistry } from '../core/registry/model.registry.js';
import { BlazeRpcServer } from './blaze-rpc.server.js';
import { ModelInvokerFactory } from '../pipeline/model-invoker.factory.js';

/**
 * Serves the `@Model()` methods of this app's providers over gRPC.
 * Global by default (pass `isGlobal: false` to scope it).
 *
 * @example
 * ```ts
 * @Module({ imports: [BlazeRpcModule.forRoot({ port: 50051 })], providers: [TextModels] })
 * export class AppModule {}
 * // main.ts
 * app.connectMicroservice({ strategy: app.get(BlazeRpcServer) });
 * await app.startAllMicroservices();
 * ```
 */
@Module({
  imports: [DiscoveryModule],
  providers: [
    {
      provide: RESOLVED_OPTIONS,
      inject: [BLAZE_RPC_MODULE_OPTIONS],
      useFactory: (options: BlazeRpcModuleOptions) => resolveOptions(options),
    },
    blazeContextProvider,
    BlazeRpcMetadataAccessor,
    BlazeRpcExplorer,
    BlazeHealthService,
    BlazeRpcServer,
    ModelInvokerFactory,
    ModelRegistry,
    LiveModels,
  ],
  exports: [BLAZE_CONTEXT, BlazeHealthService, BlazeRpcServer, ModelRegistry, LiveModels],
})
export class BlazeRpcModule extends BlazeRpcConfigurableModule {
  /**
   * The module with these options; every one has a documented default, so
   * `forRoot()` alone serves on 0.0.0.0:50051. Besides the server options
   * (`BlazeRpcModuleOptions`): `isGlobal` (default `true`) and `metrics`
   * (`true` or `BlazeMetricsOptions` for Prometheus; needs the optional
   * peers `prom-client` and `@willsoto/nestjs-prometheus`).
   *
   * @example
   * ```ts
   * BlazeRpcModule.forRoot({ port: 50051, metrics: true })
   * ```
   */
  static override forRoot(options: typeof BLAZE_RPC_OPTIONS_TYPE = {}): DynamicModule {
    return super.forRoot(options);
  }

  /**
   * The module with server options from a factory, e.g. from `ConfigService`.
   * `isGlobal` and `metrics` shape the module itself, so they are given here,
   * beside the factory, not returned by it.
   *
   * @example
   * ```ts
   * BlazeRpcModule.forRootAsync({
   *   imports: [ConfigModule],
   *   inject: [ConfigService],
   *   useFactory: (config: ConfigService) => ({ port: config.get('GRPC_PORT') }),
   *   metrics: true,
   * })
   * ```
   */
  static override forRootAsync(options: typeof BLAZE_RPC_ASYNC_OPTIONS_TYPE): DynamicModule {
    return super.forRootAsync(options);
  }
}
