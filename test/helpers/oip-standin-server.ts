import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { join } from 'node:path';

/**
 * A minimal Open Inference Protocol server written from the spec's proto
 * alone (test/fixtures/oip/grpc_service.proto, plain grpc-js and proto-loader,
 * nothing from lib/), standing in for Triton or a KServe runtime so the OIP
 * client and CLI are tested against an independent implementation.
 *
 * Models:
 * - `double` (versions 1, 2): FP32 `x` -> `y` = 2x and `sum` = [Σx], raw outputs; honours requested outputs; echoes the request parameters.
 * - `double_typed`: the same, answered in typed `contents` (as some KServe runtimes do).
 * - `echo_bytes`: BYTES `text` -> `text` upper-cased, raw.
 * - `int64_inc`: INT64 `x` [-1, 2] -> `y` = x + 1, raw.
 * - `halve_bf16`: BF16 `x` -> `y` = x / 2 in BF16, raw.
 * - `tokens` (decoupled, ModelStreamInfer only): BYTES `text` -> one response per word, `token`; the word `<bad>` gets an `error_message` instead.
 * - `slow`: answers after 2 s unless cancelled first.
 * - `warming`: not ready until `setModelReady('warming', true)`.
 */
export interface OipStandin {
  readonly address: string;
  /** Every rpc received: name, request metadata and the decoded request. */
  readonly calls: { rpc: string; metadata: Record<string, string>; request: any }[];
  /** Models whose inference the client cancelled before the answer. */
  readonly cancelled: string[];
  setServerReady(ready: boolean): void;
  setModelReady(name: string, ready: boolean): void;
  close(): Promise<void>;
}

export interface OipStandinOptions {
  /** Serve TLS with this key and certificate. */
  tls?: { cert: Buffer; key: Buffer };
  /** Leave RepositoryIndex out (UNIMPLEMENTED), as KServe runtimes do. @default true */
  repositoryIndex?: boolean;
}

interface TensorMeta {
  name: string;
  datatype: string;
  shape: number[];
}

interface ModelSpec {
  versions: string[];
  inputs: TensorMeta[];
  outputs: TensorMeta[];
  decoupled?: boolean;
}

const MODELS: Record<string, ModelSpec> = {
  double: {
    versions: ['1', '2'],
    inputs: [t('x', 'FP32', [-1])],
    outputs: [t('y', 'FP32', [-1]), t('sum', 'FP32', [1])],
  },
  double_typed: {
    versions: ['1'],
    inputs: [t('x', 'FP32', [-1])],
    outputs: [t('y', 'FP32', [-1]), t('sum', 'FP32', [1])],
  },
  echo_bytes: { versions: ['1'], inputs: [t('text', 'BYTES', [-1])], outputs: [t('text', 'BYTES', [-1])] },
  int64_inc: { versions: ['1'], inputs: [t('x', 'INT64', [-1, 2])], outputs: [t('y', 'INT64', [-1, 2])] },
  halve_bf16: { versions: ['1'], inputs: [t('x', 'BF16', [-1])], outputs: [t('y', 'BF16', [-1])] },
  tokens: { versions: ['1'], inputs: [t('text', 'BYTES', [1])], outputs: [t('token', 'BYTES', [1])], decoupled: true },
  slow: { versions: ['1'], inputs: [], outputs: [] },
  warming: { versions: ['1'], inputs: [], outputs: [] },
};

/** Each inference "takes" 2^55 ns in the statistics, so totals pass 2^53 after a few calls. */
const NS_PER_INFERENCE = 2n ** 55n;

class InferError extends Error {
  constructor(
    readonly code: grpc.status,
    message: string,
  ) {
    super(message);
  }
}

/** Starts the stand-in on 127.0.0.1 and a free port. */
export async function startOipStandin(options: OipStandinOptions = {}): Promise<OipStandin> {
  const definition = loadSync(join(process.cwd(), 'test/fixtures/oip/grpc_service.proto'), {
    keepCase: true,
    longs: String,
    enums: String,
    defaults: true,
    arrays: true,
    oneofs: true,
  });
  const service = (grpc.loadPackageDefinition(definition) as any).inference.GRPCInferenceService
    .service as grpc.ServiceDefinition;

  const calls: OipStandin['calls'] = [];
  const cancelled: string[] = [];
  let serverReady = true;
  const notReady = new Set(['warming']);
  const stats = new Map<string, { count: number; last: number }>();

  const record = (rpc: string, call: { metadata: grpc.Metadata }, request: any) => {
    const metadata = Object.fromEntries(
      Object.entries(call.metadata.getMap()).map(([key, value]) => [key, String(value)]),
    );
    calls.push({ rpc, metadata, request });
  };
  const unary =
    (rpc: string, answer: (request: any) => object) =>
    (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
      record(rpc, call, call.request);
      try {
        callback(null, answer(call.request));
      } catch (error) {
        callback(asStatus(error));
      }
    };
  const spec = (name: string) => {
    const model = MODELS[name];
    if (!model) throw new InferError(grpc.status.NOT_FOUND, `Request for unknown model: '${name}' is not found`);
    return model;
  };

  const infer = async (request: any, isCancelled: () => boolean): Promise<any> => {
    const model = spec(request.model_name);
    if (request.model_version && !model.versions.includes(request.model_version)) {
      throw new InferError(
        grpc.status.NOT_FOUND,
        `Request for unknown model: '${request.model_name}' version ${request.model_version} is not found`,
      );
    }
    if (notReady.has(request.model_name))
      throw new InferError(grpc.status.UNAVAILABLE, `Model '${request.model_name}' is not ready`);
    const version = request.model_version || model.versions[0];
    const inputs = readInputs(request);
    let outputs: Output[];
    switch (request.model_name) {
      case 'double':
      case 'double_typed': {
        const x = inputs.x as number[] & { shape: number[] };
        outputs = [
          { name: 'y', datatype: 'FP32', shape: x.shape, values: x.map((v) => v * 2) },
          { name: 'sum', datatype: 'FP32', shape: [1], values: [x.reduce((a, b) => a + b, 0)] },
        ];
        break;
      }
      case 'echo_bytes': {
        const text = inputs.text as Buffer[] & { shape: number[] };
        outputs = [
          {
            name: 'text',
            datatype: 'BYTES',
            shape: text.shape,
            values: text.map((b) => Buffer.from(b.toString('utf8').toUpperCase())),
          },
        ];
        break;
      }
      case 'int64_inc': {
        const x = inputs.x as bigint[] & { shape: number[] };
        outputs = [{ name: 'y', datatype: 'INT64', shape: x.shape, values: x.map((v) => v + 1n) }];
        break;
      }
      case 'halve_bf16': {
        const x = inputs.x as number[] & { shape: number[] };
        outputs = [{ name: 'y', datatype: 'BF16', shape: x.shape, values: x.map((v) => v / 2) }];
        break;
      }
      case 'slow':
        for (let waited = 0; waited < 2000 && !isCancelled(); waited += 10)
          await new Promise((resolve) => setTimeout(resolve, 10));
        outputs = [];
        break;
      default:
        throw new InferError(
          grpc.status.INVALID_ARGUMENT,
          `Model '${request.model_name}' is decoupled; call it over ModelStreamInfer`,
        );
    }
    const requested = (request.outputs as { name: string }[]).map((o) => o.name);
    if (requested.length > 0) outputs = outputs.filter((o) => requested.includes(o.name));
    const entry = stats.get(request.model_name) ?? { count: 0, last: 0 };
    stats.set(request.model_name, { count: entry.count + 1, last: Date.now() });
    return response(request, version, outputs, request.model_name === 'double_typed');
  };

  const server = new grpc.Server();
  const handlers: grpc.UntypedServiceImplementation = {
    ServerLive: unary('ServerLive', () => ({ live: true })),
    ServerReady: unary('ServerReady', () => ({ ready: serverReady })),
    ModelReady: unary('ModelReady', (request) => {
      spec(request.name);
      return { ready: !notReady.has(request.name) };
    }),
    ServerMetadata: unary('ServerMetadata', () => ({
      name: 'oip-standin',
      version: '0.0.1',
      extensions: ['model_repository', 'statistics', 'model_configuration'],
    })),
    ModelMetadata: unary('ModelMetadata', (request) => {
      const model = spec(request.name);
      return {
        name: request.name,
        versions: model.versions,
        platform: 'standin',
        inputs: model.inputs,
        outputs: model.outputs,
        properties: { origin: 'stand-in' },
      };
    }),
    ModelConfig: unary('ModelConfig', (request) => {
      const model = spec(request.name);
      const config = (m: TensorMeta) => ({
        name: m.name,
        data_type: m.datatype === 'BYTES' ? 'TYPE_STRING' : `TYPE_${m.datatype}`,
        dims: m.shape,
      });
      return {
        config: {
          name: request.name,
          platform: 'standin',
          backend: 'python',
          max_batch_size: request.name === 'double' ? 8 : 0,
          input: model.inputs.map(config),
          output: model.outputs.map(config),
        },
      };
    }),
    ModelStatistics: unary('ModelStatistics', (request) => {
      if (request.name) spec(request.name);
      const names: string[] = request.name ? [request.name] : Object.keys(MODELS);
      return {
        model_stats: names.map((name) => {
          const { count, last } = stats.get(name) ?? { count: 0, last: 0 };
          const duration = { count, ns: String(BigInt(count) * NS_PER_INFERENCE) };
          return {
            name,
            version: request.version || '1',
            last_inference: last,
            inference_count: count,
            execution_count: count,
            inference_stats: { success: duration },
          };
        }),
      };
    }),
    ModelInfer: (call: grpc.ServerUnaryCall<any, any>, callback: grpc.sendUnaryData<any>) => {
      record('ModelInfer', call, call.request);
      let wasCancelled = false;
      call.on('cancelled', () => {
        wasCancelled = true;
        cancelled.push(call.request.model_name);
      });
      infer(call.request, () => wasCancelled).then(
        (answer) => callback(null, answer),
        (error) => callback(asStatus(error)),
      );
    },
    ModelStreamInfer: (call: grpc.ServerDuplexStream<any, any>) => {
      let wasCancelled = false;
      call.on('cancelled', () => (wasCancelled = true));
      let chain = Promise.resolve();
      call.on('data', (request: any) => {
        record('ModelStreamInfer', call, request);
        // Requests are answered in order, one after the other, as a sequence model would.
        chain = chain.then(async () => {
          if (wasCancelled) return;
          try {
            if (request.model_name === 'tokens') {
              const [text] = readInputs(request).text as Buffer[];
              for (const word of text.toString('utf8').split(/\s+/).filter(Boolean)) {
                if (word === '<bad>')
                  call.write({ error_message: `cannot emit token '${word}'`, infer_response: { id: request.id } });
                else
                  call.write({
                    infer_response: response(
                      request,
                      '1',
                      [{ name: 'token', datatype: 'BYTES', shape: [1], values: [Buffer.from(word)] }],
                      false,
                    ),
                  });
              }
            } else {
              call.write({ infer_response: await infer(request, () => wasCancelled) });
            }
          } catch (error) {
            call.write({ error_message: (error as Error).message, infer_response: { id: request.id } });
          }
        });
      });
      call.on('end', () => chain.then(() => call.end()));
    },
  };
  if (options.repositoryIndex !== false) {
    handlers.RepositoryIndex = unary('RepositoryIndex', () => ({
      models: Object.entries(MODELS).flatMap(([name, model]) =>
        model.versions.map((version) => ({
          name,
          version,
          state: notReady.has(name) ? 'LOADING' : 'READY',
          reason: notReady.has(name) ? 'warming up' : '',
        })),
      ),
    }));
  }
  server.addService(service, handlers);

  const credentials = options.tls
    ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: options.tls.cert, private_key: options.tls.key }], false)
    : grpc.ServerCredentials.createInsecure();
  const port = await new Promise<number>((resolve, reject) =>
    server.bindAsync('127.0.0.1:0', credentials, (error, bound) => (error ? reject(error) : resolve(bound))),
  );
  return {
    address: `127.0.0.1:${port}`,
    calls,
    cancelled,
    setServerReady: (ready) => (serverReady = ready),
    setModelReady: (name, ready) => (ready ? notReady.delete(name) : notReady.add(name)),
    close: () =>
      new Promise<void>((resolve) => {
        server.tryShutdown(() => resolve());
        // Streams a test left open must not hold the shutdown up.
        setTimeout(() => server.forceShutdown(), 500).unref();
      }),
  };
}

function t(name: string, datatype: string, shape: number[]): TensorMeta {
  return { name, datatype, shape };
}

interface Output {
  name: string;
  datatype: string;
  shape: number[];
  values: (number | bigint | Buffer)[];
}

/** The request's inputs by name, values with a `shape`; raw_input_contents[i] is the i-th input's bytes. */
function readInputs(request: any): Record<string, unknown[] & { shape: number[] }> {
  const out: Record<string, unknown[] & { shape: number[] }> = {};
  (request.inputs as any[]).forEach((input, i) => {
    const shape = (input.shape as string[]).map(Number);
    const count = shape.reduce((a, b) => a * b, 1);
    const raw: Buffer | undefined = request.raw_input_contents[i];
    let values: unknown[];
    if (raw) {
      values = fromRaw(input.datatype, raw);
    } else {
      const contents = input.contents ?? {};
      values =
        {
          FP32: contents.fp32_contents,
          INT64: (contents.int64_contents ?? []).map(BigInt),
          BYTES: contents.bytes_contents,
        }[input.datatype as string] ?? [];
    }
    if (values.length !== count)
      throw new InferError(
        grpc.status.INVALID_ARGUMENT,
        `Input '${input.name}' has ${values.length} elements, its shape [${shape}] needs ${count}`,
      );
    out[input.name] = Object.assign(values, { shape });
  });
  return out;
}

function fromRaw(datatype: string, raw: Buffer): unknown[] {
  const values: unknown[] = [];
  switch (datatype) {
    case 'FP32':
      for (let at = 0; at < raw.length; at += 4) values.push(raw.readFloatLE(at));
      return values;
    case 'INT64':
      for (let at = 0; at < raw.length; at += 8) values.push(raw.readBigInt64LE(at));
      return values;
    case 'BF16':
      for (let at = 0; at < raw.length; at += 2) values.push(bf16ToNumber(raw.readUInt16LE(at)));
      return values;
    case 'BYTES':
      for (let at = 0; at < raw.length;) {
        const length = raw.readUInt32LE(at);
        values.push(raw.subarray(at + 4, at + 4 + length));
        at += 4 + length;
      }
      return values;
    default:
      throw new InferError(grpc.status.INVALID_ARGUMENT, `The stand-in does not read ${datatype}`);
  }
}

function response(request: any, version: string, outputs: Output[], typed: boolean): object {
  return {
    model_name: request.model_name,
    model_version: version,
    id: request.id,
    parameters: request.parameters,
    outputs: outputs.map(({ name, datatype, shape, values }) => ({
      name,
      datatype,
      shape,
      contents: typed ? { fp32_contents: values } : undefined,
    })),
    raw_output_contents: typed ? [] : outputs.map(toRaw),
  };
}

function toRaw({ datatype, values }: Output): Buffer {
  switch (datatype) {
    case 'FP32': {
      const out = Buffer.alloc(values.length * 4);
      values.forEach((v, i) => out.writeFloatLE(v as number, i * 4));
      return out;
    }
    case 'INT64': {
      const out = Buffer.alloc(values.length * 8);
      values.forEach((v, i) => out.writeBigInt64LE(v as bigint, i * 8));
      return out;
    }
    case 'BF16': {
      const out = Buffer.alloc(values.length * 2);
      values.forEach((v, i) => out.writeUInt16LE(numberToBf16(v as number), i * 2));
      return out;
    }
    default:
      return Buffer.concat(
        (values as Buffer[]).flatMap((element) => {
          const length = Buffer.alloc(4);
          length.writeUInt32LE(element.length);
          return [length, element];
        }),
      );
  }
}

function bf16ToNumber(bits: number): number {
  const buffer = Buffer.alloc(4);
  buffer.writeUInt16LE(bits, 2);
  return buffer.readFloatLE(0);
}

/** Truncates (the stand-in only halves exact values, so rounding never matters). */
function numberToBf16(value: number): number {
  const buffer = Buffer.alloc(4);
  buffer.writeFloatLE(value, 0);
  return buffer.readUInt16LE(2);
}

function asStatus(error: unknown): Partial<grpc.StatusObject> {
  if (error instanceof InferError) return { code: error.code, details: error.message };
  return { code: grpc.status.INTERNAL, details: (error as Error).message };
}
