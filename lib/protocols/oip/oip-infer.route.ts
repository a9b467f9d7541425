import { status as GrpcStatus, type MethodDefinition } from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import { BlazeContext } from '../../core/context/blaze-context.js';
import { BlazeRpcError } from '../../core/errors/blaze-rpc.error.js';
import { CallStatusError } from '../../core/errors/call-status.error.js';
import { quoteClientText } from '../../core/errors/client-text.js';
import { toCallStatus } from '../../core/errors/grpc-status.mapper.js';
import { ValidationError } from '../../core/errors/validation.error.js';
import { modelIdString } from '../../core/registry/model-id.js';
import type { CallFailure, ModelPipeline } from '../../pipeline/model-pipeline.js';
import type { ModelRequest } from '../../pipeline/model-request.js';
import type { SymbolBindings } from '../../core/tensor/tensor-spec.check.js';
import type { ExchangeResponses, ExchangeRoute, ModelCall, ServedCall, UnaryRoute } from '../shared/call-route.js';
import type { RequestDecoder } from '../shared/request-decoder.js';
import {
  checkInputsOutline,
  decodeInferInputs,
  encodeInferOutputs,
  type InferInputMessage,
} from './oip-infer.codec.js';
import type { OipModels, OipServedModel } from './oip-models.js';
import { OipInputFeed } from './oip-input-feed.js';
import { writeInferResponse, type InferResponseParts } from './oip-infer-response.writer.js';
import { InferRequestReader, outlineInferRequest, type InferRequestLimits } from './oip-infer-request.reader.js';
import { encodeTraced } from '../../observability/call-tracer.js';
import { InputStream } from '../../pipeline/input-stream.js';

/** A `ModelInferRequest` as decoded (64-bit integers as strings, bytes as Buffers). */
interface InferRequestMessage {
  model_name: string;
  model_version: string;
  id: string;
  parameters: Record<string, InferParameterMessage>;
  inputs: InferInputMessage[];
  outputs: Array<{ name: string }>;
  raw_input_contents: Uint8Array[];
}

/** An `InferParameter`: exactly one of its fields set. */
interface InferParameterMessage {
  parameter_choice?: 'bool_param' | 'int64_param' | 'string_param' | 'double_param' | 'uint64_param';
  bool_param?: boolean;
  int64_param?: string;
  string_param?: string;
  double_param?: number;
  uint64_param?: string;
}

/**
 * A failure already mapped (and logged, when unexpected) by the model's
 * pipeline: it answers with that status as it is, and is not logged again.
 */
class ModelCallFailure extends BlazeRpcError {
  declare readonly code: GrpcStatus;
  declare readonly details: string;

  constructor(readonly status: CallFailure) {
    super(status.details, { code: status.code, details: status.details });
  }
}

/** A served model whose declaration has an OIP form. */
type SupportedModel = OipServedModel & {
  readonly signature: Exclude<OipServedModel['signature'], { unsupported: string }>;
};

/** What one inference needs, once its request is decoded and its model found. */
interface PreparedInference {
  readonly served: OipServedModel;
  readonly message: InferRequestMessage;
  readonly request: ModelRequest;
  /** Sizes the request's tensors bound to symbolic dimensions, which outputs must match. */
  readonly bindings: SymbolBindings;
  readonly context: BlazeContext;
}

/**
 * @internal `ModelInfer` and `ModelStreamInfer`: an OIP request is decoded
 * strictly, routed to its model by name and version (the default version
 * when none is given), turned into the model's own request and run through
 * the same pipeline as BlazeRPC calls, so guards, batching and queue policy
 * apply alike and both protocols' requests share batches. Outputs go back in
 * `raw_output_contents`.
 */
export class OipInferRoute implements UnaryRoute, ExchangeRoute {
  readonly protocol = 'oip';
  /** Per ModelStreamInfer call, the open inputs of streaming-input models it is feeding, by model version. */
  private readonly feeds = new WeakMap<ServedCall, Map<string, OipInputFeed<unknown>>>();
  private readonly reader: InferRequestReader;

  constructor(
    readonly method: 'ModelInfer' | 'ModelStreamInfer',
    private readonly path: string,
    private readonly models: OipModels,
    private readonly decode: RequestDecoder,
    private readonly inferResponse: MethodDefinition<object, object>,
    private readonly streamResponse: MethodDefinition<object, object>,
    private readonly logger: Logger,
    /** What one request may carry; `decode` must count the same caps (see `oipRequestCaps`). */
    private readonly limits: InferRequestLimits,
  ) {
    this.reader = new InferRequestReader(limits);
  }

  answer(bytes: Buffer, call: ModelCall, inflight: ServedCall): Buffer | Promise<Buffer> {
    const inference = this.prepare(bytes, call, inflight);
    const { descriptor } = inference.served;
    if (descriptor.streaming || descriptor.inputStreaming) {
      const what = descriptor.inputStreaming ? 'takes a stream of requests' : 'streams its results';
      throw new CallStatusError(
        GrpcStatus.FAILED_PRECONDITION,
        `Model '${descriptor.name}' ${what}: call it with ModelStreamInfer`,
      );
    }
    const { pipeline } = inference.served;
    const result = this.mappingFailures(pipeline, () => pipeline.run(inference.request, inference.context));
    const encode = (value: unknown) =>
      encodeTraced(inflight.trace, () => {
        const response = this.response(inference, value);
        return writeInferResponse(response) ?? this.inferResponse.responseSerialize(response);
      });
    return result instanceof Promise ? result.then(encode) : encode(result);
  }

  /**
   * One request of a `ModelStreamInfer` stream: its work starts now; its
   * responses follow in order, but for a request that opens a streaming-input
   * model's call (its responses come as later requests feed it).
   */
  exchange(bytes: Buffer, call: ModelCall, inflight: ServedCall): ExchangeResponses {
    const opened = { feed: false };
    const responses = this.respond(bytes, call, inflight, opened);
    // The generator runs up to its first await now, so by here it knows whether this request opened a feed.
    const first = responses.next();
    // A request still queued when its call is cancelled is never read: its failure must not be an unhandled rejection.
    first.catch(() => undefined);
    return {
      detached: opened.feed,
      async *[Symbol.asyncIterator]() {
        const head = await first;
        if (head.done) return;
        yield head.value;
        yield* { [Symbol.asyncIterator]: () => responses };
      },
    };
  }

  /** The stream's half-close ends the input of every streaming-input model it fed. */
  endOfRequests(inflight: ServedCall): void {
    this.feeds.get(inflight)?.forEach((feed) => feed.end());
  }

  failure(error: unknown): CallFailure {
    if (error instanceof ModelCallFailure) return error.status;
    const status = toCallStatus(error);
    if (status.unexpected)
      this.logger.error(`inference.${this.method} failed: ${(error as Error)?.message}`, (error as Error)?.stack);
    return { code: status.code, details: status.details };
  }

  private async *respond(
    bytes: Buffer,
    call: ModelCall,
    inflight: ServedCall,
    opened: { feed: boolean },
  ): AsyncGenerator<Buffer> {
    let closeFeed: (() => void) | undefined;
    try {
      let inference = this.prepare(bytes, call, inflight);
      const { pipeline, descriptor } = inference.served;
      if (descriptor.inputStreaming) {
        // Every request of this stream that names the model is one message of a single model call.
        const feeds = this.feeds.get(inflight) ?? new Map<string, OipInputFeed<unknown>>();
        this.feeds.set(inflight, feeds);
        const key = modelIdString(descriptor);
        const input = descriptor.inputs[0]!.name;
        const open = feeds.get(key);
        // Unanswered until the model reads it: a model behind on its input holds the stream's reading back.
        if (open) return await open.push(inference.request[input]);
        const feed = new OipInputFeed<unknown>(inflight.signal);
        feeds.set(key, feed);
        opened.feed = true;
        // This request's own answer is the model call's; its message needs no answer of its own.
        feed.push(inference.request[input]).catch(() => undefined);
        inference = { ...inference, request: { [input]: new InputStream(feed) } };
        // Once this call ends, a later request for the model starts a new one.
        closeFeed = () => {
          if (feeds.get(key) === feed) feeds.delete(key);
          feed.close(
            new CallStatusError(
              GrpcStatus.FAILED_PRECONDITION,
              `Model '${descriptor.name}' ended its call before reading this request`,
            ),
          );
        };
      }
      if (descriptor.streaming) {
        const source = await this.mappingFailures(pipeline, () =>
          pipeline.openStream(inference.request, inference.context),
        );
        for (
          let next = await this.mappingFailures(pipeline, () => source.next());
          !next.done;
          next = await this.mappingFailures(pipeline, () => source.next())
        ) {
          yield this.streamed(inference, next.value);
        }
      } else {
        yield this.streamed(
          inference,
          await this.mappingFailures(pipeline, () => pipeline.run(inference.request, inference.context)),
        );
      }
    } catch (error) {
      // The stream ends for everyone when the call itself is cancelled or expires; otherwise only this request failed.
      if (inflight.signal.aborted) throw error;
      const { code, details } = this.failure(error);
      yield this.streamResponse.responseSerialize({ error_message: `${GrpcStatus[code]}: ${details}` });
    } finally {
      closeFeed?.();
    }
  }

  private streamed(inference: PreparedInference, result: unknown): Buffer {
    return this.streamResponse.responseSerialize({ infer_response: this.response(inference, result) });
  }

  private prepare(bytes: Buffer, call: ModelCall, inflight: ServedCall): PreparedInference {
    // The common, well-formed request is read in one pass; anything else goes through the strict decoder, which words any refusal.
    // Either way, nothing past the caps in `limits` is read: the reader gives up there and the decoder refuses.
    let served: SupportedModel | undefined;
    const message = (this.reader.read(bytes) ??
      this.decode(bytes, (checked) => {
        // Before protobufjs makes an object per element: the model, and the typed contents against its declaration.
        const outline = outlineInferRequest(checked);
        if (!outline) return;
        served = this.servedFor(outline.modelName, outline.modelVersion, inflight);
        checkInputsOutline(served.signature.inputs, outline);
      })) as unknown as InferRequestMessage;
    served ??= this.servedFor(message.model_name, message.model_version, inflight);
    const requested = message.outputs.length > 1 ? new Set<string>() : undefined;
    for (const { name } of message.outputs) {
      if (!served.signature.outputs.some((output) => output.name === name)) {
        throw new ValidationError(
          `Requested output '${quoteClientText(name)}' is not an output of '${served.descriptor.name}' (it has ${served.signature.outputs.map((o) => `'${o.name}'`).join(', ')})`,
          name,
        );
      }
      // Each copy would be encoded into the response again: a few requested outputs would multiply a large one.
      if (requested?.has(name)) throw new ValidationError(`Requested output '${name}' is asked for twice`, name);
      requested?.add(name);
    }
    const bindings: SymbolBindings = new Map();
    const request = decodeInferInputs(
      served.signature.inputs,
      message.inputs,
      message.raw_input_contents,
      bindings,
      this.limits,
    );
    const { name, version } = served.descriptor;
    const context = new BlazeContext(
      call.metadata,
      call,
      this.path,
      name,
      version,
      inflight.deadline,
      inflight,
      parametersOf(message.parameters),
      'oip',
    );
    return { served, message, request, bindings, context };
  }

  /**
   * The model a request names, once it is known to take OIP calls now.
   * @throws ModelNotFoundError, or CallStatusError UNIMPLEMENTED / UNAVAILABLE
   */
  private servedFor(modelName: string, modelVersion: string, inflight: ServedCall): SupportedModel {
    const served = this.models.find(modelName, modelVersion);
    inflight.model = served.descriptor;
    if ('unsupported' in served.signature) {
      throw new CallStatusError(
        GrpcStatus.UNIMPLEMENTED,
        `Model '${served.descriptor.name}' cannot be called over OIP: ${served.signature.unsupported}`,
      );
    }
    if (!this.models.isReady(served)) {
      throw new CallStatusError(GrpcStatus.UNAVAILABLE, `Model '${served.descriptor.name}' is not ready`);
    }
    return served as SupportedModel;
  }

  private response(inference: PreparedInference, result: unknown): InferResponseParts {
    const { served, message, bindings } = inference;
    if ('unsupported' in served.signature) throw new Error('unreachable: unsupported models are refused in prepare()');
    const requested = message.outputs.map((output) => output.name);
    const { outputs, raw } = encodeInferOutputs(
      served.descriptor,
      served.signature.outputs,
      result,
      bindings,
      requested,
    );
    return {
      model_name: served.descriptor.name,
      model_version: served.descriptor.version,
      id: message.id,
      outputs,
      raw_output_contents: raw,
    };
  }

  /**
   * Runs pipeline work, mapping what it throws through the pipeline (logged
   * once, naming the model, when unexpected).
   */
  private mappingFailures<T>(pipeline: ModelPipeline, work: () => T): T {
    const fail = (error: unknown): never => {
      throw error instanceof ModelCallFailure ? error : new ModelCallFailure(pipeline.failure(error));
    };
    try {
      const result = work();
      return (result instanceof Promise ? result.catch(fail) : result) as T;
    } catch (error) {
      return fail(error);
    }
  }
}

/**
 * Request parameters as plain values: bool, number, bigint (64-bit integers)
 * or string. At most `limits.maxParameters` of them reach here: the decoder
 * refused the request past that. Every key becomes an own property, even
 * `__proto__`, which an assignment would turn into the object's prototype.
 */
function parametersOf(parameters: Record<string, InferParameterMessage>): Record<string, unknown> {
  const values: Array<[string, unknown]> = [];
  for (const [key, parameter] of Object.entries(parameters ?? {})) {
    const choice = parameter.parameter_choice;
    if (choice === undefined) continue;
    const value = parameter[choice];
    values.push([key, choice === 'int64_param' || choice === 'uint64_param' ? BigInt(value as string) : value]);
  }
  return Object.fromEntries(values);
}
