import { startDashboard } from '../dashboard/startDashboard.js';
import type { CliInvocation } from './args.js';
import { startFailure, type CliIo } from './cliIo.js';

/**
 * @internal `breakwater dashboard --stream URL…`: serves the page for other processes' streams (relayed at
 * `/proxy/<n>`), prints its URL first, runs until stopped, closes cleanly.
 */
export async function runDashboardCommand(invocation: Extract<CliInvocation, { kind: 'dashboard' }>, io: CliIo): Promise<number> {
  let dashboard;
  try {
    dashboard = await startDashboard({
      port: invocation.port,
      host: invocation.host,
      streams: invocation.streams,
      aggregate: invocation.aggregate === true,
      ...(invocation.allowedHosts === undefined ? {} : { allowedHosts: invocation.allowedHosts }),
    });
  } catch (error) {
    io.err(`breakwater dashboard: ${startFailure(error, invocation.host, invocation.port)}\n`);
    return 1;
  }
  io.out(`${dashboard.url}\n`);
  const list = invocation.streams.map((s, i) => `  /proxy/${i}  <-  ${redact(s)}\n`).join('');
  io.err(`breakwater dashboard: showing ${invocation.streams.length} stream(s)\n${list}Press Ctrl+C to stop.\n`);
  const signal = await io.untilStopped();
  io.err(`breakwater dashboard: ${signal} received, closing\n`);
  await dashboard.close();
  return 0;
}

/** A stream URL without credentials, for logs. */
function redact(url: string): string {
  const u = new URL(url);
  if (u.username !== '' || u.password !== '') {
    u.username = '';
    u.password = '';
  }
  return u.href;
}
