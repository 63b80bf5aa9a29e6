/** Who an operator command is recorded as, and how long one attempt of it may wait. */
import { userInfo } from "node:os";
import { CliError } from "../errors.js";

/**
 * Who is acting: `--by`, else `$STRATREG_OPERATOR`, else the OS user name.
 * Throws a CliError when none is known (a container without a user entry).
 */
export function operatorName(
  by: string | undefined,
  env: NodeJS.ProcessEnv = process.env,
  osUser: () => string = () => userInfo().username,
): string {
  if (by !== undefined && by !== "") return by;
  if (env.STRATREG_OPERATOR) return env.STRATREG_OPERATOR;
  let user = "";
  try {
    user = osUser();
  } catch {
    // No user entry for this uid: fall through to the error below.
  }
  if (user !== "") return user;
  throw new CliError("who is acting? pass --by <name> or set STRATREG_OPERATOR");
}

/**
 * How long one attempt of halt, reduce or resume waits. The guard answers only
 * once every follower acknowledged or its wait ran out (1 s by default), so an
 * attempt must outlast that wait or a missing follower would turn into a
 * timeout and a resend; half the deadline (at least 2.5 s, at most all of it)
 * still leaves time for a second attempt after a takeover.
 */
export function commandAttemptMs(timeoutMs: number): number {
  return Math.max(Math.min(timeoutMs, 2500), Math.floor(timeoutMs / 2));
}
