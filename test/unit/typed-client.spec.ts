import { readFileSync } from 'node:fs';
import { runCli } from '../../lib/cli/run-cli.js';
import type { BlazeClient } from '../../lib/index.js';
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
}

describe('typed BlazeClient from `blazerpc types`', () => {
  it('the committed model map is what the CLI generates for the sample today', async () => {
    let generated = '';
    const code = await runCli(['types', 'sample/app.module.ts', '--export', 'AppModule.forRoot()', '--from', '../../lib/index.js'], {
      stdout: { write: (text: string) => (generated += text) },
      stderr: { write: () => undefined },
    });
    expect(code).toBe(0);
    expect(generated).toBe(readFileSync('test/fixtures/sample-models.generated.ts', 'utf8'));
  });
});
