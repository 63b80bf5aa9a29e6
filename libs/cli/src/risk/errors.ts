/**
 * The risk commands' exit codes beyond the CLI's own, and the guard's failures
 * in words an operator can act on: who is not answering, on which cluster, and
 * what to do about a stale limits version.
 */
import {
  type NatsConnection,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
} from "@nats-io/transport-node";
import { AdminError, AdminErrorCodes } from "@stratreg/client";
import { type ClusterSubjects, ErrorCodes, encode, PROTOCOL_VERSION, RiskOps, StratregError } from "@stratreg/protocol";
import { type ExitCode, ExitCodes } from "../errors.js";

/** Exit codes of the risk commands. */
export const RiskExitCodes = {
  ...ExitCodes,
  /** The trading state was changed, but some follower did not acknowledge it in time (named on stderr). */
  NotAcknowledged: 3,
} as const;
export type RiskExitCode = ExitCode | (typeof RiskExitCodes)[keyof typeof RiskExitCodes];

/** Where the CLI was talking, for the messages. */
export interface GuardContext {
  cluster: string;
  nats: string;
  timeoutMs: number;
  /** Nobody listens on the guard's subjects (found by {@link nobodyListens} after a timeout). */
  noResponders?: boolean;
}

function isNoResponders(err: unknown): boolean {
  return (err instanceof RequestError && err.isNoResponders()) || err instanceof NoRespondersError;
}

/**
 * Whether nobody at all listens on the active guard's subjects: one read
 * (`state`) that NATS answers at once with "no responders" when no guard leads.
 * A call that timed out may have ended on an attempt too short for even that
 * answer, so after a timeout this tells an absent guard from a silent one.
 */
export async function nobodyListens(nc: NatsConnection, subjects: ClusterSubjects, timeoutMs = 500): Promise<boolean> {
  try {
    await nc.request(subjects.risk(RiskOps.State), encode({ v: PROTOCOL_VERSION, body: {} }), { timeout: timeoutMs });
    return false;
  } catch (err) {
    return isNoResponders(err);
  }
}

/** Whether `err` or anything that caused it matches `test`. */
function someCause(err: unknown, test: (e: Error) => boolean): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (test(e)) return true;
  return false;
}

/** The code of the last retryable failure before the deadline passed, if the client kept it. */
function lastCode(err: StratregError): string | undefined {
  const code = err.details?.lastCode;
  return typeof code === "string" ? code : undefined;
}

/**
 * The guard's failure explained, keeping its code (so scripts can still match
 * on it): nobody answering on the cluster's risk subjects, only standbys
 * answering, no reply in time, a user who may not send operator commands, a
 * stale expected limits version. Anything else is returned as it is.
 */
export function explainGuardError(err: unknown, context: GuardContext): unknown {
  const { cluster, nats, timeoutMs } = context;
  if (someCause(err, (e) => e instanceof PermissionViolationError)) {
    return new AdminError(
      AdminErrorCodes.PermissionDenied,
      `not permitted: halt, reduce, resume and limits set are for operators (connect as a NATS user allowed ${cluster}.control.>): ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (!(err instanceof StratregError)) return err;
  const options = { cause: err, retryable: err.retryable, details: err.details, field: err.field };
  if (err.code === ErrorCodes.Timeout) {
    const noResponders =
      context.noResponders === true ||
      someCause(err, (e) => e instanceof StratregError && e !== err && e.details?.noResponders === true);
    if (noResponders) {
      return new StratregError(
        err.code,
        `no risk guard is answering on cluster "${cluster}" at ${nats} (waited ${timeoutMs} ms; is a risk guard running, and is --cluster right?)`,
        options,
      );
    }
    if (lastCode(err) === ErrorCodes.NotOwner) {
      return new StratregError(
        err.code,
        `no risk guard of cluster "${cluster}" is active: the guard answering says it is not the active one, a takeover may be under way (waited ${timeoutMs} ms; try again shortly)`,
        options,
      );
    }
    return new StratregError(
      err.code,
      `the risk guard of cluster "${cluster}" did not answer within ${timeoutMs} ms (raise --timeout if it is busy): ${err.message}`,
      options,
    );
  }
  if (err.code === ErrorCodes.Conflict) {
    const actual = err.details?.actual;
    const expected = err.details?.expected;
    if (typeof actual === "number" && typeof expected === "number") {
      return new StratregError(
        err.code,
        `the limits are at version ${actual}, not ${expected}: someone changed them since you looked. See what changed with \`stratreg limits\`, then set yours again with --expect-version ${actual}`,
        options,
      );
    }
  }
  return err;
}
