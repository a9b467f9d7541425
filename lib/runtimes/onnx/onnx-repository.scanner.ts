import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { ConfigurationError } from '../../errors/configuration.error.js';
import type { OnnxRepositoryModelConfig, OnnxRepositoryOptions, OnnxVersionPolicy } from './onnx-repository.options.js';

/** One model version the repository serves. */
export interface RepositoryEntry {
  readonly model: string;
  readonly version: string;
  readonly file: string;
  readonly isDefault: boolean;
  readonly config: OnnxRepositoryModelConfig;
  /** The file's size and modification time, and the settings it is served with: a change means loading it again. */
  readonly stamp: string;
}

const VERSION = /^[1-9]\d*$/;
const CONFIG_KEYS = new Set(['instances', 'batching', 'versionPolicy', 'defaultVersion', 'description']);

/**
 * @internal Reads a model repository laid out as Triton's:
 * `<dir>/<model>/<version>/model.onnx`, versions numbered from 1, and an
 * optional `<dir>/<model>/config.json`. Returns the versions to serve under
 * each model's policy. Layout mistakes fail startup, naming the path.
 */
export function scanRepository(dir: string, options: OnnxRepositoryOptions = {}): RepositoryEntry[] {
  if (!existsSync(dir) || !statSync(dir).isDirectory()) {
    throw new ConfigurationError(`OnnxModule.repository('${dir}'): no such directory (resolved from ${process.cwd()})`);
  }
  const models = modelDirectories(dir);
  if (models.length === 0) {
    throw new ConfigurationError(`OnnxModule.repository('${dir}'): no model directories; lay models out as <model>/<version>/model.onnx`);
  }
  return models.flatMap((model) => scanModel(join(dir, model), model, options));
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
 * @throws ConfigurationError naming the path when the directory is laid out wrongly
 */
export function scanModel(path: string, model: string, options: OnnxRepositoryOptions): RepositoryEntry[] {
  const config = readConfig(path);
  const available = readdirSync(path, { withFileTypes: true })
    .filter((e) => e.isDirectory() && VERSION.test(e.name) && existsSync(join(path, e.name, 'model.onnx')))
    .map((e) => e.name)
    .sort((a, b) => Number(a) - Number(b));
  if (available.length === 0) {
    throw new ConfigurationError(`Model repository: '${path}' has no version with a model, e.g. ${join(path, '1', 'model.onnx')}`);
  }
  const served = applyPolicy(config.versionPolicy ?? options.versionPolicy ?? { latest: 1 }, available, path);
  const defaultVersion = config.defaultVersion ?? served[served.length - 1];
  if (!served.includes(defaultVersion)) {
    throw new ConfigurationError(
      `Model repository: ${join(path, 'config.json')} 'defaultVersion' is ${JSON.stringify(defaultVersion)}, which is not served (served: ${served.join(', ')})`,
    );
  }
  return served.map((version) => {
    const file = join(path, version, 'model.onnx');
    const { size, mtimeMs } = statSync(file);
    const settings = JSON.stringify([config.instances, config.batching, config.description]);
    return { model, version, file, isDefault: version === defaultVersion, config, stamp: `${size}:${mtimeMs}:${settings}` };
  });
}

function applyPolicy(policy: OnnxVersionPolicy, available: string[], path: string): string[] {
  if (policy === 'all') return available;
  // It may come from config.json: anything but the three shapes gets a message, not a TypeError.
  const isObject = typeof policy === 'object' && policy !== null;
  if (!isObject || (!('latest' in policy) && !Array.isArray((policy as { specific?: unknown }).specific))) {
    throw new ConfigurationError(
      `Model repository '${path}': versionPolicy must be { "latest": N }, "all" or { "specific": ["1", ...] }, got ${JSON.stringify(policy)}`,
    );
  }
  if ('latest' in policy) {
    if (!Number.isInteger(policy.latest) || policy.latest < 1) {
      throw new ConfigurationError(`Model repository '${path}': versionPolicy.latest must be a positive integer, got ${JSON.stringify(policy.latest)}`);
    }
    return available.slice(-policy.latest);
  }
  const missing = policy.specific.filter((v) => !available.includes(v));
  if (missing.length > 0) {
    throw new ConfigurationError(
      `Model repository '${path}': versionPolicy.specific names version(s) ${missing.join(', ')}, which have no model.onnx (found: ${available.join(', ')})`,
    );
  }
  return available.filter((v) => policy.specific.includes(v));
}

function readConfig(path: string): OnnxRepositoryModelConfig {
  const file = join(path, 'config.json');
  if (!existsSync(file)) return {};
  let config: unknown;
  try {
    config = JSON.parse(readFileSync(file, 'utf8'));
  } catch (error) {
    throw new ConfigurationError(`Model repository: ${file} is not valid JSON: ${(error as Error).message}`);
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new ConfigurationError(`Model repository: ${file} must hold a JSON object`);
  }
  const unknown = Object.keys(config).filter((key) => !CONFIG_KEYS.has(key));
  if (unknown.length > 0) {
    throw new ConfigurationError(`Model repository: ${file} has unknown key(s) ${unknown.join(', ')}; known: ${[...CONFIG_KEYS].join(', ')}`);
  }
  const { defaultVersion } = config as OnnxRepositoryModelConfig;
  if (defaultVersion !== undefined && typeof defaultVersion !== 'string') {
    throw new ConfigurationError(`Model repository: ${file} 'defaultVersion' must be a string such as "2", got ${JSON.stringify(defaultVersion)}`);
  }
  return config as OnnxRepositoryModelConfig;
}
