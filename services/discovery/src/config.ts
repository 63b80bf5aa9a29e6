/**
 * Discovery's configuration from the environment, overridden by command-line
 * flags. Every variable is listed in README.md.
 */
import { intSetting, type MemberSettings, memberSettings, serviceFlags } from "@stratreg/process";

export interface DiscoveryConfig extends MemberSettings {
  /** Worker threads evaluating candidates (default: every core). */
  threads: number;
  /** Budget of a run that does not name one, ms. */
  defaultBudgetMs: number;
  /** Start a run by itself after this many new bars (0: only on request). */
  autoRunBars: number;
  /** How long to wait for the registry when registering a candidate, ms. */
  requestTimeoutMs: number;
}

/** Reads the config; throws an Error naming the bad setting. */
export function loadConfig(
  argv: string[] = process.argv.slice(2),
  env: NodeJS.ProcessEnv = process.env,
  cores = 0,
): DiscoveryConfig {
  const values = serviceFlags(argv);
  const member = memberSettings(values, env, {
    id: env.STRATREG_DISCOVERY_ID,
    kind: "discovery",
    name: "discovery id",
  });
  return {
    ...member,
    threads: intSetting("STRATREG_DISCOVERY_THREADS", env.STRATREG_DISCOVERY_THREADS, cores, 0, 256),
    defaultBudgetMs: intSetting(
      "STRATREG_DISCOVERY_BUDGET_MS",
      env.STRATREG_DISCOVERY_BUDGET_MS,
      60_000,
      1000,
      24 * 3600 * 1000,
    ),
    autoRunBars: intSetting("STRATREG_DISCOVERY_AUTO_RUN_BARS", env.STRATREG_DISCOVERY_AUTO_RUN_BARS, 0, 0, 1e9),
    requestTimeoutMs: intSetting(
      "STRATREG_DISCOVERY_REQUEST_TIMEOUT_MS",
      env.STRATREG_DISCOVERY_REQUEST_TIMEOUT_MS,
      5000,
      100,
      600_000,
    ),
  };
}
