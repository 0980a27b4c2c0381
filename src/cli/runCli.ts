import { CliUsageError, parseCliArgs, usageOf, VERSION } from './args.js';
import { runDashboardCommand } from './dashboardCommand.js';
import { runDemoCommand } from './demoCommand.js';
import { runTurbineCommand } from './turbineCommand.js';
import { processIo, type CliIo } from './cliIo.js';

/**
 * @internal runs one `breakwater` command line and resolves with the exit code: 0 when done (a server closed
 * cleanly after SIGINT/SIGTERM), 1 when it could not start, 2 for a bad command line.
 */
export async function runCli(argv: readonly string[], io: CliIo = processIo): Promise<number> {
  let invocation;
  try {
    invocation = parseCliArgs(argv, io.env);
  } catch (error) {
    if (!(error instanceof CliUsageError)) throw error;
    const help = error.subcommand === undefined ? 'breakwater --help' : `breakwater ${error.subcommand} --help`;
    io.err(`breakwater: ${error.message}\nRun '${help}' for usage.\n`);
    return 2;
  }
  switch (invocation.kind) {
    case 'help':
      io.out(usageOf(invocation.topic));
      return 0;
    case 'version':
      io.out(`${VERSION}\n`);
      return 0;
    case 'demo':
      return runDemoCommand(invocation, io);
    case 'dashboard':
      return runDashboardCommand(invocation, io);
    case 'turbine':
      return runTurbineCommand(invocation, io);
  }
}
