/**
 * A registry shard: joins the cluster, owns the partitions rendezvous hashing
 * gives it among the live members it sees, and serves them.
 */
import { randomUUID } from "node:crypto";
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { Service } from "@nats-io/services";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  type ClusterConfig,
  type ClusterSubjects,
  clusterSubjects,
  compileValidators,
  DEFAULT_PARTITIONS,
  ErrorCodes,
  partitionsOwnedBy,
  type ShardStatus,
  StratregError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { ensureClusterConfig } from "./cluster-config.js";
import type { ShardConfig } from "./config.js";
import { Membership } from "./membership.js";
import { OwnershipManager, OwnershipStates } from "./ownership.js";
import { Partition, type PartitionContext } from "./partition.js";
import { PartitionEndpoints, RequestCounters, registerService } from "./service.js";
import { ensureLogStream, PartitionLog } from "./store/log.js";

/** The oldest nats-server this shard runs on (DESIGN: what Debian ships). */
const MIN_SERVER_VERSION = [2, 9, 0] as const;
export const SHARD_VERSION = "0.1.0";
/** Partitions a shard loads from their logs at the same time. */
const LOAD_CONCURRENCY = 8;

/** Runs at most `limit` tasks at once, the rest in the order they came. */
class Limiter {
  private running = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly limit: number) {}

  async run<T>(task: () => Promise<T>): Promise<T> {
    if (this.running >= this.limit) await new Promise<void>((resolve) => this.waiting.push(resolve));
    this.running++;
    try {
      return await task();
    } finally {
      this.running--;
      this.waiting.shift()?.();
    }
  }
}

/** Bytes of max_payload kept for the headers of a log append. */
const ENTRY_HEADER_ALLOWANCE = 1024;

function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split(/[.-]/).map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < min.length; i++) {
    const have = parts[i] ?? 0;
    const want = min[i] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
}

export class Shard {
  private readonly counters = new RequestCounters();
  private readonly started = performance.now();
  private ownership: OwnershipManager | undefined;
  private membership: Membership | undefined;
  private service: Service | undefined;
  private reconcileTimer: NodeJS.Timeout | undefined;
  private stopping: Promise<void> | undefined;
  /** Past the join grace: claiming partitions. */
  private ready = false;

  private constructor(
    readonly config: ShardConfig,
    readonly nc: NatsConnection,
    readonly subjects: ClusterSubjects,
    readonly cluster: ClusterConfig,
    private readonly logger: Logger,
  ) {}

  /** Connects, checks the server, joins the cluster and starts claiming partitions. */
  static async start(config: ShardConfig, logger: Logger): Promise<Shard> {
    const nc = await connect({
      servers: config.natsUrl.split(","),
      name: `stratreg-shard/${config.member}`,
      user: config.natsUser,
      pass: config.natsPassword,
      maxReconnectAttempts: -1,
      reconnectTimeWait: 500,
    });
    try {
      const version = nc.info?.version ?? "0.0.0";
      if (!versionAtLeast(version, MIN_SERVER_VERSION)) {
        throw new StratregError(
          ErrorCodes.ConfigMismatch,
          `nats-server ${version} is too old: stratreg needs ${MIN_SERVER_VERSION.join(".")} or newer`,
        );
      }
      const jsm = await jetstreamManager(nc).catch((err: unknown) => {
        throw new StratregError(
          ErrorCodes.ConfigMismatch,
          `JetStream is not enabled on the server at ${config.natsUrl}: start nats-server with -js`,
          { cause: err },
        );
      });
      const js = jetstream(nc);
      const subjects = clusterSubjects(config.cluster);
      compileValidators();
      const cluster = await ensureClusterConfig(
        js,
        subjects,
        { partitions: DEFAULT_PARTITIONS, replicas: config.replicas },
        config.partitions,
      );
      await ensureLogStream(jsm, subjects, cluster.replicas);
      if (cluster.replicas > 1 && !versionAtLeast(version, [2, 10, 0])) {
        // nats-io/nats-server#4320: on replicated streams, 2.9 checks the expected last
        // subject sequence against stored entries only, not ones still being replicated.
        logger.warn(
          { server: version, replicas: cluster.replicas },
          "this nats-server does not serialize the log fence on replicated streams (nats-server#4320): two owners of a partition could both append while ownership moves",
        );
      }
      const shard = new Shard(config, nc, subjects, cluster, logger.child({ member: config.member }));
      await shard.run(new PartitionLog(js, jsm, subjects), version);
      return shard;
    } catch (err) {
      await nc.close().catch(() => undefined);
      throw err;
    }
  }

  private async run(log: PartitionLog, serverVersion: string): Promise<void> {
    const { config, nc, subjects, cluster, logger } = this;
    const context: PartitionContext = {
      log,
      member: config.member,
      partitions: cluster.partitions,
      // max_payload counts the message headers too (message id, expected sequence).
      maxEntryBytes: (nc.info?.max_payload ?? 1024 * 1024) - ENTRY_HEADER_ALLOWANCE,
      maxReplyBytes: (nc.info?.max_payload ?? 1024 * 1024) - ENTRY_HEADER_ALLOWANCE,
      logger,
    };
    const loads = new Limiter(LOAD_CONCURRENCY);
    const endpoints = new PartitionEndpoints(nc, (p) => subjects.partitionWildcard(p), this.counters, logger);
    this.ownership = new OwnershipManager(
      cluster.partitions,
      {
        load: async (id) => {
          const partition = new Partition(id, context);
          const began = performance.now();
          // A few partitions at a time: loading all at once floods the connection with log entries.
          await loads.run(() => partition.load());
          logger.debug(
            { partition: id, strategies: partition.store.size, ms: Math.round(performance.now() - began) },
            "partition loaded",
          );
          return partition;
        },
        serve: (partition) => endpoints.serve(partition),
        unserve: (partition) => endpoints.unserve(partition),
      },
      logger,
    );
    this.service = await registerService(nc, {
      cluster: subjects.cluster,
      member: config.member,
      version: SHARD_VERSION,
      config: cluster,
      status: () => this.status(),
      logger,
    });
    this.membership = new Membership(
      nc,
      subjects,
      {
        member: config.member,
        instance: randomUUID(),
        heartbeatMs: config.heartbeatMs,
        memberTtlMs: config.memberTtlMs,
      },
      logger,
      () => {
        const served = this.ownership?.served() ?? [];
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
        void this.stop({ announce: false }).finally(() => process.exit(2));
      },
    );
    this.membership.start();
    logger.info(
      {
        cluster: subjects.cluster,
        partitions: cluster.partitions,
        server: serverVersion,
        joinGraceMs: config.joinGraceMs,
      },
      "shard joined; listening for peers",
    );
    await new Promise((resolve) => setTimeout(resolve, config.joinGraceMs));
    if (this.stopping !== undefined) return;
    this.ready = true;
    this.reconcile();
    // Re-steer periodically too: a partition released while we wanted it back gets picked up again.
    this.reconcileTimer = setInterval(() => this.reconcile(), config.heartbeatMs);
    logger.info({ members: this.membership.members }, "shard ready");
  }

  private reconcile(): void {
    if (this.stopping !== undefined || this.ownership === undefined || this.membership === undefined) return;
    const members = this.membership.members;
    this.ownership.reconcile(new Set(partitionsOwnedBy(this.config.member, this.cluster.partitions, members)));
  }

  /** What this shard is doing, for `$SRV.STATS` and the status endpoint. */
  status(): ShardStatus {
    const states = this.ownership?.byState() ?? {};
    const served = this.ownership?.served() ?? [];
    const memory = process.memoryUsage();
    return {
      cluster: this.subjects.cluster,
      member: this.config.member,
      members: this.membership?.members ?? [this.config.member],
      serving: states[OwnershipStates.Serving] ?? [],
      loading: [...(states[OwnershipStates.Loading] ?? []), ...(states[OwnershipStates.Retrying] ?? [])],
      strategies: served.reduce((n, p) => n + p.store.size, 0),
      rss: memory.rss,
      heapUsed: memory.heapUsed,
      uptimeMs: Math.round(performance.now() - this.started),
      requests: { ...this.counters.requests },
      errors: this.counters.errors,
    };
  }

  /**
   * Graceful stop: stop answering (finishing requests already received and their
   * log appends), say goodbye so peers take the partitions at once, disconnect.
   */
  stop(options: { announce?: boolean } = {}): Promise<void> {
    this.stopping ??= (async () => {
      if (this.reconcileTimer !== undefined) clearInterval(this.reconcileTimer);
      await this.ownership?.releaseAll();
      this.ownership?.stop();
      await this.membership?.stop(options.announce ?? true);
      await this.service?.stop().catch(() => undefined);
      if (!this.nc.isClosed()) await this.nc.drain().catch(() => undefined);
      this.logger.info("shard stopped");
    })();
    return this.stopping;
  }
}
