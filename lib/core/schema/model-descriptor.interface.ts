import type { BatchingOptions } from '../options/batching-options.interface.js';
import type { BatchPlan } from './batch-plan.interface.js';
import type { FieldType } from './field-type.js';

/** One request field or response field of a model. */
export interface ModelFieldSpec {
  /** Field name on the wire. */
  readonly name: string;
  /** Field number in the generated message (1..N). */
  readonly number: number;
  /** Wire type. */
  readonly type: FieldType;
}

/** What the registry knows of one registered model version. */
export interface ModelDescriptor {
  /** Model name as given to `@Model()`. */
  readonly name: string;
  /** Version string. */
  readonly version: string;
  /** Whether `Predict{Name}` serves this version. */
  readonly isDefault: boolean;
  /** Server streaming: the model answers with a stream of responses. */
  readonly streaming: boolean;
  /** Client streaming: the model takes a stream of request messages (its one input is a `Stream(...)`). */
  readonly inputStreaming: boolean;
  /** `@Model({ description })`. */
  readonly description?: string;
  /** Request fields, in field-number order. */
  readonly inputs: readonly ModelFieldSpec[];
  /** Response fields: `result`, or one per named output. */
  readonly outputs: readonly ModelFieldSpec[];
  /** True when the model declared named outputs rather than a single `result`. */
  readonly namedOutputs: boolean;
  /** rpc names that reach this version, e.g. `['PredictIrisV2', 'PredictIris']`. */
  readonly rpcMethods: readonly string[];
  /** Request message name (unqualified). */
  readonly requestType: string;
  /** Response message name (unqualified). */
  readonly responseType: string;
  /** `Class.method` that implements it, for logs and errors. */
  readonly handler: string;
  /** Batching settings in force (module defaults plus the model's overrides) when the model is batched. */
  readonly batching?: Required<BatchingOptions>;
  /** How its requests merge into one execution, when the model is batched. */
  readonly batchPlan?: BatchPlan;
  /** Why the model runs one request at a time, when it does. */
  readonly unbatchedReason?: string;
}
