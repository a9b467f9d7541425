import type { BlazeClientOptions, CallOptions } from '../blaze-client-options.interface.js';
import type { OipParameters } from './oip-tensors.interface.js';

/** How BYTES outputs come back: UTF-8 strings, or `Buffer`s over the received bytes. */
export type OipBytesAs = 'string' | 'buffer';

/** Options of `new OipClient()`. Connection options mean what they mean for `BlazeClient`. */
export interface OipClientOptions extends Pick<
  BlazeClientOptions,
  'tls' | 'credentials' | 'channelOptions' | 'interceptors' | 'compression' | 'metadata' | 'timeoutMs'
> {
  /**
   * How BYTES outputs come back unless a call says otherwise.
   * @default 'string'
   */
  bytesAs?: OipBytesAs;
}

/** Options of one call: metadata (added to the client's), deadline, cancellation. */
export type OipCallOptions = Omit<CallOptions, 'version'>;

/** An output to ask for, with its parameters (e.g. Triton's `classification`). */
export interface OipRequestedOutput {
  name: string;
  parameters?: OipParameters;
}

/** What goes into one `ModelInferRequest` besides the inputs. */
export interface OipRequestOptions {
  /** Model version; the server's choice when absent. */
  version?: string;
  /** Request id; the server echoes it in the response (handy to match stream responses). */
  id?: string;
  /** Request parameters, e.g. `{ priority: 1, sequence_id: 42n }`. */
  parameters?: OipParameters;
  /** Outputs to return, by name; all of them when absent. */
  outputs?: readonly (string | OipRequestedOutput)[];
}

/** Options of `OipClient.infer()`. */
export interface OipInferOptions extends OipCallOptions, OipRequestOptions {
  /** How BYTES outputs come back; the client's `bytesAs` when absent. */
  bytesAs?: OipBytesAs;
}

/** Options of `OipClient.streamInfer()`: they hold for the whole stream. */
export interface OipStreamOptions extends OipCallOptions {
  /** How BYTES outputs come back; the client's `bytesAs` when absent. */
  bytesAs?: OipBytesAs;
}

/** Options of `OipClient.waitUntilReady()`. */
export interface OipWaitOptions {
  /** @default 30000 */
  timeoutMs?: number;
  /** @default 200 */
  intervalMs?: number;
  /** Also wait for this model to be ready. */
  model?: string;
  /** The model's version to wait for. */
  version?: string;
}
