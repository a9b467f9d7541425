// Writes the package.json the production image installs: the library's dependencies and the
// sample's runtime packages (this repository's dev dependencies), pinned to the lockfile's versions.
// Run from the repository root: `node deploy/runtime-package.mjs > runtime/package.json`.
import { readFileSync } from 'node:fs';

const read = (file) => JSON.parse(readFileSync(file, 'utf8'));
const root = read('package.json');
const lock = read('package-lock.json');
const runtime = read('deploy/sample-runtime-packages.json');
const pinned = (name) => lock.packages[`node_modules/${name}`].version;
const dependencies = Object.fromEntries(
  [...Object.keys(root.dependencies), ...runtime].sort().map((name) => [name, pinned(name)]),
);
console.log(JSON.stringify({ name: 'blazerpc-sample', private: true, type: 'module', dependencies }, null, 2));
