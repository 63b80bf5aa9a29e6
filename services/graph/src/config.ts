/**
 * Graph process configuration from the environment, overridden by command-line
 * flags. Every variable is listed in README.md.
 */
import { intSetting, type MemberSettings, memberSettings, serviceFlags } from "@stratreg/process";

export interface GraphConfig extends MemberSettings {
  /** A leader lease unrenewed this long may be taken by a standby, ms. */
  leaseMs: number;
  /** The leader stops answering this long before its lease could be taken, ms. */
  leaseMarginMs: number;
  /** How long a link waits for the shards to show it before answering `projected: false`, ms. */
  projectWaitMs: number;
  /** Cascade steps (shard moves) in flight at once. */
  cascadeParallelism: number;
  /** How long to wait at start for a shard to say the cluster's config, ms. */
  startTimeoutMs: number;
}

/** Reads the config; throws an Error naming the bad setting. */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): GraphConfig {
  const values = serviceFlags(argv);
  const member = memberSettings(values, env, { id: env.STRATREG_GRAPH_ID, kind: "graph", name: "graph id" });
  const leaseMs = intSetting("STRATREG_GRAPH_LEASE_MS", env.STRATREG_GRAPH_LEASE_MS, 3000, 200, 600_000);
  return {
    ...member,
    leaseMs,
    leaseMarginMs: intSetting(
      "STRATREG_GRAPH_LEASE_MARGIN_MS",
      env.STRATREG_GRAPH_LEASE_MARGIN_MS,
      Math.floor(leaseMs / 3),
      10,
      leaseMs - 1,
    ),
    // Below the SDK's 2 s per attempt, so that a slow projection is answered, not retried.
    projectWaitMs: intSetting("STRATREG_GRAPH_PROJECT_WAIT_MS", env.STRATREG_GRAPH_PROJECT_WAIT_MS, 1500, 0, 600_000),
    cascadeParallelism: intSetting(
      "STRATREG_GRAPH_CASCADE_PARALLELISM",
      env.STRATREG_GRAPH_CASCADE_PARALLELISM,
      32,
      1,
      1024,
    ),
    startTimeoutMs: intSetting(
      "STRATREG_GRAPH_START_TIMEOUT_MS",
      env.STRATREG_GRAPH_START_TIMEOUT_MS,
      30_000,
      100,
      3_600_000,
    ),
  };
}
