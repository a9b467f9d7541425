import { ConfigurationError } from '../errors/configuration.error.js';
import type { ModelDescriptor } from './model-descriptor.interface.js';
import type { ModelSchema } from './model-schema.factory.js';
import { compareVersions, pascalCase, versionSuffix } from './proto-naming.js';
import { registrationMessages as messages } from './registration.messages.js';

/** A validated schema plus whether its declaration asked to be the default version. */
export interface NamingInput {
  readonly schema: ModelSchema;
  readonly markedDefault: boolean;
}

/**
 * Names every model's rpc methods and messages per the wire contract, in a
 * deterministic order (model name, then version):
 * one version -> `Predict{Name}`, `{Name}Request`; several -> `Predict{Name}V{v}`
 * for each plus `Predict{Name}` for the default one.
 */
export function nameModels<T extends NamingInput>(inputs: readonly T[]): { descriptor: ModelDescriptor; source: T }[] {
  const byName = new Map<string, T[]>();
  for (const input of [...inputs].sort(compareInputs)) {
    byName.set(input.schema.name, [...(byName.get(input.schema.name) ?? []), input]);
  }
  const named = [...byName.values()].flatMap((versions) => nameVersions(versions));
  assertUniqueNames(named.map((entry) => entry.descriptor));
  return named;
}

function nameVersions<T extends NamingInput>(versions: T[]): { descriptor: ModelDescriptor; source: T }[] {
  const defaultVersion = pickDefault(versions);
  const base = pascalCase(versions[0].schema.name);
  return versions.map((source) => {
    const { schema } = source;
    const isDefault = schema === defaultVersion;
    const stem = versions.length === 1 ? base : `${base}${versionSuffix(schema.version)}`;
    const rpcMethods =
      versions.length === 1 ? [`Predict${base}`] : [`Predict${stem}`, ...(isDefault ? [`Predict${base}`] : [])];
    const descriptor = {
      ...schema,
      isDefault,
      rpcMethods,
      requestType: `${stem}Request`,
      responseType: `${stem}Response`,
    };
    return { descriptor, source };
  });
}

function pickDefault(versions: NamingInput[]): ModelSchema {
  const marked = versions.filter((v) => v.markedDefault);
  if (marked.length > 1) {
    throw new ConfigurationError(
      messages.twoDefaults(marked[0].schema.name, marked[0].schema.handler, marked[1].schema.handler),
    );
  }
  return (marked[0] ?? versions[versions.length - 1]).schema;
}

function assertUniqueNames(descriptors: ModelDescriptor[]): void {
  const owners = new Map<string, string>();
  const claim = (generated: string, owner: ModelDescriptor) => {
    const who = `@Model('${owner.name}', version '${owner.version}') on ${owner.handler}`;
    const previous = owners.get(generated);
    if (previous !== undefined && previous !== who) {
      throw new ConfigurationError(messages.nameCollision(generated, previous, who));
    }
    owners.set(generated, who);
  };
  owners.set('TensorProto', 'the built-in TensorProto message');
  for (const descriptor of descriptors) {
    descriptor.rpcMethods.forEach((rpc) => claim(rpc, descriptor));
    claim(descriptor.requestType, descriptor);
    claim(descriptor.responseType, descriptor);
  }
}

function compareInputs(a: NamingInput, b: NamingInput): number {
  return a.schema.name < b.schema.name
    ? -1
    : a.schema.name > b.schema.name
      ? 1
      : compareVersions(a.schema.version, b.schema.version);
}
