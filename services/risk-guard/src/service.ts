/**
 * The guard's endpoints in the NATS services framework. Every guard registers
 * a member service (its own status on `<cluster>.riskguard.<member>.status`);
 * the active guard alone also registers the service of the risk operations and
 * the operators' controls, and stops it when it steps down, so during a
 * takeover a request finds no responder at once and the SDK retries.
 * Plain subscriptions, no queue group: there is one active guard.
 */
import { type Service, Svcm } from "@nats-io/services";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import {
  type ClusterSubjects,
  ErrorCodes,
  encode,
  PROTOCOL_VERSION,
  RISK_SERVICE_NAME,
  RiskControlOps,
  RiskOps,
  toStratregError,
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

/** What an endpoint calls with a validated request; `receivedAt` is `performance.now()` at arrival. */
export type GuardHandler = (op: GuardOp, request: GuardRequest<GuardOp>, receivedAt: number) => unknown;

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
  const respond = (msg: Msg, bytes: Uint8Array) => {
    if (msg.reply === undefined || msg.reply === "") return;
    try {
      msg.respond(bytes);
    } catch (err) {
      logger.warn({ err, subject: msg.subject }, "could not send reply");
    }
  };
  const fail = (msg: Msg, op: GuardOp, err: unknown) => {
    const error = toStratregError(err);
    counters.errors++;
    if (error.code === ErrorCodes.Overloaded) counters.overloaded++;
    if (error.code === ErrorCodes.Internal) {
      counters.internalErrors++;
      logger.error({ err, op, subject: msg.subject }, "request failed");
    }
    respond(msg, encode({ v: PROTOCOL_VERSION, ok: false, error: error.toWire() }));
  };
  return (op: GuardOp, msg: Msg) => {
    const receivedAt = performance.now();
    counters.requests[op] = (counters.requests[op] ?? 0) + 1;
    let answer: unknown;
    try {
      answer = handler(op, parseGuardRequest(op, msg.data), receivedAt);
    } catch (err) {
      fail(msg, op, err);
      return;
    }
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

function watch(service: Service, logger: Logger): Service {
  service.stopped.then(
    (err) => {
      if (err) logger.error({ err }, "service framework registration stopped");
    },
    () => undefined,
  );
  return service;
}

/** Every guard's own service: its status, active or standby. */
export async function registerMemberService(options: Registration, handler: GuardHandler): Promise<Service> {
  const handle = responder(options, handler);
  const service = await new Svcm(options.nc).add({
    name: RISK_SERVICE_NAME,
    version: options.version,
    description: "stratreg risk guard (this member, active or standby)",
    metadata: { cluster: options.subjects.cluster, member: options.member, role: "member" },
    queue: "",
  });
  service.addEndpoint("member-status", {
    subject: options.subjects.riskGuardStatus(options.member),
    handler: (err, msg) => {
      if (err === null) handle(RiskOps.Status, msg);
    },
  });
  return watch(service, options.logger);
}

/** The active guard's service: every risk operation and every operator control. */
export async function registerActiveService(
  options: Registration & { epoch: number },
  handler: GuardHandler,
): Promise<Service> {
  const handle = responder(options, handler);
  const service = await new Svcm(options.nc).add({
    name: RISK_SERVICE_NAME,
    version: options.version,
    description: "stratreg risk guard (active): pre-trade checks, exposures, limits, trading state",
    metadata: {
      cluster: options.subjects.cluster,
      member: options.member,
      role: "active",
      epoch: String(options.epoch),
    },
    queue: "",
  });
  for (const op of Object.values(RiskOps)) {
    service.addEndpoint(op, {
      subject: options.subjects.risk(op),
      handler: (err, msg) => {
        if (err === null) handle(op, msg);
      },
    });
  }
  for (const op of Object.values(RiskControlOps)) {
    service.addEndpoint(`control-${op}`, {
      subject: options.subjects.riskControl(op),
      handler: (err, msg) => {
        if (err === null) handle(op, msg);
      },
    });
  }
  return watch(service, options.logger);
}
