export { BlazeClient, waitForHealth, type HealthStatus } from './blaze-client.js';
export type { BlazeClientOptions, BlazeModelMap, CallOptions, ClientTlsOptions } from './blaze-client-options.interface.js';
export { BlazeRpcClientError, type GrpcStatusName } from './blaze-rpc-client.error.js';
export type { ClientField, ClientModel } from './client-model-catalog.js';
export { tensorToJson, type TensorJson } from './client-message.convert.js';
export {
  BlazeRpcClientModule,
  getBlazeClientToken,
  InjectBlazeClient,
  type BlazeRpcClientModuleAsyncOptions,
  type BlazeRpcClientModuleOptions,
} from './blaze-rpc-client.module.js';
export * from './oip/index.js';
