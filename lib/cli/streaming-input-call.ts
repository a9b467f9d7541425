import type { BlazeClient } from '../client/blaze-client.js';
import type { CallOptions } from '../client/blaze-client-options.interface.js';
import { BlazeRpcClientError } from '../client/blaze-rpc-client.error.js';
import type { ModelCallKind } from '../client/model-map.types.js';
import { CliError, EXIT, type CliIo } from './cli-io.js';
import { readNdjson } from './ndjson.js';
import { toJson } from './result-json.js';

/**
 * `blazerpc call <host:port> <model>` for a model that takes a stream of
 * messages: each NDJSON line of stdin is one message, sent as it is read.
 * A client-streaming model's one result is printed at the end; a
 * bidirectional model's replies are printed one per line as they arrive, while
 * stdin is still being read.
 */
export async function callWithStdin(
  client: BlazeClient,
  model: string,
  kind: Extract<ModelCallKind, 'client-stream' | 'bidi'>,
  options: CallOptions,
  io: CliIo,
): Promise<void> {
  const { stdin } = io;
  if (!stdin)
    throw new CliError(
      EXIT.usage,
      `Model '${model}' takes a stream of messages, read from stdin, and there is none here`,
    );
  try {
    if (kind === 'client-stream') {
      io.stdout.write(`${toJson(await client.upload(model, readNdjson(stdin), options))}\n`);
    } else {
      await relayLines(client, model, options, stdin, io);
    }
  } finally {
    // The call may end before stdin does (the server answered or failed, a bad line): release it, or the process would wait for it.
    stdin.destroy?.();
  }
}

async function relayLines(
  client: BlazeClient,
  model: string,
  options: CallOptions,
  stdin: AsyncIterable<string | Uint8Array>,
  io: CliIo,
): Promise<void> {
  const duplex = client.duplex(model, options);
  let inputError: unknown;
  // Writing runs beside reading: a model may answer before (or without) reading every line.
  void (async () => {
    try {
      for await (const message of readNdjson(stdin)) await duplex.write(message);
      duplex.end();
    } catch (error) {
      // A failed call is reported by the reader below; a bad line ends the call here.
      if (!(error instanceof BlazeRpcClientError)) {
        inputError = error;
        duplex.cancel();
      }
    }
  })();
  try {
    for await (const reply of duplex) io.stdout.write(`${toJson(reply)}\n`);
  } catch (error) {
    throw inputError ?? error;
  }
}
