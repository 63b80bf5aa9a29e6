#!/usr/bin/env node
/**
 * Process entry of the `stratreg` CLI: parses the command line, runs one
 * command, prints failures as one line on stderr and sets the exit code.
 */
import { CliError, ExitCodes, formatError } from "./errors.js";
import { buildProgram } from "./program.js";

async function main(): Promise<void> {
  try {
    await buildProgram().parseAsync(process.argv);
  } catch (err) {
    process.stderr.write(`${formatError(err)}\n`);
    // A stack helps only for what the CLI did not expect; DEBUG=stratreg shows it.
    if (!(err instanceof CliError) && process.env.DEBUG?.includes("stratreg") && err instanceof Error) {
      process.stderr.write(`${err.stack}\n`);
    }
    process.exitCode = ExitCodes.Failed;
  }
  // Everything the command opened is closed by now; a handle leaked by a library
  // must not keep a finished command hanging, so exit shortly if one does.
  setTimeout(() => process.exit(), 2000).unref();
}

void main();
