import * as grpc from '@grpc/grpc-js';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The one-rpc service the e2e tests serve with Nest's own `Transport.GRPC`
 * beside our transport, to compare the two side by side. `count` and `tags`
 * mirror a model with `@Input('count', Int32)` and `@Input('tags', [String])`.
 */
export const PROBE_PROTO = `syntax = "proto3";
package probe;
service Probe { rpc Echo (EchoRequest) returns (EchoReply); }
message EchoRequest { string text = 1; int32 count = 2; repeated string tags = 3; }
message EchoReply { string result = 1; }
`;

/** Writes `PROBE_PROTO` to a temporary file (Nest's transport loads its proto from a path); `remove()` deletes it. */
export function writeProbeProto(): { protoPath: string; remove(): void } {
  const dir = mkdtempSync(join(tmpdir(), 'nest-grpc-probe-'));
  const protoPath = join(dir, 'probe.proto');
  writeFileSync(protoPath, PROBE_PROTO);
  return { protoPath, remove: () => rmSync(dir, { recursive: true, force: true }) };
}

/** A loopback port free right now, for a server that cannot bind port 0 and report it (Nest's `Transport.GRPC`). */
export async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** How a unary call ended, as its caller sees it: the reply's `result`, or the status code and details. */
export type CallOutcome = { result: string } | { code: grpc.status; details: string };

/**
 * Makes a unary call with a plain @grpc/grpc-js client (the probe's on Nest's
 * transport, or one on our generated proto) and settles it to what the caller
 * sees, so both transports are called, and compared, the same way.
 */
export function callUnary(
  client: grpc.Client,
  method: string,
  request: object,
  metadata = new grpc.Metadata(),
): Promise<CallOutcome> {
  const invoke = (client as unknown as Record<string, unknown>)[method];
  if (typeof invoke !== 'function') throw new Error(`the client has no method ${method}`);
  return new Promise((resolve) => {
    (invoke as (...args: unknown[]) => unknown).call(
      client,
      request,
      metadata,
      (error: grpc.ServiceError | null, reply?: { result: string }) =>
        resolve(error ? { code: error.code, details: error.details } : { result: reply!.result }),
    );
  });
}
