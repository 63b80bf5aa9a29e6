/**
 * How the CLI reports failure: one line on stderr and a non-zero exit code.
 * Typed registry errors keep their stable code so scripts can match on it.
 */
import { AdminError } from "@stratreg/client";
import { StratregError } from "@stratreg/protocol";

/** Exit codes of the `stratreg` process. */
export const ExitCodes = {
  Ok: 0,
  /** The command failed, or part of the work did (missing ids, rejected strategies). */
  Failed: 1,
  /** Stopped by Ctrl-C (128 + SIGINT), as shells report it. */
  Interrupted: 130,
} as const;
export type ExitCode = (typeof ExitCodes)[keyof typeof ExitCodes];

/** A failure the CLI explains itself (bad input file, unreachable server): printed without a stack. */
export class CliError extends Error {
  override name = "CliError";
}

/** The one-line report of `err`: `error CODE: message (field …)` for registry and operator-action errors. */
export function formatError(err: unknown): string {
  if (err instanceof StratregError) {
    const field = err.field === undefined ? "" : ` (field ${err.field})`;
    return `error ${err.code}: ${err.message}${field}`;
  }
  if (err instanceof AdminError) return `error ${err.code}: ${err.message}`;
  if (err instanceof Error) return `error: ${err.message}`;
  return `error: ${String(err)}`;
}
