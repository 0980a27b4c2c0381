/**
 * @internal parsing of `breakwater` command lines: pure (argv and env in, an invocation or a {@link CliUsageError}
 * out), so every rule is unit-tested without starting anything.
 */
import packageJson from '../../package.json' with { type: 'json' };
import { parseAllowedHosts, type AllowedHosts } from '../stream/hostCheck.js';

/** @internal a command line the CLI cannot run; the message says why, for a person. */
export class CliUsageError extends Error {
  constructor(
    message: string,
    /** The subcommand whose usage to point at, if known. */
    readonly subcommand?: Subcommand,
  ) {
    super(message);
    this.name = 'CliUsageError';
  }
}

/** @internal what to do. */
export type CliInvocation =
  | { readonly kind: 'help'; readonly topic?: Subcommand }
  | { readonly kind: 'version' }
  | { readonly kind: 'demo'; readonly port: number; readonly host: string; readonly allowedHosts?: AllowedHosts }
  | {
      readonly kind: 'dashboard';
      readonly port: number;
      readonly host: string;
      readonly streams: readonly string[];
      readonly aggregate?: true;
      readonly allowedHosts?: AllowedHosts;
    }
  | {
      readonly kind: 'turbine';
      readonly port: number;
      readonly host: string;
      readonly allowedHosts?: AllowedHosts;
      readonly streams: readonly string[];
      readonly dns: readonly { readonly dns: string; readonly path: string }[];
    };

/** @internal default port of the demo and dashboard servers (the Hystrix dashboard's). */
export const DEFAULT_PORT = 7979;
/** @internal default port of `breakwater turbine` (startTurbine's). */
export const TURBINE_DEFAULT_PORT = 8989;

/** @internal the installed package's version, printed by `breakwater --version`. */
export const VERSION: string = packageJson.version;

/**
 * @internal every command the CLI runs, with its one-line summary: the top-level help is built from this table,
 * so a command cannot be added without being listed.
 */
export const COMMANDS: readonly { readonly name: string; readonly summary: string }[] = [
  {
    name: 'demo',
    summary: 'Run a simulated service whose calls go through breakwater commands against\nflaky fake dependencies, and serve its dashboard.',
  },
  { name: 'dashboard', summary: 'Serve the dashboard page for one or more Hystrix-compatible streams.' },
  { name: 'turbine', summary: "Aggregate many instances' streams into one /turbine.stream (as Netflix Turbine)." },
  { name: 'help [command]', summary: "Show this help, or a command's." },
];

function column(name: string, summary: string): string {
  const pad = ' '.repeat(24);
  return `  ${name.padEnd(22)}${summary.split('\n').join(`\n${pad}`)}`;
}

/** @internal the top-level help. */
export const USAGE = `Usage: breakwater <command> [options]

Commands:
${COMMANDS.map((c) => column(c.name, c.summary)).join('\n')}

Options:
${column('-h, --help', 'Show help.')}
${column('-v, --version', "Print breakwater's version.")}

Run 'breakwater <command> --help' for a command's options.
`;

/** @internal help of `breakwater demo`. */
export const DEMO_USAGE = `Usage: breakwater demo [--port N] [--host HOST]

Runs a simulated service (latency spikes, error bursts, an outage that trips a circuit and recovers, a
pool-isolated and a rate-limited command) and serves the dashboard, /hystrix.stream and /metrics.
Prints the dashboard URL as the first line on stdout; runs until Ctrl+C (SIGINT) or SIGTERM.

Options:
  --port N              Port to listen on; 0 picks a free one. Default: $PORT, else ${DEFAULT_PORT}.
  --host HOST           Interface to bind. Default: 127.0.0.1 (this machine only).
  --allowed-host NAME   Also answer requests whose Host header is NAME (the machine's name when bound to
                        0.0.0.0); repeatable; '.example.com' allows its subdomains; 'all' turns the check
                        off. Loopback names and the bound address are always allowed; others get 403.
  -h, --help            Show this help.
`;

/** @internal help of `breakwater dashboard`. */
export const DASHBOARD_USAGE = `Usage: breakwater dashboard --stream URL [--stream URL ...] [--port N] [--host HOST]

Serves the dashboard page for any Hystrix-compatible streams (breakwater's /hystrix.stream, Hystrix's
/hystrix.stream, Turbine). The server relays each stream, so the page needs no cross-origin access.
Prints the dashboard URL as the first line on stdout; runs until Ctrl+C (SIGINT) or SIGTERM.

Options:
  --stream URL          An http(s) stream URL; repeat for several. Required.
  --aggregate           The streams are instances of one service: merge each command across them
                        (hosts, "Open on 2 of 5 hosts", each instance in the card's details).
  --port N              Port to listen on; 0 picks a free one. Default: $PORT, else ${DEFAULT_PORT}.
  --host HOST           Interface to bind. Default: 127.0.0.1 (this machine only).
  --allowed-host NAME   Also answer requests whose Host header is NAME (the machine's name when bound to
                        0.0.0.0); repeatable; '.example.com' allows its subdomains; 'all' turns the check
                        off. Loopback names and the bound address are always allowed; others get 403.
  -h, --help            Show this help.
`;

/** @internal help of `breakwater turbine`. */
export const TURBINE_USAGE = `Usage: breakwater turbine [--stream URL ...] [--dns NAME:PORT[/PATH] ...] [--port N] [--host HOST]

Connects to every instance's Hystrix stream and serves one aggregated stream at /turbine.stream, in the
format the original Hystrix Dashboard and breakwater's own page read ("Hosts N", summed counts, the
fleet's error percentage). Instances that stop answering drop out and are reconnected with backoff.
Prints the stream URL as the first line on stdout; runs until Ctrl+C (SIGINT) or SIGTERM.

Options:
  --stream URL          An instance's http(s) stream URL; repeat for several.
  --dns NAME:PORT[/PATH]  Every A/AAAA record of NAME is an instance at http://ADDRESS:PORT/PATH
                        (PATH defaults to /hystrix.stream); re-resolved every 10 s. Repeatable.
  --port N              Port to listen on; 0 picks a free one. Default: $PORT, else ${TURBINE_DEFAULT_PORT}.
  --host HOST           Interface to bind. Default: 127.0.0.1 (this machine only).
  --allowed-host NAME   Also answer requests whose Host header is NAME (the machine's name when bound to
                        0.0.0.0); repeatable; '.example.com' allows its subdomains; 'all' turns the check
                        off. Loopback names and the bound address are always allowed; others get 403.
  -h, --help            Show this help.

At least one --stream or --dns is required.
`;

/** @internal the usage text of a topic. */
export function usageOf(topic?: Subcommand): string {
  return topic === 'demo' ? DEMO_USAGE : topic === 'dashboard' ? DASHBOARD_USAGE : topic === 'turbine' ? TURBINE_USAGE : USAGE;
}

/** @internal the subcommands. */
export type Subcommand = 'demo' | 'dashboard' | 'turbine';

function isSubcommand(value: string | undefined): value is Subcommand {
  return value === 'demo' || value === 'dashboard' || value === 'turbine';
}

/** @internal parses a port given as text: an integer from 0 to 65535, nothing else. */
export function parsePort(text: string, where: string, sub?: Subcommand): number {
  if (!/^\d{1,5}$/.test(text) || Number(text) > 65535) {
    throw new CliUsageError(`${where} must be an integer from 0 to 65535 (0 = a free port), got ${JSON.stringify(text)}`, sub);
  }
  return Number(text);
}

function parseStream(text: string, sub: Subcommand): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new CliUsageError(`--stream must be an absolute http:// or https:// URL, got ${JSON.stringify(text)}`, sub);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new CliUsageError(`--stream must be an http:// or https:// URL, got ${JSON.stringify(text)}`, sub);
  }
  return url.href;
}

function parseDns(text: string): { dns: string; path: string } {
  const m = /^([A-Za-z0-9._-]{1,253}):(\d{1,5})(\/[^\s#?]*)?$/.exec(text);
  if (m === null || Number(m[2]) < 1 || Number(m[2]) > 65535) {
    throw new CliUsageError(`--dns must be NAME:PORT or NAME:PORT/PATH (a port from 1 to 65535), got ${JSON.stringify(text)}`, 'turbine');
  }
  return { dns: `${m[1]!}:${m[2]!}`, path: m[3] ?? '/hystrix.stream' };
}

/** `--allowed-host`: a name as `allowedHosts` takes it (checked again there), or `all`. */
function parseAllowedHost(text: string, sub: Subcommand): string {
  if (text === 'all') return text;
  try {
    parseAllowedHosts([text], '--allowed-host');
  } catch {
    throw new CliUsageError(`--allowed-host must be a host name, an IP address, a .suffix or all, got ${JSON.stringify(text)}`, sub);
  }
  return text;
}

function parseHost(text: string, sub: Subcommand): string {
  if (text.length === 0 || /[\s/?#@]/.test(text)) {
    throw new CliUsageError(`--host must be a host name or IP address, got ${JSON.stringify(text)}`, sub);
  }
  return text;
}

/**
 * @internal parses `argv` (without the node and script paths). `env.PORT` is the default port when `--port` is
 * absent.
 * @throws CliUsageError for anything it cannot run.
 */
export function parseCliArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>> = {}): CliInvocation {
  const first = argv[0];
  if (first === undefined) throw new CliUsageError('missing command (demo, dashboard or turbine)');
  if (first === '-h' || first === '--help') return { kind: 'help' };
  if (first === '-v' || first === '--version' || first === 'version') {
    if (argv.length > 1) throw new CliUsageError(`unexpected argument ${JSON.stringify(argv[1])} after ${first}`);
    return { kind: 'version' };
  }
  if (first === 'help') {
    const topic = argv[1];
    if (topic === undefined) return { kind: 'help' };
    if (!isSubcommand(topic)) throw new CliUsageError(`unknown command ${JSON.stringify(topic)} (expected demo, dashboard or turbine)`);
    if (argv.length > 2) throw new CliUsageError(`unexpected argument ${JSON.stringify(argv[2])}`);
    return { kind: 'help', topic };
  }
  if (first.startsWith('-')) throw new CliUsageError(`unknown option ${JSON.stringify(first)}; put options after the command`);
  if (!isSubcommand(first)) throw new CliUsageError(`unknown command ${JSON.stringify(first)} (expected demo, dashboard or turbine)`);
  const sub = first;

  let port: number | undefined;
  let host: string | undefined;
  const streams: string[] = [];
  let aggregate = false;
  const dns: { dns: string; path: string }[] = [];
  const allowedHosts: string[] = [];
  for (let i = 1; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '-h' || arg === '--help') return { kind: 'help', topic: sub };
    if (sub === 'dashboard' && arg === '--aggregate') {
      aggregate = true; // a flag: takes no value
      continue;
    }
    if (!arg.startsWith('--')) throw new CliUsageError(`unexpected argument ${JSON.stringify(arg)} for '${sub}'`, sub);
    const eq = arg.indexOf('=');
    const name = eq === -1 ? arg : arg.slice(0, eq);
    const allowed = ['--port', '--host', '--allowed-host', ...(sub === 'dashboard' ? ['--stream'] : sub === 'turbine' ? ['--stream', '--dns'] : [])];
    if (!allowed.includes(name)) throw new CliUsageError(`unknown option ${JSON.stringify(name)} for '${sub}'`, sub);
    let value: string;
    if (eq !== -1) {
      value = arg.slice(eq + 1);
    } else {
      const next = argv[i + 1];
      if (next === undefined || (next.startsWith('--') && next.length > 2)) throw new CliUsageError(`${name} needs a value`, sub);
      value = next;
      i++;
    }
    if (name === '--port') {
      if (port !== undefined) throw new CliUsageError('--port given twice', sub);
      port = parsePort(value, '--port', sub);
    } else if (name === '--host') {
      if (host !== undefined) throw new CliUsageError('--host given twice', sub);
      host = parseHost(value, sub);
    } else if (name === '--allowed-host') {
      allowedHosts.push(parseAllowedHost(value, sub));
    } else if (name === '--dns') {
      dns.push(parseDns(value));
    } else {
      streams.push(parseStream(value, sub));
    }
  }

  if (port === undefined) {
    const fromEnv = env.PORT;
    port = fromEnv === undefined || fromEnv === '' ? (sub === 'turbine' ? TURBINE_DEFAULT_PORT : DEFAULT_PORT) : parsePort(fromEnv, 'the PORT environment variable', sub);
  }
  host ??= '127.0.0.1';
  if (allowedHosts.includes('all') && allowedHosts.length > 1) {
    throw new CliUsageError("--allowed-host all turns the Host check off; it cannot be combined with names", sub);
  }
  const hosts = allowedHosts.length === 0 ? {} : { allowedHosts: allowedHosts[0] === 'all' ? ('all' as const) : allowedHosts };
  if (sub === 'demo') return { kind: 'demo', port, host, ...hosts };
  if (sub === 'turbine') {
    if (streams.length === 0 && dns.length === 0) throw new CliUsageError("'turbine' needs at least one --stream URL or --dns NAME:PORT", 'turbine');
    return { kind: 'turbine', port, host, ...hosts, streams, dns };
  }
  if (streams.length === 0) throw new CliUsageError("'dashboard' needs at least one --stream URL", 'dashboard');
  return { kind: 'dashboard', port, host, streams, ...(aggregate ? { aggregate } : {}), ...hosts };
}
