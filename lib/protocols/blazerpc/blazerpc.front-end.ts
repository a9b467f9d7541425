import type { MethodDefinition, ServiceDefinition } from '@grpc/grpc-js';
import type { PackageDefinition } from '@grpc/proto-loader';
import type protobuf from 'protobufjs';
import { BlazeContext } from '../../core/context/blaze-context.js';
import type { RequestLimits } from '../../core/options/request-limits.interface.js';
import type { ModelPipeline } from '../../pipeline/model-pipeline.js';
import type { ModelRequest } from '../../pipeline/model-request.js';
import type { ModelRegistry } from '../../core/registry/model.registry.js';
import type { ModelId } from '../../core/registry/model-id.js';
import type {
  ClientStreamRoute,
  DuplexRoute,
  ModelCall,
  ProtocolService,
  ServedCall,
  ServiceRoute,
  StreamRoute,
  UnaryRoute,
} from '../shared/call-route.js';
import { createRequestDecoder } from '../shared/request-decoder.js';
import { ModelCodec } from './model-codec.js';
import { blazeRpcRequestCaps } from './request-caps.js';
import { encodeTraced } from '../../observability/call-tracer.js';

type RawMethod = MethodDefinition<Buffer, Buffer>;
const passThrough = (bytes: Buffer) => bytes;

/**
 * @internal BlazeRPC's own wire: the generated `InferenceService`, one
 * `Predict{Name}` rpc per model version, each request and response a message
 * generated from the model's declaration. Requests are decoded strictly here
 * (see `ModelCodec`), run through the model's pipeline, and encoded back.
 */
export function createBlazeRpcService(
  registry: ModelRegistry,
  inference: PackageDefinition,
  root: protobuf.Root,
  pipelineOf: (id: ModelId) => ModelPipeline,
  limits: Readonly<Required<RequestLimits>>,
): ProtocolService {
  const generated = inference[registry.serviceName] as ServiceDefinition;
  const definition: Record<string, RawMethod> = {};
  for (const [name, method] of Object.entries(generated)) {
    // We decode and encode the bytes ourselves (see ModelCodec).
    definition[name] = { ...method, requestDeserialize: passThrough, responseSerialize: passThrough } as RawMethod;
  }
  const routes: Record<string, ServiceRoute> = {};
  // Every request is held to `limits` while its bytes are walked, before anything is decoded.
  const caps = blazeRpcRequestCaps(limits);
  for (const { descriptor } of registry.entries()) {
    const pipeline = pipelineOf(descriptor);
    // Every rpc of one version (PredictIrisV2 and PredictIris) takes the same request type.
    const decodeRequest = createRequestDecoder(root, `${registry.protoPackage}.${descriptor.requestType}`, caps);
    for (const rpc of descriptor.rpcMethods) {
      const method = generated[rpc] as MethodDefinition<object, object>;
      const route = new BlazeRpcRoute(rpc, method.path, pipeline, new ModelCodec(descriptor, method, decodeRequest));
      routes[rpc] = descriptor.inputStreaming
        ? descriptor.streaming
          ? { kind: 'duplex', route }
          : { kind: 'clientStream', route }
        : descriptor.streaming
          ? { kind: 'serverStream', route }
          : { kind: 'unary', route };
    }
  }
  return { definition, routes };
}

/** One `Predict{Name}` rpc, of any of the four kinds: decode -> the model's pipeline -> encode. */
class BlazeRpcRoute implements UnaryRoute, StreamRoute, ClientStreamRoute, DuplexRoute {
  readonly protocol = 'blazerpc';

  constructor(
    readonly method: string,
    private readonly path: string,
    private readonly pipeline: ModelPipeline,
    private readonly codec: ModelCodec,
  ) {}

  answer(bytes: Buffer, call: ModelCall, inflight: ServedCall): Buffer | Promise<Buffer> {
    this.identify(inflight);
    const { request, bindings } = this.codec.decode(bytes);
    const result = this.pipeline.run(request, this.contextOf(call, inflight));
    const encode = (value: unknown) => encodeTraced(inflight.trace, () => this.codec.encode(value, bindings));
    return result instanceof Promise ? result.then(encode) : encode(result);
  }

  async open(bytes: Buffer, call: ModelCall, inflight: ServedCall) {
    this.identify(inflight);
    const { request, bindings } = this.codec.decode(bytes);
    const source = await this.pipeline.openStream(request, this.contextOf(call, inflight));
    return { source, encode: (item: unknown) => this.codec.encode(item, bindings) };
  }

  async answerStream(messages: AsyncIterable<Buffer>, call: ModelCall, inflight: ServedCall): Promise<Buffer> {
    this.identify(inflight);
    const result = await this.pipeline.run(this.streamedRequest(messages), this.contextOf(call, inflight));
    return this.codec.encode(result, new Map());
  }

  async openDuplex(messages: AsyncIterable<Buffer>, call: ModelCall, inflight: ServedCall) {
    this.identify(inflight);
    const source = await this.pipeline.openStream(this.streamedRequest(messages), this.contextOf(call, inflight));
    return { source, encode: (item: unknown) => this.codec.encode(item, new Map()) };
  }

  failure(error: unknown) {
    return this.pipeline.failure(error);
  }

  /** The request of a streaming-input model: its one input, as the stream of its messages' values. */
  private streamedRequest(messages: AsyncIterable<Buffer>): ModelRequest {
    return { [this.pipeline.descriptor.inputs[0]!.name]: this.codec.decodeStream(messages) };
  }

  /** Tells the call's statistics and span which model it serves. */
  private identify(inflight: ServedCall): void {
    inflight.model = this.pipeline.descriptor;
  }

  private contextOf(call: ModelCall, inflight: ServedCall): BlazeContext {
    const { name, version } = this.pipeline.descriptor;
    return new BlazeContext(call.metadata, call, this.path, name, version, inflight.deadline, inflight);
  }
}
