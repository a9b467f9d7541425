import { ConfigurationError } from '../../core/errors/configuration.error.js';
import { firstUnknownKey, unknownKeyMessage } from '../../core/options/unknown-keys.js';
import { VERSION_PATTERN } from '../../core/schema/proto-naming.js';
import type { OnnxModelOptions, OnnxModelSource } from './onnx-model-options.interface.js';
import type {
  OnnxModelAsyncRegistration,
  OnnxModelRegistration,
  OnnxServeOptions,
} from './onnx-module-options.interface.js';
import type { OnnxRepositoryOptions } from './onnx-repository.options.js';
import {
  checkBatching,
  checkModelOptions,
  checkPollInterval,
  checkVersionPolicy,
  isRecord,
  shown,
} from './onnx-limits.js';

/*
 * The keys, types and bounds of every option ONNX models are given in code:
 * `OnnxModule.serve/register/registerAsync/repository` and `OnnxModel.load`.
 * Each surface is checked once, where it is given, before anything loads;
 * an unknown key names its path and the closest known key, a wrong type the
 * type expected. `sessionOptions` is onnxruntime's: only its shape is ours.
 */

/** The keys of `T`, listed as an object so that a key added to the type and not here fails the build. */
const keysOf = <T>(keys: Record<keyof T, true>): string[] => Object.keys(keys);

const MODEL: Record<keyof OnnxModelOptions, true> = {
  instances: true,
  instanceNiceness: true,
  executionProviders: true,
  sessionOptions: true,
};
const MODEL_KEYS = Object.keys(MODEL);
const REGISTRATION_KEYS = keysOf<OnnxModelRegistration>({ name: true, source: true, ...MODEL });
const FACTORY_RESULT_KEYS = keysOf<Omit<OnnxModelRegistration, 'name'>>({ source: true, ...MODEL });
const ASYNC_REGISTRATION_KEYS = keysOf<OnnxModelAsyncRegistration>({
  name: true,
  imports: true,
  inject: true,
  useFactory: true,
});
const SERVE_KEYS = keysOf<OnnxServeOptions>({ ...MODEL, version: true, description: true, batching: true });
const REPOSITORY_KEYS = keysOf<OnnxRepositoryOptions>({
  ...MODEL,
  versionPolicy: true,
  batching: true,
  pollIntervalMs: true,
  control: true,
});

/**
 * @internal Checks `OnnxModel.load()`'s source and options (also what every
 * `OnnxModule` surface passes on to it).
 * @param where who gave them, e.g. `ONNX model 'models/iris.onnx':`
 */
export function checkLoadOptions(where: string, source: unknown, options: unknown): void {
  checkSource(where, source);
  checkOptions(where, options, MODEL_KEYS);
}

/** @internal Checks one `OnnxModule.register()` registration. */
export function checkRegistration(registration: unknown): void {
  if (!isRecord(registration)) {
    throw new ConfigurationError(
      `OnnxModule.register(): each registration must be an object such as { name: 'iris', source: 'models/iris.onnx' }, got ${shown(registration, true)}`,
    );
  }
  const where = `OnnxModule.register(${quoted(registration.name)}):`;
  checkName(where, registration.name);
  checkOptions(where, registration, REGISTRATION_KEYS);
  checkSource(where, registration.source);
}

/** @internal Checks one `OnnxModule.registerAsync()` registration; what its factory returns is checked by `checkFactoryResult`. */
export function checkAsyncRegistration(registration: unknown): void {
  if (!isRecord(registration)) {
    throw new ConfigurationError(
      `OnnxModule.registerAsync(): each registration must be an object such as { name: 'iris', useFactory: () => ({ source }) }, got ${shown(registration, true)}`,
    );
  }
  const where = `OnnxModule.registerAsync(${quoted(registration.name)}):`;
  checkName(where, registration.name);
  refuseUnknownKeys(where, registration, ASYNC_REGISTRATION_KEYS);
  if (typeof registration.useFactory !== 'function') {
    throw new ConfigurationError(
      `${where} 'useFactory' must be a function returning { source, ...options }, got ${shown(registration.useFactory, true)}`,
    );
  }
  for (const key of ['inject', 'imports']) {
    const value = registration[key];
    if (value !== undefined && !Array.isArray(value))
      throw new ConfigurationError(`${where} '${key}' must be an array, got ${shown(value, true)}`);
  }
}

/**
 * @internal Checks what an `OnnxModule.registerAsync()` factory returned,
 * when the app starts.
 * @returns the registration, as given
 */
export function checkFactoryResult(name: string, result: unknown): Omit<OnnxModelRegistration, 'name'> {
  const where = `OnnxModule.registerAsync('${name}') factory result:`;
  if (isRecord(result) && result.name !== undefined) {
    // The name makes the injection token, needed before any factory runs.
    throw new ConfigurationError(
      `${where} option 'name' cannot come from the factory: give it to registerAsync({ name, useFactory }) beside the factory.`,
    );
  }
  checkOptions(where, result, FACTORY_RESULT_KEYS);
  checkSource(where, result.source);
  return result as unknown as Omit<OnnxModelRegistration, 'name'>;
}

/**
 * @internal Checks `OnnxModule.serve()`'s arguments.
 * @returns the options, with a whole-number `version` as its digits (`2` is `'2'`, as in `@Model()`)
 */
export function checkServeOptions(name: unknown, source: unknown, options: unknown): OnnxServeOptions {
  const where = `OnnxModule.serve(${quoted(name)}):`;
  checkName(where, name);
  checkSource(where, source);
  checkOptions(where, options, SERVE_KEYS);
  checkBatching(where, options.batching);
  if (options.description !== undefined && typeof options.description !== 'string') {
    throw new ConfigurationError(`${where} 'description' must be a string, got ${shown(options.description, true)}`);
  }
  return { ...(options as OnnxServeOptions), version: serveVersion(where, options.version) };
}

/**
 * @internal Checks `OnnxModule.repository()`'s arguments.
 * @returns the options, with `versionPolicy`'s versions as strings
 */
export function checkRepositoryOptions(dir: unknown, options: unknown): OnnxRepositoryOptions {
  if (typeof dir !== 'string')
    throw new ConfigurationError(`OnnxModule.repository(): the directory must be a path, got ${shown(dir, true)}`);
  const where = `OnnxModule.repository('${dir}'):`;
  checkOptions(where, options, REPOSITORY_KEYS);
  checkPollInterval(where, options.pollIntervalMs);
  checkBatching(where, options.batching);
  if (options.control !== undefined && typeof options.control !== 'boolean') {
    throw new ConfigurationError(`${where} 'control' must be true or false, got ${shown(options.control, true)}`);
  }
  return { ...(options as OnnxRepositoryOptions), versionPolicy: checkVersionPolicy(where, options.versionPolicy) };
}

/** An object of known keys, with the options every instance starts with checked. */
function checkOptions(
  where: string,
  options: unknown,
  known: readonly string[],
): asserts options is Record<string, unknown> {
  if (!isRecord(options))
    throw new ConfigurationError(`${where} options must be an object, got ${shown(options, true)}`);
  refuseUnknownKeys(where, options, known);
  const { executionProviders, sessionOptions } = options;
  if (executionProviders !== undefined && !Array.isArray(executionProviders)) {
    throw new ConfigurationError(
      `${where} 'executionProviders' must be an array such as ['cpu'], got ${shown(executionProviders, true)}`,
    );
  }
  if (sessionOptions !== undefined) {
    if (!isRecord(sessionOptions)) {
      throw new ConfigurationError(
        `${where} 'sessionOptions' must be an object of onnxruntime session options, got ${shown(sessionOptions, true)}`,
      );
    }
    // The instances set it from `executionProviders`: one given here would be overridden without a word.
    if (sessionOptions.executionProviders !== undefined) {
      throw new ConfigurationError(
        `${where} option 'sessionOptions.executionProviders' is not read: give 'executionProviders' beside 'sessionOptions'.`,
      );
    }
  }
  checkModelOptions(where, options as OnnxModelOptions);
}

function refuseUnknownKeys(where: string, options: Record<string, unknown>, known: readonly string[]): void {
  const key = firstUnknownKey(options, known);
  if (key !== undefined) throw new ConfigurationError(unknownKeyMessage(`${where} option`, '', key, known));
}

function checkName(where: string, name: unknown): asserts name is string {
  if (typeof name !== 'string' || name.length === 0) {
    throw new ConfigurationError(
      `${where} 'name' must be the model's name, a non-empty string, got ${shown(name, typeof name !== 'string')}`,
    );
  }
}

function checkSource(where: string, source: unknown): asserts source is OnnxModelSource {
  if (typeof source !== 'string' && !(source instanceof Uint8Array)) {
    throw new ConfigurationError(
      `${where} 'source' must be an .onnx file's path or its bytes (a Uint8Array), got ${shown(source, true)}`,
    );
  }
}

/** `@Model()`'s rule: a string, or a whole number taken as its digits. */
function serveVersion(where: string, version: unknown): string | undefined {
  if (version === undefined) return undefined;
  const given =
    typeof version === 'number' && Number.isSafeInteger(version) && version >= 0 ? String(version) : version;
  if (typeof given !== 'string') {
    throw new ConfigurationError(
      `${where} 'version' must be a string such as '2' (or a whole number), got ${shown(version, true)}`,
    );
  }
  if (!VERSION_PATTERN.test(given)) {
    throw new ConfigurationError(
      `${where} 'version' must be letters, digits, '.', '-' or '_' (starting with a letter or digit), got ${shown(given)}`,
    );
  }
  return given;
}

/** A name as a surface's message shows it in its call: `'iris'`, or nothing when it is not a string. */
function quoted(name: unknown): string {
  return typeof name === 'string' ? `'${name}'` : '';
}
