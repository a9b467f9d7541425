import type { Span } from '@opentelemetry/api';
import type { CallTracer } from '../../observability/call-tracer.js';
import { status as GrpcStatus } from '@grpc/grpc-js';
import type { BatchingOptions } from '../../core/options/batching-options.interface.js';
import type { BlazeMetrics } from '../../observability/blaze-metrics.js';
import { CallStatusError } from '../../core/errors/call-status.error.js';
import { compatibilityKey, mergeArguments, rowsOf, splitResult, type BatchOutputs } from './batch-merge.js';
import type { BatchPlan } from '../../core/schema/batch-plan.interface.js';
import { BatchSizeTuner } from './batch-size.tuner.js';
import type { QueuedCall } from './queued-call.js';

/** One queued request: its handler arguments and how to answer it. */
interface Ticket {
  readonly args: readonly unknown[];
  readonly rows: number;
  readonly key: string;
  /** Runs in a batch of its own (more rows than a batch holds, or list inputs of different lengths). */
  readonly alone: boolean;
  readonly enqueuedAt: number;
  readonly signal?: AbortSignal;
  /** The request's OpenTelemetry span, when traced. */
  readonly span?: Span;
  /** Epoch ms after which the caller no longer waits. */
  readonly deadline: number;
  readonly resolve: (result: unknown) => void;
  readonly reject: (error: unknown) => void;
  onAbort?: () => void;
}

/** Runs one execution of the model on merged arguments. */
export type BatchExecutor = (args: unknown[]) => Promise<unknown>;

/**
 * Dynamic batching for one model. Requests queue after their guards,
 * interceptors and pipes have run. Up to `maxConcurrentBatches` executions
 * (one per model instance) run at once; while all are busy, requests gather,
 * and the next free slot takes every compatible request queued (up to
 * `maxBatchSize` rows). With `batchTimeoutMs` above 0, a partial batch also
 * waits that long for more. Compatible requests (same trailing shapes and
 * shared inputs) are concatenated, the model runs once, and each request gets
 * its own rows back. Cancelled or expired requests leave the queue without
 * reaching the model.
 */
export class ModelBatcher {
  private queue: Ticket[] = [];
  private readonly queuedRows = new Map<string, number>();
  private running = 0;
  private timer?: NodeJS.Timeout;
  private flushing = false;
  private soloKeys = 0;
  private readonly tuner?: BatchSizeTuner;
  /** When the last execution ended (ms, performance clock). */
  private lastEnd = -Infinity;

  /** @internal Made by the model's pipeline. */
  constructor(
    private readonly model: string,
    private readonly plan: BatchPlan,
    private readonly settings: Required<BatchingOptions>,
    private readonly outputs: BatchOutputs,
    private readonly execute: BatchExecutor,
    private readonly metrics: BlazeMetrics,
    /** False when the model's runtime reports its own execution time (the batch may wait in the runtime first). */
    private readonly timesExecutions = true,
    /** Traces each batch execution, linked to the requests it serves (when an OpenTelemetry SDK records spans). */
    private readonly tracer?: CallTracer,
  ) {
    if (settings.tuneBatchSize) this.tuner = new BatchSizeTuner(settings.maxBatchSize);
  }

  /** The most rows a batch takes now: `maxBatchSize`, or less where the tuner found smaller batches faster. */
  get batchCap(): number {
    return this.tuner?.cap ?? this.settings.maxBatchSize;
  }

  /** Requests waiting for a batch. */
  get depth(): number {
    return this.queue.length;
  }

  /** Queues a request; resolves to its share of the batch's result. */
  submit(args: readonly unknown[], call?: QueuedCall): Promise<unknown> {
    const signal = call?.signal;
    if (signal?.aborted) return Promise.reject(abortError(signal));
    if (this.queue.length >= this.settings.maxQueueSize) {
      return Promise.reject(
        new CallStatusError(
          GrpcStatus.RESOURCE_EXHAUSTED,
          `Model '${this.model}' is at capacity: ${this.queue.length} requests queued (maxQueueSize); retry with backoff`,
        ),
      );
    }
    const rows = rowsOf(this.plan, args);
    // A request with more rows than a batch holds (or disagreeing list lengths) runs alone.
    const alone = rows < 0 || rows >= this.settings.maxBatchSize;
    const key = alone ? `solo:${this.soloKeys++}` : compatibilityKey(this.plan, args);
    return new Promise((resolve, reject) => {
      const deadline = call?.deadline?.getTime() ?? Infinity;
      const span = call?.traceSpan as Span | undefined;
      const ticket: Ticket = {
        args,
        rows: Math.max(rows, 0),
        key,
        alone,
        enqueuedAt: performance.now(),
        signal,
        deadline,
        span,
        resolve,
        reject,
      };
      if (signal) {
        ticket.onAbort = () => this.evict(ticket);
        signal.addEventListener('abort', ticket.onAbort, { once: true });
      }
      this.queue.push(ticket);
      this.queuedRows.set(key, (this.queuedRows.get(key) ?? 0) + ticket.rows);
      this.metrics.setQueueDepth(this.model, this.queue.length);
      this.schedule();
    });
  }

  /** Dispatches everything queued without waiting for timeouts (shutdown). */
  flush(): void {
    this.flushing = true;
    this.schedule();
  }

  private evict(ticket: Ticket): void {
    const index = this.queue.indexOf(ticket);
    if (index < 0) return;
    this.queue.splice(index, 1);
    this.forget(ticket);
    this.metrics.setQueueDepth(this.model, this.queue.length);
    ticket.reject(abortError(ticket.signal!));
  }

  private schedule(): void {
    if (this.queue.length === 0) this.disarmTimer();
    while (this.running < this.settings.maxConcurrentBatches && this.queue.length > 0) {
      const head = this.queue[0];
      const waited = performance.now() - head.enqueuedAt;
      const full = head.alone || (this.queuedRows.get(head.key) ?? 0) >= this.batchCap;
      if (!this.flushing && !full && waited < this.settings.batchTimeoutMs) {
        this.armTimer(this.settings.batchTimeoutMs - waited);
        return;
      }
      void this.run(this.takeBatch());
    }
  }

  private armTimer(delayMs: number): void {
    if (this.timer) return;
    this.timer = setTimeout(
      () => {
        this.timer = undefined;
        this.schedule();
      },
      Math.max(0, delayMs),
    );
    // The calls waiting on this timer keep the process alive; the timer itself need not.
    this.timer.unref();
  }

  private disarmTimer(): void {
    clearTimeout(this.timer);
    this.timer = undefined;
  }

  /** The head request and every queued request compatible with it, up to `maxBatchSize` rows. */
  private takeBatch(): Ticket[] {
    this.dropExpired();
    const [head] = this.queue;
    if (!head) return [];
    const batch: Ticket[] = [];
    let rows = 0;
    const rest: Ticket[] = [];
    const cap = this.batchCap;
    for (const ticket of this.queue) {
      const fits = ticket.key === head.key && (batch.length === 0 || rows + ticket.rows <= cap);
      if (fits) {
        batch.push(ticket);
        rows += ticket.rows;
        this.forget(ticket);
      } else {
        rest.push(ticket);
      }
    }
    this.queue = rest;
    this.metrics.setQueueDepth(this.model, this.queue.length);
    return batch;
  }

  /** Requests whose deadline has passed leave now, even if their call has not been told yet. */
  private dropExpired(): void {
    const now = Date.now();
    for (const ticket of this.queue.filter((t) => t.deadline <= now)) {
      this.queue.splice(this.queue.indexOf(ticket), 1);
      this.forget(ticket);
      if (ticket.onAbort) ticket.signal!.removeEventListener('abort', ticket.onAbort);
      ticket.reject(new CallStatusError(GrpcStatus.DEADLINE_EXCEEDED, 'Deadline exceeded while queued'));
    }
  }

  /** Tells the tuner what this execution cost under its cap, and notes when it ended. */
  private learn(rows: number, cap: number, dispatchedAt: number): void {
    const now = performance.now();
    const seconds = saturatedInterval(dispatchedAt, this.lastEnd, now);
    this.lastEnd = now;
    if (this.tuner && seconds !== undefined) this.tuner.record(cap, rows, seconds);
  }

  private forget(ticket: Ticket): void {
    const left = (this.queuedRows.get(ticket.key) ?? 0) - ticket.rows;
    if (left > 0) this.queuedRows.set(ticket.key, left);
    else this.queuedRows.delete(ticket.key);
  }

  private async run(batch: Ticket[]): Promise<void> {
    if (batch.length === 0) return;
    this.running++;
    const started = performance.now();
    const cap = this.batchCap;
    const rows = batch.reduce((sum, ticket) => sum + ticket.rows, 0);
    for (const ticket of batch) {
      if (ticket.onAbort) ticket.signal!.removeEventListener('abort', ticket.onAbort);
      const waited = (started - ticket.enqueuedAt) / 1000;
      this.metrics.recordQueueWait(this.model, waited);
      ticket.span?.addEvent('blazerpc.queue_wait', {
        'blazerpc.queue_wait_seconds': waited,
        'blazerpc.batch_size': batch.length,
      });
      ticket.span?.setAttribute('blazerpc.batch_size', batch.length);
    }
    const batchSpan = this.tracer?.startBatch(
      this.model,
      batch.map((ticket) => ticket.span),
      {
        'blazerpc.model': this.model,
        'blazerpc.batch_size': batch.length,
        'blazerpc.batch_rows': rows,
      },
    );
    try {
      const merged = mergeArguments(
        this.plan,
        batch.map((t) => t.args),
      );
      const result = await (batchSpan
        ? this.tracer!.within(batchSpan, () => this.execute(merged))
        : this.execute(merged));
      // A lone request is checked too, so a handler returning the wrong row count fails at once, not only under load.
      const parts = splitResult(
        this.plan,
        result,
        batch.map((t) => t.rows),
        this.outputs,
        this.model,
      );
      batch.forEach((ticket, i) => ticket.resolve(parts[i]));
    } catch (error) {
      this.tracer?.failed(batchSpan, error);
      batch.forEach((ticket) => ticket.reject(error));
    } finally {
      batchSpan?.end();
      this.learn(rows, cap, started);
      this.metrics.recordExecution(
        this.model,
        batch.length,
        this.timesExecutions ? (performance.now() - started) / 1000 : undefined,
      );
      this.running--;
      this.schedule();
    }
  }
}

/**
 * Seconds since the previous execution ended, when this one was already
 * dispatched by then (the model was saturated); otherwise nothing: the model
 * idled in between, and the gap says nothing about the batch size.
 */
function saturatedInterval(dispatchedAt: number, previousEnd: number, now: number): number | undefined {
  return dispatchedAt <= previousEnd + 1 ? (now - previousEnd) / 1000 : undefined;
}

/** The status a call's abort reason carries; any other reason (e.g. a DOMException, whose `code` is no gRPC code) is a cancel. */
function abortError(signal: AbortSignal): CallStatusError {
  const reason = signal.reason as { code?: unknown; details?: unknown } | undefined;
  const code = reason?.code;
  if (typeof code === 'number' && GrpcStatus[code] !== undefined && typeof reason?.details === 'string') {
    return new CallStatusError(code, reason.details);
  }
  return new CallStatusError(GrpcStatus.CANCELLED, 'Cancelled');
}
