import cluster, { type Worker } from 'node:cluster';
import type { Registry } from 'prom-client';
import { getClock } from '../config/store.js';
import { Family, noDefaultLabels } from '../prometheus/Family.js';
import { ackPiece, PieceAcks, sendToPrimary } from './clusterMessages.js';
import { MetricsFold, type MetricJson } from './mergeMetrics.js';

/** @internal the primary asks a worker for its metrics. */
export const METRICS_REQUEST = 'breakwater:metrics-request';
/** @internal a worker answers in pieces of at most {@link SERIES_PER_PIECE} series, the last one marked. */
export const METRICS_PIECE = 'breakwater:metrics-piece';
/** @internal series per IPC message: small enough that parsing one (on the primary) is a short piece of work. */
export const SERIES_PER_PIECE = 1000;
/**
 * @internal how long the primary waits for the next piece from the workers still answering (prom-client's
 * `clusterMetrics()` waits as long for the whole answer).
 */
export const METRICS_TIMEOUT_MS = 5000;

interface MetricsRequest {
  readonly type: typeof METRICS_REQUEST;
  readonly id: number;
}

interface MetricsPiece {
  readonly type: typeof METRICS_PIECE;
  readonly id: number;
  /** This piece's place in the answer, from 0. */
  readonly piece: number;
  readonly metrics: readonly MetricJson[];
  readonly last: boolean;
  readonly error?: string;
}

function isRequest(message: unknown): message is MetricsRequest {
  return typeof message === 'object' && message !== null && (message as MetricsRequest).type === METRICS_REQUEST && typeof (message as MetricsRequest).id === 'number';
}

function isPiece(message: unknown): message is MetricsPiece {
  if (typeof message !== 'object' || message === null) return false;
  const m = message as MetricsPiece;
  return m.type === METRICS_PIECE && typeof m.id === 'number' && typeof m.piece === 'number' && Array.isArray(m.metrics) && typeof m.last === 'boolean';
}

/**
 * @internal a registry's metrics cut into IPC messages of at most `perPiece` series; a metric with more is sent as
 * several entries with its name, help, type and aggregator and consecutive parts of its series (the primary reads
 * them one after the other, as one metric).
 */
export function piecesOf(metrics: readonly MetricJson[], perPiece = SERIES_PER_PIECE): MetricJson[][] {
  const pieces: MetricJson[][] = [];
  let piece: MetricJson[] = [];
  let room = perPiece;
  for (const metric of metrics) {
    const values = metric.values ?? [];
    let at = 0;
    do {
      if (room === 0) {
        pieces.push(piece);
        piece = [];
        room = perPiece;
      }
      const take = Math.min(room, values.length - at);
      piece.push({ ...metric, values: take === values.length ? values : values.slice(at, at + take) });
      at += take;
      room -= take;
      if (take === 0) break; // a metric without series still travels, as an entry of its own
    } while (at < values.length);
  }
  pieces.push(piece);
  return pieces;
}

/**
 * @internal what a worker sends its primary: `registry.getMetricsAsJSON()`, except that breakwater's own families
 * give each series as its finished text (see {@link Family.getForCluster}) when the registry has no default labels:
 * the primary then finds a series by one string (a labels object would be turned into text and a key for each of
 * the hundreds of thousands of series at 10,000 keys), and prom-client's merge of these values writes the same text.
 * Every metric is asked in the same turn, as prom-client does, so breakwater's families share one slicer.
 */
export async function metricsForPrimary(registry: Registry): Promise<MetricJson[]> {
  if (!noDefaultLabels(registry)) return (await registry.getMetricsAsJSON()) as unknown as MetricJson[];
  const metrics = (registry.getMetricsAsArray() as unknown[]).map((metric) =>
    metric instanceof Family ? metric.getForCluster() : (metric as { get(): Promise<unknown> }).get(),
  );
  return (await Promise.all(metrics)) as unknown as MetricJson[];
}

/** One metric of a worker's answer: the entry each of its pieces starts from, and its series. */
interface AnswerPart {
  readonly meta: MetricJson;
  series(): Iterable<unknown>;
}

/**
 * @internal {@link piecesOf}`(`{@link metricsForPrimary}`(registry), perPiece)`, the same pieces, each made only when
 * asked for: breakwater's families give their series row by row as the pieces are cut
 * ({@link Family.seriesForCluster}), so a worker holds one or two pieces (about 1,000 series) of its answer at a time
 * instead of all of it (about 500,000 series at 10,000 keys, which every young-generation collection of the answer's
 * one to two seconds copied). Other metrics (the user's own, or every metric of a registry with default labels) are
 * read whole first, as before.
 */
export async function answerPieces(registry: Registry, perPiece = SERIES_PER_PIECE): Promise<Iterator<MetricJson[]>> {
  let parts: AnswerPart[];
  if (!noDefaultLabels(registry)) {
    parts = ((await registry.getMetricsAsJSON()) as unknown as MetricJson[]).map((m) => ({ meta: m, series: () => m.values ?? [] }));
  } else {
    // Every metric is asked in the same turn, as prom-client does, so breakwater's families share one read.
    parts = await Promise.all(
      (registry.getMetricsAsArray() as unknown[]).map(async (metric): Promise<AnswerPart> => {
        if (metric instanceof Family) return metric.seriesForCluster();
        const m = (await (metric as { get(): Promise<unknown> }).get()) as MetricJson;
        return { meta: m, series: () => m.values ?? [] };
      }),
    );
  }
  return cutPieces(parts, perPiece);
}

/** {@link piecesOf}'s cutting, over series made as they are taken. */
function* cutPieces(parts: readonly AnswerPart[], perPiece: number): Generator<MetricJson[]> {
  let piece: MetricJson[] = [];
  let room = perPiece;
  for (const part of parts) {
    let values: unknown[] | null = null;
    for (const value of part.series()) {
      if (room === 0) {
        yield piece;
        piece = [];
        room = perPiece;
        values = null;
      }
      if (values === null) piece.push({ ...part.meta, values: (values = []) as MetricJson['values'] });
      values.push(value);
      room--;
    }
    if (values !== null) continue;
    // a metric without series still travels, as an entry of its own
    if (room === 0) {
      yield piece;
      piece = [];
      room = perPiece;
    }
    piece.push({ ...part.meta, values: [] });
  }
  yield piece;
}

/**
 * @internal the worker side: answers the primary's requests with the registry's metrics ({@link answerPieces}), one
 * piece at a time, each made when the primary acknowledged the previous one, so neither side makes, serialises or
 * parses the whole at once, and the primary never has more than one piece of a worker to read in one turn. A
 * failure while a piece is made is sent as an error in place of that piece (the primary answers 503).
 * Returns what removes the listener.
 */
export function answerMetricsRequests(registry: Registry): () => void {
  const acks = new PieceAcks('metrics');
  const failed = (id: number, piece: number, error: unknown): Promise<void> =>
    sendToPrimary({ type: METRICS_PIECE, id, piece, metrics: [], last: true, error: error instanceof Error ? error.message : String(error) });
  const answer = async (id: number): Promise<void> => {
    let pieces: Iterator<MetricJson[]>;
    let current: IteratorResult<MetricJson[]>;
    try {
      pieces = await answerPieces(registry);
      current = pieces.next();
    } catch (error) {
      return failed(id, 0, error);
    }
    for (let i = 0; current.done !== true; i++) {
      // The next piece is made first, to know whether this one is the last.
      let next: IteratorResult<MetricJson[]>;
      try {
        next = pieces.next();
      } catch (error) {
        return failed(id, i, error);
      }
      const last = next.done === true;
      // the next piece once the primary has taken this one (it stops acknowledging when it gives up on the scrape)
      const taken = last ? null : acks.wait(id, i, METRICS_TIMEOUT_MS);
      const piece: MetricsPiece = { type: METRICS_PIECE, id, piece: i, metrics: current.value, last };
      await sendToPrimary(piece);
      if (taken !== null && !(await taken)) return;
      current = next;
    }
  };
  const onMessage = (message: unknown): void => {
    if (!isRequest(message) || !process.connected) return;
    answer(message.id).catch(() => {}); // the channel closed: the primary is gone or this worker is exiting
  };
  process.on('message', onMessage);
  return () => {
    process.off('message', onMessage);
    acks.close();
  };
}

let nextId = 0;

/** @internal the workers' answers to one `/metrics`: folded in as they arrived, and the order the workers finished in. */
export interface WorkerMetrics {
  readonly fold: MetricsFold;
  /** Slots of `fold`, in the order the workers finished answering. */
  readonly order: readonly number[];
}

/**
 * @internal the primary side: asks every connected worker for its metrics and folds each piece in as it arrives
 * (see {@link MetricsFold}: the parsed pieces are not kept), resolving with the fold and the order the workers
 * finished answering in (as prom-client's `clusterMetrics()` orders them), or `null` when no worker is connected.
 * Rejects when a worker reports an error, when a worker it waits for exits, and when {@link METRICS_TIMEOUT_MS}
 * pass without a piece while a worker has not finished (prom-client's 5 s are for the whole answer: at 10,000 keys
 * per worker a whole answer takes about 4 s on two shared cores, and more on a busier host).
 */
export function collectWorkerMetrics(): Promise<WorkerMetrics | null> {
  const id = nextId++;
  return new Promise((resolve, reject) => {
    /** Slot in the fold of each worker still answering, by worker id. */
    const waiting = new Map<number, number>();
    const order: number[] = [];
    const finish = (error: Error | null): void => {
      cluster.off('message', onMessage);
      cluster.off('exit', onExit);
      timer.cancel();
      if (error === null) resolve({ fold, order });
      else reject(error);
    };
    const onMessage = (worker: Worker, message: unknown): void => {
      if (!isPiece(message) || message.id !== id) return;
      const slot = waiting.get(worker.id);
      if (slot === undefined) return;
      if (message.error !== undefined) return finish(new Error(message.error));
      try {
        fold.add(slot, message.metrics);
      } catch (error) {
        return finish(error as Error); // a malformed piece: the scrape fails (503) rather than the primary
      }
      arm();
      if (!message.last) return ackPiece(worker, 'metrics', id, message.piece);
      waiting.delete(worker.id);
      order.push(slot);
      if (waiting.size === 0) finish(null);
    };
    const onExit = (worker: Worker): void => {
      if (waiting.has(worker.id)) finish(new Error(`worker ${worker.id} exited before it answered`));
    };
    const request: MetricsRequest = { type: METRICS_REQUEST, id };
    for (const worker of Object.values(cluster.workers ?? {})) {
      // A worker that exits abruptly may still be listed without being able to answer.
      if (worker === undefined || !worker.isConnected()) continue;
      waiting.set(worker.id, waiting.size);
      worker.send(request);
    }
    const fold = new MetricsFold(waiting.size);
    let timer = getClock().setTimer(() => finish(new Error('Operation timed out.')), METRICS_TIMEOUT_MS);
    /** The wait starts again with each piece: a large answer that keeps coming is not cut off. */
    const arm = (): void => {
      timer.cancel();
      timer = getClock().setTimer(() => finish(new Error('Operation timed out.')), METRICS_TIMEOUT_MS);
    };
    if (waiting.size === 0) {
      timer.cancel();
      resolve(null);
      return;
    }
    cluster.on('message', onMessage);
    cluster.on('exit', onExit);
  });
}
