import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import {
  BlazeRpcClientError,
  BlazeRpcModule,
  Float32,
  Input,
  Int64,
  Model,
  ModelRegistry,
  SerializationError,
  Stream,
  Tensor,
  UInt64,
  tensorToJson,
} from '../../lib/index.js';
import { fromResponseMessage, toRequestMessage } from '../../lib/client/client-message.convert.js';
import { ClientModelCatalog, type ClientModel } from '../../lib/client/client-model-catalog.js';
import { loadPackageDefinition } from '../../lib/core/schema/package-definition.js';

/*
 * What a client knows of a server's models, without connecting: the catalog
 * read from the generated .proto (as from reflection or a local file), or
 * from a local registry; and how call inputs and results are converted for
 * the wire, checked through the rpc's own serializers.
 */

@Injectable()
class Models {
  @Model('iris', { returns: Tensor.of('float32', ['batch', 3]) })
  iris(@Input('features', Tensor.of('float32', ['batch', 4])) features: Tensor): Tensor {
    return features;
  }

  @Model('text-gen', { returns: String })
  async *generate(@Input('prompt') prompt: string) {
    yield prompt;
  }

  @Model('tally', { returns: Int64 })
  async tally(@Input('text', Stream(String)) texts: AsyncIterable<string>): Promise<bigint> {
    let words = 0n;
    for await (const text of texts) words += BigInt(text.length);
    return words;
  }

  @Model('relay', { returns: String })
  async *relay(@Input('text', Stream(String)) texts: AsyncIterable<string>) {
    for await (const text of texts) yield text;
  }

  @Model('sentiment', { version: '1', returns: [Float32] })
  sentimentV1(@Input('text', [String]) text: string[]): number[] {
    return text.map(() => 0.5);
  }

  @Model('sentiment', { version: '2', returns: { label: String, score: Float32 } })
  sentimentV2(@Input('text') _text: string) {
    return { label: 'pos', score: 1 };
  }

  @Model('ranker', { version: '1.1', returns: String })
  rankerV1_1(@Input('q') q: string): string {
    return q;
  }

  @Model('ranker', { version: '2', returns: String })
  rankerV2(@Input('q') q: string): string {
    return q;
  }

  @Model('counter', { returns: { total: UInt64, steps: [Int64] } })
  counter(
    @Input('start', Int64) start: bigint,
    @Input('limit', UInt64) limit: bigint,
    @Input('ids', [Int64]) ids: bigint[],
  ) {
    return { total: start + limit, steps: ids };
  }

  @Model('echo-tensor', { returns: Tensor.of('int64', ['n']) })
  echoTensor(
    @Input('values', Tensor.of('int64', ['n'])) values: Tensor,
    @Input('flags', Tensor.of('bool', ['n'])) _flags: Tensor,
  ): Tensor {
    return values;
  }
}

let registry: ModelRegistry;

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false })],
    providers: [Models],
  }).compile();
  await moduleRef.init();
  registry = moduleRef.get(ModelRegistry);
  await moduleRef.close();
});

/** As `BlazeClient.connect(address, { registry })` builds it. */
const fromRegistry = () =>
  new ClientModelCatalog(loadPackageDefinition(registry.protoText), registry.protoPackage, registry.list());
/** As reflection builds it: the rpcs alone, without the model comments a generated .proto carries. */
const fromProto = (protoPackage = 'blazerpc') =>
  new ClientModelCatalog(loadPackageDefinition(registry.protoText), protoPackage);

const listed = (catalog: ClientModelCatalog) =>
  catalog.list().map((m) => `${m.name}${m.version ? `@${m.version}` : ''}${m.isDefault ? '' : ' (not default)'}`);

function refusal(action: () => unknown): BlazeRpcClientError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(BlazeRpcClientError);
    return error as BlazeRpcClientError;
  }
  throw new Error('expected a refusal');
}

describe('ClientModelCatalog', () => {
  it('from a registry: one entry per model version, as registered, without the default-version aliases', () => {
    expect(listed(fromRegistry())).toEqual([
      'counter@1',
      'echo-tensor@1',
      'iris@1',
      'ranker@1.1 (not default)',
      'ranker@2',
      'relay@1',
      'sentiment@1 (not default)',
      'sentiment@2',
      'tally@1',
      'text-gen@1',
    ]);
  });

  it('from the .proto alone: names are the PascalCase of the rpcs, versions only where a model has several', () => {
    // Read back from rpc names, where '1.1' was written as '1_1'.
    expect(listed(fromProto())).toEqual([
      'Counter',
      'EchoTensor',
      'Iris',
      'Ranker@1_1 (not default)',
      'Ranker@2',
      'Relay',
      'Sentiment@1 (not default)',
      'Sentiment@2',
      'Tally',
      'TextGen',
    ]);
  });

  it.each([
    ['registry', fromRegistry],
    ['.proto', () => fromProto()],
  ])('from the %s: resolves a name to its default version, and a name and version to that version', (_, catalog) => {
    // The default version is reached through its alias rpc, which the server routes to that version.
    expect(catalog().resolve('sentiment')).toMatchObject({
      rpc: 'PredictSentiment',
      isDefault: true,
      canonical: false,
      namedOutputs: true,
    });
    expect(catalog().resolve('sentiment', '1')).toMatchObject({
      rpc: 'PredictSentimentV1',
      isDefault: false,
      namedOutputs: false,
    });
    expect(catalog().resolve('sentiment', '2').rpc).toBe('PredictSentimentV2');
    // A version with a dot travels as an underscore.
    expect(catalog().resolve('ranker', '1.1').rpc).toBe('PredictRankerV1_1');
    // The name as registered, as the rpc spells it, or with '_' for '-': the same rpc.
    expect(['text-gen', 'TextGen', 'text_gen'].map((name) => catalog().resolve(name).rpc)).toEqual([
      'PredictTextGen',
      'PredictTextGen',
      'PredictTextGen',
    ]);
  });

  it('says how each rpc is called and how each field travels', () => {
    const catalog = fromRegistry();
    expect(['iris', 'text-gen', 'tally', 'relay'].map((name) => catalog.resolve(name).kind)).toEqual([
      'unary',
      'server-stream',
      'client-stream',
      'bidi',
    ]);
    expect(catalog.resolve('relay')).toMatchObject({ streaming: true, inputStreaming: true });
    expect(catalog.resolve('iris').inputs).toEqual([
      { name: 'features', kind: 'tensor', repeated: false, protoType: 'TYPE_MESSAGE' },
    ]);
    expect(catalog.resolve('counter').inputs).toEqual([
      { name: 'start', kind: 'int64', repeated: false, protoType: 'TYPE_INT64' },
      { name: 'limit', kind: 'int64', repeated: false, protoType: 'TYPE_UINT64' },
      { name: 'ids', kind: 'int64', repeated: true, protoType: 'TYPE_INT64' },
    ]);
    expect(catalog.resolve('sentiment', '1').inputs).toEqual([
      { name: 'text', kind: 'other', repeated: true, protoType: 'TYPE_STRING' },
    ]);
  });

  it('refuses an unknown model or version with NOT_FOUND, listing what the server has', () => {
    const unknownModel = refusal(() => fromRegistry().resolve('irsi'));
    expect(unknownModel.code).toBe(status.NOT_FOUND);
    expect(unknownModel.codeName).toBe('NOT_FOUND');
    expect(unknownModel.details).toBe(
      "Model 'irsi' is not served here; the server has: counter@1, echo-tensor@1, iris@1, ranker@1.1, ranker@2, relay@1, sentiment@1, sentiment@2, tally@1, text-gen@1",
    );
    expect(unknownModel.message).toBe(`NOT_FOUND: ${unknownModel.details}`);

    const unknownVersion = refusal(() => fromProto().resolve('sentiment', '3'));
    expect(unknownVersion.details).toBe(
      "Model 'sentiment' version '3' is not served here; the server has: Counter, EchoTensor, Iris, Ranker@1_1, Ranker@2, Relay, Sentiment@1, Sentiment@2, Tally, TextGen",
    );
    // A model served in one version has no other.
    expect(refusal(() => fromRegistry().resolve('iris', '2')).code).toBe(status.NOT_FOUND);
  });

  it('refuses a definition without the InferenceService of the package asked for', () => {
    const refused = refusal(() => fromProto('acme.models'));
    expect(refused.code).toBe(status.NOT_FOUND);
    expect(refused.details).toBe('The server offers no acme.models.InferenceService; is it a nestjs-blazerpc server?');
  });
});

/** Sends a request message the way grpc-js does, and returns it as the server decodes it. */
const overTheWire = (model: ClientModel, message: Record<string, unknown>) =>
  model.method.requestDeserialize(model.method.requestSerialize(message)) as Record<string, any>;
/** Sends a response message the way the server does, and returns it as the client decodes it. */
const answeredWith = (model: ClientModel, message: Record<string, unknown>) =>
  model.method.responseDeserialize(model.method.responseSerialize(message)) as Record<string, unknown>;

describe('call messages (client-message.convert)', () => {
  it('a Tensor input becomes a TensorProto, and a TensorProto result a Tensor with the same dtype, shape and values', () => {
    const iris = fromRegistry().resolve('iris');
    const features = Tensor.from('float32', [2, 4], [5.1, 3.5, 1.4, 0.2, 6.7, 3.1, 4.7, 1.5]);

    const request = toRequestMessage(iris, { features });
    // dtypes travel by their wire names ('float' for float32).
    expect(request.features).toMatchObject({ dtype: 'float', shape: [2, 4] });
    const received = overTheWire(iris, request);
    expect(received.features.shape).toEqual(['2', '4']);

    const result = fromResponseMessage(iris, answeredWith(iris, { result: received.features })) as Tensor;
    expect(result).toBeInstanceOf(Tensor);
    expect(tensorToJson(result)).toEqual(tensorToJson(features));
  });

  it('int64 and bool tensors round-trip exactly, including values past 2^53', () => {
    const model = fromRegistry().resolve('echo-tensor');
    const values = Tensor.from('int64', [3], [-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n]);
    const flags = Tensor.from('bool', [3], [true, false, true]);
    const received = overTheWire(model, toRequestMessage(model, { values, flags }));
    const echoed = fromResponseMessage(model, answeredWith(model, { result: received.values })) as Tensor;
    expect(Array.from(echoed.data as BigInt64Array)).toEqual([-(2n ** 63n), 2n ** 53n + 1n, 2n ** 63n - 1n]);
    const flagsBack = fromResponseMessage(model, answeredWith(model, { result: received.flags })) as Tensor;
    expect(tensorToJson(flagsBack)).toEqual(tensorToJson(flags));
  });

  it('a tensor may be given as JSON ({ dtype, shape, data }); a malformed one is refused naming the input', () => {
    const iris = fromRegistry().resolve('iris');
    const request = toRequestMessage(iris, { features: { dtype: 'float32', shape: [1, 4], data: [1, 2, 3, 4] } });
    const tensor = fromResponseMessage(
      iris,
      answeredWith(iris, { result: overTheWire(iris, request).features }),
    ) as Tensor;
    expect(tensor.rows()).toEqual([[1, 2, 3, 4]]);
    expect(() => toRequestMessage(iris, { features: [1, 2, 3, 4] })).toThrow(
      "Input 'features' is a tensor: pass a Tensor or { dtype, shape: [...], data: [...] }",
    );
  });

  it('bigints travel as int64/uint64 strings and come back as bigints, at the edges of their range', () => {
    const counter = fromRegistry().resolve('counter');
    const request = toRequestMessage(counter, {
      start: -(2n ** 63n),
      limit: 2n ** 64n - 1n,
      ids: [1n, 2n ** 53n + 1n],
    });
    expect(request).toEqual({
      start: '-9223372036854775808',
      limit: '18446744073709551615',
      ids: ['1', '9007199254740993'],
    });

    const received = overTheWire(counter, request);
    expect(received).toEqual({
      start: '-9223372036854775808',
      limit: '18446744073709551615',
      ids: ['1', '9007199254740993'],
    });

    const result = fromResponseMessage(counter, answeredWith(counter, { total: received.limit, steps: received.ids }));
    expect(result).toEqual({ total: 2n ** 64n - 1n, steps: [1n, 2n ** 53n + 1n] });
  });

  it('int64 inputs also take safe integers and digit strings, and refuse anything else', () => {
    const counter = fromRegistry().resolve('counter');
    expect(toRequestMessage(counter, { start: 42, limit: '7' })).toEqual({ start: 42, limit: '7' });
    expect(() => toRequestMessage(counter, { start: 1.5 })).toThrow(
      "Input 'start' must be an integer (a bigint, a safe integer or a string of digits), got number",
    );
    expect(() => toRequestMessage(counter, { ids: [1n, 'x'] })).toThrow(
      "Input 'ids' must be an integer (a bigint, a safe integer or a string of digits) (per item), got string",
    );
  });

  it('refuses inputs the model does not take, naming the model as the caller spelled it and what it takes', () => {
    const sentiment = fromProto().resolve('sentiment', '1');
    const error = (() => {
      try {
        toRequestMessage(sentiment, { txt: ['x'] }, 'sentiment');
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(error).toBeInstanceOf(SerializationError);
    expect((error as Error).message).toBe("Model 'sentiment' has no input 'txt'; it takes: text");
  });

  it('refuses values of the wrong type before sending, where protobufjs would coerce or drop them', () => {
    const sentiment = fromRegistry().resolve('sentiment', '1');
    expect(() => toRequestMessage(sentiment, { text: 'not a list' })).toThrow(
      /^Input 'text' must be a list\b.*, got string$/,
    );
    expect(() => toRequestMessage(sentiment, { text: ['ok', 3] })).toThrow(
      "Input 'text' must be a string (per item), got number",
    );
    // Inputs left out are left out: the server sees the field's default.
    expect(toRequestMessage(sentiment, {})).toEqual({});
  });

  it('a model with named outputs answers an object of them; one without, its result', () => {
    const catalog = fromRegistry();
    const named = catalog.resolve('sentiment', '2');
    expect(fromResponseMessage(named, answeredWith(named, { label: 'pos', score: 0.5 }))).toEqual({
      label: 'pos',
      score: 0.5,
    });
    const single = catalog.resolve('sentiment', '1');
    expect(fromResponseMessage(single, answeredWith(single, { result: [0.5, 0.25] }))).toEqual([0.5, 0.25]);
  });
});
