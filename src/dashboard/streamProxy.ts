import { request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { configError } from '../errors.js';

/** @internal how long an upstream may take to answer before the proxy gives up (ms). */
const CONNECT_TIMEOUT_MS = 10_000;

/**
 * @internal relays upstream Hystrix streams to the dashboard page at `/proxy/<n>`, so the page stays same-origin
 * (and its Content-Security-Policy can stay `connect-src 'self'`). Bytes are piped unchanged with back-pressure:
 * a slow page pauses the upstream socket instead of buffering without bound.
 */
export class StreamProxy {
  private readonly live = new Set<{ upstream: ClientRequest; res: ServerResponse }>();
  private closed = false;

  constructor(
    /** The upstream streams, in `/proxy/<n>` order. */
    readonly upstreams: readonly URL[],
    private readonly maxConnections: number,
  ) {}

  /** Open relays. */
  get size(): number {
    return this.live.size;
  }

  /** Relays upstream `index` to `res`; answers 404 for an unknown index and 503 past the connection cap. */
  handle(index: number, req: IncomingMessage, res: ServerResponse): void {
    const target = this.upstreams[index];
    if (target === undefined) return plain(res, 404, 'not found\n');
    if (this.closed) return plain(res, 503, 'dashboard is closing\n');
    if (this.live.size >= this.maxConnections) return plain(res, 503, 'too many stream connections\n');
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(target, { method: 'GET', headers: { accept: 'text/event-stream' } });
    const entry = { upstream, res };
    this.live.add(entry);
    const finish = (): void => {
      this.live.delete(entry);
      upstream.destroy();
      if (!res.writableEnded) res.end();
    };
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('upstream timed out')));
    upstream.on('response', (up) => {
      upstream.setTimeout(0);
      if (up.statusCode !== 200) {
        up.resume();
        this.live.delete(entry);
        upstream.destroy();
        return plain(res, 502, `upstream stream ${index} answered ${String(up.statusCode)}\n`);
      }
      res.writeHead(200, {
        'content-type': 'text/event-stream;charset=UTF-8',
        'cache-control': 'no-cache, no-store, max-age=0, must-revalidate',
        connection: 'keep-alive',
        'x-accel-buffering': 'no',
      });
      res.flushHeaders();
      up.pipe(res, { end: false });
      up.on('end', finish);
      up.on('error', finish);
    });
    upstream.on('error', () => {
      this.live.delete(entry);
      if (!res.headersSent) plain(res, 502, `upstream stream ${index} is unreachable\n`);
      else if (!res.writableEnded) res.end();
    });
    req.on('close', finish);
    res.on('close', finish);
    upstream.end();
  }

  /** Ends every relay; later requests get 503. */
  close(): void {
    this.closed = true;
    for (const { upstream, res } of [...this.live]) {
      upstream.destroy();
      if (!res.writableEnded) res.end();
    }
    this.live.clear();
  }
}

/** @internal checks and parses the `streams` option: absolute http(s) URLs. */
export function parseUpstreams(streams: unknown, option = 'streams'): URL[] {
  if (streams === undefined) return [];
  if (!Array.isArray(streams)) throw configError(option, 'an array of http(s) URLs', streams, 'type');
  return streams.map((s, i) => {
    if (typeof s !== 'string' && !(s instanceof URL)) throw configError(`${option}[${i}]`, 'an http(s) URL', s, 'type');
    let url: URL;
    try {
      url = new URL(String(s));
    } catch {
      throw configError(`${option}[${i}]`, 'an absolute http(s) URL', s, 'range');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw configError(`${option}[${i}]`, 'an http: or https: URL', String(s), 'range');
    }
    return url;
  });
}

/** @internal a label for a stream that shows where it comes from but no credentials or query (which may hold tokens). */
export function streamLabel(url: URL): string {
  return url.host + (url.pathname === '/' ? '' : url.pathname);
}

function plain(res: ServerResponse, status: number, body: string): void {
  if (res.headersSent) {
    if (!res.writableEnded) res.end();
    return;
  }
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'cache-control': 'no-store' });
  res.end(body);
}
