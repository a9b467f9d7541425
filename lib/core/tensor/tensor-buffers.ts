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

/**
 * A buffer of at least `byteLength` bytes that may be transferred; use its
 * first `byteLength` bytes. Capacities are rounded up to a power of two, so
 * batches of every size reuse a few buffers instead of each needing its own:
 * every buffer allocated is external memory that drives V8's full GCs.
 */
export function allocateTensorBuffer(byteLength: number): ArrayBuffer {
  const capacity = capacityFor(byteLength);
  const reused = free.get(capacity)?.pop();
  if (reused) {
    freeBytes -= capacity;
    return reused;
  }
  const buffer = new ArrayBuffer(capacity);
  owned.add(buffer);
  return buffer;
}

function capacityFor(byteLength: number): number {
  return byteLength <= 64 ? 64 : 2 ** Math.ceil(Math.log2(byteLength));
}

/** Takes back a buffer a worker returned. */
export function recycleTensorBuffer(buffer: ArrayBuffer): void {
  const capacity = buffer.byteLength;
  if (capacity !== capacityFor(capacity) || freeBytes + capacity > MAX_FREE_BYTES) return;
  owned.add(buffer);
  let list = free.get(capacity);
  if (!list) free.set(capacity, (list = []));
  list.push(buffer);
  freeBytes += capacity;
}

/** True when `view` starts a buffer this library allocated (and so nothing else uses), so it can be transferred without a copy. */
export function isTransferable(view: ArrayBufferView): boolean {
  const buffer = view.buffer;
  return buffer instanceof ArrayBuffer && owned.has(buffer) && view.byteOffset === 0;
}
