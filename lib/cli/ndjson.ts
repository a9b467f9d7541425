import { CliError, EXIT } from './cli-io.js';

/**
 * Request messages from NDJSON (e.g. stdin): one JSON object per line, each
 * yielded as soon as its line is complete, so a bidirectional call can answer
 * line by line while more input is still being typed or piped. Empty lines
 * are skipped; `\r\n` line ends are accepted.
 * @throws CliError (usage) naming the line that is not a JSON object
 */
export async function* readNdjson(
  input: AsyncIterable<string | Uint8Array>,
): AsyncGenerator<Record<string, unknown>, void, undefined> {
  // A multi-byte character may be split across chunks; the streaming decoder joins it.
  const decoder = new TextDecoder();
  let partial = '';
  let lineNumber = 0;
  for await (const chunk of input) {
    const lines = (partial + (typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true }))).split('\n');
    partial = lines.pop()!;
    for (const line of lines) {
      const message = parseLine(line, ++lineNumber);
      if (message) yield message;
    }
  }
  const message = parseLine(partial + decoder.decode(), lineNumber + 1);
  if (message) yield message;
}

function parseLine(line: string, lineNumber: number): Record<string, unknown> | undefined {
  const text = line.trim();
  if (text === '') return undefined;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch (error) {
    throw new CliError(EXIT.usage, `stdin line ${lineNumber} is not valid JSON: ${(error as Error).message}`);
  }
  if (!value || typeof value !== 'object' || Array.isArray(value)) {
    throw new CliError(EXIT.usage, `stdin line ${lineNumber} is not a JSON object of inputs, e.g. {"text":"hi"}`);
  }
  return value as Record<string, unknown>;
}
