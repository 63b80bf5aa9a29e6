/**
 * Discovery's NATS endpoints, registered with the NATS services framework
 * (`$SRV.PING/INFO/STATS` find every discovery process): `import`, `data`,
 * `status`, `candidates` and `scan` on `<cluster>.discovery.<op>`, and the
 * operators' `run` and `stop` on `<cluster>.control.discovery.<op>`, all in
 * the queue group "discovery" (any one process answers). Every request is
 * validated at the edge; bad input or a failed operation is an error reply,
 * never a crash.
 */
import { type Service, Svcm } from "@nats-io/services";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { replies, serveEndpoints } from "@stratreg/process";
import {
  type ClusterSubjects,
  DISCOVERY_SERVICE_NAME,
  DiscoveryControlOps,
  DiscoveryOps,
  ErrorCodes,
  encode,
  PROTOCOL_VERSION,
  StratregError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { type DiscoveryRequest, type DiscoveryServiceOp, parseDiscoveryRequest } from "./request.js";

/** Requests a discovery process works on at once; past it: OVERLOADED, retryable. */
export const MAX_IN_FLIGHT = 64;

/** The queue group of discovery's subjects. */
export const DISCOVERY_QUEUE = "discovery";

/** What the endpoints call, by operation, with the validated request. */
export type DiscoveryHandlers = {
  [Op in DiscoveryServiceOp]: (request: DiscoveryRequest<Op>) => unknown;
};

/** Requests and errors by operation. */
export class DiscoveryCounters {
  readonly requests: Record<DiscoveryServiceOp, number> = {
    import: 0,
    data: 0,
    status: 0,
    candidates: 0,
    scan: 0,
    run: 0,
    stop: 0,
  };
  errors = 0;
  overloaded = 0;
  internalErrors = 0;
}

/** Registers discovery with the services framework and serves its endpoints. */
export async function registerDiscoveryService(
  nc: NatsConnection,
  options: {
    subjects: ClusterSubjects;
    member: string;
    version: string;
    handlers: DiscoveryHandlers;
    counters: DiscoveryCounters;
    logger: Logger;
  },
): Promise<Service> {
  const { handlers, counters, logger, subjects } = options;
  const service = await new Svcm(nc).add({
    name: DISCOVERY_SERVICE_NAME,
    version: options.version,
    description: "stratreg discovery: mines market data for patterns, validates them, registers candidates",
    metadata: { cluster: subjects.cluster, member: options.member },
    queue: DISCOVERY_QUEUE,
    statsHandler: (endpoint) =>
      Promise.resolve(
        endpoint.subject.endsWith(`.${DiscoveryOps.Status}`) ? handlers.status({ v: 1, body: {} }) : null,
      ),
  });
  const { respond, fail } = replies(logger, counters);
  let inFlight = 0;
  const handle = <Op extends DiscoveryServiceOp>(op: Op, msg: Msg) => {
    counters.requests[op]++;
    if (inFlight >= MAX_IN_FLIGHT) {
      fail(
        msg,
        op,
        new StratregError(ErrorCodes.Overloaded, `discovery has ${inFlight} requests in hand`, {
          details: { retryAfterMs: 100 },
        }),
      );
      return;
    }
    inFlight++;
    Promise.resolve()
      .then(() => {
        const request = parseDiscoveryRequest(op, msg.data);
        return (handlers[op] as (request: DiscoveryRequest<Op>) => unknown)(request);
      })
      .then(
        (body) => respond(msg, encode({ v: PROTOCOL_VERSION, ok: true, body })),
        (err: unknown) => fail(msg, op, err),
      )
      .finally(() => {
        inFlight--;
      });
  };
  return serveEndpoints(
    service,
    [
      ...Object.values(DiscoveryOps).map((op) => ({
        name: op,
        subject: subjects.discovery(op),
        handle: (msg: Msg) => handle(op, msg),
      })),
      ...Object.values(DiscoveryControlOps).map((op) => ({
        name: `control-${op}`,
        subject: subjects.discoveryControl(op),
        handle: (msg: Msg) => handle(op, msg),
      })),
    ],
    logger,
  );
}
