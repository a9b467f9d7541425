import { BlazeRpcError } from '../core/errors/blaze-rpc.error.js';

/** Where the CLI reads and writes, so tests can run it in-process. */
export interface CliIo {
  stdout: { write(text: string): unknown; isTTY?: boolean };
  stderr: { write(text: string): unknown };
  /** Messages for streaming-input models (NDJSON); destroyed once the call no longer needs it. */
  stdin?: AsyncIterable<string | Uint8Array> & { destroy?(): unknown };
}

/** Exit codes scripts can rely on. A call that fails with gRPC status N exits with 10 + N. */
export const EXIT = {
  ok: 0,
  internal: 1,
  usage: 2,
  moduleLoad: 3,
  unreachable: 4,
  grpcBase: 10,
} as const;

/**
 * An error that ends the command with an exit code and a message for stderr.
 * It has no gRPC `code`: a failed call's status reaches the command line as
 * `BlazeRpcClientError`.
 */
export class CliError extends BlazeRpcError {
  constructor(
    readonly exitCode: number,
    message: string,
  ) {
    super(message);
  }
}

/** A spinner on stderr, shown only when stdout is a terminal (never in scripts or CI logs). */
export async function withSpinner<T>(io: CliIo, label: string, work: Promise<T>): Promise<T> {
  if (!io.stdout.isTTY) return work;
  const frames = ['|', '/', '-', '\\'];
  let i = 0;
  const timer = setInterval(() => io.stderr.write(`\r${frames[i++ % frames.length]} ${label}`), 80);
  try {
    return await work;
  } finally {
    clearInterval(timer);
    io.stderr.write(`\r${' '.repeat(label.length + 2)}\r`);
  }
}
