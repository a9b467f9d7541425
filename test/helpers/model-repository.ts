import { mkdirSync, mkdtempSync, renameSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
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

/** Writes a repository into a fresh temporary directory, files by path under it (the caller removes it); returns the directory. */
export function writeRepository(files: Record<string, string>, prefix = 'blazerpc-repo-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  for (const [path, content] of Object.entries(files)) {
    mkdirSync(join(dir, path, '..'), { recursive: true });
    writeFileSync(join(dir, path), content);
  }
  return dir;
}
