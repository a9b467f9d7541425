import { BatchSizeTuner } from '../../lib/pipeline/batching/batch-size.tuner.js';

/** Feeds the tuner full batches at whatever cap it asks for, costing `perRow(size)` seconds per row. */
function run(tuner: BatchSizeTuner, batches: number, perRow: (size: number) => number): number[] {
  const caps: number[] = [];
  for (let i = 0; i < batches; i++) {
    const size = tuner.cap;
    caps.push(size);
    tuner.record(size, size, size * perRow(size));
  }
  return caps;
}

/** A CNN on a CPU: cheapest per row at 4, dearer beyond (figures of the ONNX bench's classifier, ms per row). */
const cnn = (size: number) => ({ 1: 1.0, 2: 0.93, 4: 0.92, 8: 1.0, 16: 1.2, 32: 1.38 })[size]! / 1000;
/** A dense model: every doubling is cheaper per row. */
const dense = (size: number) => 0.8 / Math.sqrt(size) / 1000;

describe('BatchSizeTuner', () => {
  it('starts at maxBatchSize, so a model batches fully before anything is learned', () => {
    expect(new BatchSizeTuner(32).cap).toBe(32);
  });

  it('walks down to the size that costs least per row, and stays there', () => {
    const tuner = new BatchSizeTuner(32);
    run(tuner, 400, cnn);
    expect(tuner.size).toBe(4);
    const later = run(tuner, 200, cnn);
    // Mostly at 4, with short probes of 2 and 8 that it does not keep.
    expect(later.filter((cap) => cap === 4).length).toBeGreaterThan(150);
    expect(tuner.size).toBe(4);
  });

  it('keeps maxBatchSize for a model that gets cheaper per row with every doubling', () => {
    const tuner = new BatchSizeTuner(32);
    const caps = run(tuner, 300, dense);
    expect(tuner.size).toBe(32);
    expect(caps.filter((cap) => cap === 32).length).toBeGreaterThan(250);
  });

  it('does not move for differences within the noise margin', () => {
    const tuner = new BatchSizeTuner(32);
    run(tuner, 300, (size) => (size === 16 ? 0.98 : 1) / 1000);
    expect(tuner.size).toBe(32);
  });

  it('never goes above maxBatchSize, including one that is not a power of two', () => {
    const tuner = new BatchSizeTuner(12);
    const caps = run(tuner, 300, (size) => 1 / size / 1000);
    expect(Math.max(...caps)).toBe(12);
    expect(tuner.size).toBe(12);
    expect(run(new BatchSizeTuner(1), 50, () => 0.001).every((cap) => cap === 1)).toBe(true);
  });
});
