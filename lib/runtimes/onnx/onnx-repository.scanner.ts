import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../../core/errors/configuration.error.js';
import { compareVersionNumbers, isVersionLike, listed, ONNX_LIMITS, versionProblem } from './onnx-limits.js';
import { checkRepositoryConfig, type CheckedRepositoryConfig } from './onnx-repository-config.validator.js';
import type { OnnxRepositoryModelConfig, OnnxRepositoryOptions, OnnxVersionPolicy } from './onnx-repository.options.js';

/** One model version the repository serves. */
export interface RepositoryEntry {
  readonly model: string;
  readonly version: string;
  readonly file: string;
  readonly isDefault: boolean;
  readonly config: OnnxRepositoryModelConfig;
  /**
   * Why the model's settings (`config.json`) cannot serve this version, e.g.
   * a value out of bounds; the version must not be loaded. At startup it
   * fails startup; on a live repository the version is reported as one that
   * failed to load, and what served keeps serving.
   */
  readonly problem?: string;
  /** The file's size and modification time, and the settings it is served with: a change means loading it again. */
  readonly stamp: string;
}

/** A directory named as a version that is not one, and why: reported, never served. */
export interface IgnoredVersion {
  /** `<model>/<directory>`, relative to the repository. */
  readonly path: string;
  readonly reason: string;
}

/**
 * @internal Reads a model repository laid out as Triton's:
 * `<dir>/<model>/<version>/model.onnx`, versions numbered from 1, and an
 * optional `<dir>/<model>/config.json`. Returns the versions to serve under
 * each model's policy. Layout mistakes and out-of-bounds settings fail
 * startup, naming the path; `ignored` hears of directories named as
 * versions that are not (`007`, a number above int64).
 */
export function scanRepository(
  dir: string,
  options: OnnxRepositoryOptions = {},
  ignored?: (version: IgnoredVersion) => void,
): RepositoryEntry[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigurationError(`OnnxModule.repository('${dir}'): no such directory (resolved from ${process.cwd()})`);
  }
  const models = modelDirectories(dir);
  if (models.length === 0) {
    throw new ConfigurationError(
      `OnnxModule.repository('${dir}'): no model directories; lay models out as <model>/<version>/model.onnx`,
    );
  }
  const entries = models.flatMap((model) => scanModel(join(dir, model), model, options, ignored));
  const problem = entries.find((entry) => entry.problem)?.problem;
  if (problem) throw new ConfigurationError(problem);
  return entries;
}

/** @internal The model directories of a repository, by name. */
export function modelDirectories(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true })
    .filter((e) => e.isDirectory() && !e.name.startsWith('.'))
    .map((e) => e.name)
    .sort((a, b) => a.localeCompare(b));
}

/**
 * @internal The versions of one model directory to serve, under its policy.
 * Out-of-bounds settings do not throw: each entry carries them as its
 * `problem`, so a live repository reports those versions and keeps serving.
 * @throws ConfigurationError naming the path when the directory is laid out wrongly
 */
export function scanModel(
  path: string,
  model: string,
  options: OnnxRepositoryOptions,
  ignored?: (version: IgnoredVersion) => void,
): RepositoryEntry[] {
  const { config, problem } = readConfig(path);
  const available: string[] = [];
  for (const e of readdirSync(path, { withFileTypes: true })) {
    if (!e.isDirectory() || !isVersionLike(e.name)) continue;
    const reason = versionProblem(e.name);
    if (reason) ignored?.({ path: `${model}/${e.name}`, reason });
    else if (existsSync(join(path, e.name, 'model.onnx'))) available.push(e.name);
  }
  available.sort(compareVersionNumbers);
  if (available.length === 0) {
    throw new ConfigurationError(
      `Model repository: '${path}' has no version with a model, e.g. ${join(path, '1', 'model.onnx')}`,
    );
  }
  const policy = config.versionPolicy ?? options.versionPolicy ?? { latest: 1 };
  const served = applyPolicy(policy, available, path);
  if (served.length > ONNX_LIMITS.servedVersions) {
    throw new ConfigurationError(
      `Model repository '${path}': versionPolicy ${JSON.stringify(policy).slice(0, 100)} selects ${served.length} versions; a model serves at most ` +
        `${ONNX_LIMITS.servedVersions} at once (each loads its own instances): use { "latest": N } or { "specific": [...] }`,
    );
  }
  const defaultVersion = config.defaultVersion ?? served[served.length - 1];
  if (!served.includes(defaultVersion)) {
    throw new ConfigurationError(
      `Model repository: ${join(path, 'config.json')} 'defaultVersion' is ${JSON.stringify(defaultVersion).slice(0, 100)}, which is not served (served: ${served.join(', ')})`,
    );
  }
  return served.map((version) => {
    const file = join(path, version, 'model.onnx');
    const { size, mtimeMs } = statSync(file);
    const settings = JSON.stringify([config.instances, config.batching, config.description, problem]);
    return {
      model,
      version,
      file,
      isDefault: version === defaultVersion,
      config,
      problem,
      stamp: `${size}:${mtimeMs}:${settings}`,
    };
  });
}

/** The versions a policy selects; its shape and version numbers are checked where it is given (code options or config.json). */
function applyPolicy(policy: OnnxVersionPolicy, available: string[], path: string): string[] {
  if (policy === 'all') return available;
  if ('latest' in policy) return available.slice(-policy.latest);
  const missing = policy.specific.filter((v) => !available.includes(v));
  if (missing.length > 0) {
    throw new ConfigurationError(
      `Model repository '${path}': versionPolicy.specific names version(s) ${listed(missing)}, which have no model.onnx (found: ${available.join(', ')})`,
    );
  }
  return available.filter((v) => policy.specific.includes(v));
}

/**
 * A model's `config.json`, or `{}` without one. Whether it can be read and
 * which versions it selects are the model's matter (thrown); its settings
 * (`instances`, `batching`, `description`, unknown keys) are each served
 * version's, returned as `problem` (see `checkRepositoryConfig`).
 */
function readConfig(path: string): CheckedRepositoryConfig {
  const file = join(path, 'config.json');
  if (!existsSync(file)) return { config: {} };
  // Checked before reading: the file is read again on every poll, so a huge one would be read into memory each time.
  const { size } = statSync(file);
  if (size > ONNX_LIMITS.configBytes) {
    throw new ConfigurationError(
      `Model repository: ${file} is ${size} bytes; a config.json holds at most ${ONNX_LIMITS.configBytes} bytes of settings`,
    );
  }
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`Model repository: ${file} is not valid JSON: ${(error as Error).message}`);
  }
  return checkRepositoryConfig(file, config);
}
