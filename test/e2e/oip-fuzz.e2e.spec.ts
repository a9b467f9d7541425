import * as grpc from '@grpc/grpc-js';
import type { LoggerService } from '@nestjs/common';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import protobuf from 'protobufjs';
import { AppModule } from '../../sample/app.module.js';
import { rawBytes, rawFloat32, readBytes, readFloat32 } from '../helpers/oip-spec-client.js';
import { startApp, testServerOptions, type RunningApp } from '../helpers/start-app.js';
import { mutateBytes, seededRandom } from '../helpers/seeded-mutations.js';

/**
 * Seeded fuzzing of OIP ModelInfer: valid ModelInferRequest messages, encoded
 * from the public spec proto only, are mutated at the byte level (bit flips,
 * insertions, deletions, truncations) and at the field level (length prefixes
 * tampered, fields duplicated, dropped, swapped, varints replaced), then sent
 * as raw bytes over a real gRPC connection. Every answer must be a valid
 * response or a status the mutated request explains; never INTERNAL or UNKNOWN.
 */

const SPEC_PROTO = fileURLToPath(new URL('../fixtures/oip/grpc_service.proto', import.meta.url));
const MODEL_INFER = '/inference.GRPCInferenceService/ModelInfer';
const MUTATIONS = 10_000;
const IN_FLIGHT = 32;

/** The sample app's models and versions, as a client could list them with RepositoryIndex. */
const SAMPLE_MODELS = new Set(['iris', 'echo', 'secure', 'tokens', 'info']);
const SAMPLE_VERSIONS = new Set(['', '1']);
const IRIS_ROWS = [5.1, 3.5, 1.4, 0.2, 6.7, 3.0, 5.2, 2.3];

/** Fixed-size datatypes' bytes per element; BYTES is length-prefixed. */
const ITEM_SIZE: Record<string, number> = {
  BOOL: 1,
  UINT8: 1,
  UINT16: 2,
  UINT32: 4,
  UINT64: 8,
  INT8: 1,
  INT16: 2,
  INT32: 4,
  INT64: 8,
  FP16: 2,
  FP32: 4,
  FP64: 8,
  BF16: 2,
};

/** What a client gets for raw request bytes: OK with the response bytes, or the status. */
type Outcome = { code: grpc.status; response?: Buffer; details?: string };

/** The app's error-level log lines (an unexpected failure is logged there). */
class ErrorLog implements LoggerService {
  readonly errors: string[] = [];
  log = () => undefined;
  warn = () => undefined;
  debug = () => undefined;
  verbose = () => undefined;
  error = (message: unknown) => void this.errors.push(String(message));
}

// --- seeded PRNG (the same generator style as the BlazeRPC wire fuzz) ---
const random = seededRandom(0x0b1e55ed);
const pick = <T>(items: readonly T[]): T => items[random(items.length)]!;

// --- a protobuf wire tree, just enough to mutate fields and re-serialize with consistent lengths ---

/** One field as it was on the wire: its tag bytes, and either its value bytes or (length-delimited) its payload. */
interface WireField {
  tag: Buffer;
  wireType: number;
  /** Varint or fixed value bytes; for length-delimited fields the payload. */
  value: Buffer;
  /** A length-delimited payload that itself parses as a message. */
  children?: WireField[];
  /** A length prefix to write instead of the true one. */
  tamperedLength?: number;
}

function readVarint(bytes: Buffer, offset: number): [value: number, next: number] | undefined {
  let value = 0;
  for (let shift = 0, i = offset; i < bytes.length && shift < 64; shift += 7, i++) {
    value += (bytes[i]! & 0x7f) * 2 ** shift;
    if (bytes[i]! < 0x80) return [value, i + 1];
  }
  return undefined;
}

function varint(value: number | bigint): Buffer {
  let v = BigInt.asUintN(64, BigInt(value));
  const out: number[] = [];
  do {
    const low = Number(v & 0x7fn);
    v >>= 7n;
    out.push(v > 0n ? low | 0x80 : low);
  } while (v > 0n);
  return Buffer.from(out);
}

/** The fields of a message, or undefined when the bytes are not a well-formed message. */
function parseMessage(bytes: Buffer): WireField[] | undefined {
  const fields: WireField[] = [];
  for (let offset = 0; offset < bytes.length;) {
    const key = readVarint(bytes, offset);
    if (!key || key[0] < 8) return undefined;
    const tag = bytes.subarray(offset, key[1]);
    const wireType = key[0] & 7;
    let end: number;
    let start = key[1];
    if (wireType === 0) {
      const value = readVarint(bytes, start);
      if (!value) return undefined;
      end = value[1];
    } else if (wireType === 1 || wireType === 5) {
      end = start + (wireType === 1 ? 8 : 4);
    } else if (wireType === 2) {
      const length = readVarint(bytes, start);
      if (!length) return undefined;
      start = length[1];
      end = start + length[0];
    } else {
      return undefined;
    }
    if (end > bytes.length) return undefined;
    const value = bytes.subarray(start, end);
    const children = wireType === 2 && value.length > 0 ? parseMessage(value) : undefined;
    fields.push({ tag, wireType, value, children });
    offset = end;
  }
  return fields;
}

function serialize(fields: readonly WireField[]): Buffer {
  return Buffer.concat(
    fields.flatMap((field) => {
      if (field.wireType !== 2) return [field.tag, field.value];
      const payload = field.children ? serialize(field.children) : field.value;
      return [field.tag, varint(field.tamperedLength ?? payload.length), payload];
    }),
  );
}

const cloneFields = (fields: readonly WireField[]): WireField[] =>
  fields.map((f) => ({ ...f, children: f.children && cloneFields(f.children) }));

/** Every field of the tree with the list that holds it. */
function everyField(fields: WireField[], into: Array<{ parent: WireField[]; index: number }> = []) {
  fields.forEach((field, index) => {
    into.push({ parent: fields, index });
    if (field.children) everyField(field.children, into);
  });
  return into;
}

/** Varint values that make interesting shapes, counts, lengths and enum-like numbers. */
const VARINTS: Array<number | bigint> = [
  0,
  1,
  2,
  3,
  4,
  5,
  8,
  127,
  128,
  2 ** 31,
  2 ** 32 - 1,
  2 ** 53 + 1,
  -1n,
  -2n,
  2n ** 63n - 1n,
];

function mutateFields(seed: Buffer): Buffer {
  const tree = cloneFields(parseMessage(seed)!);
  const all = everyField(tree);
  const { parent, index } = pick(all);
  const field = parent[index]!;
  switch (random(6)) {
    case 0: // tamper with a length prefix
      if (field.wireType === 2) {
        const length = field.children ? serialize(field.children).length : field.value.length;
        field.tamperedLength = pick([
          0,
          1,
          Math.max(0, length - 1 - random(4)),
          length + 1 + random(4),
          2 ** 31,
          2 ** 32 - 1,
          random(256),
        ]);
      } else parent.splice(index, 1);
      break;
    case 1: // duplicate a field
      parent.splice(index + 1, 0, cloneFields([field])[0]!);
      break;
    case 2: // drop a field
      parent.splice(index, 1);
      break;
    case 3: // swap with a sibling
      if (parent.length > 1) {
        const other = random(parent.length);
        [parent[index], parent[other]] = [parent[other]!, parent[index]!];
      }
      break;
    case 4: // replace a varint (shape dims, oneof choices, bools), or re-type a field
      if (field.wireType === 0) field.value = varint(pick(VARINTS));
      else field.tag = varint((readVarint(field.tag, 0)![0] & ~7) | pick([0, 1, 2, 5]));
      break;
    default: // move a field into a sibling message (e.g. an input tensor's field into another)
      if (field.children && field.children.length > 0) field.children.push(cloneFields([pick(field.children)])[0]!);
      else field.value = Buffer.concat([field.value, Buffer.from([random(256)])]);
  }
  return serialize(tree);
}

/** One to three mutations, field-level or byte-level. */
function mutate(seed: Buffer): Buffer {
  let bytes = seed;
  for (let i = 0, n = 1 + (random(4) === 0 ? 1 + random(2) : 0); i < n; i++) {
    const tree = parseMessage(bytes);
    bytes =
      tree && tree.length > 0 && random(3) !== 0
        ? mutateFields(bytes)
        : mutateBytes(bytes, random, { deletions: true });
  }
  return bytes;
}

/** The elements of a raw BYTES buffer, or undefined when it is not exactly `count` of them. */
function splitRawBytes(raw: Buffer, count: number): Buffer[] | undefined {
  const elements: Buffer[] = [];
  for (let offset = 0; offset < raw.length;) {
    if (offset + 4 > raw.length) return undefined;
    const length = raw.readUInt32LE(offset);
    if (offset + 4 + length > raw.length) return undefined;
    elements.push(raw.subarray(offset + 4, offset + 4 + length));
    offset += 4 + length;
  }
  return elements.length === count ? elements : undefined;
}

describe('OIP ModelInfer under seeded fuzzing, over a real gRPC connection to the sample app', () => {
  let running: RunningApp;
  let client: grpc.Client;
  const log = new ErrorLog();
  const root = protobuf.parse(readFileSync(SPEC_PROTO, 'utf8'), { keepCase: true }).root;
  const Request = root.lookupType('inference.ModelInferRequest');
  const Response = root.lookupType('inference.ModelInferResponse');
  const encode = (request: object) => Buffer.from(Request.encode(Request.fromObject(request)).finish());
  const send = (bytes: Buffer) =>
    new Promise<Outcome>((resolve) =>
      client.makeUnaryRequest(
        MODEL_INFER,
        (b: Buffer) => b,
        (b: Buffer) => b,
        bytes,
        { deadline: Date.now() + 10_000 },
        (error, response) =>
          resolve(error ? { code: error.code, details: error.details } : { code: grpc.status.OK, response }),
      ),
    );

  const text = () => ({ name: 'text', datatype: 'BYTES', shape: [1] });
  const features = { name: 'features', datatype: 'FP32', shape: [2, 4] };
  const seeds: Array<[string, Buffer]> = [
    [
      'iris raw',
      encode({ model_name: 'iris', id: 'req-1', inputs: [features], raw_input_contents: [rawFloat32(IRIS_ROWS)] }),
    ],
    [
      'iris typed, version 1',
      encode({
        model_name: 'iris',
        model_version: '1',
        inputs: [{ ...features, contents: { fp32_contents: IRIS_ROWS } }],
      }),
    ],
    ['echo raw BYTES', encode({ model_name: 'echo', inputs: [text()], raw_input_contents: [rawBytes('héllo wörld')] })],
    [
      'echo typed BYTES',
      encode({ model_name: 'echo', inputs: [{ ...text(), contents: { bytes_contents: [Buffer.from('hi')] } }] }),
    ],
    [
      'echo with parameters',
      encode({
        model_name: 'echo',
        id: 'with-params',
        parameters: {
          temperature: { double_param: 0.5 },
          seed: { int64_param: '9007199254740993' },
          greedy: { bool_param: true },
          mode: { string_param: 'fast' },
          top: { uint64_param: '18446744073709551615' },
        },
        inputs: [{ ...text(), parameters: { binary_data_size: { int64_param: '5' } } }],
        raw_input_contents: [rawBytes('p')],
      }),
    ],
    [
      'iris with a requested output',
      encode({
        model_name: 'iris',
        inputs: [features],
        outputs: [{ name: 'result', parameters: { binary_data: { bool_param: true } } }],
        raw_input_contents: [rawFloat32(IRIS_ROWS)],
      }),
    ],
    [
      'secure without credentials',
      encode({ model_name: 'secure', inputs: [text()], raw_input_contents: [rawBytes('hi')] }),
    ],
    [
      'tokens (a streaming model) on ModelInfer',
      encode({
        model_name: 'tokens',
        inputs: [{ name: 'prompt', datatype: 'BYTES', shape: [1] }],
        raw_input_contents: [rawBytes('a b')],
      }),
    ],
  ];

  beforeAll(async () => {
    running = await startApp({ imports: [AppModule.forRoot(testServerOptions)] }, { logger: log });
    client = new grpc.Client(running.address, grpc.credentials.createInsecure());
  });
  afterAll(async () => {
    client?.close();
    await running?.app.close();
  });

  it('every seed is itself answered as expected', async () => {
    const codes = await Promise.all(seeds.map(async ([name, bytes]) => [name, grpc.status[(await send(bytes)).code]]));
    expect(Object.fromEntries(codes)).toEqual({
      'iris raw': 'OK',
      'iris typed, version 1': 'OK',
      'echo raw BYTES': 'OK',
      'echo typed BYTES': 'OK',
      'echo with parameters': 'OK',
      'iris with a requested output': 'OK',
      'secure without credentials': 'UNAUTHENTICATED',
      'tokens (a streaming model) on ModelInfer': 'FAILED_PRECONDITION',
    });
  });

  /** Why an answer is acceptable for this request, or what is wrong with it. */
  function judge(request: Buffer, outcome: Outcome): string | undefined {
    let decoded: any;
    try {
      decoded = Request.toObject(Request.decode(request), {
        longs: String,
        defaults: true,
        arrays: true,
        objects: true,
      });
    } catch {
      decoded = undefined;
    }
    const model: string | undefined = decoded?.model_name;
    switch (outcome.code) {
      case grpc.status.INVALID_ARGUMENT:
        return undefined;
      case grpc.status.NOT_FOUND:
        return decoded && (!SAMPLE_MODELS.has(model!) || !SAMPLE_VERSIONS.has(decoded.model_version))
          ? undefined
          : `NOT_FOUND for model '${model}' version '${decoded?.model_version}'`;
      case grpc.status.FAILED_PRECONDITION:
        return model === 'tokens' ? undefined : `FAILED_PRECONDITION for model '${model}'`;
      case grpc.status.UNAUTHENTICATED:
      case grpc.status.PERMISSION_DENIED:
        return model === 'secure' ? undefined : `${grpc.status[outcome.code]} for model '${model}'`;
      case grpc.status.OK:
        return decoded ? checkResponse(decoded, outcome.response!) : 'OK for a request the spec proto cannot decode';
      default:
        return `${grpc.status[outcome.code]}: ${outcome.details}`;
    }
  }

  /** What is wrong with an OK response to `request`, if anything. */
  function checkResponse(request: any, bytes: Buffer): string | undefined {
    let response: any;
    try {
      const message = Response.decode(bytes);
      const invalid = Response.verify(message);
      if (invalid) return `response fails verification: ${invalid}`;
      response = Response.toObject(message, { longs: String, defaults: true, arrays: true });
    } catch (error) {
      return `response does not decode: ${(error as Error).message}`;
    }
    if (response.model_name !== request.model_name || response.model_version !== '1')
      return `answered as ${response.model_name}@${response.model_version}`;
    if (response.id !== request.id) return `id '${request.id}' came back as '${response.id}'`;
    const wanted = request.outputs.length > 0 ? request.outputs.map((o: any) => o.name) : ['result'];
    if (JSON.stringify(response.outputs.map((o: any) => o.name)) !== JSON.stringify(wanted))
      return `outputs ${response.outputs.map((o: any) => o.name)} for ${wanted}`;
    if (response.raw_output_contents.length !== response.outputs.length)
      return `${response.outputs.length} outputs, ${response.raw_output_contents.length} raw contents`;
    for (const [i, output] of response.outputs.entries()) {
      const raw: Buffer = response.raw_output_contents[i];
      const shape = output.shape.map(Number);
      const count = shape.reduce((a: number, b: number) => a * b, 1);
      if (output.datatype === 'BYTES') {
        const elements = splitRawBytes(raw, count);
        if (!elements) return `BYTES output '${output.name}' of shape [${shape}] is not ${count} elements`;
        const input =
          request.raw_input_contents.length > 0 ? splitRawBytes(request.raw_input_contents[0], 1)?.[0] : undefined;
        if (request.model_name === 'echo' && input && !elements[0]!.equals(input))
          return `echo answered '${elements[0]}' for '${input}'`;
      } else {
        if (!(output.datatype in ITEM_SIZE)) return `unknown datatype ${output.datatype}`;
        if (raw.length !== count * ITEM_SIZE[output.datatype]!)
          return `output '${output.name}' ${output.datatype} [${shape}] has ${raw.length} bytes`;
        if (request.model_name === 'iris') {
          const rows = Number(request.inputs.find((t: any) => t.name === 'features')?.shape[0]);
          if (output.datatype !== 'FP32' || shape.length !== 2 || shape[0] !== rows || shape[1] !== 3)
            return `iris answered ${output.datatype} [${shape}] for ${rows} rows`;
        }
      }
    }
    return undefined;
  }

  it(`${MUTATIONS} seeded mutations of valid ModelInfer requests: each is OK with a valid response, or a status the request explains; the server lives`, async () => {
    const requests = Array.from({ length: MUTATIONS }, () => {
      const [seed, bytes] = pick(seeds);
      return { seed, bytes: mutate(bytes) };
    });
    const counts: Record<string, number> = {};
    const unexplained: Array<{ seed: string; request: string; problem: string }> = [];
    let next = 0;
    const started = Date.now();
    await Promise.all(
      Array.from({ length: IN_FLIGHT }, async () => {
        while (next < requests.length) {
          const { seed, bytes } = requests[next++]!;
          const outcome = await send(bytes);
          const status = grpc.status[outcome.code];
          counts[status] = (counts[status] ?? 0) + 1;
          const problem = judge(bytes, outcome);
          if (problem) unexplained.push({ seed, request: bytes.toString('base64'), problem });
        }
      }),
    );
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    console.log(`OIP fuzz: ${MUTATIONS} mutations in ${seconds} s: ${JSON.stringify(counts)}`);
    expect({ counts, unexplained: unexplained.slice(0, 10), errorsLogged: log.errors.slice(0, 5) }).toEqual({
      counts,
      unexplained: [],
      errorsLogged: [],
    });
    expect(Object.values(counts).reduce((a, b) => a + b, 0)).toBe(MUTATIONS);
    // The mutations reach past the decoder: many are still valid, many are refused, some reach other models or versions.
    expect(counts).toEqual(
      expect.objectContaining({
        OK: expect.any(Number),
        INVALID_ARGUMENT: expect.any(Number),
        NOT_FOUND: expect.any(Number),
        UNAUTHENTICATED: expect.any(Number),
        FAILED_PRECONDITION: expect.any(Number),
      }),
    );
    expect(counts.OK).toBeGreaterThan(500);
    expect(counts.INVALID_ARGUMENT).toBeGreaterThan(2000);

    const alive = await send(seeds[0]![1]);
    expect(alive.code).toBe(grpc.status.OK);
    const response = Response.toObject(Response.decode(alive.response!), { longs: String }) as any;
    expect(response.outputs).toEqual([
      expect.objectContaining({ name: 'result', datatype: 'FP32', shape: ['2', '3'] }),
    ]);
    const probabilities = readFloat32(response.raw_output_contents[0]);
    expect(probabilities[0]).toBeGreaterThan(0.9); // setosa
    const echo = await send(seeds[2]![1]);
    expect(readBytes(Response.toObject(Response.decode(echo.response!)).raw_output_contents[0])).toEqual([
      'héllo wörld',
    ]);
  }, 60_000);
});
