/**
 * What a shard needs before it can join: a connection, a server it can run on,
 * and the cluster's JetStream resources (config, log stream, leases, snapshots, templates),
 * created by the first shard and checked by every later one.
 */
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { requestsThroughMux } from "@stratreg/client";
import {
  type ClusterConfig,
  type ClusterSubjects,
  clusterSubjects,
  compileValidators,
  DEFAULT_PARTITIONS,
  ErrorCodes,
  StratregError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { ensureClusterConfig } from "./cluster-config.js";
import type { ShardConfig } from "./config.js";
import { ensureLifecycleStream, LifecycleEventPublisher } from "./lifecycle/events.js";
import { EvidenceStore, FamilyTrialsStore, GateSettings } from "./lifecycle/stores.js";
import type { PartitionContext } from "./partition.js";
import { readHistory, warnOfFormerHistory } from "./store/history.js";
import { ensureLogStream, PartitionLog } from "./store/log.js";
import { SnapshotStore } from "./store/snapshots.js";
import { TemplateStore } from "./templates/store.js";

/** The oldest nats-server this shard runs on (DESIGN: what Debian ships). */
const MIN_SERVER_VERSION = [2, 9, 0] as const;
/** The oldest nats-server that fences appends to replicated streams (nats-server#4320). */
const MIN_REPLICATED_SERVER_VERSION = [2, 10, 27] as const;
export function versionAtLeast(version: string, min: readonly number[]): boolean {
  const parts = version.split(/[.-]/).map((part) => Number.parseInt(part, 10));
  for (let i = 0; i < min.length; i++) {
    const have = parts[i] ?? 0;
    const want = min[i] ?? 0;
    if (have !== want) return have > want;
  }
  return true;
}

/** How long a starting shard waits for JetStream to answer before it gives up. */
const JETSTREAM_STARTUP_MS = 120_000;
/** A history read that receives nothing for this long ends (the stream is being restored, say). */
const HISTORY_IDLE_MS = 10_000;

/** Runs `setup` until it succeeds, retrying while JetStream does not answer (a cluster electing leaders). */
async function untilJetStreamAnswers<T>(logger: Logger, setup: () => Promise<T>): Promise<T> {
  const deadline = performance.now() + JETSTREAM_STARTUP_MS;
  for (let attempt = 1; ; attempt++) {
    try {
      return await setup();
    } catch (err) {
      if (err instanceof StratregError || performance.now() > deadline) throw err;
      logger.warn({ attempt, err: (err as Error).message }, "JetStream is not answering yet; retrying");
      await new Promise((resolve) => setTimeout(resolve, Math.min(250 * attempt, 2000)));
    }
  }
}

/** The connection and JetStream resources of a starting shard. */
export interface ClusterResources {
  nc: NatsConnection;
  serverVersion: string;
  subjects: ClusterSubjects;
  cluster: ClusterConfig;
  log: PartitionLog;
  kv: KV;
  snapshots: SnapshotStore;
  /** Reads a strategy's history from its partition's log. */
  history: PartitionContext["history"];
  /** The lifecycle's KV buckets and event publisher. */
  lifecycle: LifecycleStores;
}

/** What the lifecycle keeps outside the partition logs. */
export interface LifecycleStores {
  gates: GateSettings;
  trials: FamilyTrialsStore;
  evidence: EvidenceStore;
  events: LifecycleEventPublisher;
}

/** Connects and opens (creating if needed) the cluster's resources; closes the connection on failure. */
export async function openCluster(config: ShardConfig, logger: Logger): Promise<ClusterResources> {
  const nc = await connect({
    servers: config.natsUrl.split(","),
    name: `stratreg-shard/${config.member}`,
    user: config.natsUser,
    pass: config.natsPassword,
    maxReconnectAttempts: -1,
    reconnectTimeWait: 500,
    // Async stack traces build two Error objects per request: a tenth of a busy shard's CPU.
    noAsyncTraces: true,
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
    // Every append and lease write is a request: through the mux, none builds an error object.
    const js = jetstream(requestsThroughMux(nc));
    const subjects = clusterSubjects(config.cluster);
    compileValidators();
    // A JetStream cluster that is itself restarting answers slowly or not at all for a while:
    // wait for it rather than exit, unless the cluster's config is what is wrong.
    const { cluster, kv, snapshots, lifecycle } = await untilJetStreamAnswers(logger, async () => {
      const cluster = await ensureClusterConfig(
        js,
        subjects,
        { partitions: DEFAULT_PARTITIONS, replicas: config.replicas },
        config.partitions,
      );
      if (cluster.replicas > 1 && !versionAtLeast(version, MIN_REPLICATED_SERVER_VERSION)) {
        // nats-io/nats-server#4320: before 2.10, replicated streams check the expected last subject
        // sequence against stored entries only, not those still replicating: two owners could both append.
        throw new StratregError(
          ErrorCodes.ConfigMismatch,
          `nats-server ${version} does not fence appends to replicated streams (nats-server#4320); cluster ${cluster.cluster} has ${cluster.replicas} replicas and needs ${MIN_REPLICATED_SERVER_VERSION.join(".")} or newer`,
        );
      }
      // Independent of each other: asked for at once, so an attempt while a JetStream cluster
      // restarts lasts as long as its slowest answer, not their sum.
      const kvm = new Kvm(js);
      const bucket = (name: string) => kvm.create(name, { history: 1, replicas: cluster.replicas });
      const [kv, snapshots, gates, trials, evidence] = await Promise.all([
        bucket(subjects.leaseBucket),
        SnapshotStore.open(js, subjects, cluster.replicas),
        bucket(subjects.gatesBucket),
        bucket(subjects.trialsBucket),
        bucket(subjects.evidenceBucket),
        ensureLogStream(jsm, subjects, cluster.replicas),
        TemplateStore.ensureBucket(js, subjects, cluster.replicas),
        ensureLifecycleStream(jsm, subjects, cluster.replicas, config.historyRetentionMs),
      ]);
      const lifecycle: LifecycleStores = {
        gates: new GateSettings(gates),
        trials: new FamilyTrialsStore(trials),
        evidence: new EvidenceStore(evidence),
        events: new LifecycleEventPublisher(js, subjects, logger),
      };
      await warnOfFormerHistory(jsm, subjects, logger);
      return { cluster, kv, snapshots, lifecycle };
    });
    const history: PartitionContext["history"] = (query) =>
      readHistory(js, jsm, subjects, { ...query, retentionMs: config.historyRetentionMs }, HISTORY_IDLE_MS);
    return {
      nc,
      serverVersion: version,
      subjects,
      cluster,
      log: new PartitionLog(js, jsm, subjects),
      kv,
      snapshots,
      history,
      lifecycle,
    };
  } catch (err) {
    await nc.close().catch(() => undefined);
    throw err;
  }
}
