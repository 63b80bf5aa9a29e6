/**
 * Search process configuration from the environment, overridden by
 * command-line flags. Every variable is listed in README.md. The partition
 * count is asked of the cluster.
 */
import { intSetting, type MemberSettings, memberSettings, serviceFlags } from "@stratreg/process";

export interface SearchConfig extends MemberSettings {
  /** Past this lag (ms) the process calls itself lagging (it still answers, saying how far behind it is). */
  maxLagMs: number;
  /** How often the replica asks how far behind it is, ms. */
  probeMs: number;
  /** Most queries in hand at once; past it: OVERLOADED. */
  maxInFlight: number;
  /** How long to wait at start for a shard to say the cluster's config, ms. */
  startTimeoutMs: number;
}

/** Reads the config; throws an Error naming the bad setting. */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): SearchConfig {
  const values = serviceFlags(argv);
  const member = memberSettings(values, env, { id: env.STRATREG_SEARCH_ID, kind: "search", name: "search id" });
  return {
    ...member,
    maxLagMs: intSetting("STRATREG_SEARCH_MAX_LAG_MS", env.STRATREG_SEARCH_MAX_LAG_MS, 2000, 10, 3_600_000),
    probeMs: intSetting("STRATREG_SEARCH_PROBE_MS", env.STRATREG_SEARCH_PROBE_MS, 100, 5, 60_000),
    maxInFlight: intSetting("STRATREG_SEARCH_MAX_IN_FLIGHT", env.STRATREG_SEARCH_MAX_IN_FLIGHT, 64, 1, 10_000),
    startTimeoutMs: intSetting(
      "STRATREG_SEARCH_START_TIMEOUT_MS",
      env.STRATREG_SEARCH_START_TIMEOUT_MS,
      30_000,
      100,
      3_600_000,
    ),
  };
}
