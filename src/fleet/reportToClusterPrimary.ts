import cluster from 'node:cluster';
import type { Registry } from 'prom-client';
import { promClient } from '../internal/lazyModules.js';
import { getClock } from '../config/store.js';
import { expectNumber, readKnown } from '../config/validate.js';
import { configError } from '../errors.js';
import { registerPrometheus, type PrometheusRegistration } from '../prometheus/registerPrometheus.js';
import { SampleReader, type SamplePart } from '../stream/sampleSlices.js';
import type { TimerHandle } from '../time/Clock.js';
import type { FleetObject } from './aggregate.js';
import { CLUSTER_SAMPLE_PIECE, OBJECTS_PER_PIECE, PieceAcks, SAMPLE_WIRE_VERSION, sendToPrimary, type ClusterSamplePiece } from './clusterMessages.js';
import { answerMetricsRequests } from './clusterMetrics.js';

/** Options of {@link reportToClusterPrimary}. */
export interface ClusterWorkerOptions {
  /** How often the worker sends its sample to the primary (ms). @defaultValue 500 */
  readonly intervalMs?: number;
  /**
   * The prom-client registry the primary's `/metrics` reads from this worker; breakwater's collectors are added to it.
   * Passing one makes it the registry prom-client's `AggregatorRegistry` collects in this worker.
   * @defaultValue prom-client's global `register`
   */
  readonly registry?: Registry;
}

/** What {@link reportToClusterPrimary} returns. */
export interface ClusterWorkerReporter {
  /** Stops sending samples and removes breakwater's collectors from the registry. Idempotent. */
  stop(): void;
}

const OPTION = 'reportToClusterPrimary';

/**
 * Makes this `node:cluster` worker part of its primary's view (see {@link startClusterPrimary}): every `intervalMs`
 * it sends its `hystrix.stream` objects to the primary over the cluster's IPC channel, in pieces of at most 100 objects
 * per IPC message, each piece made (in event-loop slices) and sent once the primary has taken the previous one, and it
 * answers the primary's `/metrics` with the registry's metrics (breakwater's and any other registered there), in
 * pieces of at most 1,000 series per IPC message; prom-client's own `AggregatorRegistry` in the primary is answered
 * too. A sample is skipped, not queued, while the previous one is still being sent. The timer does not keep the
 * worker alive.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * if (cluster.isWorker) reportToClusterPrimary();
 * ```
 */
export function reportToClusterPrimary(options: ClusterWorkerOptions = {}): ClusterWorkerReporter {
  const raw = readKnown(options, OPTION, ['intervalMs', 'registry']);
  if (!cluster.isWorker || typeof process.send !== 'function') {
    throw new Error(`breakwater: ${OPTION}() must be called in a node:cluster worker (the primary calls startClusterPrimary())`);
  }
  const intervalMs = raw.intervalMs === undefined ? 500 : expectNumber(raw.intervalMs, `${OPTION}.intervalMs`, { min: 10, max: 600_000, integer: true, unit: 'ms' });
  const { AggregatorRegistry, register: defaultRegistry } = promClient();
  const registry = raw.registry === undefined ? defaultRegistry : (raw.registry as Registry);
  if (typeof registry !== 'object' || registry === null || typeof (registry as Partial<Registry>).getMetricsAsJSON !== 'function') {
    throw configError(`${OPTION}.registry`, 'a prom-client Registry', registry, 'type');
  }
  const prometheus: PrometheusRegistration = registerPrometheus(registry);
  // The primary's /metrics asks through breakwater's own messages (answered in pieces, see clusterMetrics.ts).
  const stopAnswering = answerMetricsRequests(registry);
  // prom-client's worker-side listener too, for an AggregatorRegistry of the user's own in the primary.
  new AggregatorRegistry();
  if (registry !== defaultRegistry) AggregatorRegistry.setRegistries([registry]);

  let stopped = false;
  /** A sample is being built or sent: the next interval's is skipped, not queued. */
  let busy = false;
  let sampleNumber = 0;
  let timer: TimerHandle | null = null;
  const acks = new PieceAcks('sample');
  /** How long a piece may wait for the primary's acknowledgement before the sample is given up (a primary not reading). */
  const ackWaitMs = Math.max(2000, 2 * intervalMs);
  /** The next part of `reader`'s sample. */
  const part = (reader: SampleReader): Promise<SamplePart> =>
    new Promise((resolve, reject) => reader.next(OBJECTS_PER_PIECE, (error, got) => (error === undefined ? resolve(got!) : reject(error))));
  /**
   * Sends sample `sample` one piece at a time, each made (in slices) and sent once the primary has taken the one
   * before, so only one piece's objects are alive at a time. A sample that fails to read past its first piece is
   * abandoned (the primary never shows part of one); one that fails at once is sent empty, as a sign of life.
   */
  const sendSample = async (sample: number): Promise<void> => {
    const reader = new SampleReader();
    for (let piece = 0; ; piece++) {
      if (stopped || !process.connected) return;
      let objects: FleetObject[];
      let last: boolean;
      try {
        const got = await part(reader);
        objects = got.objects as unknown as FleetObject[];
        last = got.last;
      } catch {
        if (piece > 0) return;
        objects = [];
        last = true;
      }
      if (stopped || !process.connected) return;
      const message: ClusterSamplePiece = { type: CLUSTER_SAMPLE_PIECE, version: SAMPLE_WIRE_VERSION, sample, piece, last, objects };
      const taken = last ? null : acks.wait(sample, piece, ackWaitMs);
      await sendToPrimary(message);
      if (taken === null || !(await taken)) return;
    }
  };
  const send = (): void => {
    timer = null;
    if (stopped) return;
    if (!busy && process.connected) {
      busy = true;
      sendSample(sampleNumber++)
        .catch(() => {}) // the channel closed: the primary is gone or we are exiting
        .finally(() => (busy = false));
    }
    timer = getClock().setTimer(send, intervalMs);
  };
  timer = getClock().setTimer(send, 0);
  return {
    stop() {
      if (stopped) return;
      stopped = true;
      timer?.cancel();
      timer = null;
      stopAnswering();
      acks.close();
      prometheus.unregister();
    },
  };
}
