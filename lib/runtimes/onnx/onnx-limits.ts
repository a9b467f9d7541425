import { availableParallelism } from 'node:os';
import { ConfigurationError } from '../../core/errors/configuration.error.js';
import type { ModelBatchingOptions } from '../../core/options/batching-options.interface.js';
import { firstUnknownKey, unknownKeyMessage } from '../../core/options/unknown-keys.js';
import type { OnnxModelOptions } from './onnx-model-options.interface.js';
import type { OnnxVersionPolicy } from './onnx-repository.options.js';

/**
 * @internal The bounds of every number an ONNX model is served with, from
 * code options or from a repository's `config.json`. Each value multiplies
 * into threads or memory, so a typo or a hostile file (`"instances": 10000`
 * once started ten thousand threads in one go) must be refused with a
 * message, not obeyed. Values inside the bounds behave as before.
 */
export const ONNX_LIMITS = {
  /**
   * Each instance is a worker thread holding its own session (its own copy of
   * the weights). An instance runs one execution at a time, so more instances
   * than cores add no throughput; 64 covers the largest single machines in
   * common use while refusing values that only exhaust memory.
   */
  instances: 64,
  /**
   * `intraOpNumThreads` / `interOpNumThreads`: onnxruntime threads per
   * session, so per instance. Beyond the cores they only contend; the same
   * ceiling as `instances`, for the same machines.
   */
  sessionThreads: 64,
  /** Linux niceness without privileges: 0 (the server's priority) to 19 (lowest). */
  instanceNiceness: 19,
  /** Rows (or requests) in one execution; 2048 times the default of 32, far above what a CPU or GPU batch gains from. */
  maxBatchSize: 65_536,
  /** Requests waiting per model; each holds its decoded inputs in memory, so the bound is a memory bound (64 times the default of 1024). */
  maxQueueSize: 65_536,
  /** Batches running at once: one per instance; more would only wait inside the model. */
  maxConcurrentBatches: 64,
  /** How long a partial batch may wait, in ms: a minute is past any sensible call deadline. */
  batchTimeoutMs: 60_000,
  /** Versions of one model served at once: each loads its own instances. */
  servedVersions: 16,
  /** A `config.json` larger than this is not read: it is settings, not data, and it is read again on every poll. */
  configBytes: 64 * 1024,
  /** A `description` longer than this is refused: it goes into the generated .proto and every reflection answer. */
  descriptionChars: 1024,
  /** Shortest poll: each one lists every model directory and stats every served file. */
  pollIntervalMinMs: 10,
  /** Longest poll: a longer delay would overflow `setTimeout`, which then fires after 1 ms, polling nonstop. */
  pollIntervalMaxMs: 2 ** 31 - 1,
  /**
   * Highest version number: Triton reads version directories as int64, and
   * OIP clients pass the same numbers as strings, so a version must fit in
   * one; compared exactly (as digit strings), never as JS numbers, which
   * collapse above 2^53.
   */
  version: '9223372036854775807',
} as const;

/** A batching key's bounds, for `config.json` and code options alike. */
const BATCHING_BOUNDS: Record<string, Bound> = {
  maxBatchSize: { kind: 'a positive integer', min: 1, max: ONNX_LIMITS.maxBatchSize },
  maxQueueSize: { kind: 'a positive integer', min: 1, max: ONNX_LIMITS.maxQueueSize },
  maxConcurrentBatches: {
    kind: 'a positive integer',
    min: 1,
    max: ONNX_LIMITS.maxConcurrentBatches,
    note: 'one batch per instance',
  },
  batchTimeoutMs: { kind: 'a number of milliseconds', min: 0, max: ONNX_LIMITS.batchTimeoutMs, integer: false },
};
const BATCHING_KEYS = [...Object.keys(BATCHING_BOUNDS), 'tuneBatchSize'];

/**
 * @internal What a key is called in messages: an `option` in code, a `key`
 * in a `config.json`.
 */
export type KeyNoun = 'option' | 'key';

interface Bound {
  /** What the value must be, as the message says it: `a positive integer`, ... */
  readonly kind: string;
  readonly min: number;
  readonly max: number;
  /** @default true */
  readonly integer?: boolean;
  /** Why the bound, or how to pick a value: shown after the range. */
  readonly note?: string;
}

/**
 * @internal Checks one value against its bounds (`undefined` passes: the default applies).
 * @param where who gave it, e.g. `Model repository: iris/config.json` or `OnnxModule.serve('iris')`
 * @throws ConfigurationError `<where> '<key>' must be <kind>, got <value>; allowed: <min> to <max> (<note>)`,
 *   the value with its type when that is what is wrong (`got string "8"`)
 */
export function checkBound(where: string, key: string, value: unknown, bound: Bound): void {
  if (value === undefined) return;
  const valid =
    typeof value === 'number' && (bound.integer === false ? Number.isFinite(value) : Number.isInteger(value));
  if (valid && value >= bound.min && value <= bound.max) return;
  const note = bound.note ? ` (${bound.note})` : '';
  const got = shown(value, typeof value !== 'number');
  throw new ConfigurationError(
    `${where} '${key}' must be ${bound.kind}, got ${got}; allowed: ${bound.min} to ${bound.max}${note}`,
  );
}

/**
 * @internal Checks the options every instance is started with: `instances`,
 * `instanceNiceness`, and the session's thread counts.
 * @throws ConfigurationError naming `where`, the option, the value and the range
 */
export function checkModelOptions(where: string, options: OnnxModelOptions): void {
  if (typeof options !== 'object' || options === null) return;
  const cores = availableParallelism();
  checkBound(where, 'instances', options.instances, {
    kind: 'a positive integer',
    min: 1,
    max: ONNX_LIMITS.instances,
    note: `each is a worker thread with its own session; more than the ${cores} CPU core(s) here add no throughput`,
  });
  checkBound(where, 'instanceNiceness', options.instanceNiceness, {
    kind: 'a whole number',
    min: 0,
    max: ONNX_LIMITS.instanceNiceness,
    note: 'Linux niceness',
  });
  const session = options.sessionOptions as Record<string, unknown> | undefined;
  if (typeof session !== 'object' || session === null) return;
  for (const key of ['intraOpNumThreads', 'interOpNumThreads']) {
    checkBound(where, `sessionOptions.${key}`, session[key], {
      kind: 'a whole number',
      min: 0,
      max: ONNX_LIMITS.sessionThreads,
      note: `threads per instance; 0 lets onnxruntime pick one per core (${cores} here)`,
    });
  }
}

/**
 * @internal Checks batching overrides: `false`, or an object of known keys within bounds.
 * @param where who gave it; keys are named `batching.<key>`
 * @param noun what `where` calls a key, in the message of an unknown one
 * @throws ConfigurationError naming `where`, the key, the value and the range, or the closest known key
 */
export function checkBatching(where: string, batching: unknown, noun: KeyNoun = 'option'): void {
  if (batching === undefined || batching === false) return;
  if (!isRecord(batching)) {
    throw new ConfigurationError(`${where} 'batching' must be false or an object, got ${shown(batching, true)}`);
  }
  const unknown = firstUnknownKey(batching, BATCHING_KEYS);
  if (unknown !== undefined)
    throw new ConfigurationError(unknownKeyMessage(`${where} ${noun}`, 'batching.', unknown, BATCHING_KEYS));
  const values = batching as Exclude<ModelBatchingOptions, false> & Record<string, unknown>;
  for (const [key, bound] of Object.entries(BATCHING_BOUNDS)) checkBound(where, `batching.${key}`, values[key], bound);
  if (values.tuneBatchSize !== undefined && typeof values.tuneBatchSize !== 'boolean') {
    throw new ConfigurationError(
      `${where} 'batching.tuneBatchSize' must be true or false, got ${shown(values.tuneBatchSize, true)}`,
    );
  }
}

/** @internal Checks `pollIntervalMs`: 0 (read once) or a delay `setTimeout` keeps. */
export function checkPollInterval(where: string, value: unknown): void {
  if (value === undefined || value === 0) return;
  checkBound(where, 'pollIntervalMs', value, {
    kind: 'a whole number of milliseconds',
    min: ONNX_LIMITS.pollIntervalMinMs,
    max: ONNX_LIMITS.pollIntervalMaxMs,
    note: '0 reads the repository once, at startup',
  });
}

/**
 * @internal Why a version directory's name is not a version, or `undefined`
 * when it is one: digits, from 1 to `ONNX_LIMITS.version`, with no leading
 * zero. `007` is refused rather than read as 7, so the name a client asks
 * for is always the directory's own, and `7` and `007` can never both claim
 * version 7. Names that are not digits at all are not versions (`undefined`
 * from `isVersionLike`), and are skipped without a word.
 */
export function versionProblem(name: string): string | undefined {
  if (name === '0') return 'versions are numbered from 1';
  if (name.startsWith('0'))
    return `version numbers have no leading zeros (rename it '${name.replace(/^0+(?=.)/, '')}')`;
  if (compareVersionNumbers(name, ONNX_LIMITS.version) > 0) {
    return `version numbers have at most ${ONNX_LIMITS.version.length} digits and go up to ${ONNX_LIMITS.version} (int64, as Triton reads them)`;
  }
  return undefined;
}

/** @internal Whether a directory name is made of digits only, so is meant as a version. */
export function isVersionLike(name: string): boolean {
  return /^\d+$/.test(name);
}

/**
 * @internal Orders version numbers (digit strings without leading zeros)
 * exactly, at any length: by length, then digit by digit. `Number()` would
 * make `9007199254740993` equal to `9007199254740992`.
 */
export function compareVersionNumbers(a: string, b: string): number {
  if (a.length !== b.length) return a.length - b.length;
  return a < b ? -1 : a > b ? 1 : 0;
}

const POLICY_KEYS = ['latest', 'specific'];
const POLICY_SHAPES = '{ "latest": N }, "all" or { "specific": ["1", ...] }';

/**
 * @internal Checks a version policy, from code options or a `config.json`,
 * and returns it with its versions as strings: `{ "specific": [2] }` is
 * what `["2"]` means, and JSON writers often give numbers.
 * @throws ConfigurationError naming `where`, the key and what it must be
 */
export function checkVersionPolicy(
  where: string,
  policy: unknown,
  noun: KeyNoun = 'option',
): OnnxVersionPolicy | undefined {
  if (policy === undefined || policy === 'all') return policy;
  if (!isRecord(policy)) {
    throw new ConfigurationError(
      `${where} 'versionPolicy' must be ${POLICY_SHAPES}, got ${shown(policy, typeof policy !== 'string')}`,
    );
  }
  const unknown = firstUnknownKey(policy, POLICY_KEYS);
  if (unknown !== undefined)
    throw new ConfigurationError(unknownKeyMessage(`${where} ${noun}`, 'versionPolicy.', unknown, POLICY_KEYS));
  // Unknown keys are refused above: other than one key is none, or both.
  if (Object.keys(policy).length !== 1) {
    throw new ConfigurationError(
      `${where} 'versionPolicy' must hold one of 'latest' or 'specific' (${POLICY_SHAPES}), got ${shown(policy)}`,
    );
  }
  const { latest, specific } = policy;
  if ('latest' in policy) {
    if (typeof latest !== 'number' || !Number.isInteger(latest) || latest < 1) {
      throw new ConfigurationError(
        `${where} 'versionPolicy.latest' must be a positive integer, got ${shown(latest, typeof latest !== 'number')}`,
      );
    }
    return { latest };
  }
  if (!Array.isArray(specific) || specific.length === 0) {
    throw new ConfigurationError(
      `${where} 'versionPolicy.specific' must be a list of versions such as ["1", "3"], got ${shown(specific, !Array.isArray(specific))}`,
    );
  }
  const versions = specific.map((version, i) => versionNumber(where, `versionPolicy.specific[${i}]`, version));
  const notVersions = versions.filter((version) => !isVersionLike(version) || versionProblem(version));
  if (notVersions.length > 0) {
    throw new ConfigurationError(
      `${where} 'versionPolicy.specific' holds ${listed(notVersions)}, which are not version numbers ` +
        `(strings of digits from "1" to "${ONNX_LIMITS.version}", without leading zeros)`,
    );
  }
  return { specific: versions };
}

/**
 * @internal A repository version as a string. A whole number from 1 is taken
 * as its digits (`2` is `"2"`: nothing else could be meant); one above
 * 2^53 - 1 is refused, since JSON has already rounded it (9007199254740993
 * reads as 9007199254740992) and it would name another version.
 * @throws ConfigurationError naming `where`, the key and the type expected
 */
export function versionNumber(where: string, key: string, value: unknown): string {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' && Number.isSafeInteger(value) && value >= 1) return String(value);
  if (typeof value === 'number' && Number.isInteger(value) && value > 0) {
    throw new ConfigurationError(
      `${where} '${key}' must be a string of digits when above ${Number.MAX_SAFE_INTEGER}: a JSON number that large loses digits (this one reads as ${value})`,
    );
  }
  throw new ConfigurationError(
    `${where} '${key}' must be a version such as "2" (a string, or a whole number from 1), got ${shown(value, true)}`,
  );
}

/** @internal Whether `value` is an object with keys (not null, not an array). */
export function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/**
 * @internal A value as a message shows it: short, on one line, whatever a
 * file held. With `typed`, its type first (`string "8"`, `number 2`), for
 * messages where the type is what is wrong: a string of digits never reads
 * as the number it spells.
 */
export function shown(value: unknown, typed = false): string {
  const text = valueText(value);
  const short = text.length > 40 ? `${text.slice(0, 40)}...` : text;
  if (!typed || value === null || value === undefined) return short;
  return `${Array.isArray(value) ? 'array' : typeof value} ${short}`;
}

function valueText(value: unknown): string {
  if (
    typeof value === 'number' ||
    typeof value === 'bigint' ||
    typeof value === 'symbol' ||
    typeof value === 'function'
  )
    return String(value);
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    // A cycle: nothing a file holds, so a name is enough.
    return Object.prototype.toString.call(value);
  }
}

/** @internal Names from a file, shown as they are but never at length: a few, each cut short. */
export function listed(names: readonly unknown[]): string {
  const shownNames = names.slice(0, 5).map((name) => {
    // Escaped: a name from a file must not break the log line it is reported on.
    const text = typeof name === 'string' ? JSON.stringify(name).slice(1, -1) : valueText(name);
    return text.length > 40 ? `${text.slice(0, 40)}...` : text;
  });
  return names.length > 5 ? `${shownNames.join(', ')} and ${names.length - 5} more` : shownNames.join(', ');
}
