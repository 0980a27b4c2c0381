import { createServer, get, type IncomingMessage, type RequestListener, type Server } from 'node:http';
import { connect, type AddressInfo, type Socket } from 'node:net';

/** A loopback HTTP server on a free port, closed (with every connection) by `close()`. */
export interface LocalServer {
  readonly server: Server;
  readonly port: number;
  readonly url: string;
  close(): Promise<void>;
}

/** Starts `listener` on 127.0.0.1 and a free port. */
export async function startLocalServer(listener: RequestListener): Promise<LocalServer> {
  const server = createServer(listener);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    server,
    port,
    url: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** An open streaming response whose body is collected as text. */
export interface OpenStream {
  readonly res: IncomingMessage;
  /** Everything received so far. */
  text(): string;
  /** Resolves once `predicate(text)` holds; rejects after `timeoutMs` of real time (a bound, not a sleep). */
  waitFor(predicate: (text: string) => boolean, timeoutMs?: number): Promise<string>;
  /** Resolves when the server ends the response or the connection closes. */
  readonly ended: Promise<void>;
  /** Destroys the client side of the connection. */
  close(): void;
}

/** GETs `url` without connection reuse and collects the streamed body. */
export function openStream(url: string, headers: Record<string, string> = {}): Promise<OpenStream> {
  return new Promise((resolve, reject) => {
    const req = get(url, { agent: false, headers }, (res) => {
      let body = '';
      const waiters = new Set<() => void>();
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => {
        body += chunk;
        for (const w of [...waiters]) w();
      });
      const ended = new Promise<void>((done) => {
        res.once('end', () => done());
        res.once('close', () => done());
      });
      resolve({
        res,
        text: () => body,
        ended,
        close: () => req.destroy(),
        waitFor(predicate, timeoutMs = 3000) {
          if (predicate(body)) return Promise.resolve(body);
          return new Promise<string>((ok, fail) => {
            const timer = setTimeout(() => {
              waiters.delete(check);
              fail(new Error(`timed out waiting; received so far:\n${body.slice(-500)}`));
            }, timeoutMs);
            const check = (): void => {
              if (!predicate(body)) return;
              clearTimeout(timer);
              waiters.delete(check);
              ok(body);
            };
            waiters.add(check);
            void ended.then(() => {
              if (waiters.has(check)) {
                clearTimeout(timer);
                waiters.delete(check);
                if (predicate(body)) ok(body);
                else fail(new Error(`stream ended; received:\n${body.slice(-500)}`));
              }
            });
          });
        },
      });
    });
    req.once('error', reject);
  });
}

/** Lets pending I/O callbacks run (one macrotask turn), without waiting for time to pass. */
export function turn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/**
 * A raw client that sends `GET path` and reads nothing (a paused socket), so the server's writes back up once the
 * kernel buffers fill. The caller destroys it.
 */
export function silentClient(port: number, path: string, host = '127.0.0.1'): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = connect({ port, host: '127.0.0.1' }, () => {
      socket.pause();
      socket.write(`GET ${path} HTTP/1.1\r\nHost: ${host}\r\n\r\n`);
      resolve(socket);
    });
    socket.once('error', reject);
  });
}
