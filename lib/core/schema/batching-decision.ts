import type { BatchingOptions, ModelBatchingOptions } from '../options/batching-options.interface.js';
import { resolveBatching } from '../options/resolve-options.js';
import type { ModelSchema } from './model-schema.factory.js';
import type { BatchPlan } from './batch-plan.interface.js';
import { planBatching } from './batch-plan.js';

/** Whether a model batches, with what settings, or why not (and whether that deserves a startup warning). */
export interface BatchingDecision {
  readonly settings?: Required<BatchingOptions>;
  /** How requests merge, when the model batches. */
  readonly plan?: BatchPlan;
  readonly reason?: string;
  /** True when the model has a batch axis but per-call parameters keep it from batching. */
  readonly warn: boolean;
}

/**
 * Decides how a model is served: batched with the module defaults plus its
 * own overrides (validated here, so a bad value fails startup), or one
 * request at a time, and why.
 */
export function decideBatching(
  schema: ModelSchema,
  override: ModelBatchingOptions | undefined,
  defaults: Required<BatchingOptions>,
): BatchingDecision {
  if (override === false) return { reason: 'batching is turned off for it ({ batching: false })', warn: false };
  const settings = resolveBatching(
    override ?? {},
    defaults,
    'batching',
    `@Model('${schema.name}') on ${schema.handler}: option`,
  );
  if (!settings.enabled) return { reason: 'batching is turned off in the module options', warn: false };
  const plan = planBatching(schema);
  if (!plan) {
    return {
      reason: "its inputs and outputs have no batch axis (a leading 'batch' tensor dimension, or lists)",
      warn: false,
    };
  }
  if (schema.unbatchedReason) return { reason: schema.unbatchedReason, warn: true };
  return { settings, plan, warn: false };
}
