/**
 * What refusing a malformed request costs the server's event loop, against
 * what answering a well-formed one costs. Every malformed request is as
 * large as the default maximum message (4 MiB) allows, or as the attack it
 * stands for needs; each is sent over loopback, one at a time, to a server
 * in its own process, which reports its event-loop active time
 * (`performance.eventLoopUtilization()`) around each case. The figure is that
 * time divided by the calls made: all the server did for one call, from
 * reading the HTTP/2 frames to writing the status.
 *
 *   npm run bench:refusals
 *
 * BENCH_MIN_CALLS (default 5) and BENCH_CASE_MS (default 1500) set how long
 * each case runs; BENCH_ONLY=<text> runs the cases whose name contains it.
 */
import 'reflect-metadata';
import * as grpc from '@grpc/grpc-js';
import { Injectable, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import type { AsyncMicroserviceOptions } from '@nestjs/microservices';
import { fork, type ChildProcess } from 'node:child_process';
import { performance } from 'node:perf_hooks';
import { fileURLToPath } from 'node:url';
import { BlazeRpcModule, BlazeRpcServer, Input, Model, Tensor, UInt32 } from '../lib/index.js';
import { field, repeat, varint, varintField } from '../test/helpers/protobuf-pieces.js';

/** The default maximum message a server receives. */
const MAX_MESSAGE = 4 * 1024 * 1024;

@Injectable()
class BenchModels {
  @Model('echo', { returns: String })
  echo(@Input('text', String) text: string): string {
    return text;
  }

  @Model('count-words', { returns: UInt32 })
  countWords(@Input('words', [String]) words: string[]): number {
    return words.length;
  }

  @Model('size', { returns: UInt32 })
  size(@Input('x', Tensor.of('float32', ['n'])) x: Tensor): number {
    return x.size;
  }
}

@Module({
  imports: [BlazeRpcModule.forRoot({ host: '127.0.0.1', port: 0, protoFile: false })],
  providers: [BenchModels],
})
class BenchModule {}

/** The server process: serves the bench models and answers each IPC message with its event-loop active time so far. */
async function serve(): Promise<void> {
  const app = await NestFactory.createMicroservice<AsyncMicroserviceOptions>(BenchModule, {
    inject: [BlazeRpcServer],
    useFactory: (server: BlazeRpcServer) => ({ strategy: server }),
    logger: false,
  });
  await app.listen();
  process.on('message', () => process.send!({ activeMs: performance.eventLoopUtilization().active }));
  process.send!({ port: app.get(BlazeRpcServer).port });
}

const packedVarints = (number: number, values: number[]) => field(number, Buffer.concat(values.map(varint)));
/** How many `piece`s fit beside `rest` bytes in one maximum message. */
const fitting = (piece: Buffer, rest = 64) => Math.floor((MAX_MESSAGE - rest) / piece.length);

/** Raw OIP BYTES: each element a 4-byte little-endian length, then its bytes. */
function rawBytes(elements: Buffer[]): Buffer {
  return Buffer.concat(
    elements.flatMap((element) => {
      const length = Buffer.alloc(4);
      length.writeUInt32LE(element.length);
      return [length, element];
    }),
  );
}

// ModelInferRequest: model_name = 1, parameters = 4 (map<string, InferParameter>), inputs = 5, outputs = 6, raw_input_contents = 7.
// InferInputTensor: name = 1, datatype = 2, shape = 3 (packed int64), parameters = 4, contents = 5.
const oipInput = (name: string, datatype: string, shape: number[], ...more: Buffer[]) =>
  field(5, Buffer.concat([field(1, name), field(2, datatype), packedVarints(3, shape), ...more]));
const stringParameter = (key: string, value: string) =>
  field(4, Buffer.concat([field(1, key), field(2, field(3, value))]));
const echoText = (text: Buffer) =>
  Buffer.concat([field(1, 'echo'), oipInput('text', 'BYTES', [1]), field(7, rawBytes([text]))]);

interface BenchCase {
  readonly name: string;
  readonly path: string;
  readonly request: () => Buffer;
}

const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';
const PREDICT_ECHO = '/blazerpc.InferenceService/PredictEcho';
const PREDICT_COUNT_WORDS = '/blazerpc.InferenceService/PredictCountWords';
const PREDICT_SIZE = '/blazerpc.InferenceService/PredictSize';

const CASES: BenchCase[] = [
  { name: 'OIP echo, well-formed, 5 bytes', path: MODEL_INFER, request: () => echoText(Buffer.from('hello')) },
  {
    name: 'OIP echo, well-formed, one 4 MiB element',
    path: MODEL_INFER,
    request: () => echoText(Buffer.alloc(MAX_MESSAGE - 64, 'a')),
  },
  {
    name: 'OIP size, well-formed, FP32 [1000000] raw',
    path: MODEL_INFER,
    request: () =>
      Buffer.concat([field(1, 'size'), oipInput('x', 'FP32', [1_000_000]), field(7, Buffer.alloc(4_000_000))]),
  },
  {
    name: 'OIP count-words, 1000000 empty elements (over limits.maxBytesElements)',
    path: MODEL_INFER,
    request: () =>
      Buffer.concat([
        field(1, 'count-words'),
        oipInput('words', 'BYTES', [1_000_000]),
        field(7, Buffer.alloc(4_000_000)),
      ]),
  },
  {
    name: 'OIP count-words, 1000000 empty typed elements (over limits.maxBytesElements)',
    path: MODEL_INFER,
    request: () =>
      Buffer.concat([
        field(1, 'count-words'),
        oipInput('words', 'BYTES', [1_000_000], field(5, repeat(field(8, Buffer.alloc(0)), 1_000_000))),
      ]),
  },
  {
    name: 'OIP count-words, well-formed, 65536 empty elements',
    path: MODEL_INFER,
    request: () =>
      Buffer.concat([
        field(1, 'count-words'),
        oipInput('words', 'BYTES', [65_536]),
        field(7, Buffer.alloc(4 * 65_536)),
      ]),
  },
  {
    name: 'OIP count-words, well-formed, 65536 empty typed elements',
    path: MODEL_INFER,
    request: () =>
      Buffer.concat([
        field(1, 'count-words'),
        oipInput('words', 'BYTES', [65_536], field(5, repeat(field(8, Buffer.alloc(0)), 65_536))),
      ]),
  },
  {
    name: 'BlazeRPC count-words, well-formed, 65536 empty strings',
    path: PREDICT_COUNT_WORDS,
    request: () => repeat(field(1, Buffer.alloc(0)), 65_536),
  },
  { name: 'BlazeRPC echo, well-formed, 5 bytes', path: PREDICT_ECHO, request: () => field(1, 'hello') },
  {
    name: 'BlazeRPC count-words, 1000000 empty strings (over limits.maxBytesElements)',
    path: PREDICT_COUNT_WORDS,
    request: () => repeat(field(1, Buffer.alloc(0)), 1_000_000),
  },
  {
    name: 'OIP echo, raw BYTES of 1M empty elements for shape [1]',
    path: MODEL_INFER,
    request: () =>
      Buffer.concat([field(1, 'echo'), oipInput('text', 'BYTES', [1]), field(7, Buffer.alloc(MAX_MESSAGE - 64))]),
  },
  {
    name: 'OIP echo, 50000 request parameters (0.8 MB)',
    path: MODEL_INFER,
    request: () => {
      const parameters = Array.from({ length: 50_000 }, (_, i) => stringParameter(`p${i}`.padStart(7, '0'), 'x'));
      return Buffer.concat([...parameters, echoText(Buffer.from('hi'))]);
    },
  },
  {
    name: 'OIP echo, 4 MiB of empty request parameters',
    path: MODEL_INFER,
    request: () => {
      const empty = field(4, Buffer.alloc(0));
      return Buffer.concat([repeat(empty, fitting(empty)), echoText(Buffer.from('hi'))]);
    },
  },
  {
    name: 'OIP echo, one 4 MiB string parameter',
    path: MODEL_INFER,
    request: () => Buffer.concat([stringParameter('big', 'x'.repeat(MAX_MESSAGE - 128)), echoText(Buffer.from('hi'))]),
  },
  {
    name: 'OIP echo, 4 MiB of per-input parameters',
    path: MODEL_INFER,
    request: () => {
      const empty = field(4, Buffer.alloc(0));
      return Buffer.concat([
        field(1, 'echo'),
        oipInput('text', 'BYTES', [1], repeat(empty, fitting(empty))),
        field(7, rawBytes([Buffer.from('hi')])),
      ]);
    },
  },
  {
    name: 'OIP echo, 4 MiB of inputs',
    path: MODEL_INFER,
    request: () => {
      const input = oipInput('text', 'BYTES', [1]);
      return Buffer.concat([field(1, 'echo'), repeat(input, fitting(input))]);
    },
  },
  {
    name: "OIP echo, 4 MiB of requested outputs 'result'",
    path: MODEL_INFER,
    request: () => {
      const output = field(6, field(1, 'result'));
      return Buffer.concat([repeat(output, fitting(output)), echoText(Buffer.from('hi'))]);
    },
  },
  {
    name: 'OIP echo, 4 MiB of empty raw_input_contents',
    path: MODEL_INFER,
    request: () => {
      const raw = field(7, Buffer.alloc(0));
      return Buffer.concat([field(1, 'echo'), oipInput('text', 'BYTES', [1]), repeat(raw, fitting(raw))]);
    },
  },
  {
    name: 'OIP echo, packed shape of 4M dimensions',
    path: MODEL_INFER,
    request: () =>
      Buffer.concat([
        field(1, 'echo'),
        field(5, Buffer.concat([field(1, 'text'), field(2, 'BYTES'), field(3, Buffer.alloc(MAX_MESSAGE - 64, 1))])),
        field(7, rawBytes([Buffer.from('hi')])),
      ]),
  },
  {
    name: 'OIP echo, unpacked shape of 2M dimensions',
    path: MODEL_INFER,
    request: () => {
      const dim = varintField(3, 1);
      return Buffer.concat([
        field(1, 'echo'),
        field(5, Buffer.concat([field(1, 'text'), field(2, 'BYTES'), repeat(dim, fitting(dim))])),
        field(7, rawBytes([Buffer.from('hi')])),
      ]);
    },
  },
  {
    name: 'OIP echo, typed bytes_contents of 2M empty elements for shape [1]',
    path: MODEL_INFER,
    request: () => {
      const element = field(8, Buffer.alloc(0));
      return Buffer.concat([
        field(1, 'echo'),
        oipInput('text', 'BYTES', [1], field(5, repeat(element, fitting(element)))),
      ]);
    },
  },
  {
    name: 'OIP size, typed fp32_contents of 1M values for shape [4]',
    path: MODEL_INFER,
    request: () =>
      Buffer.concat([
        field(1, 'size'),
        oipInput('x', 'FP32', [4], field(5, field(6, Buffer.alloc(MAX_MESSAGE - 64 - ((MAX_MESSAGE - 64) % 4))))),
      ]),
  },
  {
    name: 'OIP echo, one input with contents sent 2M times',
    path: MODEL_INFER,
    request: () => {
      const contents = field(5, Buffer.alloc(0));
      return Buffer.concat([field(1, 'echo'), oipInput('text', 'BYTES', [1], repeat(contents, fitting(contents)))]);
    },
  },
  {
    name: "OIP 'nope', after 2M unknown fields",
    path: MODEL_INFER,
    request: () => {
      const unknown = varintField(15, 0);
      return Buffer.concat([repeat(unknown, fitting(unknown)), field(1, 'nope')]);
    },
  },
  {
    name: "OIP 'nope', model_name sent 1.4M times",
    path: MODEL_INFER,
    request: () => {
      const name = field(1, 'x');
      return Buffer.concat([repeat(name, fitting(name)), field(1, 'nope')]);
    },
  },
  {
    name: 'BlazeRPC count-words, 2M empty strings',
    path: PREDICT_COUNT_WORDS,
    request: () => {
      const word = field(1, Buffer.alloc(0));
      return repeat(word, fitting(word));
    },
  },
  {
    name: 'BlazeRPC size, TensorProto shape of 4M dimensions',
    path: PREDICT_SIZE,
    request: () =>
      field(
        1,
        Buffer.concat([field(1, Buffer.alloc(MAX_MESSAGE - 64, 1)), field(2, 'float'), field(3, Buffer.alloc(4))]),
      ),
  },
  {
    name: 'BlazeRPC size, the tensor field sent 2M times',
    path: PREDICT_SIZE,
    request: () => {
      const tensor = field(1, Buffer.alloc(0));
      return repeat(tensor, fitting(tensor));
    },
  },
  {
    name: 'BlazeRPC echo, text sent 1.4M times',
    path: PREDICT_ECHO,
    request: () => {
      const text = field(1, 'x');
      return repeat(text, fitting(text));
    },
  },
];

/** The server's event-loop active time so far, in ms. */
function activeMs(server: ChildProcess): Promise<number> {
  return new Promise((resolve) => {
    server.once('message', (message: { activeMs: number }) => resolve(message.activeMs));
    server.send('elu');
  });
}

function call(client: grpc.Client, path: string, request: Buffer): Promise<string> {
  return new Promise((resolve) =>
    client.makeUnaryRequest(
      path,
      (bytes: Buffer) => bytes,
      (bytes: Buffer) => bytes,
      request,
      { deadline: Date.now() + 60_000 },
      (error) => resolve(error ? `${grpc.status[error.code!]}: ${error.details}` : 'OK'),
    ),
  );
}

async function main(): Promise<void> {
  const minCalls = Number(process.env.BENCH_MIN_CALLS ?? 5);
  const caseMs = Number(process.env.BENCH_CASE_MS ?? 1500);
  const only = process.env.BENCH_ONLY;
  const server = fork(fileURLToPath(import.meta.url), ['server'], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  const port = await new Promise<number>((resolve) =>
    server.once('message', (message: { port: number }) => resolve(message.port)),
  );
  const client = new grpc.Client(`127.0.0.1:${port}`, grpc.credentials.createInsecure(), {
    'grpc.max_receive_message_length': -1,
    'grpc.max_send_message_length': -1,
  });
  const rows = [];
  try {
    for (const { name, path, request: build } of CASES) {
      if (only && !name.includes(only)) continue;
      const request = build();
      if (request.length > MAX_MESSAGE) throw new Error(`${name}: ${request.length} bytes, over the maximum message`);
      const status = await call(client, path, request); // warm-up, and the answer to show
      let calls = 0;
      const started = performance.now();
      const before = await activeMs(server);
      while (calls < minCalls || performance.now() - started < caseMs) {
        await call(client, path, request);
        calls++;
      }
      const perCall = ((await activeMs(server)) - before) / calls;
      rows.push({
        case: name,
        'request bytes': request.length,
        'event-loop ms per call': perCall.toFixed(2),
        calls,
        answer: status.length > 90 ? `${status.slice(0, 87)}...` : status,
      });
      console.error(`${name}: ${perCall.toFixed(2)} ms`);
    }
  } finally {
    client.close();
    server.kill();
  }
  console.log(`Event-loop time the server spent per call, one call at a time over loopback, Node ${process.version}`);
  console.table(rows);
}

const run = process.argv[2] === 'server' ? serve() : main();
run.catch((error) => {
  console.error(error);
  process.exit(1);
});
