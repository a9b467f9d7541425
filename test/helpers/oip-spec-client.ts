import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import { fileURLToPath } from 'node:url';

const SPEC_PROTO = fileURLToPath(new URL('../fixtures/oip/grpc_service.proto', import.meta.url));

/**
 * A client that knows only the public Open Inference Protocol spec (the
 * .proto in test/fixtures/oip), nothing of the server's generator or of
 * OipClient: what Triton's or KServe's clients would be.
 */
export class OipSpecClient {
  private readonly stub: any;

  constructor(address: string) {
    const definition = protoLoader.loadSync(SPEC_PROTO, {
      keepCase: true,
      longs: String,
      enums: String,
      defaults: true,
      oneofs: true,
    });
    const pkg = grpc.loadPackageDefinition(definition) as any;
    this.stub = new pkg.inference.GRPCInferenceService(address, grpc.credentials.createInsecure());
  }

  /** Any unary rpc of the service. */
  call<T = any>(rpc: string, request: object, metadata: Record<string, string> = {}): Promise<T> {
    const meta = new grpc.Metadata();
    for (const [key, value] of Object.entries(metadata)) meta.set(key, value);
    return new Promise((resolve, reject) =>
      this.stub[rpc](request, meta, (error: Error | null, response: T) => (error ? reject(error) : resolve(response))),
    );
  }

  /** ModelStreamInfer: sends every request, half-closes, collects every response. */
  stream(requests: object[]): Promise<any[]> {
    const call = this.stub.ModelStreamInfer();
    const responses: any[] = [];
    return new Promise((resolve, reject) => {
      call.on('data', (response: any) => responses.push(response));
      call.on('error', reject);
      call.on('end', () => resolve(responses));
      for (const request of requests) call.write(request);
      call.end();
    });
  }

  close(): void {
    this.stub.close();
  }
}

/** An FP32 tensor as raw little-endian bytes. */
export function rawFloat32(values: number[]): Buffer {
  return Buffer.from(new Float32Array(values).buffer);
}

/** Raw bytes read back as float32 values. */
export function readFloat32(raw: Buffer): number[] {
  return Array.from(new Float32Array(raw.buffer.slice(raw.byteOffset, raw.byteOffset + raw.byteLength)));
}

/** BYTES elements in their raw form: 4-byte little-endian length, then the bytes. */
export function rawBytes(...elements: string[]): Buffer {
  return Buffer.concat(
    elements.flatMap((element) => {
      const bytes = Buffer.from(element);
      const length = Buffer.alloc(4);
      length.writeUInt32LE(bytes.length);
      return [length, bytes];
    }),
  );
}

/** Raw BYTES read back into strings. */
export function readBytes(raw: Buffer): string[] {
  const out: string[] = [];
  for (let offset = 0; offset < raw.length;) {
    const length = raw.readUInt32LE(offset);
    out.push(raw.subarray(offset + 4, offset + 4 + length).toString());
    offset += 4 + length;
  }
  return out;
}
