/** Words proto3 reserves; a model, field or output may not be named after them. */
const PROTO_KEYWORDS = new Set([
  'syntax',
  'import',
  'weak',
  'public',
  'package',
  'option',
  'message',
  'enum',
  'service',
  'rpc',
  'returns',
  'stream',
  'repeated',
  'optional',
  'required',
  'reserved',
  'extensions',
  'extend',
  'to',
  'max',
  'oneof',
  'map',
  'true',
  'false',
  'inf',
  'nan',
  'group',
  'double',
  'float',
  'int32',
  'int64',
  'uint32',
  'uint64',
  'sint32',
  'sint64',
  'fixed32',
  'fixed64',
  'sfixed32',
  'sfixed64',
  'bool',
  'string',
  'bytes',
]);

/** Model names: a letter, then letters, digits, `-` or `_`. */
export const MODEL_NAME_PATTERN = /^[A-Za-z][A-Za-z0-9_-]*$/;
/** Field names: a proto identifier. */
export const FIELD_NAME_PATTERN = /^[A-Za-z_][A-Za-z0-9_]*$/;
/** Versions: letters, digits, `.`, `-`, `_`, starting with a letter or digit. */
export const VERSION_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

/** Field names are emitted as written, so they may not be keywords (model names are PascalCased first). */
export function isProtoKeyword(name: string): boolean {
  return PROTO_KEYWORDS.has(name);
}

/**
 * `iris` -> `Iris`, `text-gen` -> `TextGen`, `my_model` -> `MyModel`,
 * `IrisModel` -> `IrisModel` (inner case is kept).
 */
export function pascalCase(name: string): string {
  return name
    .split(/[-_]+/)
    .filter((part) => part.length > 0)
    .map((part) => part[0].toUpperCase() + part.slice(1))
    .join('');
}

/** `2` -> `V2`, `1.1` -> `V1_1`: a version as it appears in rpc and message names. */
export function versionSuffix(version: string): string {
  return `V${version.replace(/[.-]/g, '_')}`;
}

/** Orders versions so that `10` comes after `9` and `1.10` after `1.9`. */
export function compareVersions(a: string, b: string): number {
  return a.localeCompare(b, 'en', { numeric: true });
}
