import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runCli } from '../../lib/cli/run-cli.js';
import { AppModule } from '../../sample/app.module.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';

/** Runs the CLI in-process, as a script would see it (stdout is not a terminal). */
async function cli(...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: { write: (t: string) => (stdout += t) }, stderr: { write: (t: string) => (stderr += t) } });
  return { code, stdout, stderr };
}

describe('blazerpc CLI', () => {
  let running: RunningApp;

  beforeAll(async () => {
    running = await startApp({ imports: [AppModule.forRoot(testServerOptions)] });
  });

  afterAll(async () => {
    await running.app.close();
  });

  it('proto writes exactly the .proto the server generates, without serving', async () => {
    const out = join(mkdtempSync(join(tmpdir(), 'blazerpc-cli-')), 'models.proto');
    const result = await cli('proto', 'sample/app.module.ts', '--export', 'AppModule.forRoot()', '--out', out);
    expect(result).toMatchObject({ code: 0, stderr: '' });
    expect(readFileSync(out, 'utf8')).toBe(running.registry.protoText);
  });

  it('types writes a model map for BlazeClient<BlazeModels>', async () => {
    const { code, stdout } = await cli('types', 'sample/app.module.ts', '--export', 'AppModule.forRoot()');
    expect(code).toBe(0);
    expect(stdout).toContain('export type BlazeModels = {');
    expect(stdout).toContain('"echo": { inputs: { text: string }; result: string };');
    expect(stdout).toContain('"iris": { inputs: { features: Tensor }; result: Tensor };');
  });

  it('models lists what a running server serves, and as JSON', async () => {
    const { code, stdout, stderr } = await cli('models', running.address);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('Echo\tPredictEcho\tunary\t(text:value) -> result\n');
    expect(stdout).toContain('Tokens\tPredictTokens\tstream\t(prompt:value) -> result\n');
    expect(stdout).toContain('Iris\tPredictIris\tunary\t(features:tensor) -> result\n');
    const json = JSON.parse((await cli('models', running.address, '--json')).stdout);
    expect(json.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['Echo', 'Iris', 'Tokens']));
  });

  it('call prints the result as JSON', async () => {
    expect(await cli('call', running.address, 'echo', '{"text":"hi there"}')).toEqual({ code: 0, stdout: '"hi there"\n', stderr: '' });
  });

  it('call takes tensors as JSON and prints tensors as JSON', async () => {
    const { code, stdout } = await cli('call', running.address, 'iris', '{"features":{"dtype":"float32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}}');
    expect(code).toBe(0);
    const tensor = JSON.parse(stdout);
    expect(tensor).toMatchObject({ dtype: 'float', shape: [1, 3] });
    expect(tensor.data[0]).toBeGreaterThan(0.9);
  });

  it('call prints one line per streamed message', async () => {
    const { code, stdout } = await cli('call', running.address, 'tokens', '{"prompt":"a b c"}');
    expect(code).toBe(0);
    expect(stdout).toBe('"a"\n"b"\n"c"\n');
  });

  it('call sends --metadata, and exits 10 + the gRPC code on failure', async () => {
    const denied = await cli('call', running.address, 'secure', '{"text":"x"}');
    expect(denied.code).toBe(10 + 16);
    expect(denied.stderr).toMatch(/^UNAUTHENTICATED: /);
    const allowed = await cli('call', running.address, 'secure', '{"text":"x"}', '--metadata', 'authorization=Bearer demo-token', '--metadata', 'x-client-id=cli');
    expect(allowed).toEqual({ code: 0, stdout: '"Hello cli, you said: x"\n', stderr: '' });
    const invalid = await cli('call', running.address, 'iris', '{"features":{"dtype":"float32","shape":[1,3],"data":[1,2,3]}}');
    expect(invalid.code).toBe(10 + 3);
    expect(invalid.stderr).toContain("INVALID_ARGUMENT: Input 'features'");
    expect((await cli('call', running.address, 'nope', '{}')).code).toBe(10 + 5);
  });

  it('exits 2 on usage errors and 4 when the server cannot be reached', async () => {
    expect((await cli('call', running.address, 'echo', '{not json')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('call', running.address, 'echo', '{}', '--timeout', 'soon')).code).toBe(2);
    const unreachable = await cli('models', '127.0.0.1:1', '--timeout', '500');
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain('Could not discover models at 127.0.0.1:1');
    expect((await cli('proto', 'no/such/module.js')).code).toBe(3);
  });

  it('draws no spinner when stdout is not a terminal', async () => {
    const { stderr } = await cli('models', running.address);
    expect(stderr).toBe('');
  });
});
