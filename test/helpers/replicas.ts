import { spawn, type ChildProcess } from 'node:child_process';
import type { BlazeClient } from '../../lib/index.js';
import { repositoryRootHolding } from './repository-root.js';

const SCRIPT = 'test/fixtures/replica/replica.main.ts';

/** The repository root, from the sources (tests) or from dist/ (the benches); the process always runs from its TypeScript source. */
const ROOT = repositoryRootHolding(SCRIPT, import.meta.url);

/** How a replica process ended. */
export interface ReplicaExit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

/** A replica: a real server process of the small `whoami` app (test/fixtures/replica). */
export interface Replica {
  readonly name: string;
  readonly port: number;
  readonly address: string;
  readonly process: ChildProcess;
  /** Resolves when the process ends: its exit code, or the signal that ended it. */
  readonly exited: Promise<ReplicaExit>;
  /**
   * SIGTERM, as Kubernetes sends it: the replica drains, then Nest's shutdown
   * hook re-raises the signal, so it ends with `signal: 'SIGTERM'`. Resolves on exit.
   */
  stop(): Promise<ReplicaExit>;
}

/** Starts a replica (on `port`, or a free one) and resolves once it serves. */
export async function startReplica(name: string, port = 0, env: Record<string, string> = {}): Promise<Replica> {
  const child = spawn(process.execPath, ['--import', '@swc-node/register/esm-register', SCRIPT], {
    cwd: ROOT,
    env: { ...process.env, PORT: String(port), REPLICA: name, ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<ReplicaExit>((resolve) => child.once('exit', (code, signal) => resolve({ code, signal })));
  const boundPort = await new Promise<number>((resolve, reject) => {
    let output = '';
    child.stdout!.on('data', (chunk: Buffer) => {
      output += chunk.toString();
      const ready = /ready (\d+)/.exec(output);
      if (ready) resolve(Number(ready[1]));
    });
    void exited.then(({ code, signal }) =>
      reject(new Error(`replica ${name} exited (${signal ?? code}) before it was ready`)),
    );
  });
  return {
    name,
    port: boundPort,
    address: `127.0.0.1:${boundPort}`,
    process: child,
    exited,
    stop: () => {
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** What a load run saw: calls answered per replica, and failures by status. */
export interface LoadTally {
  readonly answered: Map<string, number>;
  readonly failures: string[];
  total(): number;
}

/**
 * Calls `whoami` from `concurrency` loops until `stop()`; counts who answered.
 * Each call does `workMs` of pretend work on the replica.
 */
export function driveLoad(client: BlazeClient, concurrency: number, workMs = 2) {
  let running = true;
  const tally: LoadTally = {
    answered: new Map(),
    failures: [],
    total() {
      return [...this.answered.values()].reduce((a, b) => a + b, 0);
    },
  };
  const loop = async () => {
    while (running) {
      try {
        const replica = (await client.predict('whoami', { ms: workMs }, { timeoutMs: 10_000 })) as string;
        tally.answered.set(replica, (tally.answered.get(replica) ?? 0) + 1);
      } catch (error) {
        tally.failures.push((error as Error).message);
        // A failure can come back at once; let timers (and stop()) run between attempts.
        await new Promise((resolve) => setImmediate(resolve));
      }
    }
  };
  const loops = Array.from({ length: concurrency }, loop);
  return {
    tally,
    /** A copy of the counts so far, to diff against later. */
    snapshot: () => new Map(tally.answered),
    async stop(): Promise<LoadTally> {
      running = false;
      await Promise.all(loops);
      return tally;
    },
  };
}
