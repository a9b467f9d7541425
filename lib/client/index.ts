export { BlazeClient, waitForHealth, type HealthStatus, type MessageSource } from './blaze-client.js';
export type {
  BlazeClientOptions,
  CallOptions,
  ClientTlsOptions,
  DetailedCallOptions,
} from './blaze-client-options.interface.js';
export { BlazeDuplex } from './blaze-duplex.js';
export { BlazeRpcClientError, type GrpcStatusName } from './blaze-rpc-client.error.js';
export type { CallDetails, CallResult, CallStatus } from './call-details.interface.js';
export type { ClientField, ClientModel } from './client-model-catalog.js';
export { tensorToJson, type TensorJson } from './client-message.convert.js';
export type { BlazeModelMap, ModelCallKind, ModelNamesOf } from './model-map.types.js';
export type { BlazeStream } from './reply-stream.js';
export {
  BlazeRpcClientModule,
  getBlazeClientToken,
  InjectBlazeClient,
  type BlazeRpcClientModuleAsyncOptions,
  type BlazeRpcClientModuleOptions,
} from './blaze-rpc-client.module.js';
export * from './oip/index.js';
