// Calls a running consumer app (see generated-apps.sh) the way its clients would: Nest's own gRPC
// transport (HeroesService, from Nest's docs) and nestjs-blazerpc's models, both behind one guard
// written as Nest's gRPC docs teach, and Prometheus on the app's HTTP server.
// Usage: node probe-hybrid-app.mjs <hero port> <models port> <http port>
import { Metadata, credentials, loadPackageDefinition, status } from '@grpc/grpc-js';
import { loadSync } from '@grpc/proto-loader';
import assert from 'node:assert/strict';
import { BlazeClient, Tensor } from 'nestjs-blazerpc';

const [heroPort, modelsPort, httpPort] = process.argv.slice(2);
function withKey() {
  const metadata = new Metadata();
  metadata.set('x-api-key', 'secret');
  return metadata;
}

const hero = loadPackageDefinition(loadSync(new URL('./src/hero/hero.proto', import.meta.url).pathname)).hero;
const heroes = new hero.HeroesService(`127.0.0.1:${heroPort}`, credentials.createInsecure());
const findOne = (metadata) =>
  new Promise((resolve, reject) =>
    heroes.findOne({ id: 1 }, metadata, { deadline: Date.now() + 5000 }, (error, reply) =>
      error ? reject(error) : resolve(reply),
    ),
  );

await new Promise((resolve, reject) =>
  heroes.waitForReady(Date.now() + 30_000, (error) => (error ? reject(error) : resolve())),
);
await assert.rejects(findOne(new Metadata()), { code: status.PERMISSION_DENIED });
assert.deepEqual(await findOne(withKey()), { id: 1, name: 'John' });
console.log('Transport.GRPC controller: PERMISSION_DENIED without the key, OK with it');

const client = await BlazeClient.connect(`127.0.0.1:${modelsPort}`, { timeoutMs: 10_000 });
try {
  await assert.rejects(client.predict('greet', { name: 'Ada' }), { code: status.PERMISSION_DENIED });
  assert.equal(await client.predict('greet', { name: 'Ada' }, { metadata: { 'x-api-key': 'secret' } }), 'Hello, Ada!');
  console.log('@Model provider: PERMISSION_DENIED without the key, OK with it');
  const probabilities = await client.predict('iris', {
    features: Tensor.from('float32', [1, 4], [5.1, 3.5, 1.4, 0.2]),
  });
  assert.deepEqual(probabilities.shape, [1, 3]);
  assert.ok(probabilities.data[0] > 0.5, `setosa expected, got ${[...probabilities.data]}`);
  console.log('OnnxModule.serve model: iris answers setosa');
} finally {
  client.close();
}

const metrics = await (await fetch(`http://127.0.0.1:${httpPort}/metrics`)).text();
assert.match(metrics, /blazerpc_requests_total\{[^}]*method="PredictGreet"[^}]*status="PERMISSION_DENIED"[^}]*\} 1/);
assert.match(metrics, /blazerpc_requests_total\{[^}]*method="PredictGreet"[^}]*status="OK"[^}]*\} 1/);
console.log('metrics: true serves Prometheus counts of both outcomes on the HTTP server');
