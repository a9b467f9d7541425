import { status as GrpcStatus } from '@grpc/grpc-js';
import type { Logger } from '@nestjs/common';
import type { BlazeMetrics } from '../observability/blaze-metrics.js';
import type { InferenceStatistics } from '../observability/inference-statistics.js';

/** How one call ended. */
export interface CallOutcome {
  /** rpc name, e.g. `PredictIris` or `ModelInfer`. */
  readonly method: string;
  /** `blazerpc` or `oip`. */
  readonly protocol: string;
  /** The model called, when the call got as far as naming a known one. */
  readonly model?: string;
  /** For a streaming call that moved messages: how many each way, and when the first response left. */
  readonly stream?: { readonly in: number; readonly out: number; readonly firstResponseSeconds?: number };
  /** The call, for what few observers read of it (the call log: its peer). */
  readonly call: { getPeer(): string };
  readonly code: GrpcStatus;
  readonly seconds: number;
}

/** @internal Told of every model call's end, whatever ended it. */
export type CallObserver = (outcome: CallOutcome) => void;

/** @internal Counts each call once in `blazerpc_requests_total` and times it. */
export function metricsObserver(metrics: BlazeMetrics): CallObserver {
  return ({ method, protocol, code, seconds, stream }) => {
    metrics.recordCall(method, code, seconds, protocol);
    if (stream) metrics.recordStream(method, stream.in, stream.out, stream.firstResponseSeconds);
  };
}

/** @internal Counts each call's success or failure, and its time, for the model it was for. */
export function statisticsObserver(statistics: InferenceStatistics): CallObserver {
  return ({ model, code, seconds }) =>
    model !== undefined && statistics.recordCall(model, code === GrpcStatus.OK, seconds);
}

/** @internal One log line per call: method, peer, status, duration (the `logCalls` option). */
export function loggingObserver(logger: Logger): CallObserver {
  return ({ method, protocol, call, code, seconds }) =>
    logger.log(
      `${protocol === 'oip' ? `inference.${method}` : method} ${call.getPeer()} ${GrpcStatus[code]} ${(seconds * 1000).toFixed(1)}ms`,
    );
}
