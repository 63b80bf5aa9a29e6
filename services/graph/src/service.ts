/**
 * The graph leader's NATS endpoints, registered with the NATS services
 * framework (`$SRV.PING/INFO/STATS` find the leader): link, unlink, impact,
 * dependencies, cascade and status on `<cluster>.graph.<op>`. Only the leader
 * registers them, so a request reaches the one process that may decide. Bad
 * input is an error reply with a stable code, never a crash.
 */
import { type Service, Svcm } from "@nats-io/services";
import type { Msg, NatsConnection } from "@nats-io/transport-node";
import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { replies, serveEndpoints } from "@stratreg/process";
import {
  type CascadeRequest,
  clusterSubjects,
  encode,
  GRAPH_SERVICE_NAME,
  type GraphOp,
  GraphOps,
  GraphRequestBodies,
  type LinkRequest,
  PROTOCOL_VERSION,
  parseWith,
  requestEnvelopeSchema,
  type TraversalRequest,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import type { GraphLeader } from "./leader.js";

/** Requests and errors by operation. */
export class GraphCounters {
  readonly requests: Record<GraphOp, number> = {
    link: 0,
    unlink: 0,
    impact: 0,
    dependencies: 0,
    cascade: 0,
    status: 0,
  };
  errors = 0;
  overloaded = 0;
  internalErrors = 0;
}

type Bodies = typeof GraphRequestBodies;
const checks = new Map<GraphOp, TypeCheck<TSchema>>();

/** Checks, decodes and validates a request for `op` the way every stratreg service does (docs/protocol.md). */
export function parseGraphRequest<Op extends GraphOp>(
  op: Op,
  payload: Uint8Array,
): { body: Static<Bodies[Op]>; cid?: string } {
  let check = checks.get(op);
  if (check === undefined) {
    // cid and issued are allowed, never required: every graph op is idempotent or says what it changed.
    check = TypeCompiler.Compile(requestEnvelopeSchema(GraphRequestBodies[op], false));
    checks.set(op, check);
  }
  return parseWith<{ body: Static<Bodies[Op]>; cid?: string }>(check, payload);
}

async function answer(leader: GraphLeader, op: GraphOp, data: Uint8Array): Promise<unknown> {
  const { body, cid } = parseGraphRequest(op, data);
  switch (op) {
    case GraphOps.Link:
      return leader.link(body as LinkRequest, cid);
    case GraphOps.Unlink:
      return leader.unlink(body as LinkRequest, cid);
    case GraphOps.Impact:
      return leader.traverse(body as TraversalRequest, "dependents");
    case GraphOps.Dependencies:
      return leader.traverse(body as TraversalRequest, "dependencies");
    case GraphOps.Cascade:
      return leader.cascade(body as CascadeRequest, cid);
    case GraphOps.Status:
      return leader.status();
  }
}

/** Registers the leader's endpoints; stop the returned service when leadership ends. */
export async function registerGraphService(
  nc: NatsConnection,
  options: {
    cluster: string;
    member: string;
    version: string;
    leader: GraphLeader;
    counters: GraphCounters;
    logger: Logger;
  },
): Promise<Service> {
  const { leader, counters, logger } = options;
  const subjects = clusterSubjects(options.cluster);
  const service = await new Svcm(nc).add({
    name: GRAPH_SERVICE_NAME,
    version: options.version,
    description: "stratreg graph: the one writer of dependency edges, impact analysis and cascades",
    metadata: { cluster: options.cluster, member: options.member },
    statsHandler: () => Promise.resolve({ ...leader.status(), requests: counters.requests, errors: counters.errors }),
  });
  const { respond, fail } = replies(logger, counters);
  const handle = (op: GraphOp, msg: Msg) => {
    counters.requests[op]++;
    answer(leader, op, msg.data).then(
      (body) => respond(msg, encode({ v: PROTOCOL_VERSION, ok: true, body })),
      (err: unknown) => fail(msg, op, err),
    );
  };
  return serveEndpoints(
    service,
    Object.values(GraphOps).map((op) => ({
      name: op,
      subject: subjects.graph(op),
      handle: (msg: Msg) => handle(op, msg),
    })),
    logger,
  );
}
