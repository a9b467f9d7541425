import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/**
 * The repository root, found as the first folder above `from` (a helper's
 * `import.meta.url`) that holds `file`: helpers run from the sources (tests)
 * and from dist/ (the benches), and start processes from TypeScript sources.
 */
export function repositoryRootHolding(file: string, from: string): string {
  let dir = dirname(fileURLToPath(from));
  while (!existsSync(join(dir, file))) {
    const parent = dirname(dir);
    if (parent === dir) throw new Error(`${file} not found above ${fileURLToPath(from)}`);
    dir = parent;
  }
  return dir;
}
