import { lookup } from 'node:dns/promises';
import { readKnown } from '../config/validate.js';
import { configError } from '../errors.js';

/** Instances found through DNS: every A/AAAA record of `name` is one instance at `http://address:port/path`. */
export interface DnsDiscovery {
  /** `name:port`, e.g. `'orders.default.svc.cluster.local:8080'`. */
  readonly dns: string;
  /** The stream's path on each instance. @defaultValue '/hystrix.stream' */
  readonly path?: string;
}

/** One source of instance streams: an absolute http(s) URL, or a DNS name to resolve. */
export type TurbineStreamSource = string | URL | DnsDiscovery;

/**
 * Where a turbine finds its instances: a fixed list, or a function returning the current list (called again every
 * `discoveryInterval`, so Kubernetes, Consul or a file can feed it). DNS entries are re-resolved on the same
 * schedule.
 */
export type TurbineStreams = readonly TurbineStreamSource[] | (() => readonly TurbineStreamSource[] | PromiseLike<readonly TurbineStreamSource[]>);

/** Resolves a host name to its addresses (IPv4 and IPv6); the default uses the system resolver (`dns.lookup`). */
export type HostResolver = (hostname: string) => Promise<readonly string[]>;

/** @internal one instance to connect to. */
export interface DiscoveredInstance {
  /** Unique per instance, shown in the status: `host:port/path` (never credentials or the query). */
  readonly id: string;
  readonly url: URL;
}

/** @internal the system resolver: every A and AAAA record, as `dns.lookup(name, { all: true })` returns them. */
export const systemResolver: HostResolver = async (hostname) => (await lookup(hostname, { all: true, verbatim: true })).map((a) => a.address);

/** @internal checks one static source; a function's results are checked the same way on every call. */
export function checkSource(source: unknown, option: string): URL | { host: string; port: number; path: string } {
  if (typeof source === 'string' || source instanceof URL) {
    let url: URL;
    try {
      url = new URL(String(source));
    } catch {
      throw configError(option, 'an absolute http(s) URL', source, 'range');
    }
    if (url.protocol !== 'http:' && url.protocol !== 'https:') throw configError(option, 'an http: or https: URL', String(source), 'range');
    return url;
  }
  if (typeof source !== 'object' || source === null) throw configError(option, "an http(s) URL or { dns: 'name:port', path }", source, 'type');
  const raw = readKnown(source, option, ['dns', 'path']);
  const dns = raw.dns;
  if (typeof dns !== 'string') throw configError(`${option}.dns`, "'name:port'", dns, 'type');
  const match = /^([A-Za-z0-9._-]{1,253}):(\d{1,5})$/.exec(dns);
  if (match === null || Number(match[2]) < 1 || Number(match[2]) > 65535) {
    throw configError(`${option}.dns`, "'name:port' with a host name and a port from 1 to 65535", dns, 'range');
  }
  const path = raw.path === undefined ? '/hystrix.stream' : raw.path;
  if (typeof path !== 'string' || !path.startsWith('/') || /[\s#]/.test(path)) {
    throw configError(`${option}.path`, "a path starting with '/'", path, 'range');
  }
  return { host: match[1]!, port: Number(match[2]), path };
}

/** @internal checks the `streams` option (a list, or a function). */
export function checkStreams(streams: unknown, option: string): TurbineStreams {
  if (typeof streams === 'function') return streams as TurbineStreams;
  if (!Array.isArray(streams)) throw configError(option, 'an array of stream URLs / { dns } entries, or a function returning one', streams, 'type');
  streams.forEach((s, i) => checkSource(s, `${option}[${i}]`));
  return streams as readonly TurbineStreamSource[];
}

/** @internal whether the sources must be looked at again from time to time (a function, or DNS names). */
export function needsRefresh(streams: TurbineStreams): boolean {
  return typeof streams === 'function' || streams.some((s) => typeof s === 'object' && !(s instanceof URL));
}

/** @internal the label of an instance URL: host and path, without credentials or query (which may hold tokens). */
export function instanceId(url: URL): string {
  return url.host + (url.pathname === '/' ? '' : url.pathname);
}

function addressUrl(address: string, port: number, path: string): URL {
  const host = address.includes(':') ? `[${address}]` : address;
  return new URL(`http://${host}:${port}${path}`);
}

/**
 * @internal the instances the sources name right now. A source that fails (a function that throws, a name that does
 * not resolve) is reported in `errors` and contributes nothing; the caller keeps what it had from it before.
 */
export async function discover(
  streams: TurbineStreams,
  resolve: HostResolver,
  option: string,
): Promise<{ instances: DiscoveredInstance[]; errors: string[] }> {
  const errors: string[] = [];
  let sources: readonly unknown[];
  if (typeof streams === 'function') {
    try {
      const listed: unknown = await streams();
      if (!Array.isArray(listed)) throw configError(`${option}()`, 'an array of stream URLs / { dns } entries', listed, 'type');
      sources = listed;
    } catch (error) {
      return { instances: [], errors: [`${option}(): ${error instanceof Error ? error.message : String(error)}`] };
    }
  } else sources = streams;
  const found = new Map<string, DiscoveredInstance>();
  const addUrl = (url: URL): void => {
    const base = instanceId(url);
    let id = base;
    for (let n = 2; found.has(id) && found.get(id)!.url.href !== url.href; n++) id = `${base}#${n}`;
    found.set(id, { id, url });
  };
  await Promise.all(
    sources.map(async (source, i) => {
      let checked;
      try {
        checked = checkSource(source, `${option}[${i}]`);
      } catch (error) {
        errors.push(error instanceof Error ? error.message : String(error));
        return;
      }
      if (checked instanceof URL) return addUrl(checked);
      try {
        const addresses = await resolve(checked.host);
        for (const address of addresses) addUrl(addressUrl(address, checked.port, checked.path));
      } catch (error) {
        const code = (error as { code?: unknown } | null)?.code;
        errors.push(`${checked.host}: ${typeof code === 'string' ? code : error instanceof Error ? error.message : String(error)}`);
      }
    }),
  );
  return { instances: [...found.values()], errors };
}
