/**
 * The health entry of one model version, beside the model's own entry:
 * `iris@2`. It reads NOT_SERVING while that version loads or after it failed to.
 */
export function versionHealthName(model: string, version: string): string {
  return `${model}@${version}`;
}
