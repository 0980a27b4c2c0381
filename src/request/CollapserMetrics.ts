import type { MetricsConfig } from '../config/options.js';
import { rollingBucketsOf, rollingWindowOf } from '../metrics/ReadWindow.js';
import { RollingCounter } from '../metrics/RollingCounter.js';
import { RollingPercentile, type LatencySnapshot } from '../metrics/RollingPercentile.js';
import type { CollapserSnapshot } from '../stream/hystrixJson.js';

const BATCHES = 0; // Hystrix BATCH_EXECUTED
const REQUESTS = 1; // Hystrix ADDED_TO_BATCH
const FROM_CACHE = 2; // Hystrix collapser RESPONSE_FROM_CACHE

/** Hystrix reports an unlimited batch as `Integer.MAX_VALUE`. */
const MAX_INT = 2_147_483_647;

/** The settings a collapser reports beside its counts. */
export interface CollapserSettings {
  readonly maxBatchSize: number;
  readonly delay: number;
  readonly requestCacheEnabled: boolean;
}

/**
 * Hystrix's `HystrixCollapserMetrics`: rolling and cumulative counts of batches, requests batched and responses
 * from the collapser's request cache, and a rolling histogram of batch sizes. Shared by every collapser with the
 * same key. Every method takes `now`.
 */
export class CollapserMetrics {
  /** The rolling counts; also the totals since the key was first used ({@link RollingCounter.total}). */
  private readonly rolling: RollingCounter;
  private readonly batchSizes: RollingPercentile | null;

  constructor(
    /** The collapser key. */
    readonly collapserKey: string,
    /** Window settings (those of the collapser's batch command). */
    readonly config: MetricsConfig,
  ) {
    // a batch command without a rolling window (`rollingWindow: false`): the collapser keeps the default 10 s one
    this.rolling = new RollingCounter(3, rollingWindowOf(config), rollingBucketsOf(config));
    this.batchSizes = config.percentileEnabled ? new RollingPercentile(config.percentileWindow, config.percentileBuckets) : null;
  }

  /** One batch of `size` requests was executed. */
  batchExecuted(size: number, now: number): void {
    this.rolling.add(BATCHES, now);
    this.rolling.addMany(REQUESTS, now, size);
    this.batchSizes?.record(size, now);
  }

  /** A request was answered from the collapser's request cache. */
  responseFromCache(now: number): void {
    this.rolling.add(FROM_CACHE, now);
  }

  /** Cumulative counts since the key was first used. */
  get totals(): { readonly batches: number; readonly requestsBatched: number; readonly responsesFromCache: number } {
    const r = this.rolling;
    return { batches: r.total(BATCHES), requestsBatched: r.total(REQUESTS), responsesFromCache: r.total(FROM_CACHE) };
  }

  /** The stream's view (`type: "HystrixCollapser"`); without sharding, shard sizes are batch sizes. */
  snapshot(now: number, settings: CollapserSettings): CollapserSnapshot {
    const batchSize = this.batchSizes?.snapshot(now) ?? EMPTY;
    return {
      collapserKey: this.collapserKey,
      rollingBatches: this.rolling.sum(BATCHES, now),
      rollingRequestsBatched: this.rolling.sum(REQUESTS, now),
      rollingResponsesFromCache: this.rolling.sum(FROM_CACHE, now),
      batchSize,
      shardSize: batchSize,
      maxRequestsInBatch: Number.isFinite(settings.maxBatchSize) ? settings.maxBatchSize : MAX_INT,
      timerDelayInMilliseconds: settings.delay,
      requestCacheEnabled: settings.requestCacheEnabled,
      rollingWindow: rollingWindowOf(this.config),
      percentileWindow: this.config.percentileWindow,
    };
  }
}

const EMPTY: LatencySnapshot = Object.freeze({
  mean: 0,
  percentiles: Object.freeze({ '0': 0, '25': 0, '50': 0, '75': 0, '90': 0, '95': 0, '99': 0, '99.5': 0, '100': 0 }),
});
