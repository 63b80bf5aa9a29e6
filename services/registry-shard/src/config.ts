/**
 * Shard configuration from the environment, overridden by command-line flags.
 * Every variable is listed in README.md and docs/protocol.md.
 */
import { intSetting, type MemberSettings, memberSettings, serviceFlags } from "@stratreg/process";

export interface ShardConfig extends MemberSettings {
  /**
   * Partition count, if set explicitly: used when this shard creates the cluster,
   * and an existing cluster with another count is refused. Unset: the cluster's
   * count (or DEFAULT_PARTITIONS for a new cluster).
   */
  partitions: number | undefined;
  /** JetStream replicas of the log stream and config bucket when this shard creates them. */
  replicas: number;
  heartbeatMs: number;
  /** A member unheard of for this long (by our own monotonic clock) is gone. */
  memberTtlMs: number;
  /** How long a new shard listens for peers before claiming partitions. */
  joinGraceMs: number;
  /** A partition lease unrenewed this long may be taken by another shard. */
  leaseMs: number;
  /** An owner stops answering this long before its lease could be taken. */
  leaseMarginMs: number;
  /** Most writes waiting in one partition's queue. */
  queueMax: number;
  /** How long a command id is recognised as a retry. */
  commandWindowMs: number;
  /** How far ahead of the shard's clock a command's `issued` may be. */
  maxClockSkewMs: number;
  /** The least log growth (bytes) after which a partition may snapshot (docs/adr/020 says when it does). */
  snapshotMinBytes: number;
  /** How often each partition publishes its top-k lists when they changed, ms. */
  topkTickMs: number;
  /** How many strategies each published top-k list holds. */
  topkDepth: number;
  /** How long the log keeps entries a snapshot covers (the history), ms. */
  historyRetentionMs: number;
}

const HOUR = 3_600_000;

function leaseTimings(env: NodeJS.ProcessEnv): { leaseMs: number; leaseMarginMs: number } {
  const leaseMs = intSetting("STRATREG_LEASE_MS", env.STRATREG_LEASE_MS, 3000, 200, 600_000);
  // The margin covers clock-rate drift and the time a renewal takes to arrive; a fifth is ample.
  const leaseMarginMs = intSetting(
    "STRATREG_LEASE_MARGIN_MS",
    env.STRATREG_LEASE_MARGIN_MS,
    Math.round(leaseMs / 5),
    1,
    Math.round(leaseMs / 2),
  );
  return { leaseMs, leaseMarginMs };
}

function optionalIntOf(name: string, raw: string | undefined, min: number, max: number): number | undefined {
  return raw === undefined || raw === "" ? undefined : intSetting(name, raw, min, min, max);
}

/** Reads the config; throws an Error naming the bad setting. */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): ShardConfig {
  const values = serviceFlags(argv, ["partitions", "replicas"]);
  // NATS URL and credentials, cluster, member id: as every service reads them.
  const member = memberSettings(values, env, {
    id: env.STRATREG_MEMBER_ID,
    kind: "shard",
    name: "member id",
  });
  const heartbeatMs = intSetting("STRATREG_HEARTBEAT_MS", env.STRATREG_HEARTBEAT_MS, 1000, 50, 60_000);
  return {
    ...member,
    partitions: optionalIntOf("partitions", values.partitions ?? env.STRATREG_PARTITIONS, 1, 65_536),
    replicas: intSetting("replicas", values.replicas ?? env.STRATREG_REPLICAS, 1, 1, 5),
    heartbeatMs,
    memberTtlMs: intSetting(
      "STRATREG_MEMBER_TTL_MS",
      env.STRATREG_MEMBER_TTL_MS,
      heartbeatMs * 3,
      heartbeatMs * 2,
      600_000,
    ),
    joinGraceMs: intSetting(
      "STRATREG_JOIN_GRACE_MS",
      env.STRATREG_JOIN_GRACE_MS,
      Math.round(heartbeatMs * 1.5),
      0,
      600_000,
    ),
    ...leaseTimings(env),
    queueMax: intSetting("STRATREG_QUEUE_MAX", env.STRATREG_QUEUE_MAX, 256, 1, 1_000_000),
    commandWindowMs: intSetting(
      "STRATREG_COMMAND_WINDOW_MS",
      env.STRATREG_COMMAND_WINDOW_MS,
      6 * HOUR,
      1000,
      7 * 24 * HOUR,
    ),
    maxClockSkewMs: intSetting("STRATREG_MAX_CLOCK_SKEW_MS", env.STRATREG_MAX_CLOCK_SKEW_MS, 5 * 60_000, 0, HOUR),
    snapshotMinBytes: intSetting(
      "STRATREG_SNAPSHOT_MIN_BYTES",
      env.STRATREG_SNAPSHOT_MIN_BYTES,
      256 << 10,
      1024,
      1 << 30,
    ),
    topkTickMs: intSetting("STRATREG_TOPK_TICK_MS", env.STRATREG_TOPK_TICK_MS, 100, 10, 60_000),
    topkDepth: intSetting("STRATREG_TOPK_DEPTH", env.STRATREG_TOPK_DEPTH, 100, 1, 1000),
    historyRetentionMs: intSetting("STRATREG_HISTORY_DAYS", env.STRATREG_HISTORY_DAYS, 400, 1, 36_500) * 24 * HOUR,
  };
}
