export { BLAZE_CONTEXT } from './core/blaze-rpc.constants.js';
export { BlazeRpcModule } from './server/blaze-rpc.module.js';
export { BLAZE_RPC_MODULE_OPTIONS } from './server/blaze-rpc.module-definition.js';
export { BlazeContext } from './core/context/blaze-context.js';
export { Ctx } from './core/decorators/ctx.decorator.js';
export { Depends, type Dependency } from './core/decorators/depends.decorator.js';
export { Input } from './core/decorators/input.decorator.js';
export { Model } from './core/decorators/model.decorator.js';
export * from './core/errors/index.js';
export { RepositoryControlGuard } from './core/registry/repository-control.guard.js';
export { BlazeHealthService, type ServingStatus } from './core/health/blaze-health.service.js';
export { MetricsEndpoint } from './observability/metrics-endpoint.js';
export type { BlazeMetricsOptions } from './observability/metrics-options.interface.js';
export type { BatchingOptions, ModelBatchingOptions } from './core/options/batching-options.interface.js';
export type { RequestLimits } from './core/options/request-limits.interface.js';
export type {
  BlazeRpcModuleOptions,
  KeepaliveOptions,
  ServerTlsOptions,
} from './core/options/blaze-rpc-options.interface.js';
export type { ModelOptions } from './core/options/model-options.interface.js';
export { ModelRegistry, type ModelKey } from './core/registry/model.registry.js';
export { LiveModels } from './server/live-models.service.js';
export {
  isRepositoryControlCall,
  RepositoryControlCall,
  type ModelRepositoryControl,
  type RepositoryModelState,
} from './core/registry/model-repository.interface.js';
export type { FieldType, ListFieldType, ScalarFieldType, TensorFieldType } from './core/schema/field-type.js';
export type { ModelDescriptor, ModelFieldSpec } from './core/schema/model-descriptor.interface.js';
export {
  Bytes,
  Float32,
  Float64,
  Int32,
  Int64,
  ScalarType,
  UInt32,
  UInt64,
  type ScalarProtoType,
} from './core/schema/scalar-type.js';
export type { InputTypeRef } from './core/schema/input-type-ref.js';
export type { NamedTypeRefs, TypeRef } from './core/schema/type-ref.js';
export { Stream } from './core/schema/stream-type.js';
export { BlazeRpcServer } from './server/blaze-rpc.server.js';
export { Tensor, type TensorData } from './core/tensor/tensor.js';
export { itemSizeOf } from './core/tensor/tensor-dtype.js';
export { TENSOR_DTYPES, type TensorDType, type TensorDTypeName } from './core/tensor/tensor-dtype.js';
export { TensorSpec, type TensorDim } from './core/tensor/tensor-spec.js';
export * from './client/index.js';
