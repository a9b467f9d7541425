import { status } from '@grpc/grpc-js';
import { Injectable } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import { BlazeClient, BlazeRpcClientError, BlazeRpcModule, Input, Model, ModelRegistry } from '../../lib/index.js';
import { versionHealthName } from '../../lib/core/health/health-names.js';
import { modelIdString, parseModelId, sameModel } from '../../lib/core/registry/model-id.js';
import { LookalikeModels } from '../fixtures/lookalike.models.js';

/*
 * One model version is one name and one version, whatever its rpc is called:
 * what a client asks for by name and version reaches that version or fails
 * NOT_FOUND, whether it learned the server's models from a registry or from
 * the .proto the server generated. No server is reached: with `registry` or
 * `proto`, connecting only reads them.
 */

@Injectable()
class Models {
  @Model('iris', { returns: String })
  iris(@Input('text') text: string): string {
    return text;
  }

  @Model('ranker', { version: '1.1', returns: String })
  rankerV1_1(@Input('q') q: string): string {
    return q;
  }

  @Model('ranker', { version: '2', returns: String })
  rankerV2(@Input('q') q: string): string {
    return q;
  }

  /** A description written like the comment that names a model version in the .proto. */
  @Model('decoy', { returns: String, description: "Model 'iris', version 7 (default)." })
  decoy(@Input('text') text: string): string {
    return text;
  }
}

let registry: ModelRegistry;
const clients: BlazeClient[] = [];

beforeAll(async () => {
  const moduleRef = await Test.createTestingModule({
    imports: [BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false })],
    providers: [LookalikeModels, Models],
  }).compile();
  await moduleRef.init();
  registry = moduleRef.get(ModelRegistry);
  await moduleRef.close();
});

afterAll(() => clients.forEach((client) => client.close()));

/** A client as an app makes it, learning the models from the server's registry or from its .proto; nothing listens at the address. */
async function clientFrom(source: 'registry' | '.proto' | '.proto without comments'): Promise<BlazeClient> {
  const stripped = () =>
    registry.protoText
      .split('\n')
      .filter((line) => !line.trimStart().startsWith('//'))
      .join('\n');
  const options =
    source === 'registry' ? { registry } : { proto: source === '.proto' ? registry.protoText : stripped() };
  const client = await BlazeClient.connect('127.0.0.1:1', options);
  clients.push(client);
  return client;
}

function refusal(action: () => unknown): BlazeRpcClientError {
  try {
    action();
  } catch (error) {
    expect(error).toBeInstanceOf(BlazeRpcClientError);
    return error as BlazeRpcClientError;
  }
  throw new Error('expected a refusal');
}

const listed = (client: BlazeClient) =>
  client
    .models()
    .map(
      (m) =>
        `${m.version ? modelIdString({ name: m.name, version: m.version }) : m.name}${m.isDefault ? '' : ' (not default)'}`,
    );

const SERVED = 'decoy@1, foo@1, foo@2, foo-v3@1, iris@1, ranker@1.1, ranker@2';

describe.each(['registry', '.proto'] as const)('a client that learned the models from the %s', (source) => {
  it('lists each version by its name and version as registered', async () => {
    expect(listed(await clientFrom(source))).toEqual([
      'decoy@1',
      'foo@1 (not default)',
      'foo@2',
      'foo-v3@1',
      'iris@1',
      'ranker@1.1 (not default)',
      'ranker@2',
    ]);
  });

  it("refuses 'foo' version 3 with NOT_FOUND, listing what the server has, rather than call 'foo-v3' through PredictFooV3", async () => {
    const client = await clientFrom(source);
    const refused = refusal(() => client.model('foo', '3'));
    expect(refused.code).toBe(status.NOT_FOUND);
    expect(refused.details).toBe(`Model 'foo' version '3' is not served here; the server has: ${SERVED}`);
    // Each one by its own name and version.
    expect(client.model('foo-v3')).toMatchObject({ name: 'foo-v3', version: '1', rpc: 'PredictFooV3' });
    expect(client.model('foo-v3', '1').rpc).toBe('PredictFooV3');
    expect(client.model('foo', '1')).toMatchObject({ name: 'foo', version: '1', rpc: 'PredictFooV1' });
    expect(client.model('foo', '2')).toMatchObject({ name: 'foo', version: '2', rpc: 'PredictFooV2' });
    // The default version through its unversioned rpc, which the server routes to it.
    expect(client.model('foo')).toMatchObject({ name: 'foo', version: '2', rpc: 'PredictFoo' });
  });

  it('reaches a model served in one version by that version, and a dotted version as written', async () => {
    const client = await clientFrom(source);
    expect(client.model('iris', '1')).toMatchObject({ name: 'iris', version: '1', rpc: 'PredictIris' });
    expect(client.model('ranker', '1.1')).toMatchObject({ name: 'ranker', version: '1.1', rpc: 'PredictRankerV1_1' });
    const refused = refusal(() => client.model('iris', '2'));
    expect(refused.code).toBe(status.NOT_FOUND);
    expect(refused.details).toBe(`Model 'iris' version '2' is not served here; the server has: ${SERVED}`);
  });

  it('takes a name as the rpc spells it for the same model, never for another', async () => {
    const client = await clientFrom(source);
    expect(['foo-v3', 'FooV3', 'foo_v3'].map((name) => client.model(name).rpc)).toEqual([
      'PredictFooV3',
      'PredictFooV3',
      'PredictFooV3',
    ]);
    expect(client.model('ranker', '1_1').version).toBe('1.1');
    // A description that reads like the comment naming a model version names none.
    expect(client.model('decoy').rpc).toBe('PredictDecoy');
    expect(refusal(() => client.model('iris', '7')).code).toBe(status.NOT_FOUND);
  });
});

describe('a client that learned the models from rpc names alone (reflection, or a .proto without its comments)', () => {
  it('reads names and versions from the rpcs as before, with the limits the rpc names have', async () => {
    const client = await clientFrom('.proto without comments');
    expect(listed(client)).toEqual([
      'Decoy',
      'Foo@1 (not default)',
      'Foo@2',
      'Foo@3 (not default)',
      'Iris',
      'Ranker@1_1 (not default)',
      'Ranker@2',
    ]);
    expect(client.model('foo', '2').rpc).toBe('PredictFooV2');
    expect(client.model('ranker', '1.1').rpc).toBe('PredictRankerV1_1');
    // PredictFooV3 reads both as foo version 3 and as a model FooV3: the rpc names cannot tell which.
    expect(client.model('foo-v3').rpc).toBe('PredictFooV3');
    expect(client.model('foo', '3').rpc).toBe('PredictFooV3');
    // A model served in one version has no version in its rpc names.
    expect(refusal(() => client.model('iris', '1')).details).toBe(
      "Model 'iris' version '1' is not served here; the server has: Decoy, Foo@1, Foo@2, Foo@3, Iris, Ranker@1_1, Ranker@2",
    );
  });
});

describe('ModelId', () => {
  it("is written 'name@version', as health names it, and read back", () => {
    expect(modelIdString({ name: 'ranker', version: '1.1' })).toBe('ranker@1.1');
    expect(versionHealthName(registry.get('ranker', '1.1'))).toBe('ranker@1.1');
    expect(parseModelId('ranker@1.1')).toEqual({ name: 'ranker', version: '1.1' });
    expect(parseModelId(modelIdString({ name: 'text-gen', version: 'v2_rc-1' }))).toEqual({
      name: 'text-gen',
      version: 'v2_rc-1',
    });
    expect(sameModel({ name: 'foo', version: '3' }, registry.get('foo-v3'))).toBe(false);
    expect(sameModel({ name: 'foo-v3', version: '1' }, registry.get('foo-v3'))).toBe(true);
  });
});
