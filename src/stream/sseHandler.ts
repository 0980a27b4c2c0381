import type { IncomingMessage, ServerResponse } from 'node:http';
import type { EventEmitter } from 'eventemitter3';
import { SafeEmitter } from '../command/globalEvents.js';
import { getClock } from '../config/store.js';
import { expectFunction, expectNumber, readKnown } from '../config/validate.js';
import type { TimerHandle } from '../time/Clock.js';
import { expectInterval } from './dashboardEvents.js';
import { HOST_REFUSED, isHostAllowed, parseAllowedHosts, type AllowedHosts } from './hostCheck.js';
import { NOSNIFF, plainReply } from './plainReply.js';
import { MAX_STREAM_DELAY_MS, MIN_STREAM_DELAY_MS } from './streamDelay.js';
import { buildSampleFrames, type Done } from './sampleSlices.js';
import { SamplePieces } from './samplePieces.js';
import { expectWriteTimeout, flushFrame, WriteWatch } from './writeWatch.js';

/** Options of {@link hystrixStreamHandler}. */
export interface HystrixStreamOptions {
  /**
   * Default sampling interval in ms; a client may ask for another with `?delay=MS`.
   * @defaultValue 500
   */
  readonly intervalMs?: number;
  /**
   * Concurrent stream connections allowed; the next one is answered `503`.
   * @defaultValue 20
   */
  readonly maxConnections?: number;
  /**
   * Called for every request before anything is streamed; `false` (or a promise of it) answers `403`. A throw
   * or rejection answers `500` (details are not sent). Without it every request is allowed.
   */
  readonly authorize?: (req: IncomingMessage) => boolean | PromiseLike<boolean>;
  /**
   * A client that takes no byte of what was written to it for this long (ms) is disconnected and its slot freed.
   * The wait starts when the socket asks the handler to wait for `drain`, so a reader that is merely slow (it
   * takes some bytes) is kept; a client that stopped reading is dropped between one and two `writeTimeout`s later.
   * @defaultValue 30000
   */
  readonly writeTimeout?: number;
  /**
   * `Host` names answered besides loopback names and the address the request arrived on (a leading dot admits
   * subdomains), or `'all'` to switch the check off. Any other `Host` is answered `403`: this keeps web pages on
   * other sites from reading the stream through DNS rebinding. Services polled by Turbine or a dashboard under
   * their DNS name list that name here.
   * @defaultValue [] (loopback and the local address only)
   */
  readonly allowedHosts?: AllowedHosts;
}

/** What {@link HystrixStreamHandler.events} reports. */
export interface HystrixStreamEvents {
  /**
   * The handler was given a response that something else had already answered (its headers were sent: for
   * example a framework answered an `async` route before the stream started; see docs/metrics-and-stream.md), so
   * it could neither stream nor refuse. A process warning (code `BW_STREAM_ALREADY_ANSWERED`) says so too, once
   * per handler.
   */
  alreadyAnswered: (e: StreamAlreadyAnswered) => void;
  /** A client that took no byte for `writeTimeout` was disconnected. */
  clientDropped: (e: StreamClientDropped) => void;
}

/** Payload of {@link HystrixStreamEvents.alreadyAnswered}. */
export interface StreamAlreadyAnswered {
  /** The request path and query. */
  readonly url: string;
  /** The status the response had already been given. */
  readonly statusCode: number;
  /** The status the stream meant to answer (200 to stream, or a refusal such as 403). */
  readonly intended: number;
}

/** Payload of {@link HystrixStreamEvents.clientDropped}. */
export interface StreamClientDropped {
  readonly reason: 'writeTimeout';
  /** Bytes the client had not taken when it was dropped. */
  readonly bufferedBytes: number;
}

/** Live figures of a stream handler. */
export interface HystrixStreamStats {
  /** Connections streaming now. */
  readonly connections: number;
  /** Samples skipped because a client had not yet read the previous ones (over the handler's life). */
  readonly droppedSamples: number;
  /** Bytes written but not yet accepted by the sockets, over all connections. */
  readonly bufferedBytes: number;
  /** Clients disconnected because they took no byte for `writeTimeout` (over the handler's life). */
  readonly droppedClients: number;
}

/**
 * A Node `(req, res)` handler serving the `hystrix.stream`, with a way to end it.
 */
export interface HystrixStreamHandler {
  /** Serves one request (mount it on any path, e.g. `/hystrix.stream`). */
  (req: IncomingMessage, res: ServerResponse): void;
  /** Ends every live stream connection; later requests are answered `503`. Idempotent. */
  close(): void;
  /** Connections, dropped samples and clients, and buffered bytes right now. */
  stats(): HystrixStreamStats;
  /** What went wrong with a response or a client (eventemitter3; a throwing listener is reported, not raised). */
  readonly events: EventEmitter<HystrixStreamEvents>;
}

/** A client with more unread bytes than this gets no new sample until it catches up. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Connections whose ticks fall this close together share one serialised sample. */
const SHARE_WINDOW_MS = 50;
const PING = 'ping: \n\n';

/**
 * @internal the stream's response headers. `no-transform` tells compression middleware (Express `compression()`
 * honours it) to leave the stream alone: gzip would hold frames back until its buffer fills.
 */
export const STREAM_HEADERS = {
  'Content-Type': 'text/event-stream;charset=UTF-8',
  'Cache-Control': 'no-cache, no-transform',
  Pragma: 'no-cache',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
  ...NOSNIFF,
} as const;

interface Connection {
  readonly res: ServerResponse;
  readonly delayMs: number;
  readonly watch: WriteWatch;
  timer: TimerHandle | null;
  waitingForDrain: boolean;
  /** The sample being written to this client (null: none), and the next piece of it to write. */
  sending: SamplePieces | null;
  nextPiece: number;
}

/** @internal parses `?delay`: undefined when absent, NaN when unusable. */
export function parseDelay(url: string | undefined): number | undefined {
  const query = url === undefined ? -1 : url.indexOf('?');
  if (query < 0) return undefined;
  const raw = new URLSearchParams(url!.slice(query + 1)).get('delay');
  if (raw === null) return undefined;
  if (!/^\s*\d+(\.\d+)?\s*$/.test(raw)) return NaN;
  return Math.round(Number(raw));
}

/**
 * Builds a Node `(req, res)` handler that serves the Hystrix `hystrix.stream`: Server-Sent Events with
 * `Content-Type: text/event-stream;charset=UTF-8` and `Cache-Control: no-cache, no-transform`, one
 * `data: {json}\n\n` frame per command key, pool and collapser every interval (the objects of
 * {@link dashboardEvents}), `ping: \n\n` on connect and on samples with nothing to send, and `?delay=MS` honoured
 * (clamped to 100–60000 ms; not a number → `400`). Each sample is flushed at once, also through compression
 * middleware that offers `res.flush()`.
 *
 * Guards: `403` for a `Host` outside `allowedHosts` (loopback names and the local address by default) and when
 * `authorize(req)` says no, `503` beyond `maxConnections` and after `close()`, `405` for anything but GET and
 * HEAD (HEAD gets the status and headers a GET would get, and no body). Memory per client is bounded: while a
 * client has not read the previous sample (the socket asked to wait for `drain`) new samples are dropped, never
 * queued, and a client that takes no byte for `writeTimeout` is disconnected. Disconnects cancel the client's
 * timer. Every response carries `X-Content-Type-Options: nosniff`. Only command, group and pool names and numbers
 * are sent. A response something else already answered is reported ({@link HystrixStreamEvents.alreadyAnswered}
 * and a process warning), never ignored silently.
 *
 * @example
 * ```ts
 * import { createServer } from 'node:http';
 * const stream = hystrixStreamHandler({ maxConnections: 5, authorize: (req) => req.headers.authorization === token });
 * const server = createServer((req, res) => (req.url?.startsWith('/hystrix.stream') ? stream(req, res) : res.end()));
 * server.listen(8080, '127.0.0.1');
 * // on shutdown
 * stream.close();
 * server.close();
 * ```
 * @see {@link dashboardEvents} for the same objects as an rxjs Observable.
 */
export function hystrixStreamHandler(options: HystrixStreamOptions = {}): HystrixStreamHandler {
  return streamSamples(options, buildSampleFrames);
}

/**
 * @internal the handler behind {@link hystrixStreamHandler}, for any source of stream frames (the turbine and the
 * cluster primary serve their aggregates through it): `build` hands over one sample's `data:` frames (empty: a
 * ping), at most once per tick and shared by the connections ticking together. A list of frames is written to each
 * client in pieces of whole frames, one piece per event-loop turn (a single text is one piece). When the last client
 * has gone (and no sample is being built), the shared sample is let go and `idle` is called, so that the source can
 * let go of what it keeps for the next sample too (at 10,000 keys a sample is tens of MB).
 */
export function streamSamples(
  options: HystrixStreamOptions,
  build: (done: Done<string | readonly string[]>) => void,
  idle?: () => void,
): HystrixStreamHandler {
  const raw = readKnown(options, 'hystrixStreamHandler', ['intervalMs', 'maxConnections', 'authorize', 'writeTimeout', 'allowedHosts']);
  const intervalMs = raw.intervalMs === undefined ? 500 : expectInterval(raw.intervalMs, 'hystrixStreamHandler.intervalMs');
  const maxConnections =
    raw.maxConnections === undefined
      ? 20
      : expectNumber(raw.maxConnections, 'hystrixStreamHandler.maxConnections', { min: 1, max: 100_000, integer: true });
  const authorize =
    raw.authorize === undefined
      ? undefined
      : (expectFunction(raw.authorize, 'hystrixStreamHandler.authorize') as (req: IncomingMessage) => boolean | PromiseLike<boolean>);
  const writeTimeout = expectWriteTimeout(raw.writeTimeout, 'hystrixStreamHandler.writeTimeout');
  const hosts = parseAllowedHosts(raw.allowedHosts, 'hystrixStreamHandler.allowedHosts');
  const minDelay = Math.min(MIN_STREAM_DELAY_MS, intervalMs);

  const events = new SafeEmitter<HystrixStreamEvents>();
  const connections = new Set<Connection>();
  let closed = false;
  let droppedSamples = 0;
  let droppedClients = 0;
  let warned = false;
  let shared: { at: number; sample: SamplePieces } | null = null;

  /** Connections waiting for the sample being built (null: none is). */
  let building: ((sample: SamplePieces) => void)[] | null = null;

  /**
   * Hands `use` the serialised sample: the one built less than `SHARE_WINDOW_MS` ago, the one being built, or
   * a new one (built in slices; a small one at once). A sample that failed (a bug elsewhere) is sent as a ping.
   */
  function withSample(use: (sample: SamplePieces) => void): void {
    const now = getClock().now();
    if (shared !== null && now - shared.at >= 0 && now - shared.at < SHARE_WINDOW_MS) return use(shared.sample);
    if (building !== null) {
      building.push(use);
      return;
    }
    const waiting = [use];
    building = waiting;
    build((error, frames) => {
      building = null;
      const list = error !== undefined ? [] : typeof frames === 'string' ? (frames === '' ? [] : [frames]) : frames!;
      const sample = new SamplePieces(list.length === 0 ? [PING] : list);
      if (error === undefined && !closed) shared = { at: now, sample };
      for (const w of waiting) w(sample);
      if (connections.size === 0) letGo(); // every client left while it was built
    });
  }

  /** No client left: nothing is kept for the next one (it gets a sample built for it). */
  function letGo(): void {
    shared = null;
    idle?.();
  }

  /** Something else answered this response first: say so (the Fastify `async` route trap), never return silently. */
  function alreadyAnswered(req: IncomingMessage, res: ServerResponse, intended: number): void {
    const url = req.url ?? '';
    if (events.listenerCount('alreadyAnswered') !== 0) events.emit('alreadyAnswered', { url, statusCode: res.statusCode, intended });
    if (warned) return;
    warned = true;
    process.emitWarning(
      `breakwater: hystrixStreamHandler was given a response that had already been answered (status ${res.statusCode}) for ${url}; ` +
        'it could not send its own status ' +
        String(intended) +
        '. A framework answered first: in Fastify call reply.hijack() before handing reply.raw to the stream.',
      { code: 'BW_STREAM_ALREADY_ANSWERED' },
    );
  }

  /** Answers a refusal, or reports that the response had been answered already (a client that left is fine). */
  function refuse(req: IncomingMessage, res: ServerResponse, status: number, message: string, extra?: Record<string, string>): void {
    if (plainReply(res, status, message, extra)) return;
    if (res.headersSent) alreadyAnswered(req, res, status);
  }

  function end(conn: Connection): void {
    // Once per connection: close() and a dropped client end it first, then its 'close' event comes.
    if (!connections.delete(conn)) return;
    if (conn.timer !== null) conn.timer.cancel();
    conn.timer = null;
    conn.watch.clear();
    conn.sending = null;
    if (connections.size === 0 && building === null) letGo(); // else once the sample being built is done
  }

  function start(req: IncomingMessage, res: ServerResponse, delayMs: number): void {
    const watch = new WriteWatch(res, writeTimeout, () => {
      droppedClients++;
      const bufferedBytes = res.writableLength;
      end(conn);
      res.destroy();
      if (events.listenerCount('clientDropped') !== 0) events.emit('clientDropped', { reason: 'writeTimeout', bufferedBytes });
    });
    const conn: Connection = { res, delayMs, watch, timer: null, waitingForDrain: false, sending: null, nextPiece: 0 };
    connections.add(conn);
    res.on('drain', () => {
      conn.waitingForDrain = false;
      watch.clear();
      // The next piece on a later turn, as after a write the socket took: a write the socket takes at once emits
      // `drain` on the next tick, and pumping from here would write piece after piece in one event-loop turn.
      if (conn.sending !== null) setImmediate(pump, conn);
    });
    res.once('close', () => end(conn));
    req.socket.setNoDelay(true);
    res.writeHead(200, STREAM_HEADERS);
    write(conn, PING);
    const arm = (): void => {
      if (connections.has(conn) && conn.timer === null) conn.timer = getClock().setTimer(tick, conn.delayMs);
    };
    const tick = (): void => {
      conn.timer = null;
      if (!connections.has(conn)) return;
      // Still writing the previous sample, or the socket is backed up: skip this one (never queue, never interleave).
      if (conn.sending !== null || conn.waitingForDrain || res.writableLength > MAX_BUFFERED_BYTES) {
        droppedSamples++;
        return arm();
      }
      withSample((sample) => {
        if (!connections.has(conn)) return;
        conn.sending = sample;
        conn.nextPiece = 0;
        pump(conn);
        arm();
      });
    };
    conn.timer = getClock().setTimer(tick, delayMs);
  }

  /**
   * Writes the next piece of the client's sample; the rest follows on a later turn (`setImmediate`, so I/O, timers
   * and other clients run in between), or on `drain` when the socket asked to wait. Only one such chain runs per
   * connection: a new sample starts only once the previous one was handed over and the socket drained (`tick`).
   */
  function pump(conn: Connection): void {
    const sample = conn.sending;
    // The guards of the chain: stop once the client is gone. Either `end()` let go of its sample (the client closed,
    // the handler was closed, the client was dropped), or the response can take no more (its socket was destroyed by
    // something else, a framework's timeout, and its 'close' event, which calls `end()`, has not come yet).
    if (sample === null || conn.res.socket?.writable !== true) return;
    const piece = sample.piece(conn.nextPiece++)!;
    const ok = write(conn, piece);
    // The last piece handed over, the sample is done (a tick may start the next one once the socket drained).
    if (!sample.has(conn.nextPiece)) conn.sending = null;
    else if (ok) setImmediate(pump, conn);
    // else `drain` resumes
  }

  /** Writes `text`; false when the socket asked to wait for `drain`. */
  function write(conn: Connection, text: string): boolean {
    const ok = conn.res.write(text);
    flushFrame(conn.res);
    if (!ok) {
      conn.waitingForDrain = true;
      conn.watch.blocked();
    }
    return ok;
  }

  function admit(req: IncomingMessage, res: ServerResponse, delayMs: number): void {
    if (res.headersSent) return alreadyAnswered(req, res, 200);
    if (res.destroyed || req.socket.destroyed) return; // the client left while being authorised
    if (closed) return refuse(req, res, 503, 'Service has been shut down.');
    if (connections.size >= maxConnections) return refuse(req, res, 503, `MaxConcurrentConnections reached: ${maxConnections}`);
    if (req.method === 'HEAD') {
      res.writeHead(200, STREAM_HEADERS);
      res.end();
      return;
    }
    start(req, res, delayMs);
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (res.headersSent) return alreadyAnswered(req, res, 200);
    if (closed) return refuse(req, res, 503, 'Service has been shut down.');
    if (req.method !== 'GET' && req.method !== 'HEAD') return refuse(req, res, 405, 'Method Not Allowed', { Allow: 'GET, HEAD' });
    if (!isHostAllowed(req, hosts)) return refuse(req, res, HOST_REFUSED.status, HOST_REFUSED.message);
    const requested = parseDelay(req.url);
    if (requested !== undefined && Number.isNaN(requested)) return refuse(req, res, 400, 'delay must be a number of milliseconds');
    const delayMs =
      requested === undefined ? intervalMs : Math.min(MAX_STREAM_DELAY_MS, Math.max(minDelay, requested));
    if (authorize === undefined) return admit(req, res, delayMs);
    let verdict: boolean | PromiseLike<boolean>;
    try {
      verdict = authorize(req);
    } catch {
      return refuse(req, res, 500, 'Internal Server Error');
    }
    if (typeof verdict === 'boolean') {
      return verdict ? admit(req, res, delayMs) : refuse(req, res, 403, 'Forbidden');
    }
    Promise.resolve(verdict).then(
      (ok) => (ok === true ? admit(req, res, delayMs) : refuse(req, res, 403, 'Forbidden')),
      () => refuse(req, res, 500, 'Internal Server Error'),
    );
  };

  return Object.assign(handler, {
    close(): void {
      closed = true;
      for (const conn of [...connections]) {
        end(conn);
        if (conn.waitingForDrain || conn.res.writableLength > 0) conn.res.destroy();
        else conn.res.end();
      }
      shared = null;
    },
    stats(): HystrixStreamStats {
      let bufferedBytes = 0;
      for (const conn of connections) bufferedBytes += conn.res.writableLength;
      return { connections: connections.size, droppedSamples, bufferedBytes, droppedClients };
    },
    events: events as EventEmitter<HystrixStreamEvents>,
  });
}
