/**
 * The ranker's NATS endpoints, registered with the NATS services framework
 * (`$SRV.PING/INFO/STATS` find every ranker): `top`, `rank` and `status` on
 * `<cluster>.ranker.<op>` in the queue group "ranker" (any one ranker answers)
 * and on `<cluster>.ranker.<member>.<op>` (this ranker alone). Every request is
 * validated at the edge; bad input, an overloaded ranker or a failed query is
 * an error reply, never a crash.
 */
import { type Service, Svcm } from "@nats-io/services";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { replies, serveEndpoints } from "@stratreg/process";
import {
  clusterSubjects,
  encodeWithRaw,
  type ForecastQuery,
  type ForecastReply,
  type Freshness,
  PROTOCOL_VERSION,
  RANKER_SERVICE_NAME,
  type RankerOp,
  RankerOps,
  type RankQuery,
  type RankReply,
  type RawMsgpack,
  type SelectQuery,
  type SelectReply,
  type TopQuery,
  type TopReply,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { parseRankerRequest } from "./request.js";

/** The queue group of the shared ranker subjects. */
export const RANKER_QUEUE = "ranker";

/** What the endpoints call. `timeoutMs` is how long the caller still waits. */
export interface RankerHandlers {
  top(
    query: TopQuery,
    timeoutMs: number | undefined,
  ): Promise<TopReply | { entries: RawMsgpack; freshness: Freshness }>;
  rank(query: RankQuery, timeoutMs: number | undefined): Promise<RankReply>;
  forecast(query: ForecastQuery, timeoutMs: number | undefined): Promise<ForecastReply>;
  select(query: SelectQuery, timeoutMs: number | undefined): Promise<SelectReply>;
  status(): unknown;
}

/** Requests and errors by operation. */
export class RankerCounters {
  readonly requests: Record<RankerOp, number> = { top: 0, rank: 0, forecast: 0, select: 0, status: 0 };
  errors = 0;
  overloaded = 0;
  internalErrors = 0;
}

// Bodies may hold entries encoded once and spliced in (RawMsgpack).
const okReply = (body: unknown) => encodeWithRaw({ v: PROTOCOL_VERSION, ok: true, body });

/** Registers the ranker with the services framework and serves its endpoints. */
export async function registerRankerService(
  nc: NatsConnection,
  options: {
    cluster: string;
    member: string;
    version: string;
    handlers: RankerHandlers;
    counters: RankerCounters;
    logger: Logger;
  },
): Promise<Service> {
  const { handlers, counters, logger } = options;
  const subjects = clusterSubjects(options.cluster);
  const service = await new Svcm(nc).add({
    name: RANKER_SERVICE_NAME,
    version: options.version,
    description: "stratreg ranker: global top-k and ranks merged from the partitions' published lists",
    metadata: { cluster: options.cluster, member: options.member },
    queue: RANKER_QUEUE,
    statsHandler: (endpoint) =>
      Promise.resolve(endpoint.subject.endsWith(`.${RankerOps.Status}`) ? handlers.status() : null),
  });

  const { respond, fail } = replies(logger, counters);
  const answer = async (op: RankerOp, msg: Msg): Promise<unknown> => {
    switch (op) {
      case RankerOps.Top: {
        const request = parseRankerRequest(RankerOps.Top, msg.data);
        return handlers.top(request.body, request.deadlineMs);
      }
      case RankerOps.Rank: {
        const request = parseRankerRequest(RankerOps.Rank, msg.data);
        return handlers.rank(request.body, request.deadlineMs);
      }
      case RankerOps.Forecast: {
        const request = parseRankerRequest(RankerOps.Forecast, msg.data);
        return handlers.forecast(request.body, request.deadlineMs);
      }
      case RankerOps.Select: {
        const request = parseRankerRequest(RankerOps.Select, msg.data);
        return handlers.select(request.body, request.deadlineMs);
      }
      case RankerOps.Status:
        parseRankerRequest(RankerOps.Status, msg.data);
        return handlers.status();
    }
  };
  const handle = (op: RankerOp, msg: Msg) => {
    counters.requests[op]++;
    answer(op, msg).then(
      (body) => respond(msg, okReply(body)),
      (err: unknown) => fail(msg, op, err),
    );
  };

  return serveEndpoints(
    service,
    Object.values(RankerOps).flatMap((op) => [
      { name: op, subject: subjects.ranker(op), handle: (msg: Msg) => handle(op, msg) },
      // Every ranker answers its own member subject.
      {
        name: `member-${op}`,
        subject: subjects.rankerMember(options.member, op),
        queue: "",
        handle: (msg: Msg) => handle(op, msg),
      },
    ]),
    logger,
  );
}
