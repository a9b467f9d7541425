import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** This package's name. */
export const PACKAGE_NAME = 'nestjs-blazerpc';

let cached: string | undefined;

/**
 * @internal This package's version, read from its package.json (the nearest
 * one up from this file that names it), for servers that report their
 * version, e.g. OIP `ServerMetadata`. `0.0.0` when it cannot be found.
 */
export function packageVersion(): string {
  if (cached !== undefined) return cached;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    try {
      const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as {
        name?: string;
        version?: string;
      };
      if (manifest.name === PACKAGE_NAME) return (cached = manifest.version ?? '0.0.0');
    } catch {
      // No package.json here: keep walking up.
    }
    const parent = dirname(dir);
    if (parent === dir) return (cached = '0.0.0');
    dir = parent;
  }
}
