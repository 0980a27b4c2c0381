#!/usr/bin/env node
/**
 * @internal the `breakwater` executable (`npx breakwater --help`). Everything it does lives in runCli.ts; this
 * file only runs it with the process's arguments and sets the exit code.
 */
import { runCli } from './runCli.js';

runCli(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Everything is closed by now; if some stray handle still holds the process, do not hang on it.
    setTimeout(() => process.exit(code), 3000).unref();
  },
  (error: unknown) => {
    process.stderr.write(`breakwater: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exit(1);
  },
);
