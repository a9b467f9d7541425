#!/usr/bin/env bash
# Packs the library as npm would publish it, installs the tarball into two tiny Nest apps (ESM and
# CommonJS), type-checks them against the published types, and runs their Jest specs, which serve
# a model with nestjs-blazerpc/testing and call it. Catches missing files, exports and types.
# Run after `npm run build`. Uses the npm cache when it can (`--prefer-offline`).
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ -n "${SMOKE_KEEP:-}" ]; then
  work="$SMOKE_KEEP" # keep the apps and their install, to look at them afterwards
  mkdir -p "$work"
else
  work="$(mktemp -d)"
  trap 'rm -rf "$work"' EXIT
fi

version() { node -p "require('$root/node_modules/$1/package.json').version"; }

cd "$root"
tarball="$(npm pack --silent --pack-destination "$work" | tail -n 1)"
cp -R test/consumers/esm-app test/consumers/cjs-app "$work/"

# One install both apps resolve from: the tarball, its required peers, and the apps' test tools,
# at the versions this repository tests with. No Prometheus, OpenTelemetry or onnxruntime-node:
# the optional peers must stay optional.
cat > "$work/package.json" <<JSON
{
  "private": true,
  "dependencies": {
    "nestjs-blazerpc": "file:./$tarball",
    "@nestjs/common": "$(version @nestjs/common)",
    "@nestjs/core": "$(version @nestjs/core)",
    "@nestjs/microservices": "$(version @nestjs/microservices)",
    "@grpc/grpc-js": "$(version @grpc/grpc-js)",
    "reflect-metadata": "$(version reflect-metadata)",
    "rxjs": "$(version rxjs)"
  },
  "devDependencies": {
    "@nestjs/testing": "$(version @nestjs/testing)",
    "@swc/core": "$(version @swc/core)",
    "@swc/jest": "$(version @swc/jest)",
    "@types/jest": "$(version @types/jest)",
    "@types/node": "$(version @types/node)",
    "jest": "$(version jest)",
    "typescript": "$(version typescript)"
  }
}
JSON
cd "$work"
npm install --prefer-offline --no-audit --no-fund --ignore-scripts --loglevel=error
for app in esm-app cjs-app; do
  echo "== $app: type-check against the published types"
  (cd "$app" && node "$work/node_modules/typescript/bin/tsc" -p tsconfig.json)
  echo "== $app: Jest with nestjs-blazerpc/testing"
  (cd "$app" && node "$work/node_modules/jest/bin/jest.js" --ci)
done
echo "== cjs-app: require() of the package and its entry points, as a CommonJS build runs"
(cd cjs-app && node -e "
  for (const entry of ['nestjs-blazerpc', 'nestjs-blazerpc/testing', 'nestjs-blazerpc/package.json']) {
    if (!Object.keys(require(entry)).length) throw new Error(entry + ' exports nothing');
  }
  if (typeof require('nestjs-blazerpc').BlazeRpcModule.forRoot !== 'function') throw new Error('no BlazeRpcModule.forRoot');
  console.log('ok');
")
echo "== one copy of the package per process: require() and import hand over the same classes and DI tokens"
(cd cjs-app && node -e "
  (async () => {
    for (const entry of ['nestjs-blazerpc', 'nestjs-blazerpc/testing', 'nestjs-blazerpc/onnx']) {
      const required = require(entry);
      const imported = await import(entry);
      for (const name of Object.keys(required)) {
        if (required[name] !== imported[name]) throw new Error(entry + ': ' + name + ' differs between require() and import');
      }
    }
    const { BlazeRpcServer, ModelRegistry } = require('nestjs-blazerpc');
    if (BlazeRpcServer !== (await import('nestjs-blazerpc')).BlazeRpcServer) throw new Error('two BlazeRpcServer classes');
    if (ModelRegistry !== (await import('nestjs-blazerpc')).ModelRegistry) throw new Error('two ModelRegistry classes');
    console.log('ok: one copy, whichever way it is loaded');
  })().catch((error) => { console.error(error); process.exit(1); });
")
