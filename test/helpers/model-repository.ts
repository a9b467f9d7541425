import { mkdirSync, renameSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * Publishes a model version to a repository as a deployment tool should:
 * written into a hidden directory, then renamed into place in one step, so
 * a poll never reads half a file.
 */
export function publishVersion(dir: string, model: string, version: string, bytes: Uint8Array | string): void {
  const staging = join(dir, model, `.staging-${version}`);
  mkdirSync(staging, { recursive: true });
  writeFileSync(join(staging, 'model.onnx'), bytes);
  renameSync(staging, join(dir, model, version));
}
