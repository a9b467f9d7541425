import { ConfigurationError } from '../errors/configuration.error.js';
import type { ModelParamMetadata } from '../decorators/model-param.metadata.js';
import { inferFromDesignType, resolveTypeRef, type FieldType } from './field-type.js';
import type { ModelDeclaration } from './model-declaration.interface.js';
import type { ModelDescriptor, ModelFieldSpec } from './model-descriptor.interface.js';
import { FIELD_NAME_PATTERN, isProtoKeyword, MODEL_NAME_PATTERN, VERSION_PATTERN } from './proto-naming.js';
import { registrationMessages as messages } from './registration.messages.js';
import { isTypeRef } from './type-ref.js';
import { firstUnknownKey, unknownKeyMessage } from '../options/unknown-keys.js';

/** Every key `@Model()` options have: anything else is a typo, refused at startup. */
const MODEL_OPTION_KEYS = ['version', 'default', 'returns', 'streaming', 'description', 'batching'];
import { StreamType } from './stream-type.js';

/** A model's schema before the registry names its rpc methods and messages. */
export type ModelSchema = Omit<ModelDescriptor, 'isDefault' | 'rpcMethods' | 'requestType' | 'responseType'>;

/**
 * Validates one `@Model()` declaration and resolves its wire schema. Throws a
 * `ConfigurationError` that names the class, method and parameter and shows the fix.
 */
export function createModelSchema(declaration: ModelDeclaration): ModelSchema {
  const { metadata, className, methodName } = declaration;
  const where = `@Model('${metadata.name}') on ${className}.${methodName}`;
  const fail = (message: string): never => {
    throw new ConfigurationError(message);
  };
  if (!MODEL_NAME_PATTERN.test(metadata.name)) fail(messages.invalidModelName(where, metadata.name));
  const unknownOption = firstUnknownKey(metadata.options, MODEL_OPTION_KEYS);
  if (unknownOption !== undefined) fail(unknownKeyMessage(`${where}: option`, '', unknownOption, MODEL_OPTION_KEYS));
  const given: unknown = metadata.options.version ?? '1';
  // A whole number is what `version: 2` means; anything else that is not a string is named as the wrong type.
  if (typeof given !== 'string' && !(typeof given === 'number' && Number.isSafeInteger(given) && given >= 0)) {
    fail(messages.versionNotString(where, given));
  }
  const version = String(given);
  if (!VERSION_PATTERN.test(version)) fail(messages.invalidVersion(where, version));

  const streaming = resolveStreaming(declaration, where, fail);
  const { outputs, namedOutputs } = resolveOutputs(declaration, streaming, where, fail);
  const { inputs, inputStreaming } = resolveInputs(declaration, where, fail);
  return {
    name: metadata.name,
    version,
    streaming,
    inputStreaming,
    description: metadata.options.description,
    inputs,
    outputs,
    namedOutputs,
    handler: `${className}.${methodName}`,
    unbatchedReason: inputStreaming ? 'its requests stream in' : unbatchedReason(declaration, streaming),
  };
}

function resolveInputs(
  declaration: ModelDeclaration,
  where: string,
  fail: (m: string) => never,
): { inputs: ModelFieldSpec[]; inputStreaming: boolean } {
  const streamed: string[] = [];
  const byIndex = new Map<number, ModelParamMetadata>(declaration.params.map((param) => [param.index, param]));
  const custom = new Set(declaration.customParamIndexes);
  const inputs: ModelFieldSpec[] = [];
  const arity = Math.max(declaration.paramtypes.length, ...declaration.params.map((p) => p.index + 1), 0);
  for (let index = 0; index < arity; index++) {
    const param = byIndex.get(index);
    if (!param) {
      if (!custom.has(index)) fail(messages.undecoratedParam(where, index));
      continue;
    }
    if (param.kind !== 'input') continue;
    checkFieldName(param.name, 'input', where, fail);
    if (inputs.some((input) => input.name === param.name)) fail(messages.duplicateInput(where, param.name));
    if (param.type instanceof StreamType) streamed.push(param.name);
    const type = resolveInputType(param, declaration.paramtypes[index], where, fail);
    inputs.push({ name: param.name, number: inputs.length + 1, type });
  }
  if (streamed.length > 0 && inputs.length > 1)
    fail(
      messages.streamedInputNotAlone(
        where,
        streamed[0]!,
        inputs.map((input) => input.name),
      ),
    );
  return { inputs, inputStreaming: streamed.length > 0 };
}

function resolveInputType(
  param: Extract<ModelParamMetadata, { kind: 'input' }>,
  designType: unknown,
  where: string,
  fail: (m: string) => never,
): FieldType {
  if (param.type !== undefined) {
    const resolved = resolveTypeRef(param.type instanceof StreamType ? param.type.element : param.type);
    return 'type' in resolved
      ? resolved.type
      : fail(messages.invalidType(where, `input '${param.name}'`, resolved.problem));
  }
  return inferFromDesignType(designType) ?? fail(messages.uninferableInput(where, param.index, param.name, designType));
}

function resolveStreaming(declaration: ModelDeclaration, where: string, fail: (m: string) => never): boolean {
  const declared = declaration.metadata.options.streaming;
  if (declaration.isGenerator) {
    if (declared === false) fail(messages.streamingMismatch(where, declaration.metadata.name));
    return true;
  }
  if (declared === true && inferFromDesignType(declaration.returntype)) {
    fail(messages.streamingOnScalar(where, declaration.methodName));
  }
  return declared ?? false;
}

function resolveOutputs(
  declaration: ModelDeclaration,
  streaming: boolean,
  where: string,
  fail: (m: string) => never,
): { outputs: ModelFieldSpec[]; namedOutputs: boolean } {
  const { returns } = declaration.metadata.options;
  if (returns === undefined) {
    const inferred = streaming ? undefined : inferFromDesignType(declaration.returntype);
    const type = inferred ?? fail(messages.uninferableResult(where, declaration.metadata.name));
    return { outputs: [{ name: 'result', number: 1, type }], namedOutputs: false };
  }
  if (isTypeRef(returns)) {
    const resolved = resolveTypeRef(returns);
    const type = 'type' in resolved ? resolved.type : fail(messages.invalidType(where, 'returns', resolved.problem));
    return { outputs: [{ name: 'result', number: 1, type }], namedOutputs: false };
  }
  const entries = Object.entries(returns);
  if (entries.length === 0) fail(messages.noOutputs(where));
  const outputs = entries.map(([name, ref], i) => {
    checkFieldName(name, 'output', where, fail);
    const resolved = resolveTypeRef(ref);
    const type =
      'type' in resolved ? resolved.type : fail(messages.invalidType(where, `output '${name}'`, resolved.problem));
    return { name, number: i + 1, type };
  });
  return { outputs, namedOutputs: true };
}

function checkFieldName(name: string, kind: string, where: string, fail: (m: string) => never): void {
  if (!FIELD_NAME_PATTERN.test(name)) fail(messages.invalidFieldName(where, kind, name));
  if (isProtoKeyword(name)) fail(messages.keywordFieldName(where, kind, name));
}

function unbatchedReason(declaration: ModelDeclaration, streaming: boolean): string | undefined {
  if (streaming) return 'it streams its results';
  if (declaration.requestScoped) return 'its provider is request-scoped (a fresh instance per call)';
  if (declaration.params.some((p) => p.kind === 'context')) return 'it takes @Ctx(), which is per call';
  if (declaration.params.some((p) => p.kind === 'depends')) return 'it takes @Depends(), which is resolved per call';
  if (declaration.customParamIndexes.length > 0)
    return 'it takes a custom parameter decorator, which is resolved per call';
  return undefined;
}
