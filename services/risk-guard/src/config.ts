/**
 * Risk guard configuration from the environment, overridden by command-line
 * flags. Every variable is listed in README.md. Limits are not configured here:
 * operators set them (`stratreg limits set`), and they live in the guard's log.
 */
import { intSetting, type MemberSettings, memberSettings, serviceFlags } from "@stratreg/process";

export interface GuardConfig extends MemberSettings {
  /** The leader lease: unrenewed this long, a standby takes over. */
  leaseMs: number;
  /** The leader stops answering this long before its lease could be taken. */
  leaseMarginMs: number;
  /** Operators needed to resume trading (1, or 2: a second, different operator confirms). */
  resumeConfirmations: 1 | 2;
  /** Longest wait for followers to acknowledge a trading-state change, ms. */
  ackTimeoutMs: number;
  /** How often the trading state is broadcast again (and the roster of followers refreshed), ms. */
  rebroadcastMs: number;
  /** Most records in one log entry. */
  recordsPerEntry: number;
  /** Most records waiting for the log; past it: OVERLOADED. */
  queueMax: number;
  /** Most log appends in flight at once. */
  appendsInFlight: number;
  /** Records applied since the last snapshot of the book that make it take another. */
  snapshotRecords: number;
  /** How often a guard looks whether a snapshot is due, ms. */
  snapshotEveryMs: number;
  /** How long closed orders are remembered, so a repeated check gets the first decision, ms. */
  decisionsKeptMs: number;
  /** How often correlations, clusters, VaR and ES are recomputed, ms. */
  riskIntervalMs: number;
  /** Periods of returns each strategy contributes to correlation and VaR. */
  riskPeriods: number;
  /** How long a strategy's family and state are cached, ms. */
  strategyCacheMs: number;
  /** How long to wait at start for the registry to say the cluster's config. */
  startTimeoutMs: number;
}

/** Reads the config; throws an Error naming the bad setting. */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): GuardConfig {
  const values = serviceFlags(argv);
  const member = memberSettings(values, env, {
    id: env.STRATREG_RISK_GUARD_ID,
    kind: "risk-guard",
    name: "risk guard id",
  });
  const leaseMs = intSetting("STRATREG_RISK_LEASE_MS", env.STRATREG_RISK_LEASE_MS, 3000, 200, 60_000);
  return {
    ...member,
    leaseMs,
    leaseMarginMs: intSetting(
      "STRATREG_RISK_LEASE_MARGIN_MS",
      env.STRATREG_RISK_LEASE_MARGIN_MS,
      Math.floor(leaseMs / 5),
      10,
      leaseMs - 1,
    ),
    resumeConfirmations: intSetting(
      "STRATREG_RISK_RESUME_CONFIRMATIONS",
      env.STRATREG_RISK_RESUME_CONFIRMATIONS,
      1,
      1,
      2,
    ) as 1 | 2,
    ackTimeoutMs: intSetting("STRATREG_RISK_ACK_TIMEOUT_MS", env.STRATREG_RISK_ACK_TIMEOUT_MS, 1000, 10, 60_000),
    rebroadcastMs: intSetting("STRATREG_RISK_REBROADCAST_MS", env.STRATREG_RISK_REBROADCAST_MS, 1000, 50, 60_000),
    recordsPerEntry: intSetting(
      "STRATREG_RISK_RECORDS_PER_ENTRY",
      env.STRATREG_RISK_RECORDS_PER_ENTRY,
      1000,
      1,
      10_000,
    ),
    queueMax: intSetting("STRATREG_RISK_QUEUE_MAX", env.STRATREG_RISK_QUEUE_MAX, 20_000, 1, 1_000_000),
    snapshotRecords: intSetting(
      "STRATREG_RISK_SNAPSHOT_RECORDS",
      env.STRATREG_RISK_SNAPSHOT_RECORDS,
      100_000,
      1,
      100_000_000,
    ),
    snapshotEveryMs: intSetting(
      "STRATREG_RISK_SNAPSHOT_EVERY_MS",
      env.STRATREG_RISK_SNAPSHOT_EVERY_MS,
      5000,
      100,
      3_600_000,
    ),
    appendsInFlight: intSetting("STRATREG_RISK_APPENDS_IN_FLIGHT", env.STRATREG_RISK_APPENDS_IN_FLIGHT, 2, 1, 64),
    decisionsKeptMs: intSetting(
      "STRATREG_RISK_DECISIONS_KEPT_MS",
      env.STRATREG_RISK_DECISIONS_KEPT_MS,
      86_400_000,
      1000,
      30 * 86_400_000,
    ),
    riskIntervalMs: intSetting("STRATREG_RISK_INTERVAL_MS", env.STRATREG_RISK_INTERVAL_MS, 10_000, 100, 3_600_000),
    riskPeriods: intSetting("STRATREG_RISK_PERIODS", env.STRATREG_RISK_PERIODS, 250, 10, 5000),
    strategyCacheMs: intSetting(
      "STRATREG_RISK_STRATEGY_CACHE_MS",
      env.STRATREG_RISK_STRATEGY_CACHE_MS,
      10_000,
      0,
      3_600_000,
    ),
    startTimeoutMs: intSetting(
      "STRATREG_RISK_START_TIMEOUT_MS",
      env.STRATREG_RISK_START_TIMEOUT_MS,
      30_000,
      100,
      3_600_000,
    ),
  };
}
