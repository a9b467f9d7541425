import type { FieldType } from './field-type.js';
import type { ModelDescriptor } from './model-descriptor.interface.js';
import type { BatchPlan, InputAxis } from './batch-plan.interface.js';

/**
 * The batch plan of a model, or `undefined` when its fields have no batch
 * axis (e.g. `echo(text: string): string`): such a model runs per request.
 * Tensor models batch along a leading `'batch'` dimension of every batched
 * input and output; list models along their list inputs and outputs.
 */
export function planBatching(model: Pick<ModelDescriptor, 'streaming' | 'inputs' | 'outputs'>): BatchPlan | undefined {
  if (model.streaming) return undefined;
  const inputs = model.inputs.map((input) => axisOf(input.type));
  const kind = inputs.includes('tensor') ? 'tensor' : inputs.includes('list') ? 'list' : undefined;
  if (!kind || inputs.some((axis) => axis !== kind && axis !== 'shared')) return undefined;
  const outputs = model.outputs.map((output) => axisOf(output.type));
  if (outputs.some((axis) => axis !== kind)) return undefined;
  return { inputs, outputs: outputs as ('tensor' | 'list')[], kind };
}

function axisOf(type: FieldType): InputAxis {
  if (type.kind === 'tensor' && type.spec.shape[0] === 'batch') return 'tensor';
  if (type.kind === 'list' && type.element.kind === 'scalar') return 'list';
  return 'shared';
}
