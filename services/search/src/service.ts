/**
 * The search process's NATS endpoints, registered with the NATS services
 * framework (`$SRV.PING/INFO/STATS` find every search process): `query`,
 * `similar`, `status` and the genealogy ops (`lineage`, `family`, `breeding`,
 * `dynasties`) on `<cluster>.search.<op>`, in the queue group "search" (any
 * one process answers).
 *
 * Queries run on the event loop one at a time, from a bounded queue: past
 * `maxInFlight` a request is answered OVERLOADED at once, and a request whose
 * caller's deadline passed while it waited is dropped unanswered. Bad input is
 * an error reply with a stable code, never a crash.
 */
import { type Service, Svcm } from "@nats-io/services";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { replies, serveEndpoints } from "@stratreg/process";
import {
  type BreedingQuery,
  clusterSubjects,
  type DynastiesQuery,
  ErrorCodes,
  encode,
  type FamilyQuery,
  type LineageQuery,
  PROTOCOL_VERSION,
  SEARCH_SERVICE_NAME,
  type SearchOp,
  SearchOps,
  type SearchQuery,
  type SimilarQuery,
  UnavailableError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { parseSearchRequest } from "./request.js";

/** The queue group of the search subjects. */
export const SEARCH_QUEUE = "search";

/** What the endpoints call. */
export interface SearchHandlers {
  /** Whether the process answers now (its replica is loaded). */
  ready(): boolean;
  query(body: SearchQuery): unknown;
  similar(body: SimilarQuery): unknown;
  status(): unknown;
  lineage(body: LineageQuery): unknown;
  family(body: FamilyQuery): unknown;
  breeding(body: BreedingQuery): unknown;
  dynasties(body: DynastiesQuery): unknown;
}

/** Requests and errors by operation. */
export class SearchCounters {
  readonly requests: Record<SearchOp, number> = {
    query: 0,
    similar: 0,
    status: 0,
    lineage: 0,
    family: 0,
    breeding: 0,
    dynasties: 0,
  };
  errors = 0;
  overloaded = 0;
  internalErrors = 0;
  /** Requests dropped because their caller had given up while they waited. */
  expired = 0;
}

interface Queued {
  op: SearchOp;
  msg: Msg;
  received: number;
}

/** Registers the search process with the services framework and serves its endpoints. */
export async function registerSearchService(
  nc: NatsConnection,
  options: {
    cluster: string;
    member: string;
    version: string;
    maxInFlight: number;
    handlers: SearchHandlers;
    counters: SearchCounters;
    logger: Logger;
  },
): Promise<Service> {
  const { handlers, counters, logger } = options;
  const subjects = clusterSubjects(options.cluster);
  const service = await new Svcm(nc).add({
    name: SEARCH_SERVICE_NAME,
    version: options.version,
    description: "stratreg search: filter, full text and similarity over every strategy, from the partition logs",
    metadata: { cluster: options.cluster, member: options.member },
    queue: SEARCH_QUEUE,
    statsHandler: (endpoint) =>
      Promise.resolve(endpoint.subject.endsWith(`.${SearchOps.Status}`) ? handlers.status() : null),
  });
  const { respond, fail } = replies(logger, counters);
  /** The reply body, or undefined when the caller gave up while the request waited. */
  const answer = (op: SearchOp, msg: Msg, waitedMs: number): unknown => {
    const request = parseSearchRequest(op, msg.data);
    if (request.deadlineMs !== undefined && waitedMs > request.deadlineMs) return undefined;
    if (op === SearchOps.Status) return handlers.status();
    if (!handlers.ready()) {
      throw new UnavailableError(ErrorCodes.Unavailable, "search is still loading the partitions", { retryable: true });
    }
    switch (op) {
      case SearchOps.Query:
        return handlers.query(request.body as SearchQuery);
      case SearchOps.Similar:
        return handlers.similar(request.body as SimilarQuery);
      case SearchOps.Lineage:
        return handlers.lineage(request.body as LineageQuery);
      case SearchOps.Family:
        return handlers.family(request.body as FamilyQuery);
      case SearchOps.Breeding:
        return handlers.breeding(request.body as BreedingQuery);
      default:
        return handlers.dynasties(request.body as DynastiesQuery);
    }
  };
  const queue: Queued[] = [];
  let draining = false;
  const drain = () => {
    const next = queue.shift();
    if (next === undefined) {
      draining = false;
      return;
    }
    setImmediate(drain);
    const { op, msg, received } = next;
    try {
      const body = answer(op, msg, performance.now() - received);
      if (body === undefined) counters.expired++;
      else respond(msg, encode({ v: PROTOCOL_VERSION, ok: true, body }));
    } catch (err) {
      fail(msg, op, err);
    }
  };
  const handle = (op: SearchOp, msg: Msg) => {
    counters.requests[op]++;
    if (queue.length >= options.maxInFlight) {
      fail(
        msg,
        op,
        new UnavailableError(ErrorCodes.Overloaded, "search has too many queries in hand", { retryable: true }),
      );
      return;
    }
    queue.push({ op, msg, received: performance.now() });
    if (!draining) {
      draining = true;
      setImmediate(drain);
    }
  };
  return serveEndpoints(
    service,
    Object.values(SearchOps).map((op) => ({
      name: op,
      subject: subjects.search(op),
      handle: (msg: Msg) => handle(op, msg),
    })),
    logger,
  );
}
