import { request as httpRequest, type ClientRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { request as httpsRequest } from 'node:https';
import { configError } from '../errors.js';
import { plainReply } from '../stream/plainReply.js';
import { STREAM_HEADERS } from '../stream/sseHandler.js';
import { DEFAULT_WRITE_TIMEOUT_MS, flushFrame, WriteWatch } from '../stream/writeWatch.js';

/** @internal how long an upstream may take to answer before the proxy gives up (ms). */
const CONNECT_TIMEOUT_MS = 10_000;
/**
 * @internal a viewer with more unread bytes than this gets no new frames until it catches up. A viewer that is merely
 * behind for a moment (its socket asked to wait for `drain`) still gets every frame up to this bound: at 10,000 keys
 * an upstream sample is a burst of about 25 MB, and skipping on every wait made a viewer that reads lose 7–28 % of
 * each sample's frames (bench `keys proxy`). So a viewer costs at most this plus one upstream chunk.
 */
const MAX_BUFFERED_BYTES = 1 << 20;
/** @internal an upstream that sends this much without ending a frame is cut off (it is not a Hystrix stream). */
const MAX_PARTIAL_FRAME = 8 << 20;

/** One page connected to a relay. */
interface Viewer {
  readonly res: ServerResponse;
  readonly watch: WriteWatch;
}

/** One upstream connection, shared by every viewer of its `/proxy/<n>`. */
interface Relay {
  readonly index: number;
  readonly viewers: Set<Viewer>;
  upstream: ClientRequest | null;
  /** True once the upstream answered 200 (viewers then get their headers at once). */
  live: boolean;
  /** The end of the last incomplete frame received. */
  partial: string;
}

/**
 * @internal relays upstream Hystrix streams to the dashboard page at `/proxy/<n>`, so the page stays same-origin
 * (and its Content-Security-Policy can stay `connect-src 'self'`). Each configured stream has at most ONE upstream
 * connection, opened when its first viewer arrives and closed when its last one leaves, and every viewer gets
 * whole frames from it, each upstream chunk as it arrives (a chunk is at most 64 KB: one event-loop turn relays it
 * to every viewer): a viewer that is behind by more than {@link MAX_BUFFERED_BYTES} skips frames (never a partial
 * one) instead of buffering without bound or slowing the others, and one that takes no byte for `writeTimeout` is
 * disconnected.
 */
export class StreamProxy {
  private readonly relays = new Map<number, Relay>();
  private viewerCount = 0;
  private closed = false;

  constructor(
    /** The upstream streams, in `/proxy/<n>` order. */
    readonly upstreams: readonly URL[],
    private readonly maxConnections: number,
    private readonly writeTimeout: number = DEFAULT_WRITE_TIMEOUT_MS,
  ) {}

  /** Viewers connected, over every relay. */
  get size(): number {
    return this.viewerCount;
  }

  /** Upstream connections open (at most one per configured stream). */
  get upstreamCount(): number {
    let n = 0;
    for (const relay of this.relays.values()) if (relay.upstream !== null) n++;
    return n;
  }

  /** Relays upstream `index` to `res`; answers 404 for an unknown index and 503 past the connection cap. */
  handle(index: number, req: IncomingMessage, res: ServerResponse): void {
    const target = this.upstreams[index];
    if (target === undefined) return plain(res, 404, 'not found\n');
    if (this.closed) return plain(res, 503, 'dashboard is closing\n');
    if (this.viewerCount >= this.maxConnections) return plain(res, 503, 'too many stream connections\n');
    if (req.method === 'HEAD') {
      // What a GET would start with, without opening (or counting on) the upstream.
      res.writeHead(200, STREAM_HEADERS);
      res.end();
      return;
    }
    let relay = this.relays.get(index);
    if (relay === undefined) {
      relay = { index, viewers: new Set(), upstream: null, live: false, partial: '' };
      this.relays.set(index, relay);
    }
    const r = relay;
    const viewer: Viewer = {
      res,
      watch: new WriteWatch(res, this.writeTimeout, () => {
        this.leave(r, viewer);
        res.destroy();
      }),
    };
    r.viewers.add(viewer);
    this.viewerCount++;
    res.on('drain', () => viewer.watch.clear());
    res.once('close', () => this.leave(r, viewer));
    if (r.live) this.open(viewer);
    if (r.upstream === null) this.connect(r, target);
  }

  /** Ends every relay; later requests get 503. */
  close(): void {
    this.closed = true;
    for (const relay of [...this.relays.values()]) this.endRelay(relay);
  }

  private open(viewer: Viewer): void {
    viewer.res.writeHead(200, STREAM_HEADERS);
    viewer.res.flushHeaders();
  }

  private leave(relay: Relay, viewer: Viewer): void {
    if (!relay.viewers.delete(viewer)) return;
    this.viewerCount--;
    viewer.watch.clear();
    if (!viewer.res.writableEnded) viewer.res.end();
    if (relay.viewers.size === 0) this.endRelay(relay);
  }

  /** Closes the upstream and ends every viewer of a relay (their EventSource reconnects). */
  private endRelay(relay: Relay, refusal?: string): void {
    if (this.relays.get(relay.index) !== relay) return;
    this.relays.delete(relay.index);
    relay.upstream?.destroy();
    relay.upstream = null;
    for (const viewer of [...relay.viewers]) {
      relay.viewers.delete(viewer);
      this.viewerCount--;
      viewer.watch.clear();
      if (refusal !== undefined && !viewer.res.headersSent) plain(viewer.res, 502, refusal);
      else if (!viewer.res.writableEnded) viewer.res.end();
    }
  }

  private connect(relay: Relay, target: URL): void {
    const send = target.protocol === 'https:' ? httpsRequest : httpRequest;
    const upstream = send(target, { method: 'GET', headers: { accept: 'text/event-stream' } });
    relay.upstream = upstream;
    upstream.setTimeout(CONNECT_TIMEOUT_MS, () => upstream.destroy(new Error('upstream timed out')));
    upstream.on('response', (up) => {
      upstream.setTimeout(0);
      if (up.statusCode !== 200) {
        up.resume();
        return this.endRelay(relay, `upstream stream ${relay.index} answered ${String(up.statusCode)}\n`);
      }
      relay.live = true;
      for (const viewer of relay.viewers) this.open(viewer);
      up.setEncoding('utf8');
      up.on('data', (chunk: string) => this.fanOut(relay, chunk));
      up.on('end', () => this.endRelay(relay));
      up.on('error', () => this.endRelay(relay));
    });
    upstream.on('error', (error: NodeJS.ErrnoException) => {
      // The code (ECONNREFUSED, ENOTFOUND, …) tells the page why; never the address or a message that may hold secrets.
      const code = error.code ?? '';
      const why = /^E[A-Z0-9_]{2,30}$/.test(code) ? ` (${code})` : error.message === 'upstream timed out' ? ' (timed out)' : '';
      this.endRelay(relay, `upstream stream ${relay.index} is unreachable${why}\n`);
    });
    upstream.end();
  }

  /** Sends the complete frames of `chunk` to every viewer that is keeping up. */
  private fanOut(relay: Relay, chunk: string): void {
    const text = relay.partial + chunk;
    // SSE frames end with a blank line: "\n\n" (Hystrix, breakwater) or "\r\n\r\n".
    const lf = text.lastIndexOf('\n\n');
    const crlf = text.lastIndexOf('\r\n\r\n');
    const cut = Math.max(lf < 0 ? 0 : lf + 2, crlf < 0 ? 0 : crlf + 4);
    if (cut === 0) {
      relay.partial = text;
      if (text.length > MAX_PARTIAL_FRAME) this.endRelay(relay);
      return;
    }
    relay.partial = text.slice(cut);
    const frames = text.slice(0, cut);
    for (const viewer of relay.viewers) {
      const res = viewer.res;
      if (res.writableLength > MAX_BUFFERED_BYTES) continue; // skipped, never queued beyond the bound
      const ok = res.write(frames);
      flushFrame(res);
      if (!ok) viewer.watch.blocked();
    }
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
  if (!plainReply(res, status, body) && res.headersSent && !res.writableEnded) res.end();
}
