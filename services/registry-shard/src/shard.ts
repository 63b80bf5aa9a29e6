/**
 * A registry shard: joins the cluster, takes the leases of the partitions
 * rendezvous hashing gives it among the ready members it sees, and serves them.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import type { Service } from "@nats-io/services";
import type { NatsConnection, Subscription } from "@nats-io/transport-node";
import { followTradingState, type TradingStateFollower } from "@stratreg/client";
import { type Lease, LeaseTable } from "@stratreg/fencing";
import {
  type ClusterConfig,
  type ClusterSubjects,
  decode,
  ErrorCodes,
  encode,
  type OwnershipEvent,
  PROTOCOL_VERSION,
  partitionsOwnedBy,
  type ShardStatus,
  TradingStates,
  ValidationError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import type { ShardConfig } from "./config.js";
import { settleMaturity } from "./handlers/lifecycle.js";
import { errorReply } from "./handlers/reply.js";
import { addGateConfigEndpoints } from "./lifecycle/config-endpoints.js";
import { templateChecker } from "./lifecycle/gates.js";
import { Limiter, waitFor } from "./limiter.js";
import { Membership } from "./membership.js";
import { OwnershipManager, type OwnershipState, OwnershipStates } from "./ownership.js";
import { NewerOwnerError, Partition, type PartitionContext } from "./partition.js";
import { TopKPublisher } from "./performance/publisher.js";
import { ReadAhead } from "./read-ahead.js";
import { PartitionEndpoints, RequestCounters, registerService } from "./service.js";
import { type ClusterResources, openCluster } from "./startup.js";
import { TemplateStore } from "./templates/store.js";

export const SHARD_VERSION = "0.2.0";
/**
 * Partitions a shard loads at the same time. Loading waits mostly on round trips (a
 * snapshot read, a consumer for the log's tail), so many overlap; each keeps at most a
 * few entries in flight, so this many do not flood the connection.
 */
const LOAD_CONCURRENCY = 32;
/** Exit code of a shard that found another live process using its member id. */
export const EXIT_DUPLICATE_MEMBER = 2;
/** Bytes of max_payload kept for the headers of a log append. */
const ENTRY_HEADER_ALLOWANCE = 1024;

const LEASE_KEY = /^p(\d+)$/;
/** A partition handed off with at least this much log since its last snapshot snapshots first. */
const HANDOFF_SNAPSHOT_MIN_BYTES = 16 * 1024;
/** Longest a shard reads its partitions-to-be before it says it is ready anyway. */
const WARM_UP_LIMIT_MS = 15_000;

export class Shard {
  private readonly counters = new RequestCounters();
  private readonly started = performance.now();
  private readonly instance = randomUUID();
  private ownership: OwnershipManager | undefined;
  private membership: Membership | undefined;
  private leases: LeaseTable | undefined;
  private service: Service | undefined;
  private readonly timers: NodeJS.Timeout[] = [];
  private drainSub: Subscription | undefined;
  /** Partitions read ahead of taking their lease. */
  private readAhead: ReadAhead | undefined;
  private stopping: Promise<void> | undefined;
  private markStopped: () => void = () => undefined;
  private readonly stoppedPromise = new Promise<void>((resolve) => {
    this.markStopped = resolve;
  });
  /** Aborted when a stop begins: ends the join grace early. */
  private readonly stopSignal = new AbortController();
  /** Past the join grace: claiming partitions. */
  private ready = false;
  /**
   * The trading state as the risk guard broadcasts it, acknowledged and shown in the status;
   * activation and resumption obey it (see handlers/lifecycle.ts).
   */
  private trading: TradingStateFollower | undefined;

  private constructor(
    readonly config: ShardConfig,
    readonly nc: NatsConnection,
    readonly subjects: ClusterSubjects,
    readonly cluster: ClusterConfig,
    private readonly logger: Logger,
  ) {}

  /** Connects, checks the server, joins the cluster and starts claiming partitions. */
  static async start(config: ShardConfig, logger: Logger): Promise<Shard> {
    const resources = await openCluster(config, logger);
    const { nc, subjects, cluster } = resources;
    try {
      const shard = new Shard(config, nc, subjects, cluster, logger.child({ member: config.member }));
      await shard.run(resources);
      return shard;
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  private async run({ log, snapshots, kv, serverVersion, history, lifecycle }: ClusterResources): Promise<void> {
    const { config, nc, subjects, cluster, logger } = this;
    const leases = new LeaseTable(
      kv,
      subjects.leaseKey,
      (key) => {
        const match = LEASE_KEY.exec(key);
        return match === null ? undefined : Number(match[1]);
      },
      config.member,
      this.instance,
      { leaseMs: config.leaseMs, marginMs: config.leaseMarginMs },
      logger,
    );
    this.leases = leases;
    await leases.start();
    const maxPayload = nc.info?.max_payload ?? 1024 * 1024;
    const activations = new Set<Promise<unknown>>();
    const templates = await TemplateStore.open(nc, subjects);
    const context: PartitionContext = {
      log,
      snapshots,
      history,
      lifecycle: {
        ...lifecycle,
        activations,
        trading: () => this.trading?.current,
        templateProblem: templateChecker(templates),
      },
      member: config.member,
      partitions: cluster.partitions,
      // max_payload counts the message headers too (message id, expected sequence).
      maxEntryBytes: maxPayload - ENTRY_HEADER_ALLOWANCE,
      maxReplyBytes: maxPayload - ENTRY_HEADER_ALLOWANCE,
      settings: {
        queueMax: config.queueMax,
        commandWindowMs: config.commandWindowMs,
        maxClockSkewMs: config.maxClockSkewMs,
        snapshotMinBytes: config.snapshotMinBytes,
        topkDepth: config.topkDepth,
        retentionMs: config.historyRetentionMs,
      },
      logger,
    };
    const loads = new Limiter(LOAD_CONCURRENCY);
    const readAhead = new ReadAhead(context, loads, WARM_UP_LIMIT_MS);
    this.readAhead = readAhead;
    const endpoints = new PartitionEndpoints(nc, (p) => subjects.partitionWildcard(p), this.counters, logger);
    const ownership = new OwnershipManager(
      cluster.partitions,
      {
        acquire: async (partition, signal) => {
          // Read the partition while waiting for its lease, so that taking it costs only the newest entries.
          readAhead.start(partition);
          let taken: Lease | undefined;
          signal.addEventListener(
            "abort",
            () => {
              // Abandoned: a lease taken a moment before is handed back, not left to expire.
              if (taken === undefined) readAhead.drop(partition);
              else void leases.release(taken);
            },
            { once: true },
          );
          for (let failures = 0; ; ) {
            try {
              // The epoch must exceed every epoch in the log, which the read-ahead knows.
              const minEpoch = await readAhead.epochSeen(partition);
              const lease = await leases.tryTake(partition, minEpoch);
              if (lease !== undefined) {
                taken = lease;
                return lease;
              }
              failures = 0;
            } catch (err) {
              failures++;
              logger.debug({ partition, err }, "lease take failed");
            }
            const wait = Math.max(leases.waitBeforeTaking(partition), Math.min(50 * 2 ** failures, 2000));
            await waitFor((wake) => leases.onChange((p) => p === partition && wake()), wait, signal);
          }
        },
        load: async (id, lease, signal) => {
          const partition = (await readAhead.take(id, signal)) ?? new Partition(id, context);
          partition.onLost = (reason) => this.ownership?.lost(id, reason);
          partition.onMaturityDue = (ids) => settleMaturity(partition, ids);
          const began = performance.now();
          // A few partitions at a time: loading all at once floods the connection with log entries.
          await loads
            .run(() => partition.claim(lease, signal), signal)
            .catch((err: unknown) => {
              // A newer epoch in the log: retrying under this lease can never succeed.
              if (err instanceof NewerOwnerError) this.ownership?.lost(id, err.message);
              throw err;
            });
          logger.debug(
            { partition: id, strategies: partition.store.size, ms: Math.round(performance.now() - began) },
            "partition loaded",
          );
          return partition;
        },
        serve: (partition) => endpoints.serve(partition),
        handOff: async (partition, lease) => {
          // Snapshot while still serving, so the next owner reads almost nothing of the log.
          if (partition !== undefined && partition.unsnapshottedBytes >= HANDOFF_SNAPSHOT_MIN_BYTES) {
            await partition.snapshot().catch((err: unknown) => logger.warn({ err }, "hand-off snapshot failed"));
          }
          if (partition !== undefined) await endpoints.unserve(partition);
          if (lease !== undefined) await leases.release(lease);
        },
        drop: (partition) => {
          if (partition === undefined) return;
          partition.lost = true;
          endpoints.drop(partition);
        },
      },
      logger,
      (partition, from, to, lease) => this.ownershipChanged(partition, from, to, lease),
    );
    this.ownership = ownership;
    // The lease watch tells an owner at once when another member took its partition.
    leases.onChange((partition) => {
      const actor = ownership.holding(partition);
      if (actor?.lease === undefined || actor.state === OwnershipStates.HandingOff) return;
      if (!leases.isOurs(partition, actor.lease.epoch)) ownership.lost(partition, "the lease was taken");
    });
    this.timers.push(setInterval(() => void this.renewLeases(), Math.max(20, Math.round(config.leaseMs / 4))));
    const publisher = new TopKPublisher(nc, subjects, () => ownership.served(), logger, config.topkTickMs);
    this.timers.push(setInterval(() => publisher.tick(), config.topkTickMs));
    this.service = await registerService(nc, {
      cluster: subjects.cluster,
      member: config.member,
      version: SHARD_VERSION,
      config: cluster,
      status: () => this.status(),
      logger,
      templates,
    });
    this.watchConnection();
    this.trading = followTradingState(nc, {
      cluster: subjects.cluster,
      member: config.member,
      kind: "shard",
      onChange: (status) =>
        logger.info({ trading: status.state, version: status.version, by: status.by }, `trading ${status.state}`),
      // A halt is acknowledged once every activation in flight has either been refused or undone.
      beforeAck: async (status) => {
        if (status.state !== TradingStates.Active) await Promise.allSettled([...activations]);
      },
    });
    addGateConfigEndpoints(this.service, subjects, lifecycle.gates, logger);
    this.drainSub = nc.subscribe(subjects.drain(config.member), {
      callback: (err, msg) => {
        if (err !== null) return;
        try {
          const request = decode(msg.data) as { v?: unknown } | null;
          if (request?.v !== PROTOCOL_VERSION) {
            throw new ValidationError(
              ErrorCodes.UnsupportedVersion,
              `a drain request is { v: ${PROTOCOL_VERSION}, body: {} }`,
              {
                field: "v",
              },
            );
          }
        } catch (error) {
          msg.respond(errorReply(error));
          return;
        }
        // Every partition held or being taken is handed off, not only those already serving.
        const partitions = ownership.snapshots().filter((a) => a.state !== OwnershipStates.Unowned).length;
        logger.info({ partitions }, "drain requested: handing every partition off");
        msg.respond(encode({ v: PROTOCOL_VERSION, ok: true, body: { member: config.member, partitions } }));
        void this.stop();
      },
    });
    this.membership = new Membership(
      nc,
      subjects,
      {
        member: config.member,
        instance: this.instance,
        heartbeatMs: config.heartbeatMs,
        memberTtlMs: config.memberTtlMs,
      },
      logger,
      () => {
        const served = ownership.served();
        return { serving: served.map((p) => p.id), strategies: served.reduce((n, p) => n + p.store.size, 0) };
      },
      () => this.reconcile(),
      (instance) => {
        if (this.ready) {
          // We were here first: the newcomer hears us during its join grace and stops.
          logger.error({ instance }, `another process claims member id ${config.member}; it should stop`);
          return;
        }
        logger.fatal({ instance }, `another process is running as member ${config.member}; stopping`);
        // Without a goodbye: the member id is the other process's, and it is alive.
        this.exitCode = EXIT_DUPLICATE_MEMBER;
        void this.stop({ announce: false });
      },
    );
    this.membership.start();
    logger.info(
      {
        cluster: subjects.cluster,
        partitions: cluster.partitions,
        replicas: cluster.replicas,
        server: serverVersion,
        leaseMs: config.leaseMs,
        joinGraceMs: config.joinGraceMs,
      },
      "shard joined; listening for peers",
    );
    await waitFor(() => () => undefined, config.joinGraceMs, this.stopSignal.signal).catch(() => undefined);
    if (this.stopping !== undefined) return;
    // Read what we are about to take before saying we are ready: peers hand partitions off only
    // to ready members, so the partitions are served elsewhere while we read them.
    // Among everyone heard, ready or not: shards that start together each read only their share.
    const everyone = [...this.membership.members, ...this.membership.joining];
    const prospective = partitionsOwnedBy(config.member, cluster.partitions, everyone);
    const warmingFrom = performance.now();
    await Promise.race([
      Promise.all(prospective.map((p) => readAhead.start(p))),
      waitFor(() => () => undefined, WARM_UP_LIMIT_MS, this.stopSignal.signal).catch(() => undefined),
    ]);
    if (this.stopping !== undefined) return;
    logger.info(
      { partitions: prospective.length, ms: Math.round(performance.now() - warmingFrom) },
      "read ahead the partitions to take",
    );
    this.ready = true;
    this.membership.markReady();
    this.reconcile();
    // Re-steer periodically too: a partition released while we wanted it back gets picked up again.
    this.timers.push(setInterval(() => this.reconcile(), config.heartbeatMs));
    logger.info({ members: this.membership.members }, "shard ready");
  }

  private reconcile(): void {
    if (!this.ready || this.stopping !== undefined || this.ownership === undefined || this.membership === undefined)
      return;
    const { member } = this.config;
    const { partitions } = this.cluster;
    const ready = this.membership.members;
    // Hand off only to ready members (they take at once); but leave untaken what a member still in
    // its join grace will win, so shards that start together do not move every partition twice.
    const keep = new Set(partitionsOwnedBy(member, partitions, ready));
    const joining = this.membership.joining;
    const wanted = joining.length === 0 ? keep : new Set(partitionsOwnedBy(member, partitions, [...ready, ...joining]));
    this.ownership.reconcile(wanted, keep);
    this.readAhead?.dropAllBut(keep);
  }

  private renewing = false;

  /** Renews every lease this shard holds, all at once; a lease found taken is lost. */
  private async renewLeases(): Promise<void> {
    if (this.renewing || this.ownership === undefined || this.leases === undefined) return;
    this.renewing = true;
    const leases = this.leases;
    try {
      await Promise.all(
        this.ownership.snapshots().map(async ({ partition, state, lease }) => {
          if (lease === undefined || state === OwnershipStates.Unowned) return;
          try {
            if (!(await leases.renew(lease)) && state !== OwnershipStates.HandingOff) {
              this.ownership?.lost(partition, "the lease was taken");
            }
          } catch (err) {
            // Unsure (server unreachable): the lease ages and the partition falls silent by itself.
            this.logger.debug({ partition, err }, "lease renewal failed");
          }
        }),
      );
    } finally {
      this.renewing = false;
    }
  }

  private ownershipChanged(
    partition: number,
    from: OwnershipState,
    to: OwnershipState,
    lease: Lease | undefined,
  ): void {
    let change: OwnershipEvent["change"] | undefined;
    if (to === OwnershipStates.Serving) change = "acquired";
    else if (to === OwnershipStates.Unowned && from === OwnershipStates.HandingOff) change = "released";
    else if (to === OwnershipStates.Unowned && from !== OwnershipStates.Acquiring) change = "lost";
    if (change === undefined) {
      this.logger.debug({ partition, from, to }, "partition ownership moved");
      return;
    }
    const epoch = lease?.epoch ?? 0;
    this.logger.info({ partition, epoch, change }, `partition ${change}`);
    if (this.nc.isClosed()) return;
    const event: OwnershipEvent = {
      v: PROTOCOL_VERSION,
      member: this.config.member,
      partition,
      change,
      epoch,
      at: Date.now(),
    };
    this.nc.publish(this.subjects.ownershipEvents, encode(event));
  }

  /** Logs what the connection reports: a slow consumer or a server error is noted, never fatal. */
  private watchConnection(): void {
    void (async () => {
      for await (const status of this.nc.status()) {
        if (status.type === "slowConsumer") this.logger.warn({ pending: status.pending }, "slow consumer");
        else if (status.type === "error") this.logger.warn({ err: status.error }, "server error");
        else if (status.type === "disconnect" || status.type === "reconnect")
          this.logger.info({ status: status.type }, "connection");
      }
    })().catch(() => undefined);
  }

  /** What this shard is doing, for `$SRV.STATS` and the status endpoint. */
  status(): ShardStatus {
    const states = this.ownership?.byState() ?? {};
    const served = this.ownership?.served() ?? [];
    const memory = process.memoryUsage();
    const now = performance.now();
    return {
      cluster: this.subjects.cluster,
      member: this.config.member,
      members: this.membership?.members ?? [this.config.member],
      serving: states[OwnershipStates.Serving] ?? [],
      loading: [
        ...(states[OwnershipStates.Acquiring] ?? []),
        ...(states[OwnershipStates.Loading] ?? []),
        ...(states[OwnershipStates.Retrying] ?? []),
      ],
      strategies: served.reduce((n, p) => n + p.store.size, 0),
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      uptimeMs: Math.round(now - this.started),
      requests: { ...this.counters.requests },
      errors: this.counters.errors,
      overloaded: this.counters.overloaded,
      expired: this.counters.expired,
      draining: this.stopping !== undefined,
      partitions: this.ownership?.partitionStatus(now) ?? [],
      trading: this.trading?.current ?? null,
    };
  }

  /** The process exit code once stopped: 0, or {@link EXIT_DUPLICATE_MEMBER}. */
  exitCode = 0;

  /** Resolves when the shard has stopped (after SIGTERM, a drain request, or {@link stop}). */
  stopped(): Promise<void> {
    return this.stoppedPromise;
  }

  /**
   * Graceful stop: say goodbye so peers want our partitions, hand each off
   * (finishing requests already received and their log appends, then releasing
   * the lease so the next owner takes it at once), disconnect.
   */
  stop(options: { announce?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      this.stopSignal.abort();
      for (const timer of this.timers.splice(0)) clearInterval(timer);
      this.readAhead?.dropAllBut();
      this.drainSub?.unsubscribe();
      this.trading?.stop();
      await this.membership?.stop(options.announce ?? true);
      // Keep the leases fresh while handing off: a long drain must not let them lapse mid-way.
      const renewer = setInterval(() => void this.renewLeases(), Math.max(20, Math.round(this.config.leaseMs / 4)));
      await this.ownership?.releaseAll();
      clearInterval(renewer);
      this.ownership?.stop();
      this.leases?.stop();
      await this.service?.stop().catch(() => undefined);
      if (!this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
      this.logger.info("shard stopped");
      this.markStopped();
    })();
    return this.stopping;
  }
}
