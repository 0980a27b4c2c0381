import type { PoolConfig } from '../config/options.js';
import { getClock } from '../config/store.js';
import { RollingCounter } from '../metrics/RollingCounter.js';
import { ADMITTED, QUEUED, REJECTED, type AdmissionResult, type Bulkhead, type Waiter } from './Bulkhead.js';

/** A plain view of a pool for the stream and Prometheus (Hystrix's thread pool metrics). */
export interface PoolSnapshot {
  readonly poolKey: string;
  /** Executions running now. */
  readonly active: number;
  /** Executions waiting in the queue. */
  readonly queued: number;
  /** Executions finished since the pool was created. */
  readonly completed: number;
  /** The highest `active` ever seen. */
  readonly largest: number;
  readonly coreSize: number;
  readonly maxQueueSize: number;
  readonly queueSizeRejectionThreshold: number;
  /** Executions finished in the rolling window. */
  readonly rollingExecuted: number;
  /** Rejections in the rolling window. */
  readonly rollingRejected: number;
  /** The highest `active` in the rolling window. */
  readonly rollingMaxActive: number;
  readonly cumulativeExecuted: number;
  readonly cumulativeRejected: number;
  /** The rolling window (ms) of `rollingExecuted`, `rollingRejected` and `rollingMaxActive`. */
  readonly rollingWindow: number;
}

const EXECUTED = 0;
const REJECTED_IDX = 1;

/**
 * The Node analogue of a Hystrix thread pool: at most `coreSize` executions at once, and an optional FIFO queue.
 * With `maxQueueSize` -1 there is no queue (reject when every slot is busy); with a queue, a call is rejected when
 * the queue already holds `min(queueSizeRejectionThreshold, maxQueueSize)` waiters. Settings may change at any
 * time; the next admission uses them. Shared by key: see `poolFor`.
 */
export class Pool implements Bulkhead {
  readonly kind = 'pool' as const;
  private active = 0;
  private head: Waiter | null = null;
  private tail: Waiter | null = null;
  private length = 0;
  private completed = 0;
  private largest = 0;
  private cumulativeRejected = 0;
  private draining = false;
  private readonly rolling: RollingCounter;

  constructor(
    /** The pool key. */
    readonly key: string,
    /** Current settings (replaced by `configure`). */
    public config: PoolConfig,
  ) {
    this.rolling = new RollingCounter(2, config.rollingWindow, config.rollingBuckets);
  }

  /** Executions running now. */
  get activeCount(): number {
    return this.active;
  }

  /** Waiters in the queue now. */
  get queueSize(): number {
    return this.length;
  }

  admit(waiter: Waiter | null, now: number): AdmissionResult {
    const { coreSize, maxQueueSize, queueSizeRejectionThreshold } = this.config;
    if (this.active < coreSize && this.length === 0) {
      this.start(now);
      return ADMITTED;
    }
    if (waiter === null || maxQueueSize <= 0 || this.length >= Math.min(queueSizeRejectionThreshold, maxQueueSize)) {
      this.cumulativeRejected++;
      this.rolling.add(REJECTED_IDX, now);
      return REJECTED;
    }
    waiter.qNext = null;
    if (this.tail === null) this.head = waiter;
    else this.tail.qNext = waiter;
    this.tail = waiter;
    this.length++;
    return QUEUED;
  }

  release(now: number): void {
    if (this.active > 0) this.active--;
    this.completed++;
    this.rolling.add(EXECUTED, now);
    this.drain(now);
  }

  dequeue(waiter: Waiter): boolean {
    let prev: Waiter | null = null;
    for (let w = this.head; w !== null; prev = w, w = w.qNext) {
      if (w !== waiter) continue;
      if (prev === null) this.head = w.qNext;
      else prev.qNext = w.qNext;
      if (this.tail === w) this.tail = prev;
      w.qNext = null;
      this.length--;
      return true;
    }
    return false;
  }

  /** Admits queued waiters while slots are free (also after `coreSize` grows). */
  drain(now: number): void {
    if (this.draining) return;
    this.draining = true;
    try {
      while (this.head !== null && this.active < this.config.coreSize) {
        const next = this.head;
        this.head = next.qNext;
        if (this.head === null) this.tail = null;
        next.qNext = null;
        this.length--;
        this.start(now);
        next.admitted();
      }
    } finally {
      this.draining = false;
    }
  }

  /** A plain snapshot for the stream and Prometheus; `now` is read from the configured clock when omitted. */
  snapshot(now: number = getClock().now()): PoolSnapshot {
    return {
      poolKey: this.key,
      active: this.active,
      queued: this.length,
      completed: this.completed,
      largest: this.largest,
      coreSize: this.config.coreSize,
      maxQueueSize: this.config.maxQueueSize,
      queueSizeRejectionThreshold: this.config.queueSizeRejectionThreshold,
      rollingExecuted: this.rolling.sum(EXECUTED, now),
      rollingRejected: this.rolling.sum(REJECTED_IDX, now),
      rollingMaxActive: this.rolling.windowMax(now),
      cumulativeExecuted: this.completed,
      cumulativeRejected: this.cumulativeRejected,
      // The window the counters were built with (a later configure() cannot resize them).
      rollingWindow: this.rolling.bucketMs * this.rolling.buckets,
    };
  }

  private start(now: number): void {
    this.active++;
    if (this.active > this.largest) this.largest = this.active;
    this.rolling.max(this.active, now);
  }
}
