import { Tensor } from '../../lib/index.js';
import { compatibilityKey, mergeArguments, rowsOf, splitResult } from '../../lib/pipeline/batching/batch-merge.js';
import type { BatchPlan } from '../../lib/core/schema/batch-plan.interface.js';
import { tensorOverBytes } from '../../lib/core/tensor/tensor.js';
import { isTransferable } from '../../lib/core/tensor/tensor-buffers.js';

const tensorPlan: BatchPlan = { kind: 'tensor', inputs: ['tensor', 'shared'], outputs: ['tensor'] };
const listPlan: BatchPlan = { kind: 'list', inputs: ['list', 'list'], outputs: ['list'] };
const UNNAMED = { named: false, names: ['result'] };
const rows = (n: number, start: number) =>
  Tensor.from(
    'float32',
    [n, 2],
    Array.from({ length: n * 2 }, (_, i) => start + i),
  );

describe('merging and splitting batches', () => {
  it('concatenates tensors along the batch axis and keeps shared inputs from the first request', () => {
    const [merged, scale] = mergeArguments(tensorPlan, [
      [rows(1, 0), 0.5],
      [rows(2, 10), 0.5],
    ]) as [Tensor, number];
    expect(merged.shape).toEqual([3, 2]);
    expect(Array.from(merged.data as Float32Array)).toEqual([0, 1, 10, 11, 12, 13]);
    expect(scale).toBe(0.5);
  });

  it('passes a lone request through untouched (no copy)', () => {
    const only = rows(2, 0);
    expect(mergeArguments(tensorPlan, [[only, 1]])[0]).toBe(only);
  });

  it("splits a result into each request's rows as views over the result", () => {
    const result = rows(3, 100);
    const [first, second] = splitResult(tensorPlan, result, [1, 2], UNNAMED, 'm') as Tensor[];
    expect(first.shape).toEqual([1, 2]);
    expect(Array.from(second.data as Float32Array)).toEqual([102, 103, 104, 105]);
    expect(second.data.buffer).toBe(result.data.buffer);
  });

  it('splits named outputs field by field', () => {
    const plan: BatchPlan = { kind: 'list', inputs: ['list'], outputs: ['list', 'list'] };
    const parts = splitResult(
      plan,
      { label: ['a', 'b', 'c'], score: [1, 2, 3] },
      [2, 1],
      { named: true, names: ['label', 'score'] },
      'm',
    );
    expect(parts).toEqual([
      { label: ['a', 'b'], score: [1, 2] },
      { label: ['c'], score: [3] },
    ]);
  });

  it("splits a single named output called 'result' as a named output, not as the unnamed result", () => {
    const plan: BatchPlan = { kind: 'tensor', inputs: ['tensor'], outputs: ['tensor'] };
    const parts = splitResult(plan, { result: rows(3, 0) }, [2, 1], { named: true, names: ['result'] }, 'm') as {
      result: Tensor;
    }[];
    expect(parts.map((part) => part.result.shape)).toEqual([
      [2, 2],
      [1, 2],
    ]);
    expect(Array.from(parts[1].result.data as Float32Array)).toEqual([4, 5]);
  });

  it('merges request bytes once into a buffer of its own, aligned or not', () => {
    const bytes = new Uint8Array(1 + 8);
    const misaligned = bytes.subarray(1);
    new DataView(misaligned.buffer, misaligned.byteOffset).setFloat32(0, 1.5, true);
    new DataView(misaligned.buffer, misaligned.byteOffset).setFloat32(4, 2.5, true);
    const received = tensorOverBytes('float', [1, 2], misaligned);
    const [merged] = mergeArguments(tensorPlan, [
      [received, 1],
      [rows(1, 7), 1],
    ]) as [Tensor];
    expect(Array.from(merged.data as Float32Array)).toEqual([1.5, 2.5, 7, 8]);
    expect(merged.data.byteOffset).toBe(0);
    expect(merged.data.byteLength).toBe(16);
    expect(isTransferable(merged.data)).toBe(true);
  });

  it('refuses a result with the wrong number of rows, naming the model', () => {
    expect(() => splitResult(tensorPlan, rows(2, 0), [1, 2], UNNAMED, 'iris')).toThrow(
      "Model 'iris' returned 2 rows for 'result' in a batch of 3 rows; a batched handler must return one row per input row",
    );
  });

  it('keys requests by dtype, trailing shape and shared values, so only compatible ones batch together', () => {
    const a = compatibilityKey(tensorPlan, [rows(1, 0), 0.5]);
    expect(compatibilityKey(tensorPlan, [rows(4, 9), 0.5])).toBe(a);
    expect(compatibilityKey(tensorPlan, [rows(1, 0), 0.25])).not.toBe(a);
    expect(compatibilityKey(tensorPlan, [Tensor.from('float32', [1, 3], [0, 0, 0]), 0.5])).not.toBe(a);
    expect(compatibilityKey(tensorPlan, [Tensor.from('float64', [1, 2], [0, 0]), 0.5])).not.toBe(a);
  });

  it('counts rows by the leading dimension or list length; lists of different lengths run alone', () => {
    expect(rowsOf(tensorPlan, [rows(3, 0), 1])).toBe(3);
    expect(
      rowsOf(listPlan, [
        ['a', 'b'],
        [1, 2],
      ]),
    ).toBe(2);
    expect(rowsOf(listPlan, [['a', 'b'], [1]])).toBe(-1);
  });
});
