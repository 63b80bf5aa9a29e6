/**
 * The risk guard process: one active instance and hot standbys. Each connects,
 * rebuilds the book from the log, and follows the log as it grows; whichever
 * takes the leader lease catches up on the tail, appends an epoch marker (which
 * fences any older leader's appends) and starts answering. A leader that loses
 * its lease or has an append refused stops answering at once and rebuilds from
 * the log before it may lead again. Its lifecycle is an xstate actor
 * (machine.ts); this class carries out the effects around it.
 */
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import type { Service } from "@nats-io/services";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { requestsThroughMux, StratregClient } from "@stratreg/client";
import { type Lease, LeaseTable } from "@stratreg/fencing";
import {
  type ClusterSubjects,
  clusterSubjects,
  ErrorCodes,
  RiskControlOps,
  RiskLogKinds,
  RiskOps,
  StratregError,
  UnavailableError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { type Actor, createActor } from "xstate";
import { ActiveGuard } from "./active.js";
import { Analytics } from "./analytics.js";
import { RiskBook } from "./book/book.js";
import { RecordKinds, type RiskEntry } from "./book/records.js";
import { StateBroadcast } from "./broadcast.js";
import type { GuardConfig } from "./config.js";
import { GuardEvents, type GuardState, GuardStates, guardMachine } from "./machine.js";
import { CommitPipeline } from "./pipeline.js";
import { exposureReply } from "./reports.js";
import { compileGuardValidators, type GuardOp, type GuardRequest } from "./request.js";
import { GuardCounters, type Replier, registerGuardService } from "./service.js";
import { appliedRecords, BookSnapshots } from "./store/book-snapshots.js";
import { ensureRiskLog, RiskLog } from "./store/risk-log.js";
import { StrategyCache } from "./strategies.js";

export const GUARD_VERSION = "0.1.0";

/** How often a standby looks at the lease. */
const LEASE_POLL_MS = 100;
/** Margin kept from the caller's deadline for the reply to travel back. */
const REPLY_MARGIN_MS = 5;

export class Guard {
  private readonly counters = new GuardCounters();
  private book = new RiskBook();
  private appliedSeq = 0;
  private active: ActiveGuard | undefined;
  private service: Service | undefined;
  private following: AbortController | undefined;
  private followDone: Promise<void> = Promise.resolve();
  private pollTimer: NodeJS.Timeout | undefined;
  private snapshotTimer: NodeJS.Timeout | undefined;
  /** Records applied when the last snapshot was taken (or the book was restored from one). */
  private snapshotRecords = 0;
  private snapshotting = false;
  private stopping: Promise<void> | undefined;
  private transition: Promise<void> = Promise.resolve();
  private readonly done: Promise<void>;
  private markDone: () => void = () => undefined;
  /** When the current lease was taken and when the guard started answering (for takeover time). */
  private lastTakeover: { leaseAt: number; activeAt: number; caughtUp: number } | undefined;
  readonly analytics: Analytics;

  private constructor(
    readonly config: GuardConfig,
    private readonly logger: Logger,
    private readonly nc: NatsConnection,
    client: StratregClient,
    private readonly subjects: ClusterSubjects,
    private readonly log: RiskLog,
    private readonly leases: LeaseTable,
    private readonly broadcast: StateBroadcast,
    private readonly strategies: StrategyCache,
    private readonly snapshots: BookSnapshots,
    private readonly actor: Actor<typeof guardMachine>,
  ) {
    this.done = new Promise((resolve) => {
      this.markDone = resolve;
    });
    this.analytics = new Analytics(
      client,
      () => this.book,
      config,
      logger,
      (clusters, rho) => this.active?.recordClusters(clusters, rho) ?? Promise.resolve(),
    );
  }

  /** Connects, rebuilds the book, and starts following (or leading); resolves once it is a standby or active. */
  static async start(config: GuardConfig, logger: Logger): Promise<Guard> {
    compileGuardValidators();
    const actor = createActor(guardMachine);
    let previous: GuardState | undefined;
    actor.subscribe({
      next: (snapshot) => {
        const state = snapshot.value as GuardState;
        if (state !== previous) {
          logger.info({ state, epoch: snapshot.context.epoch }, `risk guard ${state}`);
          previous = state;
        }
      },
      error: (err) => logger.error({ err }, "risk guard lifecycle actor failed"),
    });
    actor.start();
    let nc: NatsConnection;
    try {
      nc = await connect({
        servers: config.natsUrl.split(","),
        name: `stratreg-risk-guard/${config.member}`,
        user: config.natsUser,
        pass: config.natsPassword,
        maxReconnectAttempts: -1,
        reconnectTimeWait: 500,
        // As every service: no async-trace errors built per request (each append is one).
        noAsyncTraces: true,
      });
    } catch (err) {
      actor.stop();
      throw err;
    }
    try {
      const client = await StratregClient.connect(nc, { cluster: config.cluster, timeoutMs: config.startTimeoutMs });
      const subjects = clusterSubjects(config.cluster);
      const js = jetstream(requestsThroughMux(nc));
      const jsm = await jetstreamManager(nc);
      const replicas = Math.max(1, client.config.replicas);
      await ensureRiskLog(jsm, subjects, replicas);
      const kv = await new Kvm(js).create(subjects.riskBucket, { history: 1, replicas });
      const instance = `${config.member}-${process.pid}-${Date.now().toString(36)}`;
      const leases = new LeaseTable(
        kv,
        () => subjects.riskLeaseKey,
        (key) => (key === subjects.riskLeaseKey ? 0 : undefined),
        config.member,
        instance,
        { leaseMs: config.leaseMs, marginMs: config.leaseMarginMs },
        logger,
      );
      await leases.start();
      const broadcast = new StateBroadcast(nc, subjects.tradingState, logger);
      broadcast.start();
      const strategies = new StrategyCache(
        (id) =>
          client.get(id, { timeoutMs: 2000 }).catch((err: unknown) => {
            if (err instanceof StratregError && err.code === ErrorCodes.NotFound) return undefined;
            throw err;
          }),
        config.strategyCacheMs,
      );
      const log = new RiskLog(js, jsm, subjects, logger);
      const snapshots = await BookSnapshots.open(js, subjects, replicas, logger);
      const guard = new Guard(
        config,
        logger,
        nc,
        client,
        subjects,
        log,
        leases,
        broadcast,
        strategies,
        snapshots,
        actor,
      );
      await guard.open();
      return guard;
    } catch (err) {
      actor.stop();
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  /** Registers this guard's endpoints for its role, replacing what it served before. */
  private async serve(active: boolean, epoch: number): Promise<void> {
    const previous = this.service;
    this.service = undefined;
    await previous?.stop().catch((err: unknown) => this.logger.warn({ err }, "service stop failed"));
    this.service = await registerGuardService(
      {
        nc: this.nc,
        subjects: this.subjects,
        member: this.config.member,
        version: GUARD_VERSION,
        counters: this.counters,
        logger: this.logger,
        active,
        epoch,
      },
      (op, request, receivedAt, reply) => this.handle(op, request, receivedAt, reply),
    );
  }

  private async open(): Promise<void> {
    await this.serve(false, 0);
    this.actor.send({ type: GuardEvents.Connected });
    await this.recover();
    this.pollTimer = setInterval(() => this.poll(), LEASE_POLL_MS);
    this.pollTimer.unref();
    this.snapshotTimer = setInterval(() => void this.snapshot(), this.config.snapshotEveryMs);
    this.snapshotTimer.unref();
    this.poll();
  }

  /** Rebuilds the book from the latest snapshot and the log after it, then follows the log. */
  private async recover(): Promise<void> {
    const started = performance.now();
    const retention = { closedMs: this.config.decisionsKeptMs, closedMax: 1_000_000 };
    this.book = new RiskBook(retention);
    this.appliedSeq = 0;
    const snapshot = await this.snapshots.latest(retention);
    if (snapshot !== undefined) {
      this.book = snapshot.book;
      this.appliedSeq = snapshot.seq;
    }
    this.snapshotRecords = appliedRecords(this.book);
    const fromSnapshot = this.appliedSeq;
    this.appliedSeq = await this.log.catchUp(this.appliedSeq, (entry, seq) => this.applyEntry(entry, seq));
    this.logger.info(
      {
        seq: this.appliedSeq,
        fromSnapshot,
        ms: Math.round(performance.now() - started),
        state: this.book.status.state,
      },
      "risk book rebuilt from the log",
    );
    this.actor.send({ type: GuardEvents.Recovered, seq: this.appliedSeq });
    this.follow();
  }

  /**
   * Stores the book when enough records were applied since the last snapshot. A standby's book
   * is the log up to what it applied; the active one's also holds records still on their way to
   * the log, so it is taken only at a moment when none is.
   */
  async snapshot(): Promise<boolean> {
    const records = appliedRecords(this.book);
    if (this.snapshotting || records - this.snapshotRecords < this.config.snapshotRecords) return false;
    const active = this.active;
    if (active !== undefined && active.pipeline.depth > 0) return false;
    if (this.state !== GuardStates.Standby && active === undefined) return false;
    this.snapshotting = true;
    try {
      const saved = await this.snapshots.save(this.book, active?.pipeline.committedSeq ?? this.appliedSeq);
      if (saved) this.snapshotRecords = records;
      return saved;
    } finally {
      this.snapshotting = false;
    }
  }

  private applyEntry(entry: RiskEntry, seq: number): void {
    // The follower and a catch-up may both deliver an entry: each is applied once, in order.
    if (seq <= this.appliedSeq) return;
    for (const record of entry.r) this.book.apply(record);
    this.appliedSeq = seq;
  }

  private follow(): void {
    const following = new AbortController();
    this.following = following;
    this.followDone = this.log
      .follow(
        this.appliedSeq,
        (entry, seq) => {
          if (!following.signal.aborted) this.applyEntry(entry, seq);
        },
        following.signal,
      )
      .then(
        () => undefined,
        (err: unknown) => {
          if (!following.signal.aborted)
            this.logger.warn({ err }, "following the risk log stopped; catching up at takeover");
        },
      );
  }

  /** A standby's look at the lease: take it when it may be taken. */
  private poll(): void {
    if (this.state !== GuardStates.Standby || this.stopping !== undefined) return;
    if (this.leases.waitBeforeTaking(0) > 0) return;
    this.serially(async () => {
      if (this.state !== GuardStates.Standby) return;
      const leaseAt = performance.now();
      const lease = await this.leases.tryTake(0, this.book.epoch);
      if (lease === undefined) return;
      this.actor.send({ type: GuardEvents.LeaseTaken, epoch: lease.epoch });
      await this.takeOver(lease, leaseAt);
    });
  }

  /** Runs lifecycle changes one after another. */
  private serially(run: () => Promise<void>): void {
    this.transition = this.transition
      .then(run)
      .catch((err: unknown) => this.logger.error({ err }, "risk guard transition failed"));
  }

  private async takeOver(lease: Lease, leaseAt: number): Promise<void> {
    try {
      // Closing the follower's consumer can take a while; its deliveries are ignored from now on.
      this.following?.abort();
      this.appliedSeq = await this.log.catchUp(this.appliedSeq, (entry, seq) => this.applyEntry(entry, seq));
      const caughtUp = performance.now();
      // A newer leader's marker in the log, or a lease that lapsed while catching up: someone else leads.
      if (this.book.epoch >= lease.epoch)
        throw new Error(`the log holds epoch ${this.book.epoch}, not below ours (${lease.epoch})`);
      if (!(await this.leases.renew(lease)) || !lease.fresh()) throw new Error("the lease lapsed while catching up");
      const pipeline = new CommitPipeline(
        this.log,
        lease.epoch,
        this.appliedSeq,
        {
          recordsPerEntry: this.config.recordsPerEntry,
          queueMax: this.config.queueMax,
          appendsInFlight: this.config.appendsInFlight,
        },
        (err) => this.fenced(`the risk log refused an append: ${(err as Error).message}`),
      );
      const marker = { t: RecordKinds.Epoch, epoch: lease.epoch, member: this.config.member, at: Date.now() } as const;
      // The marker fences every older leader: its next append expects a sequence that is no longer last.
      this.appliedSeq = await pipeline.submit(marker, RiskLogKinds.Entries);
      this.book.apply(marker);
      const active = new ActiveGuard(
        lease.epoch,
        this.book,
        pipeline,
        lease,
        this.leases,
        this.broadcast,
        this.strategies,
        this.config,
        this.logger,
        (reason) => this.fenced(reason),
      );
      this.active = active;
      await this.serve(true, lease.epoch);
      active.start();
      this.analytics.start();
      this.lastTakeover = { leaseAt, caughtUp, activeAt: performance.now() };
      this.actor.send({ type: GuardEvents.TookOver, epoch: lease.epoch });
      this.logger.info(
        {
          epoch: lease.epoch,
          seq: this.appliedSeq,
          catchUpMs: Math.round(caughtUp - leaseAt),
          takeoverMs: Math.round(performance.now() - leaseAt),
          state: this.book.status.state,
        },
        "risk guard active",
      );
    } catch (err) {
      this.logger.warn({ err }, "takeover failed");
      await this.stepDown();
      this.actor.send({ type: GuardEvents.TakeoverFailed, reason: (err as Error).message });
      await this.recover();
    }
  }

  /** The lease was lost or the log refused an append: stop answering, rebuild, follow. */
  private fenced(reason: string): void {
    if (this.active === undefined) return;
    this.logger.warn({ reason }, "risk guard fenced: stepping down");
    const active = this.active;
    active.stop();
    this.serially(async () => {
      if (this.active !== active) return;
      await this.stepDown();
      this.actor.send({ type: GuardEvents.Fenced, reason });
      await this.recover();
    });
  }

  private async stepDown(): Promise<void> {
    const active = this.active;
    this.active = undefined;
    this.analytics.stop();
    active?.stop();
    active?.pipeline.fail(
      new UnavailableError(ErrorCodes.NotOwner, "this risk guard stepped down", { retryable: true }),
    );
    if (active !== undefined && this.stopping === undefined) await this.serve(false, active.epoch);
  }

  private handle(op: GuardOp, request: GuardRequest<GuardOp>, receivedAt: number, reply: Replier): unknown {
    if (op === RiskOps.Status) return this.status();
    const active = this.active;
    if (active === undefined) {
      throw new UnavailableError(ErrorCodes.NotOwner, "this risk guard is not the active one right now", {
        retryable: true,
      });
    }
    const deadline = receivedAt + (request.deadlineMs ?? 60_000) - REPLY_MARGIN_MS;
    const body = request.body as never;
    switch (op) {
      case RiskOps.Check:
        return active.check(body, deadline, reply);
      case RiskOps.Fill:
        return active.fill(body);
      case RiskOps.Cancel:
        return active.cancel(body);
      case RiskOps.Position:
        return active.position(body);
      case RiskOps.State:
        return active.state((request.body as { follower?: { member: string; kind: string } }).follower);
      case RiskOps.Exposure:
        return exposureReply(this.book, this.analytics.latest, request.body as { strategy?: string });
      case RiskOps.Correlation:
        return this.analytics.correlationReply((request.body as { pairs?: number }).pairs ?? 20);
      case RiskOps.Limits:
        return active.limitsReply((request.body as { audit?: number }).audit ?? 10);
      case RiskControlOps.SetLimits:
        return active.setLimits(body, request.cid);
      default:
        return active.command(op, body);
    }
  }

  /** What the status endpoints answer. */
  status(): Record<string, unknown> {
    const snapshot = this.actor.getSnapshot();
    const active = this.active;
    return {
      member: this.config.member,
      cluster: this.config.cluster,
      version: GUARD_VERSION,
      role: snapshot.value,
      epoch: snapshot.context.epoch,
      takeovers: snapshot.context.takeovers,
      fenced: snapshot.context.fenced,
      lastReason: snapshot.context.lastReason,
      seq: active?.pipeline.committedSeq ?? this.appliedSeq,
      trading: this.book.status,
      limitsVersion: this.book.limitsVersion,
      openOrders: this.book.openOrders,
      lastTakeover:
        this.lastTakeover === undefined
          ? null
          : {
              catchUpMs: Math.round(this.lastTakeover.caughtUp - this.lastTakeover.leaseAt),
              takeoverMs: Math.round(this.lastTakeover.activeAt - this.lastTakeover.leaseAt),
            },
      pipeline: active === undefined ? null : { ...active.pipeline.stats, depth: active.pipeline.depth },
      followers: this.broadcast.followers(),
      records: { ...this.book.applied },
      requests: { ...this.counters.requests },
      errors: this.counters.errors,
    };
  }

  /** The lifecycle state. */
  get state(): GuardState {
    return this.actor.getSnapshot().value as GuardState;
  }

  /** Resolves once the guard has stopped. */
  stopped(): Promise<void> {
    return this.done;
  }

  /** Stops answering, hands the lease back (a standby takes over at once) and disconnects. */
  stop(): Promise<void> {
    this.stopping ??= this.close();
    return this.stopping;
  }

  private async close(): Promise<void> {
    clearInterval(this.pollTimer);
    clearInterval(this.snapshotTimer);
    this.following?.abort();
    this.actor.send({ type: GuardEvents.Stop });
    await this.transition;
    try {
      const active = this.active;
      const lease = active?.lease;
      await active?.pipeline.barrier();
      await this.stepDown();
      if (lease !== undefined) await this.leases.release(lease);
      await this.followDone;
      this.broadcast.stop();
      this.leases.stop();
      await this.service?.stop().catch(() => undefined);
      if (!this.nc.isClosed()) await this.nc.drain().catch(() => this.nc.close());
    } finally {
      this.actor.send({ type: GuardEvents.Stopped });
      this.actor.stop();
      this.logger.info("risk guard stopped");
      this.markDone();
    }
  }
}
