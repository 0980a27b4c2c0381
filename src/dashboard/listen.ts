import type { Server } from 'node:http';
import { configError } from '../errors.js';

/** @internal a server that listens, with its base URL and a close that ends every connection. */
export interface Listening {
  /** `http://host:port/` as a browser on this machine can open it. */
  readonly baseUrl: string;
  readonly port: number;
  /** Runs `cleanup`, stops listening and ends every connection, live streams included. Safe to call twice. */
  close(): Promise<void>;
}

/**
 * @internal makes `server` listen on `host:port`, resolving once it does; `cleanup` (ending streams, unregistering
 * collectors) runs if it cannot listen, and first thing on close.
 */
export async function listenServer(server: Server, port: number, host: string, cleanup: () => void): Promise<Listening> {
  await new Promise<void>((resolve, reject) => {
    const onError = (error: Error): void => {
      cleanup();
      reject(error);
    };
    server.once('error', onError);
    server.listen({ port, host }, () => {
      server.off('error', onError);
      resolve();
    });
  });
  const address = server.address();
  const boundPort = typeof address === 'object' && address !== null ? address.port : port;
  let closing: Promise<void> | undefined;
  return {
    baseUrl: `http://${urlHost(host)}:${boundPort}/`,
    port: boundPort,
    close() {
      closing ??= new Promise<void>((resolve) => {
        cleanup();
        server.close(() => resolve());
        server.closeIdleConnections();
        // Streams ended by cleanup leave their sockets open (keep-alive); nothing else may keep the server up.
        setImmediate(() => server.closeAllConnections());
      });
      return closing;
    },
  };
}

/** @internal checks a `host` option (also used by the turbine and the cluster primary). */
export function expectHost(value: unknown, option = 'startDashboard.host'): string {
  if (typeof value !== 'string') throw configError(option, 'a host name or IP address', value, 'type');
  if (value.length === 0 || value.length > 253 || /[\s/?#@]/.test(value)) {
    throw configError(option, 'a host name or IP address', value, 'range');
  }
  return value;
}

/** @internal the host as it goes in a URL a browser on this machine can open. */
export function urlHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '[::1]';
  if (host.includes(':') && !host.startsWith('[')) return `[${host}]`;
  return host;
}

/** @internal the path of a request URL, without the query. */
export function pathOf(url: string | undefined): string {
  if (url === undefined) return '/';
  const q = url.indexOf('?');
  return q === -1 ? url : url.slice(0, q);
}
