#!/usr/bin/env bash
# Installs the packed library into Nest apps made by their generators, as README tells a user to,
# and runs what those users run. nest11-cjs is `nest new` of @nestjs/cli 11 (CommonJS, Jest with
# ts-jest, its config untouched); nest12-esm is `nest new` of @nestjs/cli 12 (ES modules, Vitest).
# Each adds, by hand as a user would: a @Model provider, an OnnxModule.serve model, a Transport.GRPC
# controller from Nest's gRPC docs, one guard written as those docs teach protecting both, and a
# model spec (Test.createTestingModule + serveForTesting). For each app this script:
#   1. installs its lockfile, then the tarball, and fails on any peer-dependency warning;
#   2. builds it with its own `npm run build` and runs its own `npm test` and `npm run test:e2e`
#      (the generated specs, unchanged, beside the model spec);
#   3. boots dist/main.js as a hybrid app and calls it (probe-hybrid-app.mjs): the guard refuses
#      both transports without the key (PERMISSION_DENIED) and lets both through with it; the ONNX
#      model answers; /metrics (metrics: true, @willsoto/nestjs-prometheus) counts both outcomes.
# Each app runs on the Node its Nest major asks for: Nest 11 on this machine's Node (20 or later), Nest 12
# (whose CLI needs Node 22.22 or later) on Node 24 LTS, fetched from the npm registry when the machine's
# Node is older.
# Usage: bash test/consumers/generated-apps.sh [app@node-major...]   (after `npm run build`)
set -euo pipefail
root="$(cd "$(dirname "$0")/../.." && pwd)"
if [ $# -gt 0 ]; then apps=("$@"); else apps=(nest11-cjs@20 nest12-esm@24); fi
work="$(mktemp -d)"
server_pid=""
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null || true
  rm -rf "$work"
}
trap cleanup EXIT

cd "$root"
tarball="$work/$(npm pack --silent --pack-destination "$work" | tail -n 1)"
# Puts a Node of `major` (or newer, if the machine's is) first on PATH.
use_node() {
  local major="$1"
  if [ "$(node -p 'process.versions.node.split(".")[0]')" -ge "$major" ]; then return; fi
  local dir="$work/node$major"
  if [ ! -x "$dir/node_modules/node-linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')/bin/node" ]; then
    npm install --prefix "$dir" --no-save --no-audit --no-fund --loglevel=error "node-linux-$(uname -m | sed 's/x86_64/x64/;s/aarch64/arm64/')@$major" >/dev/null
  fi
  export PATH="$(echo "$dir"/node_modules/node-linux-*/bin):$PATH"
}

free_port() { node -e "const s=require('net').createServer().listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"; }

machine_path="$PATH"
for entry in "${apps[@]}"; do
  app="${entry%@*}"
  export PATH="$machine_path"
  use_node "${entry#*@}"
  echo "== $app on Node $(node --version), npm $(npm --version)"
  cp -R "test/consumers/$app" "$work/$app"
  mkdir -p "$work/$app/models"
  cp sample/iris/iris.onnx "$work/$app/models/"
  cp test/consumers/probe-hybrid-app.mjs "$work/$app/"
  cd "$work/$app"

  echo "-- install: the app's lockfile, then the packed nestjs-blazerpc"
  export ONNXRUNTIME_NODE_INSTALL=skip # CPU binaries ship in the package; the script would fetch GPU ones
  npm ci --prefer-offline --no-audit --no-fund --loglevel=error
  npm install --no-save --prefer-offline --no-audit --no-fund "$tarball" 2>&1 | tee install.log
  if grep -Eiq 'ERESOLVE|peer dep|conflicting peer' install.log; then
    echo "$app: peer-dependency warnings installing nestjs-blazerpc" >&2
    exit 1
  fi

  echo "-- the app's own build and test commands"
  npm run build
  CI=true npm test
  CI=true npm run test:e2e # the generated e2e spec boots AppModule, ONNX model and all

  echo "-- boot dist/main.js as a hybrid app and call both transports"
  models_port="$(free_port)"
  hero_port="$(free_port)"
  http_port="$(free_port)"
  MODELS_PORT="$models_port" HERO_PORT="$hero_port" PORT="$http_port" node dist/main.js >boot.log 2>&1 &
  server_pid=$!
  if ! timeout 60 node probe-hybrid-app.mjs "$hero_port" "$models_port" "$http_port"; then
    cat boot.log >&2
    exit 1
  fi
  kill "$server_pid"
  wait "$server_pid" 2>/dev/null || true
  server_pid=""
  if grep -q 'ERROR\|WARN' boot.log; then
    echo "$app: the app logged warnings or errors while booting:" >&2
    cat boot.log >&2
    exit 1
  fi

  echo "-- npx blazerpc types finds the app module in the build"
  npx blazerpc types dist/app.module.js | grep -q '"greet": { inputs: { name: string }; result: string; kind: "unary" };'
  cd "$root"
done
