import { ConfigurationError } from '../../core/errors/configuration.error.js';
import { firstUnknownKey, unknownKeyMessage } from '../../core/options/unknown-keys.js';
import {
  checkBatching,
  checkModelOptions,
  checkVersionPolicy,
  isRecord,
  ONNX_LIMITS,
  shown,
  versionNumber,
} from './onnx-limits.js';
import type { OnnxRepositoryModelConfig } from './onnx-repository.options.js';

/** Every key a `config.json` may hold, listed as an object so that a key added to the type and not here fails the build. */
const CONFIG_KEYS = Object.keys({
  instances: true,
  batching: true,
  versionPolicy: true,
  defaultVersion: true,
  description: true,
} satisfies Record<keyof OnnxRepositoryModelConfig, true>);

/** @internal A model's `config.json` once checked, and why its settings cannot serve any version, if they cannot. */
export interface CheckedRepositoryConfig {
  /** Its versions as strings (`"defaultVersion": 2` is `"2"`). */
  readonly config: OnnxRepositoryModelConfig;
  readonly problem?: string;
}

/**
 * @internal Checks a model's parsed `config.json`. Which versions it selects
 * (`versionPolicy`, `defaultVersion`) is the model's matter: thrown, since
 * no version can be chosen without it. Its settings (unknown keys,
 * `instances`, `batching`, `description`) are each served version's,
 * returned as `problem`, so a live repository reports those versions and
 * keeps serving. Messages name the file, the key's path, and the closest
 * known key or the type expected.
 * @param file the file's path, as messages show it
 * @throws ConfigurationError when the file holds no object or its versions cannot be selected
 */
export function checkRepositoryConfig(file: string, parsed: unknown): CheckedRepositoryConfig {
  const where = `Model repository: ${file}`;
  if (!isRecord(parsed)) throw new ConfigurationError(`${where} must hold a JSON object, got ${shown(parsed, true)}`);
  const { defaultVersion } = parsed;
  const config = {
    ...parsed,
    versionPolicy: checkVersionPolicy(where, parsed.versionPolicy, 'key'),
    defaultVersion: defaultVersion === undefined ? undefined : versionNumber(where, 'defaultVersion', defaultVersion),
  } as OnnxRepositoryModelConfig;
  try {
    checkSettings(where, parsed);
    return { config };
  } catch (error) {
    if (!(error instanceof ConfigurationError)) throw error;
    return { config, problem: error.message };
  }
}

/** The settings keys of a config.json, within bounds. */
function checkSettings(where: string, config: Record<string, unknown>): void {
  const unknown = firstUnknownKey(config, CONFIG_KEYS);
  if (unknown !== undefined) throw new ConfigurationError(unknownKeyMessage(`${where} key`, '', unknown, CONFIG_KEYS));
  checkModelOptions(where, { instances: config.instances as number | undefined });
  checkBatching(where, config.batching, 'key');
  const { description } = config;
  if (description !== undefined && typeof description !== 'string') {
    throw new ConfigurationError(`${where} 'description' must be a string, got ${shown(description, true)}`);
  }
  if (typeof description === 'string' && description.length > ONNX_LIMITS.descriptionChars) {
    throw new ConfigurationError(
      `${where} 'description' is ${description.length} characters long; allowed: at most ${ONNX_LIMITS.descriptionChars}`,
    );
  }
}
