// @ts-check
/**
 * One model instance: a worker thread that owns one onnxruntime session, so
 * that loading and `session.run()` (synchronous native calls) never block the
 * server's event loop. Plain JavaScript, so it runs as it is from the sources
 * and from the build alike.
 *
 * Protocol (see worker-pool.ts): `{ kind: 'ready', info }` or
 * `{ kind: 'failed', message }` once; then `{ id, task }` in, `{ id, result }`
 * or `{ id, error }` out.
 */
import { readlinkSync } from 'node:fs';
import { setPriority } from 'node:os';
import { parentPort, workerData } from 'node:worker_threads';

/** @typedef {import('./onnx-instance.messages.js').OnnxInstanceData} OnnxInstanceData */
/** @typedef {import('./onnx-instance.messages.js').OnnxRunTask} OnnxRunTask */
/** @typedef {import('./onnx-instance.messages.js').WireTensor} WireTensor */

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const { source, sessionOptions, niceness } = /** @type {OnnxInstanceData} */ (workerData);
lowerThreadPriority(niceness);

/** @type {typeof import('onnxruntime-node')} */
let ort;
/** @type {import('onnxruntime-node').InferenceSession} */
let session;
try {
  const loaded = await import('onnxruntime-node');
  ort = /** @type {typeof import('onnxruntime-node')} */ (loaded.default ?? loaded);
  session =
    typeof source === 'string'
      ? await ort.InferenceSession.create(source, sessionOptions)
      : await ort.InferenceSession.create(source, sessionOptions);
  port.postMessage({
    kind: 'ready',
    info: { inputs: describe(session.inputMetadata), outputs: describe(session.outputMetadata) },
  });
} catch (error) {
  port.postMessage({ kind: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

// The server may send the next task while one runs, so the thread goes straight on to it; tasks run one at a time, in order.
let previous = Promise.resolve();
port.on('message', (/** @type {{ id: number, task: OnnxRunTask }} */ { id, task }) => {
  previous = previous.then(() =>
    run(task).then(
      ({ result, transfer }) => port.postMessage({ id, result }, transfer),
      (error) => port.postMessage({ id, error: error instanceof Error ? error.message : String(error) }),
    ),
  );
});

/** @param {OnnxRunTask} task */
async function run(task) {
  /** @type {Record<string, import('onnxruntime-node').Tensor>} */
  const feeds = {};
  for (const feed of task.feeds) {
    feeds[feed.name] = new ort.Tensor(/** @type {any} */ (feed.type), /** @type {any} */ (feed.data), feed.dims);
  }
  const started = performance.now();
  const results = await session.run(feeds);
  const runMs = performance.now() - started;
  /** @type {WireTensor[]} */
  const outputs = [];
  /** @type {ArrayBuffer[]} */
  const transfer = [];
  for (const [name, value] of Object.entries(results)) {
    const data = /** @type {ArrayBufferView} */ (value.data);
    outputs.push({ name, type: value.type, dims: value.dims, data });
    if (ownsWholeBuffer(data) && !transfer.includes(/** @type {ArrayBuffer} */ (data.buffer)))
      transfer.push(/** @type {ArrayBuffer} */ (data.buffer));
  }
  // The inputs go back to the server to be filled again: no allocation per request in steady state.
  const recycled = [];
  for (const feed of task.feeds) {
    // Each input arrived in a buffer of its own (moved or copied here), possibly larger than the tensor.
    const buffer = /** @type {ArrayBuffer} */ (feed.data.buffer);
    if (buffer instanceof ArrayBuffer && !transfer.includes(buffer)) {
      recycled.push(buffer);
      transfer.push(buffer);
    }
  }
  return { result: { outputs, runMs, recycled }, transfer };
}

/**
 * Gives this thread (and the intra-op threads onnxruntime starts from it) a
 * lower CPU priority than the event loop's, so that on a busy machine the
 * thread that reads requests, answers health checks and sees cancels runs
 * first, and inference takes the rest. Linux sets niceness per thread, by its
 * thread id; elsewhere this does nothing.
 * @param {number} value
 */
function lowerThreadPriority(value) {
  if (!value || process.platform !== 'linux') return;
  try {
    const threadId = Number(readlinkSync('/proc/thread-self').split('/').pop());
    setPriority(threadId, value);
  } catch {
    // Not permitted or not available: run at the process's priority.
  }
}

/** @param {ArrayBufferView} view */
function ownsWholeBuffer(view) {
  return (
    view.byteOffset === 0 && view.byteLength === view.buffer.byteLength && !(view.buffer instanceof SharedArrayBuffer)
  );
}

/** @param {readonly import('onnxruntime-node').InferenceSession.ValueMetadata[]} metadata */
function describe(metadata) {
  return metadata.map((meta) =>
    meta.isTensor
      ? { name: meta.name, isTensor: true, type: meta.type, shape: [...meta.shape] }
      : { name: meta.name, isTensor: false },
  );
}
