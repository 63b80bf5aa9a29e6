/**
 * Finds the shards of a cluster through the NATS services framework: every
 * shard answers `$SRV.STATS.stratreg-shard` with its stats, whose `status`
 * endpoint carries the shard's ShardStatus as `data`. Shards of every cluster
 * on the server answer, so replies are kept by their `metadata.cluster`.
 */
import { type NatsConnection, RequestError } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import { type PartitionStatus, SHARD_SERVICE_NAME, type ShardStatus } from "@stratreg/protocol";
import { isJsonObject } from "../input.js";

/** One shard as it reported itself. */
export interface ShardReport {
  /** The services-framework instance id (new at every start). */
  instance: string;
  version: string;
  /** ISO time the shard registered with the services framework. */
  started: string;
  status: ShardStatus;
}

function isNumberArray(value: unknown): value is number[] {
  return Array.isArray(value) && value.every((n) => typeof n === "number");
}

/** Whether `value` has the ShardStatus fields the report reads (it came over the wire from any version). */
function isShardStatus(value: unknown): value is ShardStatus {
  return (
    isJsonObject(value) &&
    typeof value.member === "string" &&
    isNumberArray(value.serving) &&
    isNumberArray(value.loading) &&
    typeof value.strategies === "number" &&
    typeof value.rss === "number"
  );
}

const PARTITION_NUMBERS = [
  "partition",
  "epoch",
  "leaseAgeMs",
  "logSeq",
  "snapshotSeq",
  "queued",
  "strategies",
] as const;

function isPartitionStatus(value: unknown): value is PartitionStatus {
  return (
    isJsonObject(value) &&
    typeof value.state === "string" &&
    PARTITION_NUMBERS.every((key) => typeof value[key] === "number")
  );
}

/**
 * `status` with its optional partition details kept only if all of them can be read. Shards
 * older than leases send none, so the report already works from `serving` and `loading`
 * alone; half-read details would instead show a partition as unowned that is not.
 */
function withReadablePartitions(status: ShardStatus): ShardStatus {
  const partitions: unknown = status.partitions;
  if (partitions === undefined || (Array.isArray(partitions) && partitions.every(isPartitionStatus))) return status;
  const { partitions: _unreadable, ...rest } = status;
  return rest;
}

/** The ShardReport inside one `$SRV.STATS` reply, if it is a shard of `cluster`. */
export function shardReportOf(stats: unknown, cluster: string): ShardReport | undefined {
  if (!isJsonObject(stats) || !isJsonObject(stats.metadata) || stats.metadata.cluster !== cluster) return undefined;
  if (!Array.isArray(stats.endpoints)) return undefined;
  const endpoint = stats.endpoints.find(
    (e: unknown) => isJsonObject(e) && typeof e.subject === "string" && e.subject.endsWith(".status"),
  );
  const status: unknown = isJsonObject(endpoint) ? endpoint.data : undefined;
  if (!isShardStatus(status)) return undefined;
  return {
    instance: typeof stats.id === "string" ? stats.id : "",
    version: typeof stats.version === "string" ? stats.version : "",
    started: typeof stats.started === "string" ? stats.started : "",
    status: withReadablePartitions(status),
  };
}

/** Every shard of `cluster` that answers `$SRV.STATS` within `waitMs`, sorted by member id. */
export async function collectShards(nc: NatsConnection, cluster: string, waitMs: number): Promise<ShardReport[]> {
  const reports: ShardReport[] = [];
  try {
    // A timer strategy, not a count: how many shards exist is what we are asking.
    const replies = await nc.requestMany(`$SRV.STATS.${SHARD_SERVICE_NAME}`, undefined, {
      strategy: "timer",
      maxWait: waitMs,
    });
    for await (const msg of replies) {
      let stats: unknown;
      try {
        stats = msg.json();
      } catch {
        continue; // Not a services-framework reply; nothing to report from it.
      }
      const report = shardReportOf(stats, cluster);
      if (report !== undefined) reports.push(report);
    }
  } catch (err) {
    if (!(err instanceof RequestError && err.isNoResponders())) throw err;
  }
  return reports.sort((a, b) => a.status.member.localeCompare(b.status.member));
}

/** The cluster's partition count from `<cluster>.cluster.info`, or undefined if no shard answered in time. */
export async function askPartitionCount(
  nc: NatsConnection,
  cluster: string,
  timeoutMs: number,
): Promise<number | undefined> {
  try {
    return (await StratregClient.connect(nc, { cluster, timeoutMs })).partitions;
  } catch {
    return undefined; // The report says the count is unknown; the shard list shows why.
  }
}
