/**
 * The guard's endpoints in the NATS services framework. Every guard serves its
 * own status on `<cluster>.riskguard.<member>.status`; the active guard alone
 * also serves the risk operations and the operators' controls, and stops
 * serving them when it steps down, so during a takeover a request finds no
 * responder at once and the SDK retries.
 */
import { type Service, Svcm } from "@nats-io/services";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { replies, watchService } from "@stratreg/process";
import {
  type ClusterSubjects,
  encode,
  PROTOCOL_VERSION,
  RISK_SERVICE_NAME,
  RiskControlOps,
  RiskOps,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { type GuardOp, type GuardRequest, parseGuardRequest } from "./request.js";

/** Requests and errors by operation. */
export class GuardCounters {
  readonly requests: Partial<Record<GuardOp, number>> = {};
  errors = 0;
  overloaded = 0;
  internalErrors = 0;
}

/** Sends the answer to one request. */
export interface Replier {
  ok(body: unknown): void;
  fail(err: unknown): void;
}

/**
 * What an endpoint calls with a validated request; `receivedAt` is `performance.now()` at arrival.
 * It returns the answer, a promise of it, {@link DROPPED} (no reply: the caller gave up), or
 * {@link REPLYING} when it will answer through `reply` itself (the checks: a group commit's
 * replies are then sent in one go, one socket write for the lot).
 */
export type GuardHandler = (op: GuardOp, request: GuardRequest<GuardOp>, receivedAt: number, reply: Replier) => unknown;

interface Registration {
  nc: NatsConnection;
  subjects: ClusterSubjects;
  member: string;
  version: string;
  counters: GuardCounters;
  logger: Logger;
}

function responder(options: Registration, handler: GuardHandler) {
  const { counters, logger } = options;
  const { respond, fail } = replies(logger, counters);
  return (op: GuardOp, msg: Msg) => {
    const receivedAt = performance.now();
    counters.requests[op] = (counters.requests[op] ?? 0) + 1;
    const reply: Replier = {
      ok: (body) => respond(msg, encode({ v: PROTOCOL_VERSION, ok: true, body })),
      fail: (err) => fail(msg, op, err),
    };
    let answer: unknown;
    try {
      answer = handler(op, parseGuardRequest(op, msg.data), receivedAt, reply);
    } catch (err) {
      fail(msg, op, err);
      return;
    }
    if (answer === REPLYING) return;
    // Most answers wait for the log; a synchronous one is sent at once.
    if (answer instanceof Promise) {
      answer.then(
        (body) => {
          if (body !== DROPPED) respond(msg, encode({ v: PROTOCOL_VERSION, ok: true, body }));
        },
        (err: unknown) => fail(msg, op, err),
      );
    } else if (answer !== DROPPED) {
      respond(msg, encode({ v: PROTOCOL_VERSION, ok: true, body: answer }));
    }
  };
}

/** What a handler returns for a request whose caller gave up: no reply is sent. */
export const DROPPED = Symbol("dropped");

/** What a handler returns when it answers through its `reply` itself. */
export const REPLYING = Symbol("replying");

/**
 * Registers the guard: its own status always (`<cluster>.riskguard.<member>.status`); while
 * active, also every risk operation and operator control. One registration per process at a
 * time (a `$SRV.PING` gets one answer per guard), replaced when the role changes.
 */
export async function registerGuardService(
  options: Registration & { active: boolean; epoch: number },
  handler: GuardHandler,
): Promise<Service> {
  const handle = responder(options, handler);
  const service = await new Svcm(options.nc).add({
    name: RISK_SERVICE_NAME,
    version: options.version,
    description: options.active
      ? "stratreg risk guard (active): pre-trade checks, exposures, limits, trading state"
      : "stratreg risk guard (standby): follows the active guard's log, takes over when it dies",
    metadata: {
      cluster: options.subjects.cluster,
      member: options.member,
      role: options.active ? "active" : "standby",
      epoch: String(options.epoch),
    },
  });
  const serve = (name: string, subject: string, op: GuardOp) =>
    service.addEndpoint(name, {
      subject,
      handler: (err, msg) => {
        if (err === null) handle(op, msg);
      },
    });
  serve("member-status", options.subjects.riskGuardStatus(options.member), RiskOps.Status);
  if (options.active) {
    for (const op of Object.values(RiskOps)) serve(op, options.subjects.risk(op), op);
    for (const op of Object.values(RiskControlOps)) serve(`control-${op}`, options.subjects.riskControl(op), op);
  }
  return watchService(service, options.logger);
}
