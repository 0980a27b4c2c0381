import { startTurbine } from '../fleet/startTurbine.js';
import type { CliInvocation } from './args.js';
import { startFailure, type CliIo } from './cliIo.js';

/**
 * @internal `breakwater turbine --stream URL… --dns NAME:PORT…`: aggregates the instances into /turbine.stream,
 * prints its URL first, runs until stopped, closes cleanly.
 */
export async function runTurbineCommand(invocation: Extract<CliInvocation, { kind: 'turbine' }>, io: CliIo): Promise<number> {
  let turbine;
  try {
    turbine = await startTurbine({
      port: invocation.port,
      host: invocation.host,
      streams: [...invocation.streams, ...invocation.dns],
      ...(invocation.allowedHosts === undefined ? {} : { allowedHosts: invocation.allowedHosts }),
    });
  } catch (error) {
    io.err(`breakwater turbine: ${startFailure(error, invocation.host, invocation.port)}\n`);
    return 1;
  }
  io.out(`${turbine.url}\n`);
  const sources = [...invocation.streams.map((s) => redact(s)), ...invocation.dns.map((d) => `dns ${d.dns}${d.path}`)];
  io.err(`breakwater turbine: aggregating ${sources.length} source(s)\n${sources.map((s) => `  ${s}\n`).join('')}Press Ctrl+C to stop.\n`);
  const signal = await io.untilStopped();
  io.err(`breakwater turbine: ${signal} received, closing\n`);
  await turbine.close();
  return 0;
}

/** A stream URL without credentials or query, for logs. */
function redact(url: string): string {
  const u = new URL(url);
  return `${u.protocol}//${u.host}${u.pathname}`;
}
