import type * as grpc from '@grpc/grpc-js';
import type { BatchModels } from '../fixtures/batch.models.js';
import { failureOf, type ModelClient } from './model-client.js';
import { sleep } from './time.js';

/**
 * Drives BatchModels' `label` model (maxBatchSize 1, maxQueueSize 4) through
 * every queue refusal: while one call holds the model, one call's deadline
 * passes in the queue, one is cancelled there, two wait, and one more finds
 * the queue full. Resolves when all have ended: 3 OK, and the failures.
 */
export async function driveQueueRefusals(
  client: ModelClient,
  models: BatchModels,
): Promise<{ full: grpc.ServiceError; expired: grpc.ServiceError }> {
  const release = models.hold();
  const held = client.unary('PredictLabel', { ids: [1] });
  await sleep(25);
  const expired = failureOf(client.unary('PredictLabel', { ids: [2] }, { deadlineMs: 40 }));
  const cancelled = (client.raw as any).PredictLabel({ ids: [3] }, () => undefined);
  const queued = [4, 5].map((id) => client.unary('PredictLabel', { ids: [id] }));
  await sleep(10);
  const full = await failureOf(client.unary('PredictLabel', { ids: [7] }));
  cancelled.cancel();
  const expiredError = await expired;
  await sleep(20);
  release();
  await Promise.all([held, ...queued]);
  return { full, expired: expiredError };
}
