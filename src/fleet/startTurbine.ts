import type { IncomingMessage, Server } from 'node:http';
import { getClock } from '../config/store.js';
import { expectFunction, expectNumber, readKnown } from '../config/validate.js';
import { expectHost } from '../dashboard/listen.js';
import { parseAllowedHosts, type AllowedHosts } from '../stream/hostCheck.js';
import { streamSamples } from '../stream/sseHandler.js';
import { expectWriteTimeout } from '../stream/writeWatch.js';
import type { TimerHandle } from '../time/Clock.js';
import { checkStreams, discover, needsRefresh, systemResolver, type HostResolver, type TurbineStreams } from './discovery.js';
import { serveFleet } from './fleetServer.js';
import { framesOf } from './sampleFrames.js';
import { FleetView } from './FleetView.js';
import { instancesObject, type InstanceStatus } from './instanceStatus.js';
import { Upstream, type StreamTransport } from './Upstream.js';

/** Options of {@link startTurbine}. */
export interface TurbineOptions {
  /** The instances: stream URLs and `{ dns: 'name:port', path }` entries, or a function returning them. Required. */
  readonly streams: TurbineStreams;
  /** TCP port; 0 picks a free one (read it from the result). @defaultValue 8989 */
  readonly port?: number;
  /** Interface to bind; anything but loopback only behind `authorize` or a trusted network. @defaultValue '127.0.0.1' */
  readonly host?: string;
  /** How often the aggregated stream sends a sample (ms); a client may ask for another with `?delay=`. @defaultValue 500 */
  readonly intervalMs?: number;
  /**
   * An instance that sends nothing (no object, no heartbeat) for this long (ms) is dropped from `reportingHosts` and
   * reconnected; one whose connection closes or fails is dropped at once. A key an instance stops sending stops
   * counting for it after the same time. @defaultValue 5000
   */
  readonly instanceTimeout?: number;
  /** How often a `streams` function is called again and DNS names re-resolved (ms). @defaultValue 10000 */
  readonly discoveryInterval?: number;
  /** Concurrent `/turbine.stream` clients; 503 beyond. @defaultValue 20 */
  readonly maxConnections?: number;
  /**
   * A client that takes no byte for this long (ms) is disconnected (see {@link HystrixStreamOptions.writeTimeout}).
   * @defaultValue 30000
   */
  readonly writeTimeout?: number;
  /** Guards `/turbine.stream` as in {@link hystrixStreamHandler}: `false` answers 403. Without it, everyone may read it. */
  readonly authorize?: (req: IncomingMessage) => boolean | PromiseLike<boolean>;
  /**
   * `Host` names answered besides loopback names and the bound address, or `'all'` (see
   * {@link HystrixStreamOptions.allowedHosts}): a dashboard reaching the turbine by a DNS name lists it here.
   * @defaultValue []
   */
  readonly allowedHosts?: AllowedHosts;
  /** Resolves DNS names of `{ dns }` entries to addresses; defaults to the system resolver (`dns.lookup`, every A/AAAA). */
  readonly resolve?: HostResolver;
}

/** A running turbine, as returned by {@link startTurbine}. */
export interface Turbine {
  /** The aggregated stream's URL, e.g. `http://127.0.0.1:8989/turbine.stream`. */
  readonly url: string;
  /** The port it listens on (useful with `port: 0`). */
  readonly port: number;
  /** The underlying Node HTTP server. */
  readonly server: Server;
  /** Every instance the turbine knows, with its connection state. */
  instances(): InstanceStatus[];
  /** Disconnects from every instance, stops listening and ends every client connection. Safe to call twice. */
  close(): Promise<void>;
}

/** @internal test seams: how upstreams are opened and the jitter's random source. */
export interface TurbineInternals {
  readonly transport?: StreamTransport;
  readonly random?: () => number;
}

const OPTION = 'startTurbine';

/**
 * @internal the turbine's engine without the server: discovery, one {@link Upstream} per instance, and the view
 * they feed. `startTurbine` serves it; tests and `startDashboard({ aggregate: true })` can drive it directly.
 */
export class TurbineSource {
  readonly view: FleetView;
  private readonly upstreams = new Map<string, Upstream>();
  private discoveryErrors: string[] = [];
  private timer: TimerHandle | null = null;
  private closed = false;
  private refreshing = false;
  /** Resolves after the first discovery (so a caller can wait until the first connections are being made). */
  readonly ready: Promise<void>;

  constructor(
    private readonly streams: TurbineStreams,
    private readonly instanceTimeout: number,
    private readonly discoveryInterval: number,
    private readonly resolve: HostResolver,
    private readonly internals: TurbineInternals = {},
  ) {
    this.view = new FleetView(instanceTimeout);
    this.ready = this.refresh();
  }

  /** The aggregated objects now, followed by the `TurbineInstances` status object. */
  sample(): Record<string, unknown>[] {
    const clock = getClock();
    const out = this.view.aggregate(clock.now());
    out.push(instancesObject(this.instances(), clock.wallTime(), this.discoveryErrors));
    return out;
  }

  instances(): InstanceStatus[] {
    const clock = getClock();
    const now = clock.now();
    const wall = clock.wallTime();
    return [...this.upstreams.values()].map((u) => ({
      id: u.id,
      state: u.state,
      reason: u.reason,
      since: Math.round(wall - (now - u.sinceMs)),
    }));
  }

  close(): void {
    this.closed = true;
    this.timer?.cancel();
    this.timer = null;
    for (const u of this.upstreams.values()) u.close();
    this.upstreams.clear();
  }

  private async refresh(): Promise<void> {
    if (this.closed || this.refreshing) return;
    this.refreshing = true;
    try {
      const { instances, errors } = await discover(this.streams, this.resolve, `${OPTION}.streams`);
      if (this.closed) return;
      this.discoveryErrors = errors;
      // A source that failed keeps its instances: only drop what a complete answer no longer lists.
      const wanted = new Map(instances.map((i) => [i.id, i]));
      if (errors.length === 0) {
        for (const [id, upstream] of this.upstreams) {
          if (wanted.get(id)?.url.href !== upstream.url.href) {
            upstream.close();
            this.upstreams.delete(id);
          }
        }
      }
      for (const instance of instances) {
        if (this.upstreams.has(instance.id)) continue;
        this.upstreams.set(
          instance.id,
          new Upstream(instance.id, instance.url, this.view, getClock(), this.instanceTimeout, this.internals.transport, this.internals.random),
        );
      }
    } finally {
      this.refreshing = false;
      if (!this.closed && needsRefresh(this.streams)) {
        this.timer = getClock().setTimer(() => {
          this.timer = null;
          void this.refresh();
        }, this.discoveryInterval);
      }
    }
  }
}

/** @internal validates the options shared by {@link startTurbine} and the dashboard's aggregate mode. */
export function turbineSettings(options: TurbineOptions, option = OPTION) {
  const raw = readKnown(options, option, ['streams', 'port', 'host', 'intervalMs', 'instanceTimeout', 'discoveryInterval', 'maxConnections', 'authorize', 'resolve', 'writeTimeout', 'allowedHosts']);
  if (raw.streams === undefined) throw new TypeError(`breakwater: \`${option}.streams\` is required (stream URLs, { dns } entries, or a function)`);
  const host = raw.host === undefined ? '127.0.0.1' : expectHost(raw.host, `${option}.host`);
  return {
    streams: checkStreams(raw.streams, `${option}.streams`),
    host,
    hosts: parseAllowedHosts(raw.allowedHosts, `${option}.allowedHosts`, [host]),
    writeTimeout: expectWriteTimeout(raw.writeTimeout, `${option}.writeTimeout`),
    port: raw.port === undefined ? 8989 : expectNumber(raw.port, `${option}.port`, { min: 0, max: 65535, integer: true }),
    intervalMs: raw.intervalMs === undefined ? 500 : expectNumber(raw.intervalMs, `${option}.intervalMs`, { min: 1, max: 2 ** 31 - 1, integer: true, unit: 'ms' }),
    instanceTimeout:
      raw.instanceTimeout === undefined ? 5000 : expectNumber(raw.instanceTimeout, `${option}.instanceTimeout`, { min: 100, max: 600_000, integer: true, unit: 'ms' }),
    discoveryInterval:
      raw.discoveryInterval === undefined
        ? 10_000
        : expectNumber(raw.discoveryInterval, `${option}.discoveryInterval`, { min: 100, max: 2 ** 31 - 1, integer: true, unit: 'ms' }),
    maxConnections:
      raw.maxConnections === undefined ? 20 : expectNumber(raw.maxConnections, `${option}.maxConnections`, { min: 1, max: 10_000, integer: true }),
    authorize:
      raw.authorize === undefined ? undefined : (expectFunction(raw.authorize, `${option}.authorize`) as (req: IncomingMessage) => boolean | PromiseLike<boolean>),
    resolve: raw.resolve === undefined ? systemResolver : (expectFunction(raw.resolve, `${option}.resolve`) as HostResolver),
  };
}

/**
 * Starts a Turbine-compatible aggregator: it connects to every instance's Hystrix stream and serves one aggregated
 * stream at `/turbine.stream`, in the format the original Hystrix Dashboard reads (one `HystrixCommand`,
 * `HystrixThreadPool` and `HystrixCollapser` object per key across instances, with `reportingHosts`; see
 * {@link aggregateSamples} and docs/fleet.md for every field's rule), followed each sample by a `TurbineInstances`
 * object that lists every instance and its connection state. Resolves once it is listening; binds 127.0.0.1 unless
 * `host` says otherwise.
 *
 * An instance whose connection closes or fails drops out of `reportingHosts` at once, one that stays silent after
 * `instanceTimeout` (5 s); either is reconnected with exponential backoff and jitter, at most 10 s apart.
 *
 * @example
 * ```ts
 * import { startTurbine } from 'breakwater';
 * const turbine = await startTurbine({
 *   streams: ['http://10.0.0.5:8080/hystrix.stream', { dns: 'orders.internal:8080', path: '/hystrix.stream' }],
 *   port: 0,
 * });
 * console.log(turbine.url); // http://127.0.0.1:53127/turbine.stream — give it to any Hystrix dashboard
 * // …
 * await turbine.close();
 * ```
 * @example Instances from a function, asked again every 10 s
 * ```ts
 * await startTurbine({ streams: async () => (await readFile('instances.txt', 'utf8')).split('\n').filter(Boolean) });
 * ```
 */
export async function startTurbine(options: TurbineOptions): Promise<Turbine> {
  return startTurbineWith(options, {});
}

/** @internal {@link startTurbine} with test seams. */
export async function startTurbineWith(options: TurbineOptions, internals: TurbineInternals): Promise<Turbine> {
  const s = turbineSettings(options);
  const source = new TurbineSource(s.streams, s.instanceTimeout, s.discoveryInterval, s.resolve, internals);
  const stream = streamSamples(
    {
      intervalMs: s.intervalMs,
      maxConnections: s.maxConnections,
      writeTimeout: s.writeTimeout,
      allowedHosts: 'all', // checked by the server for every route
      ...(s.authorize === undefined ? {} : { authorize: s.authorize }),
    },
    framesOf(() => source.sample()),
  );
  const served = await serveFleet(s.port, s.host, s.hosts, { '/turbine.stream': stream }, () => {
    stream.close();
    source.close();
  });
  return {
    url: `${served.baseUrl}turbine.stream`,
    port: served.port,
    server: served.server,
    instances: () => source.instances(),
    close: () => served.close(),
  };
}
