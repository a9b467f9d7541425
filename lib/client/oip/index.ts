export { OipClient } from './oip-client.js';
export type {
  OipBytesAs,
  OipCallOptions,
  OipClientOptions,
  OipInferOptions,
  OipRequestedOutput,
  OipRequestOptions,
  OipStreamOptions,
  OipWaitOptions,
} from './oip-client-options.interface.js';
export { OipInferStream, type OipStreamResponse } from './oip-infer-stream.js';
export { OipStreamError } from './oip-stream.error.js';
export type {
  OipBatchStatistics,
  OipDuration,
  OipInferStatistics,
  OipModelConfig,
  OipModelMetadata,
  OipModelStatistics,
  OipRepositoryModel,
  OipServerMetadata,
  OipTensorMetadata,
} from './oip-metadata.interface.js';
export type {
  OipInferResult,
  OipInput,
  OipInputs,
  OipOutput,
  OipOutputInfo,
  OipParameters,
  OipParameterValue,
  OipTensorInput,
} from './oip-tensors.interface.js';
export type { OipDatatype } from '../../protocols/shared/oip-datatype.js';
export {
  getOipClientToken,
  InjectOipClient,
  OipClientModule,
  type OipClientModuleAsyncOptions,
  type OipClientModuleOptions,
} from './oip-client.module.js';
