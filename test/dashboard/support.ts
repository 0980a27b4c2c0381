import { get, request, type IncomingHttpHeaders, type IncomingMessage } from 'node:http';

/** A finished response. */
export interface Reply {
  readonly status: number;
  readonly headers: IncomingHttpHeaders;
  readonly body: string;
}

/** One request without connection reuse; the body is read to the end. */
export function send(url: string, { method = 'GET', headers = {} }: { method?: string; headers?: Record<string, string> } = {}): Promise<Reply> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method, agent: false, headers }, (res) => {
      let body = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, body }));
      res.on('error', reject);
    });
    req.setTimeout(5000, () => req.destroy(new Error(`no answer from ${url}`)));
    req.on('error', reject);
    req.end();
  });
}

/** A streaming GET whose body is collected as text. */
export interface LiveStream {
  readonly res: IncomingMessage;
  text(): string;
  /** The `data:` objects received so far (complete frames only). */
  objects(): Record<string, unknown>[];
  /** Resolves once `predicate` holds; rejects after `timeoutMs` of real time (a bound, not a sleep). */
  waitFor(predicate: (s: LiveStream) => boolean, timeoutMs?: number): Promise<void>;
  /** Resolves when the response ends or the connection closes. */
  readonly ended: Promise<void>;
  close(): void;
}

export function openStream(url: string, headers: Record<string, string> = {}): Promise<LiveStream> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers }, (res) => {
      let body = '';
      const checks = new Set<() => void>();
      const ended = new Promise<void>((done) => {
        res.once('end', () => done());
        res.once('close', () => done());
        res.once('error', () => done());
      });
      const stream: LiveStream = {
        res,
        text: () => body,
        objects() {
          const complete = body.slice(0, body.lastIndexOf('\n\n') + 2);
          return complete
            .split('\n\n')
            .filter((f) => f.startsWith('data: '))
            .map((f) => JSON.parse(f.slice(6)) as Record<string, unknown>);
        },
        waitFor(predicate, timeoutMs = 5000) {
          if (predicate(stream)) return Promise.resolve();
          return new Promise<void>((ok, fail) => {
            const timer = setTimeout(() => {
              checks.delete(check);
              fail(new Error(`timed out; received so far:\n${body.slice(-400)}`));
            }, timeoutMs);
            const check = (): void => {
              if (!predicate(stream)) return;
              clearTimeout(timer);
              checks.delete(check);
              ok();
            };
            checks.add(check);
          });
        },
        ended,
        close: () => req.destroy(),
      };
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        for (const c of [...checks]) c();
      });
      resolve(stream);
    });
    req.once('error', reject);
  });
}

/** Rejects if `promise` has not settled within `ms` (real time). */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  return Promise.race([
    promise.finally(() => clearTimeout(timer)),
    new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`${what} did not happen within ${ms} ms`)), ms);
    }),
  ]);
}
