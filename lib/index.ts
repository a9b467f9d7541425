export { BLAZE_CONTEXT } from './blaze-rpc.constants.js';
export { BlazeRpcModule } from './blaze-rpc.module.js';
export { BLAZE_RPC_MODULE_OPTIONS } from './blaze-rpc.module-definition.js';
export { BlazeContext } from './context/blaze-context.js';
export { Ctx } from './decorators/ctx.decorator.js';
export { Depends, type Dependency } from './decorators/depends.decorator.js';
export { Input } from './decorators/input.decorator.js';
export { Model } from './decorators/model.decorator.js';
export * from './errors/index.js';
export { RepositoryControlGuard } from './guards/repository-control.guard.js';
export { BlazeHealthService, type ServingStatus } from './health/blaze-health.service.js';
export { MetricsEndpoint } from './metrics/metrics-endpoint.js';
export type { BlazeMetricsOptions } from './metrics/metrics-options.interface.js';
export type { BatchingOptions, ModelBatchingOptions } from './interfaces/batching-options.interface.js';
export type { RequestLimits } from './interfaces/request-limits.interface.js';
export type { BlazeRpcModuleOptions, KeepaliveOptions, ServerTlsOptions } from './interfaces/blaze-rpc-options.interface.js';
export type { ModelOptions } from './interfaces/model-options.interface.js';
export { ModelRegistry, type ModelKey } from './registry/model.registry.js';
export { LiveModels } from './registry/live-models.service.js';
export {
  isRepositoryControlCall,
  RepositoryControlCall,
  type ModelRepositoryControl,
  type RepositoryModelState,
} from './registry/model-repository.interface.js';
export type { FieldType, ListFieldType, ScalarFieldType, TensorFieldType } from './schema/field-type.js';
export type { ModelDescriptor, ModelFieldSpec } from './schema/model-descriptor.interface.js';
export { Bytes, Float32, Float64, Int32, Int64, ScalarType, UInt32, UInt64, type ScalarProtoType } from './schema/scalar-type.js';
export type { InputTypeRef, NamedTypeRefs, TypeRef } from './schema/type-ref.js';
export { Stream } from './schema/stream-type.js';
export { BlazeRpcServer } from './transport/blaze-rpc.server.js';
export { Tensor, type TensorData } from './tensor/tensor.js';
export { itemSizeOf } from './tensor/tensor-dtype.js';
export { TENSOR_DTYPES, type TensorDType, type TensorDTypeName } from './tensor/tensor-dtype.js';
export { TensorSpec, type TensorDim } from './tensor/tensor-spec.js';
export * from './client/index.js';
