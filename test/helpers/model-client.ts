import * as grpc from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** Options of one test call. */
export interface CallOptions {
  metadata?: Record<string, string>;
  deadlineMs?: number;
}

/**
 * A plain @grpc/grpc-js client built from the generated .proto text, the way
 * a user's client would load the file the server wrote.
 */
export class ModelClient {
  readonly raw: grpc.Client;
  private readonly service: grpc.ServiceClientConstructor;

  constructor(address: string, protoText: string, serviceName = 'blazerpc.InferenceService') {
    const dir = mkdtempSync(join(tmpdir(), 'blazerpc-test-'));
    writeFileSync(join(dir, 'blazerpc.proto'), protoText);
    const definition = loadSync(join(dir, 'blazerpc.proto'), { keepCase: true, longs: String, defaults: true });
    const loaded = grpc.loadPackageDefinition(definition);
    this.service = serviceName.split('.').reduce<any>((node, part) => node[part], loaded);
    this.raw = new this.service(address, grpc.credentials.createInsecure());
  }

  unary<T = any>(method: string, request: object, options: CallOptions = {}): Promise<T> {
    return new Promise((resolve, reject) => {
      (this.raw as any)[method](
        request,
        toMetadata(options.metadata),
        callOptions(options),
        (error: grpc.ServiceError | null, response: T) => (error ? reject(error) : resolve(response)),
      );
    });
  }

  stream(method: string, request: object, options: CallOptions = {}): grpc.ClientReadableStream<any> {
    return (this.raw as any)[method](request, toMetadata(options.metadata), callOptions(options));
  }

  /** A client-streaming call: write messages, `end()`, then await `response`. */
  upload<T = any>(
    method: string,
    options: CallOptions = {},
  ): { call: grpc.ClientWritableStream<any>; response: Promise<T> } {
    let call!: grpc.ClientWritableStream<any>;
    const response = new Promise<T>((resolve, reject) => {
      call = (this.raw as any)[method](
        toMetadata(options.metadata),
        callOptions(options),
        (error: grpc.ServiceError | null, reply: T) => (error ? reject(error) : resolve(reply)),
      );
    });
    return { call, response };
  }

  /** A bidirectional call. */
  duplex(method: string, options: CallOptions = {}): grpc.ClientDuplexStream<any, any> {
    return (this.raw as any)[method](toMetadata(options.metadata), callOptions(options));
  }

  close(): void {
    this.raw.close();
  }
}

/** Reads a server stream to its end; rejects with the stream's status error. */
export function collect<T = any>(stream: grpc.ClientReadableStream<T>): Promise<T[]> {
  return new Promise((resolve, reject) => {
    const items: T[] = [];
    stream.on('data', (item: T) => items.push(item));
    stream.on('error', reject);
    stream.on('end', () => resolve(items));
  });
}

/** The error a call failed with, or a failure when it succeeded. */
export async function failureOf(call: Promise<unknown>): Promise<grpc.ServiceError> {
  try {
    await call;
  } catch (error) {
    return error as grpc.ServiceError;
  }
  throw new Error('expected the call to fail, but it succeeded');
}

function toMetadata(values: Record<string, string> = {}): grpc.Metadata {
  const metadata = new grpc.Metadata();
  for (const [key, value] of Object.entries(values)) metadata.set(key, value);
  return metadata;
}

function callOptions(options: CallOptions): grpc.CallOptions {
  return options.deadlineMs === undefined ? {} : { deadline: Date.now() + options.deadlineMs };
}
