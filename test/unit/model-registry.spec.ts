import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import protobuf from 'protobufjs';
import {
  BlazeRpcError,
  BlazeRpcModule,
  ConfigurationError,
  Input,
  Model,
  ModelNotFoundError,
  ModelRegistry,
} from '../../lib/index.js';
import { BlazeRpcExplorer } from '../../lib/core/discovery/blaze-rpc.explorer.js';
import { toCallStatus } from '../../lib/core/errors/grpc-status.mapper.js';
import type { PendingModel } from '../../lib/core/registry/model.registry.js';

/*
 * The registry on its own: the models the explorer finds, named, ordered and
 * turned into a .proto; and the live changes a model repository makes after
 * startup (`update`), which regenerate the .proto or change nothing at all.
 */

@Injectable()
class Rankers {
  @Model('ranker', { version: '10' })
  v10(@Input('q') q: string): string {
    return `v10:${q}`;
  }

  @Model('ranker', { version: '2' })
  v2(@Input('q') q: string): string {
    return `v2:${q}`;
  }

  @Model('ranker', { version: '1' })
  v1(@Input('q') q: string): string {
    return `v1:${q}`;
  }
}

@Injectable()
class Echo {
  @Model('echo')
  echo(@Input('text') text: string): string {
    return text;
  }
}

/** Made outside Nest's injector, as a model repository makes the endpoints of versions it loads. */
class Extra {
  @Model('extra')
  run(@Input('n') n: number): number {
    return n;
  }
}

class EchoAgain {
  @Model('echo')
  echo(@Input('text') text: string): string {
    return `again: ${text}`;
  }
}

class RankerV3 {
  @Model('ranker', { version: '3', default: true })
  v3(@Input('q') q: string): string {
    return `v3:${q}`;
  }
}

/** `text_gen` and `text-gen` both give the rpc `PredictTextGen`. */
class TextGenDash {
  @Model('text-gen')
  run(@Input('prompt') prompt: string): string {
    return prompt;
  }
}

class TextGenUnderscore {
  @Model('text_gen')
  run(@Input('prompt') prompt: string): string {
    return prompt;
  }
}

let moduleRef: TestingModule;
let explorer: BlazeRpcExplorer;

beforeAll(async () => {
  // Echo after Rankers on purpose: the registry orders by name, not by discovery.
  moduleRef = await Test.createTestingModule({
    imports: [BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false })],
    providers: [Rankers, Echo],
  }).compile();
  await moduleRef.init();
  explorer = moduleRef.get(BlazeRpcExplorer);
});

afterAll(() => moduleRef?.close());

/** The registry as the explorer fills it on init: every model added, then sealed once. */
function sealed(...instances: object[]): ModelRegistry {
  const registry = new ModelRegistry();
  for (const model of pendingOf(...instances)) registry.add(model.schema, model.markedDefault, model.binding);
  registry.seal('blazerpc');
  return registry;
}

const pendingOf = (...instances: object[]): PendingModel[] =>
  instances.flatMap((instance) => explorer.modelsOfInstance(instance));
const keys = (registry: ModelRegistry) => registry.list().map((m) => `${m.name}@${m.version}`);

/** The InferenceService rpcs of a .proto, each with its request message. */
function rpcsOf(protoText: string): Record<string, string> {
  const { root } = protobuf.parse(protoText, { keepCase: true });
  const service = root.lookupService('blazerpc.InferenceService');
  return Object.fromEntries(Object.entries(service.methods).map(([rpc, method]) => [rpc, method.requestType]));
}

describe('ModelRegistry lookups', () => {
  it('lists every version ordered by name, then version numerically (10 after 2), whatever the discovery order', () => {
    const registry = moduleRef.get(ModelRegistry);
    expect(keys(registry)).toEqual(['echo@1', 'ranker@1', 'ranker@2', 'ranker@10']);
    // The handler of each version is the method that declared it.
    expect(registry.list().map((m) => m.handler)).toEqual(['Echo.echo', 'Rankers.v1', 'Rankers.v2', 'Rankers.v10']);
  });

  it('get(name) is the default version: the highest one unless another is marked default', () => {
    const registry = moduleRef.get(ModelRegistry);
    expect(registry.get('ranker')).toMatchObject({
      version: '10',
      isDefault: true,
      rpcMethods: ['PredictRankerV10', 'PredictRanker'],
    });
    expect(registry.get('echo')).toMatchObject({ version: '1', isDefault: true, rpcMethods: ['PredictEcho'] });
  });

  it('get(name, version) is that version, with its own rpc and messages', () => {
    const registry = moduleRef.get(ModelRegistry);
    expect(registry.get('ranker', '2')).toMatchObject({
      name: 'ranker',
      version: '2',
      isDefault: false,
      handler: 'Rankers.v2',
      rpcMethods: ['PredictRankerV2'],
      requestType: 'RankerV2Request',
      responseType: 'RankerV2Response',
    });
  });

  it('throws ModelNotFoundError for an unknown name or version; a call answers it with NOT_FOUND', () => {
    const registry = moduleRef.get(ModelRegistry);
    const unknownName = captured(() => registry.get('nope'));
    expect(unknownName).toBeInstanceOf(ModelNotFoundError);
    expect(unknownName).toBeInstanceOf(BlazeRpcError);
    expect(unknownName).toMatchObject({
      name: 'ModelNotFoundError',
      message: "Model 'nope' is not registered",
      modelName: 'nope',
      version: undefined,
    });

    const unknownVersion = captured(() => registry.get('ranker', '3'));
    expect(unknownVersion).toMatchObject({
      message: "Model 'ranker' version '3' is not registered",
      modelName: 'ranker',
      version: '3',
    });

    // The status a client gets for it.
    expect(toCallStatus(unknownVersion)).toEqual({
      code: status.NOT_FOUND,
      details: "Model 'ranker' version '3' is not registered",
      unexpected: false,
    });
  });

  it('versions(name) lists the versions in ascending order, and none for an unknown model', () => {
    const registry = moduleRef.get(ModelRegistry);
    expect(registry.versions('ranker')).toEqual(['1', '2', '10']);
    expect(registry.versions('echo')).toEqual(['1']);
    expect(registry.versions('nope')).toEqual([]);
  });

  it('is built the same way from the same models: what the explorer registers on init', () => {
    const registry = sealed(new Echo(), new Rankers());
    expect(registry.protoText).toBe(moduleRef.get(ModelRegistry).protoText);
    expect(registry.serviceName).toBe('blazerpc.InferenceService');
  });
});

describe('ModelRegistry.update after seal (a live model repository)', () => {
  it('an added model gets its rpc in the regenerated .proto and is listed in order', () => {
    const registry = sealed(new Echo(), new Rankers());
    expect(rpcsOf(registry.protoText)).not.toHaveProperty('PredictExtra');

    registry.update(pendingOf(new Extra()), []);

    expect(keys(registry)).toEqual(['echo@1', 'extra@1', 'ranker@1', 'ranker@2', 'ranker@10']);
    expect(rpcsOf(registry.protoText)).toMatchObject({ PredictExtra: 'ExtraRequest', PredictEcho: 'EchoRequest' });
    expect(registry.get('extra').handler).toBe('Extra.run');
  });

  it("a removed version's rpc and messages leave the .proto; the default moves to the highest version left", () => {
    const registry = sealed(new Echo(), new Rankers());
    expect(rpcsOf(registry.protoText)).toMatchObject({
      PredictRankerV10: 'RankerV10Request',
      PredictRanker: 'RankerV10Request',
    });

    registry.update([], [{ name: 'ranker', version: '10' }]);

    const rpcs = rpcsOf(registry.protoText);
    expect(rpcs).not.toHaveProperty('PredictRankerV10');
    expect(registry.protoText).not.toContain('RankerV10Request');
    expect(rpcs).toMatchObject({
      PredictRankerV1: 'RankerV1Request',
      PredictRankerV2: 'RankerV2Request',
      PredictRanker: 'RankerV2Request',
    });
    expect(registry.get('ranker').version).toBe('2');
    expect(() => registry.get('ranker', '10')).toThrow(ModelNotFoundError);
  });

  it("removing a model's last version removes the model: its rpc, its listing and its lookups", () => {
    const registry = sealed(new Echo(), new Rankers());
    registry.update([], [{ name: 'echo', version: '1' }]);

    expect(rpcsOf(registry.protoText)).not.toHaveProperty('PredictEcho');
    expect(registry.protoText).not.toContain('EchoRequest');
    expect(keys(registry)).toEqual(['ranker@1', 'ranker@2', 'ranker@10']);
    expect(registry.versions('echo')).toEqual([]);
    expect(() => registry.get('echo')).toThrow("Model 'echo' is not registered");
  });

  it('a model left with one version is named as a single-version model again (PredictRanker, RankerRequest)', () => {
    const registry = sealed(new Rankers());
    registry.update(
      [],
      [
        { name: 'ranker', version: '2' },
        { name: 'ranker', version: '10' },
      ],
    );
    expect(rpcsOf(registry.protoText)).toEqual({ PredictRanker: 'RankerRequest' });
    expect(registry.get('ranker')).toMatchObject({
      version: '1',
      rpcMethods: ['PredictRanker'],
      requestType: 'RankerRequest',
    });
  });

  it('adds and removes in one step: a version replaced by a new handler, and an added version marked default', () => {
    const registry = sealed(new Echo(), new Rankers());
    registry.update(pendingOf(new EchoAgain(), new RankerV3()), [{ name: 'echo', version: '1' }]);

    expect(registry.get('echo').handler).toBe('EchoAgain.echo');
    expect(registry.versions('ranker')).toEqual(['1', '2', '3', '10']);
    expect(registry.get('ranker')).toMatchObject({ version: '3', handler: 'RankerV3.v3' });
    expect(rpcsOf(registry.protoText)).toMatchObject({
      PredictRanker: 'RankerV3Request',
      PredictRankerV10: 'RankerV10Request',
    });
    // The binding the server mounts is the new handler's.
    const echo = registry.entries().find((entry) => entry.descriptor.name === 'echo')!;
    expect(echo.binding.wrapper.instance).toBeInstanceOf(EchoAgain);
  });

  it('refuses a version already served, naming both handlers, and leaves the registry as it was', () => {
    const registry = sealed(new Echo(), new Rankers());
    const before = { list: registry.list(), proto: registry.protoText, entries: registry.entries() };

    const error = captured(() => registry.update(pendingOf(new EchoAgain()), []));

    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toBe(
      "Model 'echo' version '1' is declared twice: by Echo.echo and by EchoAgain.echo. " +
        "Give one of them another version, e.g. @Model('echo', { version: '2' }).",
    );
    expect(registry.list()).toEqual(before.list);
    expect(registry.entries()).toBe(before.entries);
    expect(registry.protoText).toBe(before.proto);
    // And the next valid change starts from the old set, not from a half-applied one.
    registry.update(pendingOf(new Extra()), []);
    expect(keys(registry)).toEqual(['echo@1', 'extra@1', 'ranker@1', 'ranker@2', 'ranker@10']);
    expect(registry.get('echo').handler).toBe('Echo.echo');
  });

  it('refuses the same version twice within one update, and the remove that came with it does not happen', () => {
    const registry = sealed(new Echo(), new Rankers());
    const proto = registry.protoText;
    expect(() => registry.update(pendingOf(new Extra(), new Extra()), [{ name: 'echo', version: '1' }])).toThrow(
      "Model 'extra' version '1' is declared twice: by Extra.run and by Extra.run.",
    );
    expect(keys(registry)).toEqual(['echo@1', 'ranker@1', 'ranker@2', 'ranker@10']);
    expect(registry.protoText).toBe(proto);
  });

  it('refuses a model whose generated names collide with a served one, and changes nothing', () => {
    const registry = sealed(new TextGenDash());
    const proto = registry.protoText;
    const error = captured(() => registry.update(pendingOf(new TextGenUnderscore()), []));
    expect(error).toBeInstanceOf(ConfigurationError);
    expect((error as Error).message).toContain("Generated name 'PredictTextGen' is produced by both");
    expect(keys(registry)).toEqual(['text-gen@1']);
    expect(registry.protoText).toBe(proto);
  });

  it('removing a version that is not registered changes nothing', () => {
    const registry = sealed(new Echo());
    const proto = registry.protoText;
    registry.update(
      [],
      [
        { name: 'echo', version: '2' },
        { name: 'nope', version: '1' },
      ],
    );
    expect(keys(registry)).toEqual(['echo@1']);
    expect(registry.protoText).toBe(proto);
  });
});

describe('ModelRegistry.update before seal', () => {
  it('is only recorded: nothing is listed or generated until seal(), which then includes it', () => {
    const registry = new ModelRegistry();
    for (const model of pendingOf(new Echo())) registry.add(model.schema, model.markedDefault, model.binding);
    registry.update(pendingOf(new Extra()), [{ name: 'echo', version: '1' }]);
    expect(registry.list()).toEqual([]);
    expect(registry.protoText).toBe('');

    registry.seal('acme.models');
    expect(keys(registry)).toEqual(['extra@1']);
    expect(registry.serviceName).toBe('acme.models.InferenceService');
    expect(registry.protoText).toContain('package acme.models;');
  });
});

function captured(action: () => unknown): unknown {
  try {
    action();
  } catch (error) {
    return error;
  }
  throw new Error('expected it to throw');
}
