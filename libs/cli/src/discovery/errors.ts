/**
 * The discovery commands' exit codes beyond the CLI's own, and discovery's
 * failures in words an operator can act on: nobody answering, a user who may
 * not start runs, trading halted, a run already in progress.
 */
import {
  type NatsConnection,
  NoRespondersError,
  PermissionViolationError,
  RequestError,
} from "@nats-io/transport-node";
import { AdminError, AdminErrorCodes } from "@stratreg/client";
import {
  type ClusterSubjects,
  DiscoveryOps,
  ErrorCodes,
  encode,
  PROTOCOL_VERSION,
  StratregError,
} from "@stratreg/protocol";
import { type ExitCode, ExitCodes } from "../errors.js";
import { resumeCommand } from "./text.js";

/** Exit codes of the discovery commands. */
export const DiscoveryExitCodes = {
  ...ExitCodes,
  /** The run was stopped (by Ctrl-C or an operator) or halted with trading: it can be resumed from its checkpoint. */
  RunUnfinished: 3,
} as const;
export type DiscoveryExitCode = ExitCode | (typeof DiscoveryExitCodes)[keyof typeof DiscoveryExitCodes];

/** Where the CLI was talking, for the messages. */
export interface DiscoveryContext {
  cluster: string;
  nats: string;
  timeoutMs: number;
  /** Nobody listens on discovery's subjects (found by {@link nobodyServes} after a timeout). */
  noResponders?: boolean;
}

function someCause(err: unknown, test: (e: Error) => boolean): boolean {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (test(e)) return true;
  return false;
}

/**
 * Whether no discovery process listens at all: one `status` that NATS answers
 * at once with "no responders" when none does. A call that timed out may have
 * ended on an attempt too short for even that answer.
 */
export async function nobodyServes(nc: NatsConnection, subjects: ClusterSubjects, timeoutMs = 500): Promise<boolean> {
  try {
    await nc.request(subjects.discovery(DiscoveryOps.Status), encode({ v: PROTOCOL_VERSION, body: {} }), {
      timeout: timeoutMs,
    });
    return false;
  } catch (err) {
    return (err instanceof RequestError && err.isNoResponders()) || err instanceof NoRespondersError;
  }
}

/**
 * Discovery's failure explained, keeping its code so scripts can still match
 * on it. Anything it has nothing to add to is returned as it is.
 */
export function explainDiscoveryError(err: unknown, context: DiscoveryContext): unknown {
  const { cluster, nats, timeoutMs } = context;
  if (someCause(err, (e) => e instanceof PermissionViolationError)) {
    return new AdminError(
      AdminErrorCodes.PermissionDenied,
      `not permitted: starting and stopping discovery runs is for operators (connect as a NATS user allowed ${cluster}.control.>): ${(err as Error).message}`,
      { cause: err },
    );
  }
  if (!(err instanceof StratregError)) return err;
  const options = { cause: err, retryable: err.retryable, details: err.details, field: err.field };
  const explained = (message: string) => new StratregError(err.code, message, options);
  switch (err.code) {
    case ErrorCodes.Timeout: {
      const noResponders =
        context.noResponders === true ||
        someCause(err, (e) => e instanceof StratregError && e !== err && e.details?.noResponders === true);
      if (noResponders) {
        return explained(
          `no discovery process is answering on cluster "${cluster}" at ${nats} (waited ${timeoutMs} ms; is discovery running, and is --cluster right?)`,
        );
      }
      return explained(
        `discovery of cluster "${cluster}" did not answer within ${timeoutMs} ms (raise --timeout if it is busy): ${err.message}`,
      );
    }
    case ErrorCodes.TradingHalted:
      return explained(
        err.details?.trading === null
          ? `${err.message} (is a risk guard running on cluster "${cluster}"?)`
          : `${err.message}: see \`stratreg risk\`; once trading is resumed, start the run again`,
      );
    case ErrorCodes.Conflict: {
      const runId = err.details?.runId;
      if (typeof runId !== "string") return err;
      return explained(
        `${err.message}: watch it with \`stratreg discover status\`, or stop it with \`stratreg discover stop ${runId}\` (and later \`${resumeCommand(runId)}\`)`,
      );
    }
    default:
      return err;
  }
}
