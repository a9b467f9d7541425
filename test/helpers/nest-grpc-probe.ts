import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * The one-rpc service the e2e tests serve with Nest's own `Transport.GRPC`
 * beside our transport, to compare the two side by side.
 */
export const PROBE_PROTO = `syntax = "proto3";
package probe;
service Probe { rpc Echo (EchoRequest) returns (EchoReply); }
message EchoRequest { string text = 1; }
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
