import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import { configError } from '../errors.js';
import { promClient } from '../internal/lazyModules.js';
import { expectKey, readKnown } from '../config/validate.js';
import { registerPrometheus, type PrometheusOptions } from '../prometheus/registerPrometheus.js';
import { hystrixStreamHandler, type HystrixStreamHandler, type HystrixStreamOptions } from '../stream/sseHandler.js';
import { writeExposition } from '../prometheus/writeExposition.js';

/** Options shared by the framework adapters (`breakwater/express`, `breakwater/fastify`). */
export interface FrameworkRoutesOptions {
  /** Path of the Hystrix dashboard stream, or `false` for none. @defaultValue '/hystrix.stream' */
  readonly streamPath?: string | false;
  /** Options of the stream handler (`authorize`, `maxConnections`, `writeTimeout`, `allowedHosts`, …). */
  readonly stream?: HystrixStreamOptions;
  /** Path of the Prometheus exposition, or `false` for none. @defaultValue '/metrics' */
  readonly metricsPath?: string | false;
  /**
   * The prom-client registry `metricsPath` serves. When absent, a registry of breakwater's own metrics is made
   * (`registerPrometheus(new Registry(), prometheus)`); a registry you give is served as it is, so call
   * `registerPrometheus(registry)` on it yourself.
   */
  readonly registry?: Registry;
  /** Options for the registry made when `registry` is absent. */
  readonly prometheus?: PrometheusOptions;
  /** Run each request inside its own `RequestContext` (request cache, request log). @defaultValue true */
  readonly requestContext?: boolean;
}

/** @internal the resolved routes of an adapter. */
export interface FrameworkRoutes {
  readonly streamPath: string | false;
  readonly metricsPath: string | false;
  readonly requestContext: boolean;
  /** The stream handler, or `null` when `streamPath` is false. */
  readonly stream: HystrixStreamHandler | null;
  /** Writes the exposition (GET) or its headers (HEAD). */
  metrics(req: IncomingMessage, res: ServerResponse): Promise<void>;
  /** Ends live stream connections (call it before the server closes: they never end by themselves). */
  close(): void;
}

const KNOWN = ['streamPath', 'stream', 'metricsPath', 'registry', 'prometheus', 'requestContext'];

function expectPath(value: unknown, option: string, fallback: string): string | false {
  if (value === undefined) return fallback;
  if (value === false) return false;
  const path = expectKey(value, option);
  if (!path.startsWith('/')) throw configError(option, 'a path starting with "/", or false', value, 'range');
  return path;
}

/** @internal validates adapter options (at set-up, naming the option) and builds the stream and metrics routes. */
export function frameworkRoutes(options: FrameworkRoutesOptions | undefined, where: string): FrameworkRoutes {
  const raw = readKnown(options ?? {}, where, KNOWN);
  const streamPath = expectPath(raw.streamPath, `${where}.streamPath`, '/hystrix.stream');
  const metricsPath = expectPath(raw.metricsPath, `${where}.metricsPath`, '/metrics');
  if (raw.requestContext !== undefined && typeof raw.requestContext !== 'boolean') {
    throw configError(`${where}.requestContext`, 'a boolean', raw.requestContext, 'type');
  }
  let registry = raw.registry as Registry | undefined;
  if (registry !== undefined && (typeof registry !== 'object' || registry === null || typeof registry.metrics !== 'function')) {
    throw configError(`${where}.registry`, 'a prom-client Registry', registry, 'type');
  }
  if (metricsPath !== false && registry === undefined) {
    registry = new (promClient().Registry)();
    registerPrometheus(registry, raw.prometheus as PrometheusOptions | undefined);
  }
  const stream = streamPath === false ? null : hystrixStreamHandler(raw.stream as HystrixStreamOptions | undefined);
  const served = registry;
  return {
    streamPath,
    metricsPath,
    requestContext: raw.requestContext !== false,
    stream,
    metrics(req, res) {
      // Written family by family as the text is ready, not joined into one string first (HEAD: no scrape).
      return new Promise<void>((resolve, reject) => {
        res.once('close', () => resolve());
        writeExposition(served!, req, res, { 'Cache-Control': 'no-cache', 'X-Content-Type-Options': 'nosniff' }, () => {
          reject(new Error('breakwater: the Prometheus scrape failed'));
        });
      });
    },
    close() {
      stream?.close();
    },
  };
}
