/** How one input takes part in a batch. */
export type InputAxis = 'tensor' | 'list' | 'shared';

/**
 * How a model's requests merge into one execution: which inputs are
 * concatenated along the batch axis (tensors on a leading `'batch'`
 * dimension, or lists), which must be equal across the batch (`shared`),
 * and how each output is split back.
 */
export interface BatchPlan {
  /** Per input, in declaration order. */
  readonly inputs: readonly InputAxis[];
  readonly outputs: readonly ('tensor' | 'list')[];
  readonly kind: 'tensor' | 'list';
}
