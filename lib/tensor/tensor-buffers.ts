/**
 * @internal Tensor buffers this library allocates itself (batch merges, data
 * bound for a worker). Only these may be transferred to a worker thread, since
 * nothing else holds them; the worker hands them back after the run, and they
 * are reused instead of allocating (and later collecting) a buffer per request.
 */
const owned = new WeakSet<ArrayBuffer>();
const free = new Map<number, ArrayBuffer[]>();
let freeBytes = 0;

/** Kept for reuse at most; beyond it returned buffers are left to the GC. */
const MAX_FREE_BYTES = 64 * 1024 * 1024;

/** A buffer of exactly `byteLength` bytes that may be transferred. Its content is undefined. */
export function allocateTensorBuffer(byteLength: number): ArrayBuffer {
  const reused = free.get(byteLength)?.pop();
  if (reused) {
    freeBytes -= byteLength;
    return reused;
  }
  const buffer = new ArrayBuffer(byteLength);
  owned.add(buffer);
  return buffer;
}

/** Takes back a buffer a worker returned. */
export function recycleTensorBuffer(buffer: ArrayBuffer): void {
  if (buffer.byteLength === 0 || freeBytes + buffer.byteLength > MAX_FREE_BYTES) return;
  owned.add(buffer);
  let list = free.get(buffer.byteLength);
  if (!list) free.set(buffer.byteLength, (list = []));
  list.push(buffer);
  freeBytes += buffer.byteLength;
}

/** True when `view` spans a whole buffer this library allocated, so it can be transferred without a copy. */
export function isTransferable(view: ArrayBufferView): boolean {
  const buffer = view.buffer;
  return buffer instanceof ArrayBuffer && owned.has(buffer) && view.byteOffset === 0 && view.byteLength === buffer.byteLength;
}
