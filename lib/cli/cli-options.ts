import { readFileSync } from 'node:fs';
import type { ClientTlsOptions } from '../client/blaze-client-options.interface.js';
import { CliError, EXIT } from './cli-io.js';

/** The CLI's flags, for `node:util` parseArgs. */
export const OPTIONS = {
  out: { type: 'string' },
  export: { type: 'string' },
  from: { type: 'string' },
  json: { type: 'boolean' },
  'model-version': { type: 'string' },
  version: { type: 'boolean', short: 'V' },
  metadata: { type: 'string', multiple: true },
  timeout: { type: 'string' },
  tls: { type: 'boolean' },
  ca: { type: 'string' },
  cert: { type: 'string' },
  key: { type: 'string' },
  protocol: { type: 'string' },
  stream: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Parsed flag values. */
export type Values = {
  [K in keyof typeof OPTIONS]?: (typeof OPTIONS)[K] extends { multiple: true }
    ? string[]
    : (typeof OPTIONS)[K]['type'] extends 'boolean'
      ? boolean
      : string;
};

/** The wire protocols `models` and `call` speak. */
export type CliProtocol = 'blazerpc' | 'oip';

export function parseProtocol(value: string | undefined): CliProtocol {
  if (value === undefined || value === 'blazerpc' || value === 'oip') return value ?? 'blazerpc';
  throw new CliError(EXIT.usage, `--protocol takes blazerpc or oip, got '${value}'`);
}

export function parseMetadata(pairs: string[] | undefined): Record<string, string> | undefined {
  if (!pairs) return undefined;
  return Object.fromEntries(
    pairs.map((pair) => {
      const at = pair.indexOf('=');
      if (at <= 0) throw new CliError(EXIT.usage, `--metadata takes key=value, got '${pair}'`);
      return [pair.slice(0, at).toLowerCase(), pair.slice(at + 1)];
    }),
  );
}

export function parseTimeout(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const ms = Number(value);
  if (!Number.isFinite(ms) || ms <= 0) throw new CliError(EXIT.usage, `--timeout takes milliseconds, got '${value}'`);
  return ms;
}

/** TLS from --tls, --ca, --cert and --key; undefined for plaintext. */
export function parseTls(values: Values): ClientTlsOptions | undefined {
  if (!values.tls && !values.ca && !values.cert) return undefined;
  return { rootCerts: read(values.ca), certChain: read(values.cert), privateKey: read(values.key) };
}

function read(file: string | undefined): Buffer | undefined {
  return file === undefined ? undefined : readFileSync(file);
}
