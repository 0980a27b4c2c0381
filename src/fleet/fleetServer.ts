import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { listenServer, pathOf } from '../dashboard/listen.js';
import { HOST_REFUSED, isHostAllowed, type HostPolicy } from '../stream/hostCheck.js';
import { plainReply } from '../stream/plainReply.js';


/** A running fleet server (the turbine or the cluster primary's). */
export interface FleetServer {
  /** The server's base URL, e.g. `http://127.0.0.1:8989/`. */
  readonly baseUrl: string;
  /** The port it listens on (useful with `port: 0`). */
  readonly port: number;
  /** The underlying Node HTTP server. */
  readonly server: Server;
  /** Stops listening and ends every connection; `cleanup` runs first. Safe to call twice. */
  close(): Promise<void>;
}

type Route = (req: IncomingMessage, res: ServerResponse) => void;

/** @internal a small text answer (errors and refusals); nothing when the response was answered already. */
export function plainText(res: ServerResponse, status: number, body: string, extra: Record<string, string> = {}): void {
  if (!plainReply(res, status, body, extra) && res.headersSent && !res.writableEnded) res.end();
}

/**
 * @internal listens on `host:port` with a fixed table of GET routes (anything else: 404/405), refusing a `Host`
 * outside `hosts` (DNS rebinding) with 403, resolving once it listens; `cleanup` runs when it fails to listen and
 * when it is closed.
 */
export async function serveFleet(
  port: number,
  host: string,
  hosts: HostPolicy,
  routes: Readonly<Record<string, Route>>,
  cleanup: () => void,
): Promise<FleetServer> {
  const server = createServer((req, res) => {
    if (!isHostAllowed(req, hosts)) return plainText(res, HOST_REFUSED.status, HOST_REFUSED.message);
    if (req.method !== 'GET' && req.method !== 'HEAD') return plainText(res, 405, 'method not allowed\n', { allow: 'GET, HEAD' });
    const route = routes[pathOf(req.url)];
    if (route === undefined || !Object.hasOwn(routes, pathOf(req.url))) return plainText(res, 404, 'not found\n');
    route(req, res);
  });
  const listening = await listenServer(server, port, host, cleanup);
  return { baseUrl: listening.baseUrl, port: listening.port, server, close: listening.close };
}
