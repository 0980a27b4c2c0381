/**
 * @internal an incremental Server-Sent Events reader for Hystrix streams: feed it text chunks as they arrive; it
 * calls `onData` with each event's data (the `data:` lines of one event joined by `\n`) and `onComment` for lines
 * that carry no data (`ping:`, `: comment`), which count as heartbeats. A line longer than `maxLineLength` is an
 * error (a broken or hostile upstream must not make the turbine buffer without bound).
 */
export class SseParser {
  private buffer = '';
  private data: string[] = [];

  constructor(
    private readonly onData: (data: string) => void,
    private readonly onComment: () => void,
    private readonly maxLineLength = 1 << 20,
  ) {}

  /** Reads one chunk; throws a RangeError when a line exceeds the limit. */
  push(chunk: string): void {
    this.buffer += chunk;
    let start = 0;
    for (;;) {
      const nl = this.buffer.indexOf('\n', start);
      if (nl === -1) break;
      let line = this.buffer.slice(start, nl);
      if (line.endsWith('\r')) line = line.slice(0, -1);
      start = nl + 1;
      this.line(line);
    }
    this.buffer = this.buffer.slice(start);
    if (this.buffer.length > this.maxLineLength) {
      this.buffer = '';
      throw new RangeError(`stream line longer than ${this.maxLineLength} characters`);
    }
  }

  private line(line: string): void {
    if (line === '') {
      if (this.data.length > 0) {
        const data = this.data.join('\n');
        this.data = [];
        this.onData(data);
      }
      return;
    }
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field === 'data') {
      let value = colon === -1 ? '' : line.slice(colon + 1);
      if (value.startsWith(' ')) value = value.slice(1);
      this.data.push(value);
    } else {
      this.onComment();
    }
  }
}
