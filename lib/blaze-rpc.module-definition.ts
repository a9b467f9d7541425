import { ConfigurableModuleBuilder } from '@nestjs/common';
import type { BlazeRpcModuleOptions } from './interfaces/blaze-rpc-options.interface.js';

export const {
  ConfigurableModuleClass: BlazeRpcConfigurableModule,
  MODULE_OPTIONS_TOKEN: BLAZE_RPC_MODULE_OPTIONS,
  OPTIONS_TYPE: BLAZE_RPC_OPTIONS_TYPE,
  ASYNC_OPTIONS_TYPE: BLAZE_RPC_ASYNC_OPTIONS_TYPE,
} = new ConfigurableModuleBuilder<BlazeRpcModuleOptions>()
  .setClassMethodName('forRoot')
  .setExtras({ isGlobal: true }, (definition, extras) => ({ ...definition, global: extras.isGlobal }))
  .build();
