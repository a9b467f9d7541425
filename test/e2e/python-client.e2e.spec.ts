import { execFile, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { AppModule } from '../../sample/app.module.js';
import { ModelClient } from '../helpers/model-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';

/** `$PYTHON`, else the first `python3` on PATH that imports grpc and grpc_tools (grpcio, grpcio-tools). */
function findPython(): string | undefined {
  const onPath = (process.env.PATH ?? '').split(delimiter).filter(Boolean);
  const candidates = [process.env.PYTHON, ...onPath.map((dir) => join(dir, 'python3'))].filter((c): c is string => !!c);
  return [...new Set(candidates)].find(
    (python) => spawnSync(python, ['-c', 'import grpc, grpc_tools'], { stdio: 'ignore', timeout: 15_000 }).status === 0,
  );
}

const python = findPython();
if (!python)
  console.log(
    'python-client e2e skipped: no python3 on PATH (or $PYTHON) imports grpc and grpc_tools (pip install grpcio grpcio-tools)',
  );
const describeWithPython = python ? describe : describe.skip;

interface PythonRun {
  /** The exit code (0 when every check of the script passed), or what stopped it. */
  code: number | string;
  stdout: string;
  stderr: string;
}

/** Runs the script to its end (asynchronously: the server answers from this same process). */
function runPython(...args: string[]): Promise<PythonRun> {
  return new Promise((resolve) => {
    execFile(python!, args, { timeout: 60_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (error.code ?? error.signal ?? 'failed') : 0, stdout, stderr });
    });
  });
}

/** One sample's value from Prometheus text exposition, or 0 when absent. */
function sample(text: string, name: string, labels: Record<string, string>): number {
  const wanted = Object.entries(labels).map(([k, v]) => `${k}="${v}"`);
  const line = text.split('\n').find((l) => l.startsWith(`${name}{`) && wanted.every((w) => l.includes(w)));
  return line ? Number(line.slice(line.lastIndexOf(' ') + 1)) : 0;
}

describeWithPython("a Python grpcio client streams into and out of the sample's tally and relay", () => {
  let protoDir: string;
  let running: RunningApp;
  let run: PythonRun;
  let summary: any;

  beforeAll(async () => {
    protoDir = mkdtempSync(join(tmpdir(), 'blazerpc-python-'));
    // Served as the sample is, writing its .proto; the Python client compiles that file.
    running = await startApp(
      { imports: [AppModule.forRoot({ ...testServerOptions, protoFile: join(protoDir, 'blazerpc.proto') })] },
      { http: true },
    );
    run = await runPython('test/python/streaming_client.py', running.address, protoDir);
    summary = JSON.parse(run.stdout || '{}');
  }, 90_000);
  afterAll(async () => {
    await running?.app.close();
    if (protoDir) rmSync(protoDir, { recursive: true, force: true });
  });

  const metric = async (method: string, status: string) =>
    sample(await (await fetch(`${running.httpUrl}/metrics`)).text(), 'blazerpc_requests_total', { method, status });

  it('compiles the .proto the server wrote, and every check of the script passes', () => {
    expect(readFileSync(join(protoDir, 'blazerpc.proto'), 'utf8')).toBe(running.registry.protoText);
    expect({ code: run.code, stderr: run.stderr }).toEqual({ code: 0, stderr: '' });
    expect(summary.grpcio).toMatch(/^\d+\.\d+/);
  });

  it('tally counts the words over every streamed message, 0 for none, and takes 1,000 messages', () => {
    expect(summary.tally).toEqual({ words: 5, empty: 0, many: 2000 });
  });

  it('relay answers each text before the next one is sent, in order, and ends OK on half-close', () => {
    expect(summary.relay).toEqual({
      transcript: ['> hello', '< HELLO', '> streaming', '< STREAMING', '> world', '< WORLD'],
      code: 'OK',
    });
  });

  it('a cancel mid-stream: the reply before it arrived, the client sees CANCELLED and the server counts it', async () => {
    expect(summary.cancel).toEqual({ before: ['ONE'], code: 'CANCELLED' });
    expect(await metric('PredictRelay', 'CANCELLED')).toBe(1);
    expect(await metric('PredictRelay', 'OK')).toBe(1);
  });

  it('a deadline on a client stream left open ends it DEADLINE_EXCEEDED, at the deadline, on both sides', async () => {
    expect(summary.deadline).toMatchObject({ timeout_ms: 300, code: 'DEADLINE_EXCEEDED' });
    expect(summary.deadline.after_ms).toBeGreaterThanOrEqual(250);
    expect(summary.deadline.after_ms).toBeLessThan(3000);
    expect(await metric('PredictTally', 'DEADLINE_EXCEEDED')).toBe(1);
  });

  it('the server keeps serving: the same Python channel afterwards, and a new Node client', async () => {
    expect(summary.afterwards).toBe(2);
    expect(await metric('PredictTally', 'OK')).toBe(4);
    const client = new ModelClient(running.address, running.registry.protoText);
    try {
      const { call, response } = client.upload('PredictTally');
      call.write({ text: 'after python' });
      call.end();
      await expect(response).resolves.toEqual({ result: 2 });
    } finally {
      client.close();
    }
  });
});
