import type { IncomingMessage, ServerResponse } from 'node:http';
import { getClock } from '../config/store.js';
import { expectFunction, expectNumber, readKnown } from '../config/validate.js';
import type { TimerHandle } from '../time/Clock.js';
import { expectInterval } from './dashboardEvents.js';
import { hystrixDashboardSample } from './hystrixJson.js';

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
}

/** Live figures of a stream handler. */
export interface HystrixStreamStats {
  /** Connections streaming now. */
  readonly connections: number;
  /** Samples skipped because a client had not yet read the previous ones (over the handler's life). */
  readonly droppedSamples: number;
  /** Bytes written but not yet accepted by the sockets, over all connections. */
  readonly bufferedBytes: number;
}

/**
 * A Node `(req, res)` handler serving the `hystrix.stream`, with a way to end it.
 */
export interface HystrixStreamHandler {
  /** Serves one request (mount it on any path, e.g. `/hystrix.stream`). */
  (req: IncomingMessage, res: ServerResponse): void;
  /** Ends every live stream connection; later requests are answered `503`. Idempotent. */
  close(): void;
  /** Connections, dropped samples and buffered bytes right now. */
  stats(): HystrixStreamStats;
}

/** The smallest `?delay` honoured (ms), unless `intervalMs` itself is smaller. */
export const MIN_STREAM_DELAY_MS = 100;
/** The largest `?delay` honoured (ms). */
export const MAX_STREAM_DELAY_MS = 60_000;
/** A client with more unread bytes than this gets no new sample until it catches up. */
const MAX_BUFFERED_BYTES = 1 << 20;
/** Connections whose ticks fall this close together share one serialised sample. */
const SHARE_WINDOW_MS = 50;
const PING = 'ping: \n\n';

const HEADERS = {
  'Content-Type': 'text/event-stream;charset=UTF-8',
  'Cache-Control': 'no-cache, no-store, max-age=0, must-revalidate',
  Pragma: 'no-cache',
  Connection: 'keep-alive',
  'X-Accel-Buffering': 'no',
} as const;

interface Connection {
  readonly res: ServerResponse;
  readonly delayMs: number;
  timer: TimerHandle | null;
  waitingForDrain: boolean;
}

function plain(res: ServerResponse, status: number, message: string, extra: Record<string, string> = {}): void {
  if (res.headersSent || res.destroyed) return;
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8', 'Cache-Control': 'no-store', ...extra });
  res.end(`${message}\n`);
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
 * `Content-Type: text/event-stream;charset=UTF-8`, one `data: {json}\n\n` frame per command key, pool and
 * collapser every interval (the objects of {@link dashboardEvents}), `ping: \n\n` on connect and on samples with
 * nothing to send, and `?delay=MS` honoured (clamped to 100–60000 ms; not a number → `400`).
 *
 * Guards: `403` when `authorize(req)` says no, `503` beyond `maxConnections` and after `close()`, `405` for
 * anything but GET. Memory per client is bounded: while a client has not read the previous sample (the socket
 * asked to wait for `drain`) new samples are dropped, never queued. Disconnects cancel the client's timer.
 * Only command, group and pool names and numbers are sent.
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
  const raw = readKnown(options, 'hystrixStreamHandler', ['intervalMs', 'maxConnections', 'authorize']);
  const intervalMs = raw.intervalMs === undefined ? 500 : expectInterval(raw.intervalMs, 'hystrixStreamHandler.intervalMs');
  const maxConnections =
    raw.maxConnections === undefined
      ? 20
      : expectNumber(raw.maxConnections, 'hystrixStreamHandler.maxConnections', { min: 1, max: 100_000, integer: true });
  const authorize =
    raw.authorize === undefined
      ? undefined
      : (expectFunction(raw.authorize, 'hystrixStreamHandler.authorize') as (req: IncomingMessage) => boolean | PromiseLike<boolean>);
  const minDelay = Math.min(MIN_STREAM_DELAY_MS, intervalMs);

  const connections = new Set<Connection>();
  let closed = false;
  let droppedSamples = 0;
  let shared: { at: number; text: string } | null = null;

  /** The serialised sample, shared by connections ticking within a few ms of each other. */
  function sampleText(): string {
    const now = getClock().now();
    if (shared !== null && now - shared.at >= 0 && now - shared.at < SHARE_WINDOW_MS) return shared.text;
    let text = '';
    for (const object of hystrixDashboardSample()) text += `data: ${JSON.stringify(object)}\n\n`;
    if (text === '') text = PING;
    shared = { at: now, text };
    return text;
  }

  function end(conn: Connection): void {
    if (conn.timer !== null) conn.timer.cancel();
    conn.timer = null;
    connections.delete(conn);
  }

  function start(req: IncomingMessage, res: ServerResponse, delayMs: number): void {
    const conn: Connection = { res, delayMs, timer: null, waitingForDrain: false };
    connections.add(conn);
    const onDrain = (): void => {
      conn.waitingForDrain = false;
    };
    res.on('drain', onDrain);
    res.once('close', () => end(conn));
    req.socket.setNoDelay(true);
    res.writeHead(200, HEADERS);
    res.write(PING);
    const tick = (): void => {
      conn.timer = null;
      if (!connections.has(conn)) return;
      if (conn.waitingForDrain || res.writableLength > MAX_BUFFERED_BYTES) {
        droppedSamples++;
      } else {
        let text: string;
        try {
          text = sampleText();
        } catch {
          // A snapshot failed (a bug elsewhere): keep the connection alive with a heartbeat.
          text = PING;
        }
        if (!res.write(text)) conn.waitingForDrain = true;
      }
      if (connections.has(conn)) conn.timer = getClock().setTimer(tick, conn.delayMs);
    };
    conn.timer = getClock().setTimer(tick, delayMs);
  }

  function admit(req: IncomingMessage, res: ServerResponse, delayMs: number): void {
    if (res.destroyed || res.headersSent || req.socket.destroyed) return; // the client left while being authorised
    if (closed) return plain(res, 503, 'Service has been shut down.');
    if (connections.size >= maxConnections) return plain(res, 503, `MaxConcurrentConnections reached: ${maxConnections}`);
    start(req, res, delayMs);
  }

  const handler = (req: IncomingMessage, res: ServerResponse): void => {
    if (closed) return plain(res, 503, 'Service has been shut down.');
    if (req.method !== 'GET') return plain(res, 405, 'Method Not Allowed', { Allow: 'GET' });
    const requested = parseDelay(req.url);
    if (requested !== undefined && Number.isNaN(requested)) return plain(res, 400, 'delay must be a number of milliseconds');
    const delayMs =
      requested === undefined ? intervalMs : Math.min(MAX_STREAM_DELAY_MS, Math.max(minDelay, requested));
    if (authorize === undefined) return admit(req, res, delayMs);
    let verdict: boolean | PromiseLike<boolean>;
    try {
      verdict = authorize(req);
    } catch {
      return plain(res, 500, 'Internal Server Error');
    }
    if (typeof verdict === 'boolean') {
      return verdict ? admit(req, res, delayMs) : plain(res, 403, 'Forbidden');
    }
    Promise.resolve(verdict).then(
      (ok) => (ok === true ? admit(req, res, delayMs) : plain(res, 403, 'Forbidden')),
      () => plain(res, 500, 'Internal Server Error'),
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
      return { connections: connections.size, droppedSamples, bufferedBytes };
    },
  });
}
