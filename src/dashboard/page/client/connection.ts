/**
 * One stream connection read with `fetch` (not EventSource, which hides why a connection failed): frames are
 * parsed as Server-Sent Events, a failure is reported with the server's own words (the relay answers
 * `502 upstream stream 0 is unreachable (ECONNREFUSED)`), and the connection is retried with a backoff that is
 * shown on the page.
 */
import { retryDelayMs, SseParser } from './sse.js';

/** What a connection is doing, for the stream badge and the problems list. */
export type ConnectionStatus =
  | { readonly kind: 'connecting'; readonly attempt: number }
  | { readonly kind: 'live'; readonly since: number }
  | { readonly kind: 'down'; readonly error: string; readonly attempt: number; readonly retryAt: number };

/** Callbacks of {@link connect}. */
export interface ConnectionHandlers {
  /** One parsed `data:` object (or array of objects). */
  onData(value: unknown): void;
  /** The status changed. */
  onStatus(status: ConnectionStatus): void;
}

/** The longest the page parses stream data before it lets input and rendering run. */
const SLICE_MS = 6;

function yieldToBrowser(): Promise<void> {
  return new Promise((resolve) => window.setTimeout(resolve, 0));
}

/** Opens `url` and keeps it open: reconnects after any failure or end, until `stop()`. */
export function connect(url: string, handlers: ConnectionHandlers): { stop(): void } {
  let failures = 0;
  let stopped = false;
  let controller: AbortController | undefined;
  let retryTimer = 0;

  const fail = (error: string): void => {
    if (stopped) return;
    failures++;
    const delay = retryDelayMs(failures, Math.random());
    handlers.onStatus({ kind: 'down', error, attempt: failures, retryAt: performance.now() + delay });
    retryTimer = window.setTimeout(open, delay);
  };

  async function open(): Promise<void> {
    if (stopped) return;
    controller = new AbortController();
    handlers.onStatus({ kind: 'connecting', attempt: failures + 1 });
    let response: Response;
    try {
      response = await fetch(url, { headers: { accept: 'text/event-stream' }, cache: 'no-store', signal: controller.signal });
    } catch {
      return fail('the dashboard server does not answer');
    }
    if (!response.ok || response.body === null) {
      let text = '';
      try {
        text = (await response.text()).trim().slice(0, 300);
      } catch {
        // the status alone says enough
      }
      return fail(`${response.status} ${text || response.statusText}`.trim());
    }
    handlers.onStatus({ kind: 'live', since: performance.now() });
    const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
    const parser = new SseParser();
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        const events = parser.push(value);
        if (events.length === 0) continue;
        failures = 0; // data flows again: the next failure starts the backoff from 1 s
        let sliceStart = performance.now();
        for (const text of events) {
          // A sample of 1,000 keys is one big chunk: parse it in slices, so a key press or a scroll waits a few
          // milliseconds, never the whole chunk.
          if (performance.now() - sliceStart > SLICE_MS) {
            await yieldToBrowser();
            sliceStart = performance.now();
          }
          let value: unknown;
          try {
            value = JSON.parse(text);
          } catch {
            continue;
          }
          handlers.onData(value);
        }
      }
    } catch {
      return fail('the connection was cut');
    }
    fail('the stream ended');
  }

  void open();
  return {
    stop() {
      stopped = true;
      window.clearTimeout(retryTimer);
      controller?.abort();
    },
  };
}
