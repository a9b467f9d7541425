import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportIrisOnnx, irisSamples, trainedIris } from '../fixtures/iris-models.js';
import { startAttackTarget, underAttack, type AttackTarget } from '../helpers/attack-target.js';
import { expectSurvived } from '../helpers/attack-expectations.js';
import { publishVersion } from '../helpers/model-repository.js';
import { OipSpecClient } from '../helpers/oip-spec-client.js';

/*
 * An attacker who reaches the port tries to take a model down with OIP's
 * RepositoryModelUnload (and to load what it likes with RepositoryModelLoad),
 * from many concurrent calls: no token, guessed tokens, a token in the wrong
 * header, paths and huge names for the model. On a real server process
 * serving a repository with control: true, first with no guard at all (must
 * fail closed), then with a guard that asks for the admin token.
 */

const DURATION_MS = 2000;
const CONCURRENCY = 16;

/** What an attacker sends on a control call. */
interface Attempt {
  readonly rpc: 'RepositoryModelUnload' | 'RepositoryModelLoad';
  readonly model: string;
  readonly metadata: Array<[string, string]>;
}

/** Attempts cycled through: every one must be refused. */
function attempts(): Attempt[] {
  const tokens: Array<Array<[string, string]>> = [
    [],
    [['x-admin-token', '']],
    [['x-admin-token', 'undefined']],
    [['x-admin-token', 'toke']],
    [['x-admin-token', 'tokenn']],
    [['x-admin-token', 'TOKEN']],
    [['x-admin-token', 'token'.repeat(2000)]],
    [['authorization', 'Bearer token']],
    [['x-admin-token-bin', Buffer.from('token').toString('base64')]],
    // Several values, the right one last: a guard must not pick a later one.
    [
      ['x-admin-token', 'guess'],
      ['x-admin-token', 'token'],
    ],
  ];
  const models = ['iris', 'iris', 'no-such-model', '..', '.', 'iris/1', 'x'.repeat(64 * 1024)];
  const list: Attempt[] = [];
  for (const metadata of tokens) {
    for (const model of models) {
      list.push({ rpc: 'RepositoryModelUnload', model, metadata });
      if (model === 'iris') list.push({ rpc: 'RepositoryModelLoad', model, metadata });
    }
  }
  return list;
}

/** Sends the attempts from CONCURRENCY loops until `signal` fires; tallies the answers by status name. */
async function hammer(address: string, signal: AbortSignal): Promise<Record<string, number>> {
  const client = new OipSpecClient(address);
  const stub = (client as unknown as { stub: Record<string, (...args: unknown[]) => void> }).stub;
  const list = attempts();
  const tally: Record<string, number> = {};
  const send = ({ rpc, model, metadata }: Attempt) =>
    new Promise<string>((resolve) => {
      const meta = new grpc.Metadata();
      for (const [key, value] of metadata) meta.add(key, key.endsWith('-bin') ? Buffer.from(value, 'base64') : value);
      stub[rpc]!({ model_name: model }, meta, { deadline: Date.now() + 5000 }, (error: grpc.ServiceError | null) =>
        resolve(error ? grpc.status[error.code]! : 'OK'),
      );
    });
  try {
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async (_, worker) => {
        for (let i = worker; !signal.aborted; i += CONCURRENCY) {
          const answer = await send(list[i % list.length]!);
          tally[answer] = (tally[answer] ?? 0) + 1;
        }
      }),
    );
  } finally {
    client.close();
  }
  return tally;
}

/** Whether the target still serves iris version 1, over OIP. */
async function irisServes(address: string): Promise<boolean> {
  const client = new OipSpecClient(address);
  try {
    const ready = await client.call('ModelReady', { name: 'iris', version: '1' });
    const inputs = [
      { name: 'features', datatype: 'FP32', shape: [1, 4], contents: { fp32_contents: irisSamples[0].features } },
    ];
    const answer = await client.call('ModelInfer', { model_name: 'iris', inputs });
    return ready.ready === true && answer.raw_output_contents.length === 1;
  } finally {
    client.close();
  }
}

describe('attack: taking a model down through OIP repository control', () => {
  let dir: string;
  let target: AttackTarget | undefined;

  beforeAll(() => {
    dir = mkdtempSync(join(tmpdir(), 'blazerpc-control-attack-'));
    publishVersion(dir, 'iris', '1', exportIrisOnnx(trainedIris));
  });

  afterEach(async () => {
    await target?.stop();
    target = undefined;
  });

  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('with no guard: every load and unload is refused (PERMISSION_DENIED), iris keeps serving, and the server says why once', async () => {
    target = await startAttackTarget({ MODEL_REPOSITORY: dir });
    const address = target.address;
    const report = await underAttack(target, (signal) => hammer(address, signal), { durationMs: DURATION_MS });
    expectSurvived(report);
    const tally = report.attackResult as Record<string, number>;
    expect(Object.keys(tally)).toEqual(['PERMISSION_DENIED']);
    expect(tally.PERMISSION_DENIED).toBeGreaterThan(500);
    expect(await irisServes(address)).toBe(true);
    const output = target.output();
    expect(output.match(/Repository control is refused: no guard protects it/g)).toHaveLength(1);
    expect(output).not.toMatch(/\bERROR\b/);
  }, 30_000);

  it('with a token guard: no token, guessed tokens and tokens in the wrong place are all refused; the real token still works', async () => {
    target = await startAttackTarget({ MODEL_REPOSITORY: dir, GUARD: 'token' });
    const address = target.address;
    const report = await underAttack(target, (signal) => hammer(address, signal), { durationMs: DURATION_MS });
    expectSurvived(report);
    const tally = report.attackResult as Record<string, number>;
    expect(
      Object.keys(tally).filter((status) => status !== 'PERMISSION_DENIED' && status !== 'UNAUTHENTICATED'),
    ).toEqual([]);
    expect((tally.PERMISSION_DENIED ?? 0) + (tally.UNAUTHENTICATED ?? 0)).toBeGreaterThan(500);
    expect(await irisServes(address)).toBe(true);
    expect(target.output()).not.toMatch(/\bERROR\b/);

    // The guard refused the attacker, not everyone: the admin's token unloads iris.
    const admin = new OipSpecClient(address);
    try {
      await admin.call('RepositoryModelUnload', { model_name: 'iris' }, { 'x-admin-token': 'token' });
      await expect(admin.call('ModelReady', { name: 'iris', version: '1' })).rejects.toMatchObject({
        code: grpc.status.NOT_FOUND,
      });
    } finally {
      admin.close();
    }
  }, 30_000);
});
