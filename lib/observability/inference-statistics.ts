import { Injectable } from '@nestjs/common';
import type { status as GrpcStatus } from '@grpc/grpc-js';
import { BlazeMetrics } from './blaze-metrics.js';

/** A count and the total time it took, in nanoseconds. */
export interface DurationTotal {
  count: number;
  ns: number;
}

/** What a model has served since the server started, as Triton's `ModelStatistics` reports it. */
export interface ModelStatisticsSnapshot {
  /** Requests run (a batch of 8 counts 8). */
  inferenceCount: number;
  /** Model executions (a batch counts once). */
  executionCount: number;
  /** When the last execution ended, in milliseconds since the epoch (0: never). */
  lastInference: number;
  /** Calls that ended OK, and their time from arrival to answer. */
  success: DurationTotal;
  /** Calls that failed, for any reason. */
  fail: DurationTotal;
  /** Requests that waited in the batch queue, and how long. */
  queue: DurationTotal;
  /** Executions, and the time spent in the model. */
  computeInfer: DurationTotal;
}

const NS_PER_SECOND = 1e9;

/**
 * Per-model counters kept in memory whether or not Prometheus is on, so the
 * Open Inference Protocol's `ModelStatistics` (the Triton extension tools
 * such as perf analyzers read) can answer. Counted per model name: versions
 * of one model share them.
 */
@Injectable()
export class InferenceStatistics {
  private readonly models = new Map<string, ModelStatisticsSnapshot>();

  /** A copy of one model's counters (zeros when it has served nothing yet). */
  of(model: string): ModelStatisticsSnapshot {
    const stats = this.models.get(model) ?? empty();
    return structuredClone(stats);
  }

  /** @internal A call to `model` ended. */
  recordCall(model: string, ok: boolean, seconds: number): void {
    add(ok ? this.stats(model).success : this.stats(model).fail, seconds);
  }

  /** @internal The model ran once for `requests` requests. */
  recordExecution(model: string, requests: number, seconds: number | undefined): void {
    const stats = this.stats(model);
    stats.inferenceCount += requests;
    stats.executionCount += 1;
    stats.lastInference = Date.now();
    if (seconds !== undefined) add(stats.computeInfer, seconds);
  }

  /** @internal One execution took `seconds` inside the model runtime. */
  recordInferenceDuration(model: string, seconds: number): void {
    add(this.stats(model).computeInfer, seconds);
  }

  /** @internal A request waited `seconds` in the batch queue. */
  recordQueueWait(model: string, seconds: number): void {
    add(this.stats(model).queue, seconds);
  }

  private stats(model: string): ModelStatisticsSnapshot {
    let stats = this.models.get(model);
    if (!stats) {
      stats = empty();
      this.models.set(model, stats);
    }
    return stats;
  }
}

/**
 * @internal The metrics every part of the server reports to: the configured
 * sink (Prometheus, or nothing) plus the in-memory statistics.
 */
export class StatisticsRecordingMetrics extends BlazeMetrics {
  constructor(
    /** Where metrics go besides the statistics (Prometheus, or a no-op). */
    readonly sink: BlazeMetrics,
    private readonly statistics: InferenceStatistics,
  ) {
    super();
  }

  recordCall(method: string, code: GrpcStatus, seconds: number, protocol?: string): void {
    this.sink.recordCall(method, code, seconds, protocol);
  }

  recordExecution(model: string, requests: number, seconds: number | undefined): void {
    this.sink.recordExecution(model, requests, seconds);
    this.statistics.recordExecution(model, requests, seconds);
  }

  recordInferenceDuration(model: string, seconds: number): void {
    this.sink.recordInferenceDuration(model, seconds);
    this.statistics.recordInferenceDuration(model, seconds);
  }

  recordQueueWait(model: string, seconds: number): void {
    this.sink.recordQueueWait(model, seconds);
    this.statistics.recordQueueWait(model, seconds);
  }

  setQueueDepth(model: string, depth: number): void {
    this.sink.setQueueDepth(model, depth);
  }

  recordStream(
    method: string,
    messagesIn: number,
    messagesOut: number,
    firstResponseSeconds: number | undefined,
  ): void {
    this.sink.recordStream(method, messagesIn, messagesOut, firstResponseSeconds);
  }
}

function empty(): ModelStatisticsSnapshot {
  const zero = () => ({ count: 0, ns: 0 });
  return {
    inferenceCount: 0,
    executionCount: 0,
    lastInference: 0,
    success: zero(),
    fail: zero(),
    queue: zero(),
    computeInfer: zero(),
  };
}

function add(total: DurationTotal, seconds: number): void {
  total.count += 1;
  total.ns += Math.round(seconds * NS_PER_SECOND);
}
