import cluster, { type Worker } from 'node:cluster';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import { promClient } from '../internal/lazyModules.js';
import { getClock } from '../config/store.js';
import { expectFunction, expectNumber, readKnown } from '../config/validate.js';
import { expectHost } from '../dashboard/listen.js';
import { parseAllowedHosts, type AllowedHosts } from '../stream/hostCheck.js';
import type { Done } from '../stream/sampleSlices.js';
import { streamSamples } from '../stream/sseHandler.js';
import { ackPiece, isClusterSamplePiece, SampleAssembly } from './clusterMessages.js';
import { collectWorkerMetrics, type WorkerMetrics } from './clusterMetrics.js';
import { writeFoldedMetrics, type TextSink } from './mergeMetrics.js';
import { plainText, serveFleet } from './fleetServer.js';
import type { InstanceSample } from './aggregate.js';
import { aggregateFramesInSlices, frame } from './sampleFrames.js';
import { WorkerSamples } from './workerSamples.js';
import { instancesObject, type InstanceStatus } from './instanceStatus.js';

/** Options of {@link startClusterPrimary}. */
export interface ClusterPrimaryOptions {
  /** TCP port; 0 picks a free one. @defaultValue 9464 */
  readonly port?: number;
  /** Interface to bind. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** Sample interval of the aggregated `/hystrix.stream` (ms); a client may ask for another with `?delay=`. @defaultValue 500 */
  readonly intervalMs?: number;
  /**
   * A worker that sends no sample for this long (ms) stops counting (a worker that exits stops at once).
   * @defaultValue 5000
   */
  readonly workerTimeout?: number;
  /** Concurrent `/hystrix.stream` clients; 503 beyond. @defaultValue 20 */
  readonly maxConnections?: number;
  /**
   * `Host` names answered besides loopback names and the bound address, or `'all'` (see
   * {@link HystrixStreamOptions.allowedHosts}). @defaultValue []
   */
  readonly allowedHosts?: AllowedHosts;
  /** Guards both routes: `false` answers 403 (see {@link hystrixStreamHandler}). */
  readonly authorize?: (req: IncomingMessage) => boolean | PromiseLike<boolean>;
}

/** The primary's server, as returned by {@link startClusterPrimary}. */
export interface ClusterPrimary {
  /** Base URL, e.g. `http://127.0.0.1:9464/`: `/hystrix.stream` and `/metrics` live under it. */
  readonly url: string;
  /** The port it listens on (useful with `port: 0`). */
  readonly port: number;
  /** The underlying Node HTTP server. */
  readonly server: Server;
  /** The workers that have reported, with their state (`up`, or `down` once silent or gone). */
  workers(): InstanceStatus[];
  /** Stops listening, ends every connection and stops listening to the workers. Safe to call twice. */
  close(): Promise<void>;
}

const OPTION = 'startClusterPrimary';
/** How many departed workers the status object keeps (the most recent). */
const MAX_GONE = 64;

/**
 * Serves, from a `node:cluster` primary, one `/hystrix.stream` and one `/metrics` for all its workers (each worker
 * calls {@link reportToClusterPrimary} once). The stream is the aggregate of the workers' samples, sent over IPC, by
 * the turbine's rules (`reportingHosts` = workers reporting the key; see docs/fleet.md). `/metrics` is the text
 * prom-client's `AggregatorRegistry.clusterMetrics()` gives for the workers' registries (breakwater's metrics and
 * any other registered there), each metric merged by its `aggregator` as the table in docs/fleet.md says (counters
 * summed; gauges summed or the maximum), but folded in as the workers' pieces arrive, then written in event-loop
 * slices and streamed as it is made; 503 when a worker does not answer within 5 s or exits first. A worker that exits leaves both
 * at once; its replacement joins with its first sample. Binds 127.0.0.1 unless `host` says otherwise.
 *
 * @example
 * ```ts
 * import cluster from 'node:cluster';
 * import { reportToClusterPrimary, startClusterPrimary } from 'breakwater';
 * if (cluster.isPrimary) {
 *   for (let i = 0; i < 4; i++) cluster.fork();
 *   cluster.on('exit', () => cluster.fork());           // replaced workers rejoin by themselves
 *   const primary = await startClusterPrimary({ port: 9464 });
 *   console.log(primary.url);                           // http://127.0.0.1:9464/ → /hystrix.stream, /metrics
 * } else {
 *   reportToClusterPrimary();
 *   // … the worker's server and commands
 * }
 * ```
 * @see {@link startTurbine} for instances on many hosts.
 */
export async function startClusterPrimary(options: ClusterPrimaryOptions = {}): Promise<ClusterPrimary> {
  const raw = readKnown(options, OPTION, ['port', 'host', 'intervalMs', 'workerTimeout', 'maxConnections', 'authorize', 'allowedHosts']);
  if (!cluster.isPrimary) throw new Error(`breakwater: ${OPTION}() must be called in the node:cluster primary (workers call reportToClusterPrimary())`);
  const port = raw.port === undefined ? 9464 : expectNumber(raw.port, `${OPTION}.port`, { min: 0, max: 65535, integer: true });
  const host = raw.host === undefined ? '127.0.0.1' : expectHost(raw.host, `${OPTION}.host`);
  const intervalMs = raw.intervalMs === undefined ? 500 : expectNumber(raw.intervalMs, `${OPTION}.intervalMs`, { min: 1, max: 2 ** 31 - 1, integer: true, unit: 'ms' });
  const workerTimeout =
    raw.workerTimeout === undefined ? 5000 : expectNumber(raw.workerTimeout, `${OPTION}.workerTimeout`, { min: 100, max: 600_000, integer: true, unit: 'ms' });
  const maxConnections =
    raw.maxConnections === undefined ? 20 : expectNumber(raw.maxConnections, `${OPTION}.maxConnections`, { min: 1, max: 10_000, integer: true });
  const authorize =
    raw.authorize === undefined ? undefined : (expectFunction(raw.authorize, `${OPTION}.authorize`) as (req: IncomingMessage) => boolean | PromiseLike<boolean>);
  const hosts = parseAllowedHosts(raw.allowedHosts, `${OPTION}.allowedHosts`, [host]);

  const view = new WorkerSamples();
  /** Workers that left the view: when (monotonic ms) and why. */
  const gone = new Map<string, { at: number; reason: string }>();
  /** When each worker in the view started counting (its first sample since it was last gone). */
  const upSince = new Map<string, number>();
  const idOf = (worker: Worker): string => `worker ${worker.id}`;
  /** The workers' samples arrive in pieces; one counts once whole. */
  const assembly = new SampleAssembly();
  const onMessage = (worker: Worker, message: unknown): void => {
    if (!isClusterSamplePiece(message)) return;
    const id = idOf(worker);
    const objects = assembly.accept(id, message);
    if (!message.last) ackPiece(worker, 'sample', message.sample, message.piece);
    if (objects === null) return;
    const now = getClock().now();
    gone.delete(id);
    if (view.lastSeen(id) === undefined) upSince.set(id, now);
    view.set(id, objects, now);
  };
  const leave = (id: string, at: number, reason: string): void => {
    assembly.drop(id);
    view.remove(id);
    upSince.delete(id);
    gone.set(id, { at, reason });
    // a crash-looping app forks a new id each time: keep the latest departures only
    if (gone.size > MAX_GONE) gone.delete(gone.keys().next().value!);
  };
  const onExit = (worker: Worker): void => {
    const id = idOf(worker);
    assembly.drop(id);
    if (view.lastSeen(id) === undefined) return;
    leave(id, getClock().now(), 'exited');
  };
  cluster.on('message', onMessage);
  cluster.on('exit', onExit);

  const workers = (): InstanceStatus[] => {
    const clock = getClock();
    const now = clock.now();
    const wall = clock.wallTime();
    const at = (ms: number): number => Math.round(wall - (now - ms));
    const out: InstanceStatus[] = [];
    dropSilent(now);
    for (const id of view.ids()) out.push({ id, state: 'up', reason: '', since: at(upSince.get(id)!) });
    for (const [id, left] of gone) out.push({ id, state: 'down', reason: left.reason, since: at(left.at) });
    return out;
  };
  /** A worker silent for longer than `workerTimeout` leaves the view (down since its silence passed the bound). */
  const dropSilent = (now: number): void => {
    for (const id of view.ids()) {
      const seen = view.lastSeen(id)!;
      if (now - seen > workerTimeout) leave(id, seen + workerTimeout, `silent for ${workerTimeout} ms`);
    }
  };
  /** The last aggregate's pieces and the samples it was made from (the stored lists themselves). */
  let aggregated: { from: InstanceSample[]; pieces: readonly string[] } | null = null;
  const sameSamples = (a: readonly InstanceSample[], b: readonly InstanceSample[]): boolean =>
    a.length === b.length && a.every((s, i) => s.id === b[i]!.id && s.objects === b[i]!.objects);
  /**
   * The stream frames of the aggregate of the workers' latest samples, made in event-loop slices and joined into
   * pieces as they are made (or the last aggregate's pieces again when no worker sent a new sample since: at 10,000
   * keys a worker's sample takes longer than an interval to arrive), then the status object's.
   */
  const frames = (done: Done<readonly string[]>): void => {
    let from: InstanceSample[];
    try {
      dropSilent(getClock().now());
      from = view.samples();
    } catch (error) {
      return done(error);
    }
    const withStatus = (pieces: readonly string[]): void => {
      let status: string;
      try {
        status = frame(instancesObject(workers(), getClock().wallTime(), []));
      } catch (error) {
        return done(error);
      }
      done(undefined, [...pieces, status]);
    };
    if (aggregated !== null && sameSamples(aggregated.from, from)) return withStatus(aggregated.pieces);
    aggregateFramesInSlices(from, (error, pieces) => {
      if (error !== undefined) return done(error);
      aggregated = { from, pieces: pieces! };
      withStatus(pieces!);
    });
  };
  const guard = authorize === undefined ? {} : { authorize };
  // With no client left on the stream, the last aggregate is not kept for the next one (about 29 MB of text at
  // 10,000 keys per worker): the next client's first sample aggregates again.
  const stream = streamSamples({ intervalMs, maxConnections, allowedHosts: 'all', ...guard }, frames, () => (aggregated = null));
  const metrics = (req: IncomingMessage, res: ServerResponse): void => {
    const serve = (): void => {
      const headers = { 'content-type': promClient().Registry.PROMETHEUS_CONTENT_TYPE, 'cache-control': 'no-store' };
      if (req.method === 'HEAD') {
        // The status and headers of a GET, without asking the workers for a scrape nobody reads.
        res.writeHead(200, headers).end();
        return;
      }
      collectWorkerMetrics().then(
        (answers) => (answers === null ? res.writeHead(200, headers).end() : serveMerged(answers, res, headers)),
        () => plainText(res, 503, 'a worker did not answer in time\n'),
      );
    };
    if (authorize === undefined) return serve();
    Promise.resolve()
      .then(() => authorize(req))
      .then(
        (ok) => (ok === true ? serve() : plainText(res, 403, 'forbidden\n')),
        () => plainText(res, 500, 'internal server error\n'),
      );
  };
  const served = await serveFleet(port, host, hosts, { '/hystrix.stream': stream, '/metrics': metrics }, () => {
    stream.close();
    cluster.off('message', onMessage);
    cluster.off('exit', onExit);
  });
  const primary: ClusterPrimary = { url: served.baseUrl, port: served.port, server: served.server, workers, close: () => served.close() };
  heldAggregates.set(primary, () => aggregated?.pieces.reduce((n, piece) => n + piece.length, 0) ?? 0);
  return primary;
}

/** @internal for tests: the characters of stream text a primary keeps from its last aggregate (0: none). */
export const heldAggregates = new WeakMap<ClusterPrimary, () => number>();


/**
 * The workers' metrics merged (see {@link writeMergedMetrics}) and written as they are made. A failure before the
 * first byte answers 500; after it, or when the scraper goes away, the response is destroyed (a cut response, not a
 * partial one taken as whole).
 */
function serveMerged(answers: WorkerMetrics, res: ServerResponse, headers: Record<string, string>): void {
  const sink: TextSink = {
    write(text) {
      if (res.destroyed) throw new Error('the scraper went away');
      if (!res.headersSent) res.writeHead(200, headers);
      return res.write(text);
    },
    drained: () =>
      new Promise<void>((resolve) => {
        if (res.destroyed) return resolve();
        const go = (): void => {
          res.off('drain', go);
          res.off('close', go);
          resolve();
        };
        res.on('drain', go);
        res.on('close', go);
      }),
  };
  writeFoldedMetrics(answers.fold, answers.order, sink, (error) => {
    if (error === undefined) res.end();
    else if (res.headersSent) res.destroy();
    else plainText(res, 500, 'internal server error\n');
  });
}
