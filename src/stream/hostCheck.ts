import type { IncomingMessage } from 'node:http';
import { configError } from '../errors.js';

/**
 * The `Host` names a breakwater server answers besides the defaults: host names or IP addresses (no port; a
 * leading dot, as in `'.example.com'`, also admits every subdomain), or `'all'` to switch the check off.
 *
 * By default only loopback names (`localhost`, `127.0.0.0/8`, `::1`) and the address the request arrived on
 * are accepted; that keeps a page on another site from reaching the server through DNS rebinding (its requests
 * carry the attacker's host name).
 */
export type AllowedHosts = readonly string[] | 'all';

/** @internal a parsed {@link AllowedHosts}. */
export interface HostPolicy {
  /** `'all'`: no check. */
  readonly any: boolean;
  readonly names: ReadonlySet<string>;
  /** Entries given with a leading dot, kept with it (`.example.com`). */
  readonly suffixes: readonly string[];
}

const LOOPBACK_NAMES = ['localhost', '::1'];
const LOOPBACK_V4 = /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/;
const BAD_NAME = /[\s/?#@\\,]|^\.?$/;

/** @internal lower case, no brackets around an IPv6 address, no trailing dot. */
function normalise(name: string): string {
  let n = name.toLowerCase();
  if (n.startsWith('[') && n.endsWith(']')) n = n.slice(1, -1);
  if (n.endsWith('.')) n = n.slice(0, -1);
  return n;
}

/**
 * @internal validates `allowedHosts` (`option` names it in errors) and adds `extra` names (a server's own bind
 * address).
 */
export function parseAllowedHosts(value: unknown, option: string, extra: readonly string[] = []): HostPolicy {
  if (value === 'all') return { any: true, names: new Set(), suffixes: [] };
  if (value !== undefined && !Array.isArray(value)) throw configError(option, "an array of host names, or 'all'", value, 'type');
  const names = new Set<string>(LOOPBACK_NAMES);
  const suffixes: string[] = [];
  for (const n of extra) names.add(normalise(n));
  ((value ?? []) as unknown[]).forEach((entry, i) => {
    if (typeof entry !== 'string') throw configError(`${option}[${i}]`, 'a host name or IP address', entry, 'type');
    if (BAD_NAME.test(entry) || entry.length > 253 || (/:\d+$/.test(entry) && !entry.includes('::') && entry.split(':').length === 2)) {
      throw configError(`${option}[${i}]`, 'a host name or IP address without port or path', entry, 'range');
    }
    const n = normalise(entry);
    if (n.startsWith('.')) suffixes.push(n);
    else names.add(n);
  });
  return { any: false, names, suffixes };
}

/** @internal the host name of a `Host` header value, without port and brackets; undefined when there is none. */
export function hostName(header: string | undefined): string | undefined {
  if (header === undefined || header === '') return undefined;
  let name = header.trim();
  if (name.startsWith('[')) {
    const close = name.indexOf(']');
    name = close < 0 ? name : name.slice(0, close + 1);
  } else {
    const colon = name.indexOf(':');
    if (colon >= 0 && colon === name.lastIndexOf(':')) name = name.slice(0, colon);
  }
  return normalise(name);
}

/**
 * @internal true when the request's `Host` is allowed: `'all'`, no `Host` at all (HTTP/1.0; browsers always send
 * one), a loopback name, the address the connection arrived on, or an allowed name.
 */
export function isHostAllowed(req: IncomingMessage, policy: HostPolicy): boolean {
  if (policy.any) return true;
  const name = hostName(req.headers.host);
  if (name === undefined) return true;
  if (policy.names.has(name) || LOOPBACK_V4.test(name)) return true;
  const local = req.socket.localAddress;
  if (local !== undefined && (name === local || `::ffff:${name}` === local)) return true;
  for (const suffix of policy.suffixes) if (name === suffix.slice(1) || name.endsWith(suffix)) return true;
  return false;
}

/** The status and text of a refused `Host` (403, as Vite and webpack-dev-server answer it). */
export const HOST_REFUSED = { status: 403, message: 'Forbidden: this Host is not allowed (see the allowedHosts option)' } as const;
