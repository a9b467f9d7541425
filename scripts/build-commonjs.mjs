// Builds the CommonJS copy of the library (dist/cjs) from the ES module build (dist/lib), for
// loaders that cannot require() an ES module: Jest in CommonJS mode (ts-jest, as `nest new`
// generates for Nest 11) and older bundlers. Node itself never loads this copy: on every Node
// this package supports, the `module-sync` export condition hands require() and import the one
// ES module build, so a process holds one copy of the runtime state however it loads the package.
// Usage: node scripts/build-commonjs.mjs (after tsc has written dist/lib).
import { transformFile } from '@swc/core';
import { copyFile, mkdir, readdir, rm, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';

const from = 'dist/lib';
const to = 'dist/cjs';

async function* filesUnder(dir) {
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* filesUnder(path);
    else yield path;
  }
}

// Worker thread scripts and the CLI's entry use top-level await, which has no CommonJS form. They run
// in a Node of their own (a worker thread, a command), never inside Jest's module system, so their
// CommonJS counterparts just import the ES modules.
const RUN_AS_ES_MODULE = [/\.worker\.js$/, /cli\/blazerpc\.js$/];

async function shim(source, target) {
  const esm = relative(dirname(target), source).split('\\').join('/');
  await writeFile(
    target,
    `"use strict";\n// Runs the ES module build: this file has top-level await, which CommonJS cannot express.\n` +
      `import(require("node:url").pathToFileURL(require("node:path").join(__dirname, ${JSON.stringify(esm)})).href);\n`,
  );
}

async function convert(source, target) {
  if (RUN_AS_ES_MODULE.some((pattern) => pattern.test(source))) return shim(source, target);
  const { code, map } = await transformFile(source, {
    swcrc: false,
    sourceMaps: true,
    jsc: { parser: { syntax: 'ecmascript' }, target: 'es2022', keepClassNames: true },
    // `node` interop: a default import is module.exports, as when Node's ESM loader imports CommonJS.
    module: { type: 'commonjs', importInterop: 'node', strict: true },
  });
  await writeFile(target, `${code}\n//# sourceMappingURL=${target.split('/').at(-1)}.map\n`);
  await writeFile(`${target}.map`, map);
}

await rm(to, { recursive: true, force: true });
const work = [];
for await (const source of filesUnder(from)) {
  const target = join(to, relative(from, source));
  await mkdir(dirname(target), { recursive: true });
  if (source.endsWith('.d.ts') || source.endsWith('.cjs')) work.push(copyFile(source, target));
  else if (source.endsWith('.js')) work.push(convert(source, target));
}
await Promise.all(work);
// Every .js file under dist/cjs is CommonJS, whatever the package's own "type" says.
await writeFile(join(to, 'package.json'), `${JSON.stringify({ type: 'commonjs' }, null, 2)}\n`);
console.log(`CommonJS build: ${work.length} files in ${to}`);
