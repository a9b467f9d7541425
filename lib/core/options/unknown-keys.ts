import { didYouMean } from './did-you-mean.js';

/**
 * @internal The first own key of `given` that is not in `known`, or
 * `undefined`. Options are checked one unknown key at a time so that each
 * message can carry the one suggestion that fixes it.
 */
export function firstUnknownKey(given: object, known: readonly string[]): string | undefined {
  return Object.keys(given).find((key) => !known.includes(key));
}

/**
 * @internal The one wording of an unknown key, wherever options come from
 * (module options, `@Model()`, ONNX options, a repository's `config.json`):
 * `<subject> '<path><key>' is unknown. Did you mean '<name>'? Known: <known>.`
 * The key is shown escaped and cut short, since it may come from a file.
 *
 * @param subject who was given the key, e.g. `BlazeRpcModule option` or `Model repository: iris/config.json key`
 * @param path the key's parents, each followed by a dot (`batching.`), or `''`
 */
export function unknownKeyMessage(subject: string, path: string, key: string, known: readonly string[]): string {
  return `${subject} '${path}${shownKey(key)}' is unknown.${didYouMean(key, known)} Known: ${known.join(', ')}.`;
}

/** A key on one line, never at length: control characters and quotes escaped, cut at 40 characters. */
function shownKey(key: string): string {
  const escaped = JSON.stringify(key).slice(1, -1);
  return escaped.length > 40 ? `${escaped.slice(0, 40)}...` : escaped;
}
