import { request as httpRequest, type IncomingMessage } from 'node:http';
import { request as httpsRequest } from 'node:https';
import type { Clock, TimerHandle } from '../time/Clock.js';
import { reconnectDelay } from './backoff.js';
import type { FleetObject } from './aggregate.js';
import { SseParser } from './SseParser.js';

/** @internal what a transport reports about one connection attempt. */
export interface TransportHandlers {
  /** The instance answered 200 with a stream. */
  onOpen(): void;
  /** A chunk of the stream's text. */
  onChunk(text: string): void;
  /** The connection failed or ended; `reason` is short and holds no secrets (an error code, `HTTP 503`, …). */
  onError(reason: string): void;
}

/** @internal opens one stream connection; `close()` ends it without calling back. */
export type StreamTransport = (url: URL, handlers: TransportHandlers) => { close(): void };

/** @internal the turbine's view of one upstream's connection. */
export type UpstreamState = 'connecting' | 'up' | 'down';

/** @internal what the turbine needs from an upstream besides its objects. */
export interface UpstreamSink {
  accept(id: string, object: FleetObject, nowMs: number): void;
  touch(id: string, nowMs: number): void;
  remove(id: string): void;
}

/** @internal a plain HTTP(S) GET of an SSE stream (no connection reuse, no redirects). */
export const httpTransport: StreamTransport = (url, handlers) => {
  let done = false;
  const fail = (reason: string): void => {
    if (done) return;
    done = true;
    req.destroy();
    handlers.onError(reason);
  };
  const send = url.protocol === 'https:' ? httpsRequest : httpRequest;
  const req = send(url, { method: 'GET', agent: false, headers: { accept: 'text/event-stream' } }, (res: IncomingMessage) => {
    if (res.statusCode !== 200) {
      res.resume();
      return fail(`HTTP ${String(res.statusCode)}`);
    }
    res.setEncoding('utf8');
    handlers.onOpen();
    res.on('data', (chunk: string) => {
      if (!done) handlers.onChunk(chunk);
    });
    res.once('end', () => fail('closed by the instance'));
    res.once('close', () => fail('closed by the instance'));
    res.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? 'read error'));
  });
  req.once('error', (error: NodeJS.ErrnoException) => fail(error.code ?? 'connection error'));
  req.end();
  return {
    close() {
      done = true;
      req.destroy();
    },
  };
};

/**
 * @internal one upstream stream with its life cycle: connect, read objects into the sink, drop out of the sink
 * when the connection ends, errs or stays silent for `timeoutMs`, and reconnect after an exponential backoff with
 * jitter capped at 10 s (reset once the upstream delivers data again). All timers go through `clock`.
 */
export class Upstream {
  state: UpstreamState = 'connecting';
  /** Why the last connection ended (empty while none has). */
  reason = '';
  /** Failed attempts since the last good connection. */
  attempt = 0;
  /** When the current state began (clock ms). */
  sinceMs: number;
  private connection: { close(): void } | null = null;
  private timer: TimerHandle | null = null;
  private lastActivityMs = 0;
  private closed = false;
  private reported = false;
  /** Bumped per connection and on drop/close, so callbacks of an ended connection change nothing. */
  private generation = 0;

  constructor(
    readonly id: string,
    readonly url: URL,
    private readonly sink: UpstreamSink,
    private readonly clock: Clock,
    private readonly timeoutMs: number,
    private readonly transport: StreamTransport = httpTransport,
    private readonly random: () => number = Math.random,
  ) {
    this.sinceMs = clock.now();
    this.connect();
  }

  /** Stops for good: ends the connection and forgets the upstream's objects. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.generation++;
    this.cancelTimer();
    this.connection?.close();
    this.connection = null;
    this.sink.remove(this.id);
  }

  private connect(): void {
    if (this.closed) return;
    this.setState('connecting');
    this.reported = false;
    this.lastActivityMs = this.clock.now();
    const generation = ++this.generation;
    const current = (): boolean => generation === this.generation;
    let parser: SseParser | null = null;
    const onObject = (data: string): void => {
      if (!current()) return;
      let object: unknown;
      try {
        object = JSON.parse(data);
      } catch {
        return; // one bad frame is skipped, as the dashboard does
      }
      if (typeof object !== 'object' || object === null || Array.isArray(object)) return;
      this.reported = true;
      this.attempt = 0;
      if (this.state !== 'up') this.setState('up');
      this.sink.accept(this.id, object as FleetObject, this.clock.now());
    };
    const onHeartbeat = (): void => {
      if (current()) this.sink.touch(this.id, this.clock.now());
    };
    this.connection = this.transport(this.url, {
      onOpen: () => {
        if (!current()) return;
        parser = new SseParser(onObject, onHeartbeat);
        this.lastActivityMs = this.clock.now();
      },
      onChunk: (text) => {
        if (!current()) return;
        this.lastActivityMs = this.clock.now();
        try {
          parser?.push(text);
        } catch {
          this.drop('a stream line too long');
        }
      },
      onError: (reason) => {
        if (current()) this.drop(reason);
      },
    });
    this.armWatchdog();
  }

  private armWatchdog(): void {
    this.cancelTimer();
    const due = this.lastActivityMs + this.timeoutMs - this.clock.now();
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      if (this.closed || this.connection === null) return;
      if (this.clock.now() - this.lastActivityMs >= this.timeoutMs) this.drop(`silent for ${this.timeoutMs} ms`);
      else this.armWatchdog();
    }, Math.max(1, due));
  }

  private drop(reason: string): void {
    if (this.closed || this.connection === null) return;
    const connection = this.connection;
    this.connection = null;
    this.generation++;
    connection.close();
    this.cancelTimer();
    this.sink.remove(this.id);
    this.reason = reason;
    if (!this.reported) this.attempt++;
    else this.attempt = 0;
    this.setState('down');
    const delay = reconnectDelay(Math.max(0, this.attempt - 1), this.random());
    this.timer = this.clock.setTimer(() => {
      this.timer = null;
      this.connect();
    }, delay);
  }

  private setState(state: UpstreamState): void {
    this.state = state;
    this.sinceMs = this.clock.now();
  }

  private cancelTimer(): void {
    this.timer?.cancel();
    this.timer = null;
  }
}
