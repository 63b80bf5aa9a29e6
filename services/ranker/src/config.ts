/**
 * Ranker configuration from the environment, overridden by command-line flags.
 * Every variable is listed in README.md. The partition count is not configured:
 * the ranker asks the cluster (`<cluster>.cluster.info`).
 */
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { intSetting } from "@stratreg/process";
import { DEFAULT_CLUSTER, isValidClusterName, isValidMemberId, MEMBER_ID_PATTERN } from "@stratreg/protocol";

export interface RankerConfig {
  natsUrl: string;
  natsUser: string | undefined;
  natsPassword: string | undefined;
  cluster: string;
  /** This ranker's id: `<cluster>.ranker.<member>.<op>` reaches it alone. */
  member: string;
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
  logLevel: string;
}

/** Reads the config; throws an Error naming the bad setting. */
export function loadConfig(argv: string[] = process.argv.slice(2), env: NodeJS.ProcessEnv = process.env): RankerConfig {
  const { values } = parseArgs({
    args: argv,
    options: {
      nats: { type: "string" },
      cluster: { type: "string" },
      id: { type: "string" },
      "log-level": { type: "string" },
    },
    strict: true,
  });
  const cluster = values.cluster ?? env.STRATREG_CLUSTER ?? DEFAULT_CLUSTER;
  if (!isValidClusterName(cluster)) throw new Error(`invalid cluster name ${JSON.stringify(cluster)}`);
  const member =
    values.id ?? env.STRATREG_RANKER_ID ?? `ranker-${hostname().replace(/[^A-Za-z0-9_-]/g, "-")}-${process.pid}`;
  if (!isValidMemberId(member)) {
    throw new Error(`ranker id must match ${MEMBER_ID_PATTERN}, got ${JSON.stringify(member)}`);
  }
  return {
    natsUrl: values.nats ?? env.NATS_URL ?? "nats://127.0.0.1:4222",
    natsUser: env.NATS_USER || undefined,
    natsPassword: env.NATS_PASSWORD || undefined,
    cluster,
    member,
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
    logLevel: values["log-level"] ?? env.LOG_LEVEL ?? "info",
  };
}
