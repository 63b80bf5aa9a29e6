/**
 * The versions process's NATS endpoints, registered with the NATS services
 * framework (`$SRV.PING/INFO/STATS` find every versions process): one per op
 * on `<cluster>.versions.<op>`, in the queue group "versions" (any one process
 * answers).
 *
 * Requests wait on JetStream and the shards, so up to `concurrency` run at
 * once, from a bounded queue: past `maxInFlight` requests in hand a request is
 * answered OVERLOADED at once, and one whose caller's deadline passed while it
 * waited is dropped unanswered. Bad input is an error reply with a stable code,
 * never a crash.
 */
import { type Service, Svcm } from "@nats-io/services";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import { replies } from "@stratreg/process";
import {
  ErrorCodes,
  encode,
  PROTOCOL_VERSION,
  UnavailableError,
  VERSIONS_SERVICE_NAME,
  type VersionOp,
  VersionOps,
  versionsSubject,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { parseVersionRequest, type VersionRequest } from "./request.js";

/** The queue group of the versions subjects. */
export const VERSIONS_QUEUE = "versions";

/** What the endpoints call. */
export interface VersionHandlers {
  /** Whether the process answers now (its copy has caught up once). */
  ready(): boolean;
  /** Answers a validated request (not status). */
  answer(op: VersionOp, request: VersionRequest<VersionOp>, timeoutMs: number): Promise<unknown>;
  status(): unknown;
}

/** Requests and errors by operation. */
export class VersionCounters {
  readonly requests: Record<string, number> = Object.fromEntries(Object.values(VersionOps).map((op) => [op, 0]));
  errors = 0;
  overloaded = 0;
  internalErrors = 0;
  /** Requests dropped because their caller had given up while they waited. */
  expired = 0;
}

interface Queued {
  op: VersionOp;
  msg: Msg;
  received: number;
}

/** How long a request with no deadline of its own may take, ms. */
const DEFAULT_DEADLINE_MS = 5000;

/** Registers the versions process with the services framework and serves its endpoints. */
export async function registerVersionsService(
  nc: NatsConnection,
  options: {
    cluster: string;
    member: string;
    version: string;
    maxInFlight: number;
    concurrency: number;
    handlers: VersionHandlers;
    counters: VersionCounters;
    logger: Logger;
  },
): Promise<Service> {
  const { handlers, counters, logger } = options;
  const service = await new Svcm(nc).add({
    name: VERSIONS_SERVICE_NAME,
    version: options.version,
    description:
      "stratreg versions: every version of every strategy, diffs, rollbacks, branches, merges and tags, kept in JetStream",
    metadata: { cluster: options.cluster, member: options.member },
    queue: VERSIONS_QUEUE,
    statsHandler: (endpoint) =>
      Promise.resolve(endpoint.subject.endsWith(`.${VersionOps.Status}`) ? handlers.status() : null),
  });
  const { respond, fail } = replies(logger, counters);
  const queue: Queued[] = [];
  let running = 0;
  const run = async ({ op, msg, received }: Queued) => {
    try {
      const request = parseVersionRequest(op, msg.data);
      const waited = performance.now() - received;
      if (request.deadlineMs !== undefined && waited > request.deadlineMs) {
        counters.expired++;
        return;
      }
      let body: unknown;
      if (op === VersionOps.Status) body = handlers.status();
      else if (!handlers.ready()) {
        throw new UnavailableError(ErrorCodes.Unavailable, "versions is still copying the history", {
          retryable: true,
        });
      } else body = await handlers.answer(op, request, (request.deadlineMs ?? DEFAULT_DEADLINE_MS) - waited);
      respond(msg, encode({ v: PROTOCOL_VERSION, ok: true, body }));
    } catch (err) {
      fail(msg, op, err);
    }
  };
  const next = () => {
    while (running < options.concurrency && queue.length > 0) {
      running++;
      void run(queue.shift() as Queued).finally(() => {
        running--;
        next();
      });
    }
  };
  const handle = (op: VersionOp, msg: Msg) => {
    counters.requests[op] = (counters.requests[op] ?? 0) + 1;
    if (queue.length + running >= options.maxInFlight) {
      fail(
        msg,
        op,
        new UnavailableError(ErrorCodes.Overloaded, "versions has too many requests in hand", {
          retryable: true,
          details: { retryAfterMs: 50 },
        }),
      );
      return;
    }
    queue.push({ op, msg, received: performance.now() });
    next();
  };
  for (const op of Object.values(VersionOps)) {
    service.addEndpoint(op, {
      subject: versionsSubject(options.cluster, op),
      handler: (err, msg) => {
        if (err === null) handle(op, msg);
      },
    });
  }
  service.stopped.then(
    (err) => {
      if (err) logger.error({ err }, "service framework registration stopped");
    },
    () => undefined,
  );
  return service;
}
