/**
 * One model version: its name and version. A `ModelDescriptor`, a
 * repository entry or a call's model all are one, so they compare with
 * `sameModel()` and print with `modelIdString()`.
 */
export interface ModelId {
  readonly name: string;
  readonly version: string;
}

/**
 * A model version as text: `iris@2`. The one form health service names,
 * logs, map keys and error listings use.
 *
 * It is unambiguous: versions never hold `@` (`@Model()` versions are
 * letters, digits, `.`, `-` and `_`; repository versions are digits), and
 * neither do `@Model()` names, so `parseModelId()` reads it back at the
 * last `@`, even for a name no pattern checked yet (a repository's
 * directory). Kept as `name@version` rather than with a private separator,
 * so a map key reads as the health name and log line of that version.
 */
export function modelIdString(id: ModelId): string {
  return `${id.name}@${id.version}`;
}

/** Reads back what `modelIdString()` wrote (and only that): `iris@2` -> `{ name: 'iris', version: '2' }`. */
export function parseModelId(text: string): ModelId {
  const at = text.lastIndexOf('@');
  return { name: text.slice(0, at), version: text.slice(at + 1) };
}

/** Whether two model versions are the same one: same name, same version. */
export function sameModel(a: ModelId, b: ModelId): boolean {
  return a.name === b.name && a.version === b.version;
}
