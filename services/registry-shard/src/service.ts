/**
 * The shard's NATS endpoints. Partition subjects (`<cluster>.part.<p>.<op>`) are
 * plain subscriptions held only while this shard owns the partition; a request
 * is answered by whoever is subscribed, so clients need no membership view.
 * The shard also registers with the NATS services framework so `$SRV.PING`,
 * `$SRV.INFO` and `$SRV.STATS` find it, with its status as the stats data.
 */

import { type Service, Svcm } from "@nats-io/services";
import type { Msg, NatsConnection, Subscription } from "@nats-io/transport-node";
import { watchService } from "@stratreg/process";
import {
  type ClusterConfig,
  clusterSubjects,
  ENCODING_HEADER,
  ErrorCodes,
  encode,
  PartitionOps,
  PROTOCOL_VERSION,
  SHARD_SERVICE_NAME,
  type ShardStatus,
  toStratregError,
  ValidationError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { cascade, link } from "./handlers/graph.js";
import { attachEvidence, evidence, gates, transition } from "./handlers/lifecycle.js";
import { history, perf, ranking, report, topk } from "./handlers/performance.js";
import { get, getBatch, list } from "./handlers/reads.js";
import { errorReply } from "./handlers/reply.js";
import { register, registerBatch, retire, update } from "./handlers/writes.js";
import { DroppedError, isUnanswered, type Partition } from "./partition.js";
import { TemplateEndpoints } from "./templates/endpoints.js";
import type { TemplateStore } from "./templates/store.js";

/** Request and error counters, by operation. */
export class RequestCounters {
  readonly requests: Record<string, number> = {};
  errors = 0;
  internalErrors = 0;
  /** Requests answered OVERLOADED. */
  overloaded = 0;
  /** Queued writes dropped because their caller had given up. */
  expired = 0;
  /** Requests left unanswered because the lease was not fresh or the partition had moved. */
  unanswered = 0;

  count(op: string): void {
    this.requests[op] = (this.requests[op] ?? 0) + 1;
  }
}

type Handler = (partition: Partition, msg: Msg) => Uint8Array | Promise<Uint8Array>;

const HANDLERS: Record<string, Handler> = {
  [PartitionOps.Get]: (p, msg) => get(p, msg.data),
  [PartitionOps.GetBatch]: (p, msg) => getBatch(p, msg.data),
  [PartitionOps.List]: (p, msg) => list(p, msg.data),
  [PartitionOps.Register]: (p, msg) => register(p, msg.data),
  [PartitionOps.RegisterBatch]: (p, msg) => registerBatch(p, msg.data, msg.headers?.get(ENCODING_HEADER) || undefined),
  [PartitionOps.Update]: (p, msg) => update(p, msg.data),
  [PartitionOps.Retire]: (p, msg) => retire(p, msg.data),
  [PartitionOps.Report]: (p, msg) => report(p, msg.data),
  [PartitionOps.Perf]: (p, msg) => perf(p, msg.data),
  [PartitionOps.Ranking]: (p, msg) => ranking(p, msg.data),
  [PartitionOps.TopK]: (p, msg) => topk(p, msg.data),
  [PartitionOps.History]: (p, msg) => history(p, msg.data),
  [PartitionOps.Transition]: (p, msg) => transition(p, msg.data),
  [PartitionOps.AttachEvidence]: (p, msg) => attachEvidence(p, msg.data),
  [PartitionOps.Evidence]: (p, msg) => evidence(p, msg.data),
  [PartitionOps.Gates]: (p, msg) => gates(p, msg.data),
  [PartitionOps.Link]: (p, msg) => link(p, msg.data),
  [PartitionOps.Cascade]: (p, msg) => cascade(p, msg.data),
};

/** Answers requests on the partition subjects this shard owns. */
export class PartitionEndpoints {
  private readonly subs = new Map<number, Subscription>();

  constructor(
    private readonly nc: NatsConnection,
    private readonly subjectOf: (partition: number) => string,
    private readonly counters: RequestCounters,
    private readonly logger: Logger,
  ) {}

  /** Starts answering `partition`'s subjects. */
  serve(partition: Partition): void {
    if (this.subs.has(partition.id)) return;
    const sub = this.nc.subscribe(this.subjectOf(partition.id), {
      callback: (err, msg) => {
        if (err === null) this.handle(partition, msg);
      },
    });
    this.subs.set(partition.id, sub);
  }

  /** Stops answering `partition` once requests already received are handled, then waits for its writes. */
  async unserve(partition: Partition): Promise<void> {
    const sub = this.subs.get(partition.id);
    this.subs.delete(partition.id);
    if (sub !== undefined && !this.nc.isClosed()) await sub.drain().catch(() => undefined);
    await partition.idle();
  }

  /** Stops answering `partition` at once (another owner has it): nothing more is read from its subjects. */
  drop(partition: Partition): void {
    this.subs.get(partition.id)?.unsubscribe();
    this.subs.delete(partition.id);
  }

  private handle(partition: Partition, msg: Msg): void {
    // A non-owner never replies: a paused process wakes up with a stale lease and stays silent.
    if (!partition.answering()) {
      this.counters.unanswered++;
      return;
    }
    const op = msg.subject.slice(msg.subject.lastIndexOf(".") + 1);
    const handler = Object.hasOwn(HANDLERS, op) ? HANDLERS[op] : undefined;
    // Count by known operation only: arbitrary subjects must not grow the counters.
    this.counters.count(handler === undefined ? "unknown" : op);
    try {
      if (handler === undefined) {
        throw new ValidationError(ErrorCodes.UnknownOperation, `no operation ${JSON.stringify(op)}`, {
          details: { operations: Object.values(PartitionOps) },
        });
      }
      const reply = handler(partition, msg);
      if (reply instanceof Uint8Array) this.respond(msg, reply);
      else
        reply.then(
          (bytes) => this.respond(msg, bytes),
          (err) => this.fail(msg, op, err),
        );
    } catch (err) {
      this.fail(msg, op, err);
    }
  }

  private fail(msg: Msg, op: string, err: unknown): void {
    if (isUnanswered(err)) {
      if (err instanceof DroppedError) this.counters.expired++;
      else this.counters.unanswered++;
      return;
    }
    const error = toStratregError(err);
    if (error.code === ErrorCodes.Overloaded) this.counters.overloaded++;
    this.counters.errors++;
    if (error.code === ErrorCodes.Internal) {
      this.counters.internalErrors++;
      this.logger.error({ err, op, subject: msg.subject }, "request failed");
    }
    this.respond(msg, errorReply(error));
  }

  private respond(msg: Msg, bytes: Uint8Array): void {
    if (msg.reply === undefined || msg.reply === "") return;
    try {
      msg.respond(bytes);
    } catch (err) {
      this.logger.warn({ err, subject: msg.subject }, "could not send reply");
    }
  }
}

/**
 * Registers the shard with the NATS services framework: `status` and `cluster-info` endpoints,
 * and the template endpoints (templates/endpoints.ts).
 */
export async function registerService(
  nc: NatsConnection,
  options: {
    cluster: string;
    member: string;
    version: string;
    config: ClusterConfig;
    status: () => ShardStatus;
    logger: Logger;
    /** The template store (the lifecycle reads it too). */
    templates: TemplateStore;
  },
): Promise<Service> {
  const service = await new Svcm(nc).add({
    name: SHARD_SERVICE_NAME,
    version: options.version,
    description: "stratreg registry shard: owns partitions of the strategies",
    metadata: { cluster: options.cluster, member: options.member },
    // Endpoints are plain subscriptions unless they ask for a queue group.
    queue: "",
    statsHandler: (endpoint) => Promise.resolve(endpoint.subject.endsWith(".status") ? options.status() : null),
  });
  const reply = (body: unknown) => encode({ v: PROTOCOL_VERSION, ok: true, body });
  service.addEndpoint("status", {
    subject: clusterSubjects(options.cluster).shardStatus(options.member),
    handler: (err, msg) => {
      if (err === null) msg.respond(reply(options.status()));
    },
  });
  service.addEndpoint("cluster-info", {
    subject: `${options.cluster}.cluster.info`,
    queue: "q",
    handler: (err, msg) => {
      if (err === null) msg.respond(reply(options.config));
    },
  });
  // Strategy templates: any shard answers (queue group), from the bucket startup.ts created.
  const subjects = clusterSubjects(options.cluster);
  const templates = await TemplateEndpoints.create({
    nc,
    subjects,
    store: options.templates,
    partitions: options.config.partitions,
    logger: options.logger,
  });
  templates.addTo(service);
  watchService(service, options.logger);
  return service;
}
