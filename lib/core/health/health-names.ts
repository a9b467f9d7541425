import { modelIdString, type ModelId } from '../registry/model-id.js';

/**
 * The health entry of one model version, beside the model's own entry:
 * `iris@2` (its `modelIdString()`). It reads NOT_SERVING while that version
 * loads or after it failed to.
 */
export function versionHealthName(id: ModelId): string {
  return modelIdString(id);
}
