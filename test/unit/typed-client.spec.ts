import { readFileSync } from 'node:fs';
import { runCli } from '../../lib/cli/run-cli.js';
import type { BlazeClient, BlazeDuplex, BlazeStream, CallResult } from '../../lib/index.js';
import type { BlazeModels } from '../fixtures/sample-models.generated.js';

/** Compile-time checks: `npm run typecheck` fails if the generated types stop catching these. */
export async function typedCalls(client: BlazeClient<BlazeModels>): Promise<void> {
  const echoed: string = await client.predict('echo', { text: 'typed' });
  void echoed;
  // @ts-expect-error an unknown model name does not compile
  await client.predict('echoo', { text: 'typo' });
  // @ts-expect-error an input of the wrong type does not compile
  await client.predict('echo', { text: 42 });
  // @ts-expect-error the result type is checked too
  const wrong: number = await client.predict('echo', { text: 'x' });
  void wrong;
  const detailed: CallResult<string> = await client.predict('echo', { text: 'x' }, { withDetails: true });
  void detailed;
  const tokens: BlazeStream<string> = client.stream('tokens', { prompt: 'a b' });
  void tokens;
}

/** Streaming-input models are offered only through upload (client streaming) and duplex (both ways), with typed messages and replies. */
export async function typedStreamingInputCalls(client: BlazeClient<BlazeModels>): Promise<void> {
  const words: number = await client.upload('tally', [{ text: 'the quick' }, { text: 'brown fox' }]);
  void words;
  const detailed: CallResult<number> = await client.upload('tally', [], { withDetails: true });
  void detailed;
  const relay: BlazeDuplex<{ text: string }, string> = client.duplex('relay');
  await relay.write({ text: 'ping' });
  for await (const reply of relay) {
    const upper: string = reply;
    void upper;
  }
  // @ts-expect-error a client-streaming model is not called with predict
  await client.predict('tally', { text: 'x' });
  // @ts-expect-error nor a bidirectional one with stream
  client.stream('relay', { text: 'x' });
  // @ts-expect-error a unary model takes no upload
  await client.upload('echo', [{ text: 'x' }]);
  // @ts-expect-error duplex is for bidirectional models only
  client.duplex('tally');
  // @ts-expect-error upload's messages are typed
  await client.upload('tally', [{ text: 42 }]);
  // @ts-expect-error so are duplex writes
  await relay.write({ txt: 'x' });
  // @ts-expect-error and upload's result
  const notANumber: string = await client.upload('tally', []);
  void notANumber;
}

/** Without a model map, or with one generated before maps named kinds, every method takes every name, as before. */
export async function untypedCalls(
  client: BlazeClient,
  older: BlazeClient<{ echo: { inputs: { text: string }; result: string } }>,
): Promise<void> {
  await client.upload('anything', [{ text: 'x' }]);
  client.duplex('anything');
  await client.predict('anything', {});
  await older.predict('echo', { text: 'x' });
  await older.upload('echo', [{ text: 'x' }]);
}

describe('typed BlazeClient from `blazerpc types`', () => {
  it('the committed model map is what the CLI generates for the sample today', async () => {
    let generated = '';
    const code = await runCli(
      ['types', 'sample/app.module.ts', '--export', 'AppModule.forRoot()', '--from', '../../lib/index.js'],
      {
        stdout: { write: (text: string) => (generated += text) },
        stderr: { write: () => undefined },
      },
    );
    expect(code).toBe(0);
    expect(generated).toBe(readFileSync('test/fixtures/sample-models.generated.ts', 'utf8'));
  });
});
