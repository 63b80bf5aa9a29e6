/**
 * Versions process configuration from the environment, overridden by
 * command-line flags. Every variable is listed in README.md.
 */
import { intSetting, type MemberSettings, memberSettings, serviceFlags } from "@stratreg/process";

const DAY_MS = 86_400_000;

export interface VersionsConfig extends MemberSettings {
  /** Past this many history entries not yet copied, the process calls itself lagging (it still answers). */
  maxLagEntries: number;
  /** Most requests in hand at once (running and waiting); past it: OVERLOADED. */
  maxInFlight: number;
  /** Requests worked on at once (each waits on JetStream or a shard). */
  concurrency: number;
  /** Strategies whose versions stay cached in memory (decoded), least recently read let go first. */
  cacheStrategies: number;
  /** How often the copy's position is saved, ms. */
  checkpointMs: number;
  /** How long to wait at start for a shard to say the cluster's config, ms. */
  startTimeoutMs: number;
  /** How long the shards keep log entries their snapshots cover (`STRATREG_HISTORY_DAYS`, as the shards read it), ms. */
  historyRetentionMs: number;
}

/** Reads the config; throws an Error naming the bad setting. */
export function loadConfig(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
): VersionsConfig {
  const values = serviceFlags(argv);
  const member = memberSettings(values, env, { id: env.STRATREG_VERSIONS_ID, kind: "versions", name: "versions id" });
  return {
    ...member,
    maxLagEntries: intSetting(
      "STRATREG_VERSIONS_MAX_LAG_ENTRIES",
      env.STRATREG_VERSIONS_MAX_LAG_ENTRIES,
      10_000,
      1,
      1_000_000_000,
    ),
    maxInFlight: intSetting("STRATREG_VERSIONS_MAX_IN_FLIGHT", env.STRATREG_VERSIONS_MAX_IN_FLIGHT, 256, 1, 100_000),
    concurrency: intSetting("STRATREG_VERSIONS_CONCURRENCY", env.STRATREG_VERSIONS_CONCURRENCY, 16, 1, 1024),
    cacheStrategies: intSetting(
      "STRATREG_VERSIONS_CACHE_STRATEGIES",
      env.STRATREG_VERSIONS_CACHE_STRATEGIES,
      4096,
      0,
      10_000_000,
    ),
    checkpointMs: intSetting("STRATREG_VERSIONS_CHECKPOINT_MS", env.STRATREG_VERSIONS_CHECKPOINT_MS, 250, 10, 60_000),
    startTimeoutMs: intSetting(
      "STRATREG_VERSIONS_START_TIMEOUT_MS",
      env.STRATREG_VERSIONS_START_TIMEOUT_MS,
      30_000,
      100,
      3_600_000,
    ),
    historyRetentionMs: intSetting("STRATREG_HISTORY_DAYS", env.STRATREG_HISTORY_DAYS, 400, 1, 36_500) * DAY_MS,
  };
}
