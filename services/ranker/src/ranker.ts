/**
 * The ranker process: connects, learns the partition count from the cluster,
 * listens to every partition's top-k publications, asks an owner for a full
 * publication when its view is missing or out of step, and answers `top`,
 * `rank` and `status`. Its lifecycle is an xstate actor (machine.ts); this
 * class carries out the effects around it.
 */
import { performance } from "node:perf_hooks";
import type { Service } from "@nats-io/services";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { followTradingState, StratregClient, type TradingStateFollower, type TradingStatus } from "@stratreg/client";
import { connectService, logStates } from "@stratreg/process";
import { clusterSubjects, decode, PartitionOps, PROTOCOL_VERSION } from "@stratreg/protocol";
import type { Logger } from "pino";
import { type Actor, createActor } from "xstate";
import { type AllocationSources, forecast, select } from "./allocation.js";
import type { RankerConfig } from "./config.js";
import { createRankerMachine, RankerEvents, type RankerState } from "./machine.js";
import { type PartitionAsker, RankingQueries } from "./query.js";
import { Scatter } from "./scatter.js";
import { RankerCounters, registerRankerService } from "./service.js";
import { ApplyOutcomes, asPublication, PartitionViews } from "./view.js";

export const RANKER_VERSION = "0.1.0";

/** How often the ranker checks its views (missing partitions, wanted resyncs). */
const TICK_MS = 250;
/** Most `topk` requests in flight at once. */
const RESYNCS_MAX = 16;
/** A partition is asked for a full publication again no sooner than this. */
const RESYNC_RETRY_MS = 500;
/** Margin kept from the caller's deadline for the reply to travel back. */
const REPLY_MARGIN_MS = 20;

/** What `<cluster>.ranker.status` answers. */
export interface RankerStatus {
  member: string;
  cluster: string;
  version: string;
  state: RankerState;
  partitions: number;
  /** Partitions whose view is held and fresh. */
  held: number;
  missing: number[];
  oldestAt: number | null;
  /** Each held partition view: its owner's epoch, publication number, log sequence, and age (ms, by the shard's clock). */
  views: Array<{ partition: number; epoch: number; n: number; seq: number; ageMs: number }>;
  publications: { applied: number; ignored: number; resync: number; invalid: number };
  resyncs: { requested: number; failed: number; inFlight: number };
  queries: { inFlight: number; overloaded: number };
  requests: Record<string, number>;
  errors: number;
  /** The trading state this ranker follows (null until a risk guard answered or broadcast). */
  trading: TradingStatus | null;
}

/** The client SDK as the queries' way of asking partitions directly. */
function askerOf(client: StratregClient): PartitionAsker {
  return {
    ranking: (partition, query, timeoutMs) =>
      client.send(partition, PartitionOps.Ranking, { ...query }, { timeoutMs }, false),
    perf: (id, timeoutMs) => client.perf(id, { timeoutMs }),
  };
}

/** What forecasts and selections read: partitions through the SDK, the merged rankings through the queries. */
function allocationSources(client: StratregClient, queries: RankingQueries): AllocationSources {
  return {
    partitions: client.partitions,
    scatter: queries.scatter,
    perf: (id, timeoutMs) => client.perf(id, { timeoutMs }),
    ranking: (partition, query, timeoutMs) =>
      client.send(partition, PartitionOps.Ranking, { ...query }, { timeoutMs }, false),
    history: (id, points, timeoutMs) =>
      client.send(client.partitionOf(id), PartitionOps.History, { id, points }, { timeoutMs }, false),
    top: (query, timeoutMs) => queries.top(query, timeoutMs),
    wallClock: Date.now,
  };
}

export class Ranker {
  private readonly counters = new RankerCounters();
  private readonly publications = { applied: 0, ignored: 0, resync: 0, invalid: 0 };
  private readonly resyncs = { requested: 0, failed: 0 };
  private readonly resyncing = new Set<number>();
  private readonly lastResync = new Map<number, number>();
  private sub: Subscription | undefined;
  /** The trading state as the risk guard broadcasts it. */
  private trading: TradingStateFollower | undefined;
  private service: Service | undefined;
  private timer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  private readonly done: Promise<void>;
  private markDone: () => void = () => undefined;

  private constructor(
    readonly config: RankerConfig,
    private readonly logger: Logger,
    private readonly nc: NatsConnection,
    private readonly client: StratregClient,
    readonly views: PartitionViews,
    readonly queries: RankingQueries,
    private readonly actor: Actor<ReturnType<typeof createRankerMachine>>,
  ) {
    this.done = new Promise((resolve) => {
      this.markDone = resolve;
    });
  }

  /** Connects, learns the cluster's partition count, subscribes and registers; resolves once it answers queries. */
  static async start(config: RankerConfig, logger: Logger): Promise<Ranker> {
    const actor = createActor(createRankerMachine(Math.max(config.staleMs, 5000)));
    logStates(actor, logger, "ranker", (snapshot) => ({ missing: snapshot.context.missing }));
    actor.start();
    let nc: NatsConnection;
    try {
      nc = await connectService(config, "ranker");
    } catch (err) {
      actor.stop();
      throw err;
    }
    try {
      const client = await StratregClient.connect(nc, { cluster: config.cluster, timeoutMs: config.startTimeoutMs });
      const views = new PartitionViews(client.partitions, config.staleMs);
      const scatter = new Scatter({
        maxQueries: config.maxScatters,
        concurrency: config.concurrency,
        retryAfterMs: 100,
      });
      const queries = new RankingQueries(views, askerOf(client), scatter, {
        requestTimeoutMs: config.requestTimeoutMs,
      });
      const ranker = new Ranker(config, logger, nc, client, views, queries, actor);
      await ranker.open();
      return ranker;
    } catch (err) {
      actor.stop();
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  private async open(): Promise<void> {
    const subjects = clusterSubjects(this.config.cluster);
    this.sub = this.nc.subscribe(subjects.topkAll, {
      callback: (err, msg) => {
        if (err === null) this.receive(msg.data);
      },
    });
    this.service = await registerRankerService(this.nc, {
      cluster: this.config.cluster,
      member: this.config.member,
      version: RANKER_VERSION,
      counters: this.counters,
      logger: this.logger,
      handlers: {
        top: (query, deadlineMs) => this.queries.topForWire(query, this.timeoutOf(deadlineMs)),
        rank: (query, deadlineMs) => this.queries.rank(query, this.timeoutOf(deadlineMs)),
        forecast: (query, deadlineMs) =>
          forecast(allocationSources(this.client, this.queries), query, this.timeoutOf(deadlineMs)),
        select: (query, deadlineMs) =>
          select(allocationSources(this.client, this.queries), query, this.timeoutOf(deadlineMs)),
        status: () => this.status(),
      },
    });
    this.trading = followTradingState(this.nc, {
      cluster: this.config.cluster,
      member: this.config.member,
      kind: "ranker",
      onChange: (status) =>
        this.logger.info({ trading: status.state, version: status.version }, `trading ${status.state}`),
    });
    this.actor.send({ type: RankerEvents.Connected, partitions: this.views.partitions });
    this.logger.info(
      { cluster: this.config.cluster, member: this.config.member, partitions: this.views.partitions },
      "ranker started",
    );
    this.tick();
    this.timer = setInterval(() => this.tick(), TICK_MS);
    this.timer.unref();
  }

  private timeoutOf(deadlineMs: number | undefined): number {
    return deadlineMs === undefined
      ? this.config.requestTimeoutMs
      : Math.max(1, Math.min(this.config.requestTimeoutMs, deadlineMs - REPLY_MARGIN_MS));
  }

  private receive(data: Uint8Array): void {
    let publication: ReturnType<typeof asPublication>;
    try {
      publication = asPublication(decode(data));
    } catch {
      publication = undefined;
    }
    if (publication === undefined || publication.v !== PROTOCOL_VERSION) {
      this.publications.invalid++;
      if (this.publications.invalid === 1)
        this.logger.warn("ignoring a top-k publication that is not one this ranker reads");
      return;
    }
    this.note(publication.partition, this.views.apply(publication));
  }

  private note(partition: number, outcome: (typeof ApplyOutcomes)[keyof typeof ApplyOutcomes]): void {
    this.publications[outcome]++;
    if (outcome === ApplyOutcomes.Resync) this.resync(partition);
  }

  /** Asks the partition's owner for a full publication (one request per partition at a time). */
  private resync(partition: number): void {
    if (this.stopping !== undefined || this.resyncing.has(partition) || this.resyncing.size >= RESYNCS_MAX) return;
    const now = performance.now();
    if (now - (this.lastResync.get(partition) ?? Number.NEGATIVE_INFINITY) < RESYNC_RETRY_MS) return;
    this.lastResync.set(partition, now);
    this.resyncing.add(partition);
    this.resyncs.requested++;
    this.client
      .send(partition, PartitionOps.TopK, {}, { timeoutMs: this.config.requestTimeoutMs }, false)
      .then(
        (full) => {
          const publication = asPublication(full);
          if (publication === undefined || publication.partition !== partition) throw new Error("not a publication");
          this.note(partition, this.views.apply({ ...publication, full: true }));
        },
        (err: unknown) => {
          this.resyncs.failed++;
          this.logger.debug({ err, partition }, "resync failed; will retry");
        },
      )
      .catch((err: unknown) => {
        this.resyncs.failed++;
        this.logger.warn({ err, partition }, "resync answered with something that is not a publication");
      })
      .finally(() => this.resyncing.delete(partition));
  }

  private tick(): void {
    if (this.stopping !== undefined) return;
    const missing = this.views.missing();
    for (const partition of missing) this.resync(partition);
    for (let p = 0; p < this.views.partitions; p++) if (this.views.resyncWanted(p)) this.resync(p);
    this.actor.send({ type: RankerEvents.Views, missing: missing.length });
  }

  /** What the status endpoint answers. */
  status(): RankerStatus {
    const missing = this.views.missing();
    return {
      member: this.config.member,
      cluster: this.config.cluster,
      version: RANKER_VERSION,
      state: this.actor.getSnapshot().value as RankerState,
      partitions: this.views.partitions,
      held: this.views.partitions - missing.length,
      missing,
      oldestAt: this.views.oldestAt(),
      views: this.heldViews(),
      publications: { ...this.publications },
      resyncs: { ...this.resyncs, inFlight: this.resyncing.size },
      queries: { inFlight: this.queries.scatter.inFlight, overloaded: this.queries.scatter.overloaded },
      requests: { ...this.counters.requests },
      errors: this.counters.errors,
      trading: this.trading?.current ?? null,
    };
  }

  private heldViews(): RankerStatus["views"] {
    const now = Date.now();
    const out: RankerStatus["views"] = [];
    for (let p = 0; p < this.views.partitions; p++) {
      const view = this.views.get(p);
      if (view !== undefined) {
        out.push({ partition: p, epoch: view.epoch, n: view.n, seq: view.seq, ageMs: Math.max(0, now - view.at) });
      }
    }
    return out;
  }

  /** The lifecycle state. */
  get state(): RankerState {
    return this.actor.getSnapshot().value as RankerState;
  }

  /** Resolves once the ranker has stopped. */
  stopped(): Promise<void> {
    return this.done;
  }

  /** Stops answering (requests already received are answered), unsubscribes and closes the connection. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    this.actor.send({ type: RankerEvents.Stop });
    clearInterval(this.timer);
    try {
      await this.service?.stop().catch((err: unknown) => this.logger.warn({ err }, "service stop failed"));
      this.sub?.unsubscribe();
      this.trading?.stop();
      if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
    } finally {
      this.actor.send({ type: RankerEvents.Stopped });
      this.actor.stop();
      this.logger.info("ranker stopped");
      this.markDone();
    }
  }
}
