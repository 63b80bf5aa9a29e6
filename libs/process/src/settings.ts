/** Settings from the environment, each checked and named in the error when it is wrong. */
import { hostname } from "node:os";
import { parseArgs } from "node:util";
import { DEFAULT_CLUSTER, isValidClusterName, isValidMemberId, MEMBER_ID_PATTERN } from "@stratreg/protocol";

/**
 * The integer setting `name` from `raw` (an environment variable or a flag), or
 * `fallback` when it is unset or empty; throws an Error naming the setting and
 * its range when it is not an integer in [min, max].
 */
export function intSetting(name: string, raw: string | undefined, fallback: number, min: number, max: number): number {
  if (raw === undefined || raw === "") return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min || value > max) {
    throw new Error(`${name} must be an integer in [${min}, ${max}], got ${JSON.stringify(raw)}`);
  }
  return value;
}

/** How a service process reaches its cluster and names itself: what every service's config starts with. */
export interface MemberSettings {
  natsUrl: string;
  natsUser: string | undefined;
  natsPassword: string | undefined;
  cluster: string;
  member: string;
  /** pino level (`--log-level`, LOG_LEVEL, `info`). */
  logLevel: string;
}

/** The flags every service takes. */
export interface ServiceFlags {
  nats?: string | undefined;
  cluster?: string | undefined;
  id?: string | undefined;
  "log-level"?: string | undefined;
}

/**
 * Parses `argv`: the flags every service takes (`--nats`, `--cluster`, `--id`, `--log-level`)
 * and the service's own string flags `extra`; throws on anything else.
 */
export function serviceFlags<E extends string = never>(
  argv: string[],
  extra: readonly E[] = [],
): ServiceFlags & Partial<Record<E, string>> {
  const options: Record<string, { type: "string" }> = {};
  for (const name of ["nats", "cluster", "id", "log-level", ...extra]) options[name] = { type: "string" };
  const { values } = parseArgs({ args: argv, options, strict: true });
  return values as ServiceFlags & Partial<Record<E, string>>;
}

/**
 * The NATS URL (`--nats`, NATS_URL), credentials (NATS_USER, NATS_PASSWORD), cluster
 * (`--cluster`, STRATREG_CLUSTER) and member id (`--id`, then `member.id`, the service's
 * own variable, read by the caller so that each variable is read where it is named;
 * else `<kind>-<host>-<pid>`) of a service; throws an Error naming a bad cluster name or id.
 */
export function memberSettings(
  flags: ServiceFlags,
  env: NodeJS.ProcessEnv,
  member: { id: string | undefined; kind: string; name: string },
): MemberSettings {
  const cluster = flags.cluster ?? env.STRATREG_CLUSTER ?? DEFAULT_CLUSTER;
  if (!isValidClusterName(cluster)) throw new Error(`invalid cluster name ${JSON.stringify(cluster)}`);
  const id = flags.id ?? member.id ?? `${member.kind}-${hostname().replace(/[^A-Za-z0-9_-]/g, "-")}-${process.pid}`;
  if (!isValidMemberId(id))
    throw new Error(`${member.name} must match ${MEMBER_ID_PATTERN}, got ${JSON.stringify(id)}`);
  return {
    natsUrl: flags.nats ?? env.NATS_URL ?? "nats://127.0.0.1:4222",
    natsUser: env.NATS_USER || undefined,
    natsPassword: env.NATS_PASSWORD || undefined,
    cluster,
    member: id,
    logLevel: flags["log-level"] ?? env.LOG_LEVEL ?? "info",
  };
}
