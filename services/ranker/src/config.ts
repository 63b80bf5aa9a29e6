/**
 * Ranker configuration from the environment, overridden by command-line flags.
 * Every variable is listed in README.md. The partition count is not configured:
 * the ranker asks the cluster (`<cluster>.cluster.info`).
 */
import { intSetting, type MemberSettings, memberSettings, serviceFlags } from "@stratreg/process";

export interface RankerConfig extends MemberSettings {
  /** A partition not heard from for this long is missing from answers. */
  staleMs: number;
  /** Longest wait for one partition asked directly, ms. */
  requestTimeoutMs: number;
  /** Most queries asking partitions directly at once; past it: OVERLOADED. */
  maxScatters: number;
  /** Most partitions one query asks at once. */
  concurrency: number;
  /** How long to wait at start for a shard to say the cluster's config. */
  startTimeoutMs: number;
}

/** Reads the config; throws an Error naming the bad setting. */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): RankerConfig {
  const values = serviceFlags(argv);
  const member = memberSettings(values, env, {
    id: env.STRATREG_RANKER_ID,
    kind: "ranker",
    name: "ranker id",
  });
  return {
    ...member,
    staleMs: intSetting("STRATREG_RANKER_STALE_MS", env.STRATREG_RANKER_STALE_MS, 3000, 100, 600_000),
    requestTimeoutMs: intSetting(
      "STRATREG_RANKER_REQUEST_TIMEOUT_MS",
      env.STRATREG_RANKER_REQUEST_TIMEOUT_MS,
      1000,
      10,
      60_000,
    ),
    maxScatters: intSetting("STRATREG_RANKER_MAX_SCATTERS", env.STRATREG_RANKER_MAX_SCATTERS, 32, 1, 10_000),
    concurrency: intSetting("STRATREG_RANKER_CONCURRENCY", env.STRATREG_RANKER_CONCURRENCY, 16, 1, 1024),
    startTimeoutMs: intSetting(
      "STRATREG_RANKER_START_TIMEOUT_MS",
      env.STRATREG_RANKER_START_TIMEOUT_MS,
      30_000,
      100,
      3_600_000,
    ),
  };
}
