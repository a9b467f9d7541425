import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough, Readable } from 'node:stream';
import { runCli } from '../../lib/cli/run-cli.js';
import { BlazeRpcModule } from '../../lib/index.js';
import { AppModule } from '../../sample/app.module.js';
import { LookalikeModels } from '../fixtures/lookalike.models.js';
import { startOipStandin, type OipStandin } from '../helpers/oip-standin-server.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { until } from '../helpers/time.js';

/** Runs the CLI in-process, as a script would see it (stdout is not a terminal). */
async function cli(...argv: string[]) {
  return cliWithStdin(undefined, ...argv);
}

/** The same, with `stdin` piped in; `output` shows stdout while the command runs. */
async function cliWithStdin(stdin: Readable | undefined, ...argv: string[]) {
  let stdout = '';
  let stderr = '';
  const io = {
    stdout: { write: (t: string) => (stdout += t) },
    stderr: { write: (t: string) => (stderr += t) },
    stdin,
  };
  const code = await runCli(argv, io);
  return { code, stdout, stderr };
}

/** Pipes `text` in as stdin, in small chunks so lines are split across them as a pipe may split them. */
const piped = (text: string) => Readable.from(text.match(/[\s\S]{1,7}/g) ?? [], { objectMode: false });

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
    expect(stdout).toContain('"echo": { inputs: { text: string }; result: string; kind: "unary" };');
    expect(stdout).toContain('"iris": { inputs: { features: Tensor }; result: Tensor; kind: "unary" };');
    expect(stdout).toContain('"tally": { inputs: { text: string }; result: number; kind: "client-stream" };');
    expect(stdout).toContain('"relay": { inputs: { text: string }; result: string; kind: "bidi" };');
  });

  it('finds the app module a CommonJS build exports (the one no other exported module imports), and asks for --export when it cannot tell', async () => {
    const typed = await cli('types', 'test/fixtures/cli/commonjs-app.module.cjs');
    expect(typed).toMatchObject({ code: 0, stderr: '' });
    expect(typed.stdout).toContain('"next-id": { inputs:');
    await expect(
      cli('types', 'test/fixtures/cli/commonjs-app.module.cjs', '--export', 'AppModule'),
    ).resolves.toMatchObject({ code: 0 });

    const several = await cli('proto', 'test/fixtures/cli/two-modules.cjs');
    expect(several.code).toBe(3);
    expect(several.stderr).toContain(
      'exports several Nest modules (AppModule, AdminModule); pick one with --export AppModule',
    );

    await expect(cli('proto', 'test/fixtures/cli/root-and-imported.cjs')).resolves.toMatchObject({
      code: 0,
      stderr: '',
    });

    const withoutModels = await cli('proto', 'test/fixtures/cli/two-modules.cjs', '--export', 'AdminModule');
    expect(withoutModels.code).toBe(3);
    expect(withoutModels.stderr).toContain('does not import BlazeRpcModule');

    const none = await cli('proto', 'test/fixtures/cli/no-module.cjs');
    expect(none.code).toBe(3);
    expect(none.stderr).toContain('exports no Nest module (exports: bootstrap)');
  });

  it('models lists what a running server serves, and as JSON', async () => {
    const { code, stdout, stderr } = await cli('models', running.address);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    // Declared names and versions (read from the server's OIP RepositoryIndex), kind and typed signature.
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s{2,}/));
    expect(lines).toEqual(
      expect.arrayContaining([
        ['echo', 'v1', 'unary', '(text: string) -> string'],
        ['tokens', 'v1', 'stream', '(prompt: string) -> string'],
        ['iris', 'v1', 'unary', '(features: Tensor) -> Tensor'],
      ]),
    );
    const json = JSON.parse((await cli('models', running.address, '--json')).stdout);
    expect(json.map((m: { name: string }) => m.name)).toEqual(expect.arrayContaining(['echo', 'iris', 'tokens']));
    expect(json.find((m: { name: string }) => m.name === 'iris')).toMatchObject({
      version: '1',
      rpc: 'PredictIris',
      kind: 'unary',
    });
  });

  it('call prints the result as JSON', async () => {
    expect(await cli('call', running.address, 'echo', '{"text":"hi there"}')).toEqual({
      code: 0,
      stdout: '"hi there"\n',
      stderr: '',
    });
  });

  it('call takes tensors as JSON and prints tensors as JSON', async () => {
    const { code, stdout } = await cli(
      'call',
      running.address,
      'iris',
      '{"features":{"dtype":"float32","shape":[1,4],"data":[5.1,3.5,1.4,0.2]}}',
    );
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
    const allowed = await cli(
      'call',
      running.address,
      'secure',
      '{"text":"x"}',
      '--metadata',
      'authorization=Bearer demo-token',
      '--metadata',
      'x-client-id=cli',
    );
    expect(allowed).toEqual({ code: 0, stdout: '"Hello cli, you said: x"\n', stderr: '' });
    const invalid = await cli(
      'call',
      running.address,
      'iris',
      '{"features":{"dtype":"float32","shape":[1,3],"data":[1,2,3]}}',
    );
    expect(invalid.code).toBe(10 + 3);
    expect(invalid.stderr).toContain("INVALID_ARGUMENT: Input 'features'");
    expect((await cli('call', running.address, 'nope', '{}')).code).toBe(10 + 5);
  });

  it('--version prints the tool version; <command> --help that command alone', async () => {
    const version = await cli('--version');
    expect(version.code).toBe(0);
    expect(version.stdout).toMatch(/^\d+\.\d+\.\d+\n$/);
    const help = await cli('call', '--help');
    expect(help.code).toBe(0);
    expect(help.stdout).toMatch(/^Usage: blazerpc call \[options\]/);
    expect(help.stdout).toContain('--model-version v');
    expect(help.stdout).not.toContain('types <module-file>');
  });

  it('exits 2 on usage errors and 4 when the server cannot be reached', async () => {
    expect((await cli('call', running.address, 'echo', '{not json')).code).toBe(2);
    expect((await cli('frobnicate')).code).toBe(2);
    expect((await cli('call', running.address, 'echo', '{}', '--timeout', 'soon')).code).toBe(2);
    const unknownFlag = await cli('models', running.address, '--adress', 'x');
    expect(unknownFlag).toMatchObject({ code: 2, stdout: '' });
    expect(unknownFlag.stderr).toMatch(/^Unknown option '--adress'.* \(blazerpc --help shows the usage\)\n$/);
    const wrongType = await cli('call', running.address, 'echo', '{"text":42}');
    expect(wrongType).toMatchObject({ code: 2, stderr: "Input 'text' must be a string, got number\n" });
    const unknownField = await cli('call', running.address, 'echo', '{"txet":"hi"}');
    expect(unknownField).toEqual({ code: 2, stdout: '', stderr: "Model 'echo' has no input 'txet'; it takes: text\n" });
    const unreachable = await cli('models', '127.0.0.1:1', '--timeout', '500');
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain('Could not discover models at 127.0.0.1:1');
    expect((await cli('proto', 'no/such/module.js')).code).toBe(3);
  });

  it('models names how each model is called, streaming-input ones included', async () => {
    const { stdout } = await cli('models', running.address);
    const lines = stdout
      .trim()
      .split('\n')
      .map((line) => line.split(/\s{2,}/));
    expect(lines).toEqual(
      expect.arrayContaining([
        ['tally', 'v1', 'client-stream', '(text: string) -> number'],
        ['relay', 'v1', 'bidi', '(text: string) -> string'],
      ]),
    );
    const json = JSON.parse((await cli('models', running.address, '--json')).stdout);
    expect(json.find((m: { name: string }) => m.name === 'tally')).toMatchObject({
      kind: 'client-stream',
      streaming: false,
    });
  });

  it('call streams NDJSON from stdin to a client-streaming model and prints its one result', async () => {
    const stdin = piped('{"text":"the quick"}\n\n{"text":"brown fox jumps"}\r\n{"text":""}');
    expect(await cliWithStdin(stdin, 'call', running.address, 'tally')).toEqual({ code: 0, stdout: '5\n', stderr: '' });
    expect(await cliWithStdin(piped(''), 'call', running.address, 'tally')).toEqual({
      code: 0,
      stdout: '0\n',
      stderr: '',
    });
  });

  it('call prints a line per reply of a bidirectional model, as each arrives while stdin is still open', async () => {
    const stdin = new PassThrough();
    let printed = '';
    const io = { stdout: { write: (t: string) => (printed += t) }, stderr: { write: () => undefined }, stdin };
    const call = runCli(['call', running.address, 'relay'], io);
    stdin.write('{"text":"ping"}\n');
    await until(() => printed === '"PING"\n');
    stdin.write('{"text":"pong"}\n{"text":"the end"}\n');
    await until(() => printed === '"PING"\n"PONG"\n"THE END"\n');
    stdin.end();
    await expect(call).resolves.toBe(0);
    // A character split across two chunks of the pipe arrives whole.
    const split = Readable.from([
      Buffer.from('{"text":"caf'),
      Buffer.from([0xc3]),
      Buffer.from([0xa9]),
      Buffer.from('"}\n'),
    ]);
    expect(await cliWithStdin(split, 'call', running.address, 'relay')).toEqual({
      code: 0,
      stdout: '"CAFÉ"\n',
      stderr: '',
    });
  });

  it('call refuses bad stdin lines (2), inline JSON for a streaming-input model (2), and exits 10 + the code when the call fails', async () => {
    const badLine = await cliWithStdin(piped('{"text":"fine"}\nnot json\n'), 'call', running.address, 'tally');
    expect(badLine.code).toBe(2);
    expect(badLine.stderr).toMatch(/^stdin line 2 is not valid JSON: /);
    const notAnObject = await cliWithStdin(piped('["text"]\n'), 'call', running.address, 'relay');
    expect(notAnObject).toEqual({
      code: 2,
      stdout: '',
      stderr: 'stdin line 1 is not a JSON object of inputs, e.g. {"text":"hi"}\n',
    });
    const unknownField = await cliWithStdin(piped('{"txt":"typo"}\n'), 'call', running.address, 'tally');
    expect(unknownField).toEqual({ code: 2, stdout: '', stderr: "Model 'tally' has no input 'txt'; it takes: text\n" });
    const inline = await cliWithStdin(piped(''), 'call', running.address, 'tally', '{"text":"a"}');
    expect(inline.code).toBe(2);
    expect(inline.stderr).toContain('pipe them on stdin, one JSON object per line');
    // stdin left open past the deadline
    const held = await cliWithStdin(new PassThrough(), 'call', running.address, 'tally', '--timeout', '500');
    expect(held.code).toBe(10 + 4);
    expect(held.stderr).toMatch(/^DEADLINE_EXCEEDED: /);
  });

  it('draws no spinner when stdout is not a terminal', async () => {
    const { stderr } = await cli('models', running.address);
    expect(stderr).toBe('');
  });
});

describe('blazerpc models, with a model whose rpc looks like a version of another', () => {
  it('lists each model version under its declared name and version', async () => {
    const running = await startApp({
      imports: [BlazeRpcModule.forRoot(testServerOptions)],
      providers: [LookalikeModels],
    });
    try {
      const listed = JSON.parse((await cli('models', running.address, '--json')).stdout) as Array<{
        name: string;
        version: string;
        rpc: string;
      }>;
      expect(listed.map(({ name, version, rpc }) => `${name}@${version} ${rpc}`).sort()).toEqual([
        'foo-v3@1 PredictFooV3',
        'foo@1 PredictFooV1',
        'foo@2 PredictFooV2',
      ]);
    } finally {
      await running.app.close();
    }
  });
});

describe('blazerpc CLI --protocol oip, against an independent OIP server', () => {
  let standin: OipStandin;
  const oip = (...argv: string[]) => cli(...argv, '--protocol', 'oip');
  const lastInfer = () => standin.calls.filter((call) => call.rpc === 'ModelInfer').at(-1)!;

  beforeAll(async () => {
    standin = await startOipStandin();
  });

  afterAll(async () => {
    await standin.close();
  });

  it('models lists every model with its versions, state and tensors, and as JSON', async () => {
    const { code, stdout, stderr } = await oip('models', standin.address);
    expect({ code, stderr }).toEqual({ code: 0, stderr: '' });
    expect(stdout).toContain('double@1,2\tREADY\t(x:FP32[-1]) -> y:FP32[-1], sum:FP32[1]\n');
    expect(stdout).toContain('int64_inc@1\tREADY\t(x:INT64[-1,2]) -> y:INT64[-1,2]\n');
    expect(stdout).toContain('warming@1\tLOADING (warming up)\t() -> \n');
    const json = JSON.parse((await oip('models', standin.address, '--json')).stdout);
    expect(json.find((m: { name: string }) => m.name === 'echo_bytes')).toEqual({
      name: 'echo_bytes',
      versions: ['1'],
      state: 'READY',
      platform: 'standin',
      inputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
      outputs: [{ name: 'text', datatype: 'BYTES', shape: [-1] }],
    });
  });

  it('models asks about the named models on servers without RepositoryIndex', async () => {
    const kserve = await startOipStandin({ repositoryIndex: false });
    try {
      const unnamed = await oip('models', kserve.address);
      expect(unnamed.code).toBe(2);
      expect(unnamed.stderr).toContain(`name them: blazerpc models --protocol oip ${kserve.address} <model>...`);
      const named = await oip('models', kserve.address, 'double', 'warming');
      expect(named).toEqual({
        code: 0,
        stdout: 'double@1,2\tREADY\t(x:FP32[-1]) -> y:FP32[-1], sum:FP32[1]\nwarming@1\tUNAVAILABLE\t() -> \n',
        stderr: '',
      });
    } finally {
      await kserve.close();
    }
  });

  it('call gives JSON numbers the datatype and shape the model declares, and prints the outputs', async () => {
    const int64 = await oip('call', standin.address, 'int64_inc', '{"x":[1,2,3,"9007199254740993"]}');
    expect(int64).toMatchObject({ code: 0, stderr: '' });
    expect(JSON.parse(int64.stdout)).toEqual({
      y: { datatype: 'INT64', shape: [2, 2], data: ['2', '3', '4', '9007199254740994'] },
    });
    expect(lastInfer().request.inputs[0]).toMatchObject({ name: 'x', datatype: 'INT64', shape: ['2', '2'] });
    const fp32 = await oip('call', standin.address, 'double', '{"x":[[1.5,2],[3,4]]}');
    expect(JSON.parse(fp32.stdout)).toEqual({
      y: { datatype: 'FP32', shape: [2, 2], data: [3, 4, 6, 8] },
      sum: { datatype: 'FP32', shape: [1], data: [10.5] },
    });
  });

  it('call sends strings as BYTES and explicit tensors as given', async () => {
    expect(await oip('call', standin.address, 'echo_bytes', '{"text":["hi","there"]}')).toEqual({
      code: 0,
      stdout: '{"text":{"datatype":"BYTES","shape":[2],"data":["HI","THERE"]}}\n',
      stderr: '',
    });
    const bf16 = await oip(
      'call',
      standin.address,
      'halve_bf16',
      '{"x":{"datatype":"BF16","shape":[2,1],"data":[3,5]}}',
    );
    expect(JSON.parse(bf16.stdout)).toEqual({ y: { datatype: 'BF16', shape: [2, 1], data: [1.5, 2.5] } });
  });

  it('call --stream prints one line per response and reports the failed one on stderr', async () => {
    const { code, stdout, stderr } = await oip(
      'call',
      standin.address,
      'tokens',
      '{"text":"one <bad> two"}',
      '--stream',
    );
    expect(stdout).toBe(
      '{"token":{"datatype":"BYTES","shape":[1],"data":["one"]}}\n{"token":{"datatype":"BYTES","shape":[1],"data":["two"]}}\n',
    );
    expect(stderr).toBe("UNKNOWN: cannot emit token '<bad>'\n");
    expect(code).toBe(10 + 2);
  });

  it('call sends --version and --metadata, and exits 10 + the gRPC code, 2 on usage errors, 4 when nothing answers', async () => {
    const versioned = await oip(
      'call',
      standin.address,
      'double',
      '{"x":[1]}',
      '--model-version',
      '2',
      '--metadata',
      'x-client-id=cli',
    );
    expect(versioned.code).toBe(0);
    expect(lastInfer()).toMatchObject({ request: { model_version: '2' }, metadata: { 'x-client-id': 'cli' } });
    const missing = await oip('call', standin.address, 'nope', '{}');
    expect(missing.code).toBe(10 + 5);
    expect(missing.stderr).toMatch(/^NOT_FOUND: .*'nope'/);
    const refused = await oip(
      'call',
      standin.address,
      'double',
      '{"x":{"datatype":"FP32","shape":[2],"data":[1,2,3]}}',
    );
    expect(refused.code).toBe(10 + 3);
    expect(refused.stderr).toBe("INVALID_ARGUMENT: Input 'x': shape [2] has 2 elements but data has 3\n");
    expect((await oip('call', standin.address, 'double', '[1,2]')).code).toBe(2);
    expect((await cli('models', standin.address, '--protocol', 'grpc')).code).toBe(2);
    const unreachable = await oip('models', '127.0.0.1:1', '--timeout', '500');
    expect(unreachable.code).toBe(4);
    expect(unreachable.stderr).toContain('Could not reach an OIP server at 127.0.0.1:1');
  });
});
