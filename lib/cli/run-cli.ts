import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { BlazeClient } from '../client/blaze-client.js';
import type { BlazeClientOptions } from '../client/blaze-client-options.interface.js';
import type { ModelCallKind } from '../client/model-map.types.js';
import { BlazeRpcClientError } from '../client/blaze-rpc-client.error.js';
import { SerializationError } from '../core/errors/serialization.error.js';
import { CliError, EXIT, withSpinner, type CliIo } from './cli-io.js';
import { OPTIONS, parseMetadata, parseProtocol, parseTimeout, parseTls, type Values } from './cli-options.js';
import { withAppRegistry } from './load-app-module.js';
import { callOipModel, listOipModels } from './oip-commands.js';
import { generateModelTypes } from './model-types.generator.js';
import { toJson } from './result-json.js';
import { packageVersion } from '../core/package-version.js';
import { listModels as listDeclaredModels, type ListedModel } from './model-listing.js';
import { callWithStdin } from './streaming-input-call.js';

const USAGE = `Usage: blazerpc <command> [options]

Commands:
  proto <module-file> [--out file] [--export name]   Write the .proto of an app module, without serving
  types <module-file> [--out file] [--export name] [--from pkg]
                                                     Write TypeScript types for BlazeClient<BlazeModels>
  models <host:port> [--json]                        List the models a server serves (over reflection)
  call <host:port> <model> '<json>' [--model-version v] [--metadata k=v]... [--timeout ms]
                                                     Call a model; tensors as {"dtype","shape","data":[...]}.
                                                     Streams print one JSON line per message.
  call <host:port> <model> < messages.ndjson         Call a streaming-input model: each stdin line is one JSON
                                                     message, sent as read (empty lines skipped). Prints the one
                                                     result (client streaming) or a line per reply, as it comes (bidi).
Connection options (models, call): --tls, --ca file, --cert file, --key file
Protocol (models, call): --protocol blazerpc (default) or --protocol oip, for any Open Inference Protocol
  (KServe v2) server: Triton, KServe, MLServer, or this library's OIP endpoint.
  models --protocol oip <host:port> [model...]       Models with versions, state and tensors (RepositoryIndex;
                                                     name the models on servers without it)
  call --protocol oip <host:port> <model> '<json>' [--stream]
                                                     Inputs as {"name": [numbers] | "text" | {"datatype","shape","data"}}:
                                                     numbers take the datatype and shape of the model's metadata
                                                     (FP32 when it declares none). Prints the outputs as
                                                     {"name": {"datatype","shape","data"}}; --stream calls
                                                     ModelStreamInfer and prints one line per response.
Module options (proto, types): --export picks the export, e.g. --export 'AppModule.forRoot()' (default: the one Nest module the file exports)

Other options: --version (-V) prints this tool's version; <command> --help that command's usage.

Exit codes: 0 ok, 2 usage, 3 module could not be loaded, 4 server unreachable, 10 + N a call failed with gRPC status N.`;

/**
 * The usage of one command: its lines of USAGE (a line naming it, and the
 * lines indented under it), and the options and exit codes that apply.
 */
function helpFor(command: string): string {
  const lines = USAGE.split('\n');
  const picked: string[] = [];
  let inCommand = false;
  for (const line of lines) {
    if (/^ {2}\S/.test(line)) inCommand = line.trimStart().startsWith(`${command} `) || line.trim() === command;
    else if (!/^ {10,}/.test(line)) inCommand = false;
    if (inCommand) picked.push(line);
  }
  if (picked.length === 0) return USAGE;
  const shared = lines.filter((line) => /^(Connection options|Exit codes|Module options)/.test(line));
  return [`Usage: blazerpc ${command} [options]`, '', ...picked, '', ...shared].join('\n');
}

/** How `models` names each kind of call. */
const KIND_LABEL: Record<ModelCallKind, string> = {
  unary: 'unary',
  'server-stream': 'stream',
  'client-stream': 'client-stream',
  bidi: 'bidi',
};

/** Runs the `blazerpc` command line; resolves to the exit code. */
export async function runCli(argv: readonly string[], io: CliIo): Promise<number> {
  try {
    const { values, positionals } = parseArgs({
      args: [...argv],
      options: OPTIONS,
      allowPositionals: true,
      strict: true,
    });
    const [command, ...args] = positionals;
    if (values.version) {
      io.stdout.write(`${packageVersion()}\n`);
      return EXIT.ok;
    }
    if (values.help || !command) {
      io.stdout.write(`${command && values.help ? helpFor(command) : USAGE}\n`);
      return values.help ? EXIT.ok : EXIT.usage;
    }
    switch (command) {
      case 'proto':
        return await writeFromModule(args, values, io, (registry) => registry.protoText);
      case 'types':
        return await writeFromModule(args, values, io, (registry) => generateModelTypes(registry.list(), values.from));
      case 'models':
        return parseProtocol(values.protocol) === 'oip'
          ? await listOipModels(args, values, io)
          : await listModels(args, values, io);
      case 'call':
        return parseProtocol(values.protocol) === 'oip'
          ? await callOipModel(args, values, io)
          : await callModel(args, values, io);
      default:
        throw new CliError(EXIT.usage, `Unknown command '${command}'. Run blazerpc --help.`);
    }
  } catch (error) {
    return fail(error, io);
  }
}

async function writeFromModule(
  args: string[],
  values: Values,
  io: CliIo,
  render: Parameters<typeof withAppRegistry<string>>[2],
): Promise<number> {
  const [file] = args;
  if (!file) throw new CliError(EXIT.usage, 'Missing <module-file>, e.g. blazerpc proto dist/app.module.js');
  const text = await withAppRegistry(file, values.export, render);
  if (values.out) writeFileSync(values.out, text);
  else io.stdout.write(text);
  return EXIT.ok;
}

async function listModels(args: string[], values: Values, io: CliIo): Promise<number> {
  const client = await connect(args[0], values, io);
  try {
    const timeoutMs = parseTimeout(values.timeout) ?? 10_000;
    const models = await withSpinner(
      io,
      'reading model names',
      listDeclaredModels(client.models(), args[0]!, parseTls(values), timeoutMs),
    );
    if (values.json) {
      io.stdout.write(`${JSON.stringify(models, null, 2)}\n`);
    } else {
      const width = (pick: (m: ListedModel) => string) => Math.max(...models.map((m) => pick(m).length));
      const nameWidth = width((m) => m.name);
      const versionWidth = width((m) => (m.version ? `v${m.version}` : ''));
      const kindWidth = width((m) => KIND_LABEL[m.kind]);
      for (const m of models) {
        const version = m.version ? `v${m.version}` : '';
        io.stdout.write(
          `${m.name.padEnd(nameWidth)}  ${version.padEnd(versionWidth)}  ${KIND_LABEL[m.kind].padEnd(kindWidth)}  ${m.signature}\n`,
        );
      }
    }
    return EXIT.ok;
  } finally {
    client.close();
  }
}

async function callModel(args: string[], values: Values, io: CliIo): Promise<number> {
  const [address, model, json] = args;
  if (!model)
    throw new CliError(EXIT.usage, 'Missing <model>, e.g. blazerpc call localhost:50051 echo \'{"text":"hi"}\'');
  let inputs: Record<string, unknown>;
  try {
    inputs = JSON.parse(json ?? '{}');
  } catch (error) {
    throw new CliError(EXIT.usage, `The inputs are not valid JSON: ${(error as Error).message}`);
  }
  const client = await connect(address, values, io);
  try {
    const options = {
      version: values['model-version'],
      metadata: parseMetadata(values.metadata),
      timeoutMs: parseTimeout(values.timeout),
    };
    const { kind } = client.model(model, values['model-version']);
    if (kind === 'client-stream' || kind === 'bidi') {
      if (json !== undefined) {
        throw new CliError(
          EXIT.usage,
          `Model '${model}' takes a stream of messages: pipe them on stdin, one JSON object per line, instead of '<json>'`,
        );
      }
      await callWithStdin(client, model, kind, options, io);
    } else if (kind === 'server-stream') {
      for await (const message of client.stream(model, inputs, options)) io.stdout.write(`${toJson(message)}\n`);
    } else {
      io.stdout.write(`${toJson(await client.predict(model, inputs, options))}\n`);
    }
    return EXIT.ok;
  } finally {
    client.close();
  }
}

async function connect(address: string | undefined, values: Values, io: CliIo): Promise<BlazeClient> {
  if (!address) throw new CliError(EXIT.usage, 'Missing <host:port>, e.g. localhost:50051');
  const options: BlazeClientOptions = { timeoutMs: parseTimeout(values.timeout) ?? 10_000 };
  options.tls = parseTls(values);
  try {
    return await withSpinner(io, `connecting to ${address}`, BlazeClient.connect(address, options));
  } catch (error) {
    throw new CliError(EXIT.unreachable, `Could not discover models at ${address}: ${(error as Error).message}`);
  }
}

function fail(error: unknown, io: CliIo): number {
  if (error instanceof BlazeRpcClientError) {
    io.stderr.write(`${error.codeName}: ${error.details}\n`);
    return EXIT.grpcBase + error.code;
  }
  if (error instanceof CliError) {
    io.stderr.write(`${error.message}\n`);
    return error.exitCode;
  }
  // Inputs that do not fit the model (an unknown field, a malformed tensor) are the caller's to fix.
  if (error instanceof SerializationError) {
    io.stderr.write(`${error.message}\n`);
    return EXIT.usage;
  }
  const code = (error as { code?: unknown })?.code;
  if (typeof code === 'string' && code.startsWith('ERR_PARSE_ARGS')) {
    // One line: the parser's message says what was wrong; the usage is one --help away.
    io.stderr.write(`${(error as Error).message.split('\n')[0]} (blazerpc --help shows the usage)\n`);
    return EXIT.usage;
  }
  io.stderr.write(`${(error as Error)?.stack ?? String(error)}\n`);
  return EXIT.internal;
}
