import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import protobuf from 'protobufjs';
import {
  BlazeRpcModule,
  Float32,
  Input,
  Int64,
  Model,
  ModelRegistry,
  Stream,
  Tensor,
  UInt32,
} from '../../lib/index.js';

@Injectable()
class CatalogModels {
  @Model('text-gen', { returns: String, description: 'Generates text.' })
  async *generate(@Input('prompt') prompt: string, @Input('max_tokens', Int64) _max: bigint) {
    yield prompt;
  }

  @Model('tally', { returns: UInt32 })
  async tally(@Input('text', Stream(String)) texts: AsyncIterable<string>) {
    let words = 0;
    for await (const text of texts) words += text.length;
    return words;
  }

  @Model('transcribe', { returns: String })
  async *transcribe(@Input('chunk', Stream(Tensor.of('float32', ['samples']))) chunks: AsyncIterable<Tensor>) {
    for await (const chunk of chunks) yield `${chunk.size} samples`;
  }

  @Model('IrisModel', { returns: Tensor.of('float32', ['batch', 3]) })
  iris(@Input('features', Tensor.of('float32', ['batch', 4])) features: Tensor) {
    return features;
  }

  @Model('sentiment', { version: '1', returns: [Float32] })
  sentimentV1(@Input('text', [String]) text: string[]) {
    return text.map(() => 0.5);
  }

  @Model('sentiment', { version: '2', returns: { label: String, score: Float32 } })
  sentimentV2(@Input('text') _text: string) {
    return { label: 'pos', score: 1 };
  }

  @Model('sentiment', { version: '10', returns: [Float32] })
  sentimentV10(@Input('text', [String]) text: string[]) {
    return text.map(() => 0.5);
  }
}

async function registryFor(...providers: any[]): Promise<ModelRegistry> {
  const moduleRef = await Test.createTestingModule({
    imports: [BlazeRpcModule.forRoot({ protoFile: false })],
    providers,
  }).compile();
  await moduleRef.init();
  const registry = moduleRef.get(ModelRegistry);
  await moduleRef.close();
  return registry;
}

describe('proto generation', () => {
  it('matches the snapshot', async () => {
    expect((await registryFor(CatalogModels)).protoText).toMatchSnapshot();
  });

  it('is deterministic: same models, same bytes, whatever the provider order', async () => {
    @Injectable()
    class Other {
      @Model('aaa')
      a(@Input('x') x: string): string {
        return x;
      }
    }
    const first = (await registryFor(CatalogModels, Other)).protoText;
    const second = (await registryFor(Other, CatalogModels)).protoText;
    expect(second).toBe(first);
  });

  it('parses back with protobufjs into the declared service and messages', async () => {
    const { root } = protobuf.parse((await registryFor(CatalogModels)).protoText, { keepCase: true });
    const service = root.lookupService('blazerpc.InferenceService');
    expect(Object.keys(service.methods)).toEqual([
      'PredictIrisModel',
      'PredictSentimentV1',
      'PredictSentimentV2',
      'PredictSentimentV10',
      'PredictSentiment',
      'PredictTally',
      'PredictTextGen',
      'PredictTranscribe',
    ]);
    // All four call kinds: unary, server streaming, client streaming, both ways.
    const kinds = (rpc: string) => [
      service.methods[rpc]!.requestStream ?? false,
      service.methods[rpc]!.responseStream ?? false,
    ];
    expect(kinds('PredictIrisModel')).toEqual([false, false]);
    expect(kinds('PredictTextGen')).toEqual([false, true]);
    expect(kinds('PredictTally')).toEqual([true, false]);
    expect(kinds('PredictTranscribe')).toEqual([true, true]);
    expect(root.lookupType('blazerpc.TranscribeRequest').fieldsArray.map((f) => [f.name, f.id, f.type])).toEqual([
      ['chunk', 1, 'TensorProto'],
    ]);
    expect(service.methods.PredictSentiment.requestType).toBe('SentimentV10Request');
    const request = root.lookupType('blazerpc.TextGenRequest');
    expect(request.fieldsArray.map((f) => [f.name, f.id, f.type])).toEqual([
      ['prompt', 1, 'string'],
      ['max_tokens', 2, 'int64'],
    ]);
    const named = root.lookupType('blazerpc.SentimentV2Response');
    expect(named.fieldsArray.map((f) => [f.name, f.id, f.type])).toEqual([
      ['label', 1, 'string'],
      ['score', 2, 'float'],
    ]);
    const tensor = root.lookupType('blazerpc.TensorProto');
    expect(tensor.fieldsArray.map((f) => [f.name, f.id, f.type, f.repeated])).toEqual([
      ['shape', 1, 'int64', true],
      ['dtype', 2, 'string', false],
      ['data', 3, 'bytes', false],
    ]);
  });

  it('lets the default version be marked explicitly', async () => {
    @Injectable()
    class Versions {
      @Model('ranker', { version: '1', default: true })
      v1(@Input('q') q: string): string {
        return q;
      }
      @Model('ranker', { version: '2' })
      v2(@Input('q') q: string): string {
        return q;
      }
    }
    const registry = await registryFor(Versions);
    expect(registry.get('ranker').version).toBe('1');
    expect(registry.get('ranker', '1').rpcMethods).toEqual(['PredictRankerV1', 'PredictRanker']);
    expect(registry.get('ranker', '2').rpcMethods).toEqual(['PredictRankerV2']);
    expect(registry.versions('ranker')).toEqual(['1', '2']);
  });

  it('uses the configured proto package', async () => {
    const moduleRef = await Test.createTestingModule({
      imports: [BlazeRpcModule.forRoot({ protoFile: false, protoPackage: 'acme.models' })],
      providers: [CatalogModels],
    }).compile();
    await moduleRef.init();
    const registry = moduleRef.get(ModelRegistry);
    expect(registry.protoText).toContain('package acme.models;');
    expect(registry.serviceName).toBe('acme.models.InferenceService');
    await moduleRef.close();
  });
});
