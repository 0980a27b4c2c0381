/** Server-Sent Events framing and the reconnection backoff (pure: no DOM, unit-tested in node). */

/** Backoff after the n-th failure in a row: 1, 2, 4, 8 s, then 10 s, with ±20 % jitter so pages do not sync up. */
export function retryDelayMs(failures: number, random: number): number {
  const base = Math.min(10_000, 1000 * 2 ** Math.max(0, failures - 1));
  return Math.round(base * (0.8 + 0.4 * random));
}

/** Splits a text stream into SSE `data` payloads; `push` returns the complete events in this chunk. */
export class SseParser {
  private buffer = '';
  private data: string[] = [];

  push(chunk: string): string[] {
    this.buffer += chunk;
    const events: string[] = [];
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl === -1) break;
      let line = this.buffer.slice(start, nl);
      start = nl + 1;
      if (line.endsWith('\r')) line = line.slice(0, -1);
      if (line === '') {
        if (this.data.length > 0) events.push(this.data.join('\n'));
        this.data = [];
      } else if (line.startsWith('data:')) {
        this.data.push(line.charCodeAt(5) === 32 ? line.slice(6) : line.slice(5));
      }
      // Other fields (event:, id:, retry:) and comments or `ping:` heartbeats carry nothing the page reads.
    }
    this.buffer = this.buffer.slice(start);
    return events;
  }
}
