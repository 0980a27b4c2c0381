import type { CliInvocation } from './args.js';
import { startDemo } from './demo.js';
import { startFailure, type CliIo } from './cliIo.js';

/** @internal `breakwater demo`: starts the demo, prints its URL first, runs until stopped, closes cleanly. */
export async function runDemoCommand(invocation: Extract<CliInvocation, { kind: 'demo' }>, io: CliIo): Promise<number> {
  let demo;
  try {
    demo = await startDemo({
      port: invocation.port,
      host: invocation.host,
      ...(invocation.allowedHosts === undefined ? {} : { allowedHosts: invocation.allowedHosts }),
    });
  } catch (error) {
    io.err(`breakwater demo: ${startFailure(error, invocation.host, invocation.port)}\n`);
    return 1;
  }
  io.out(`${demo.url}\n`);
  io.err(
    `breakwater demo: a simulated service is calling six flaky dependencies through breakwater commands.\n` +
      `  dashboard       ${demo.url}\n` +
      `  hystrix.stream  ${demo.url}hystrix.stream\n` +
      `  metrics         ${demo.url}metrics\n` +
      `Press Ctrl+C to stop.\n`,
  );
  const signal = await io.untilStopped();
  io.err(`breakwater demo: ${signal} received, closing\n`);
  await demo.close();
  return 0;
}
