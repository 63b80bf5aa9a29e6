/**
 * Cluster-wide views for operators and tools, built on the NATS services
 * framework: every shard answers `$SRV.STATS.stratreg-shard` with its status.
 */
import { type Msg, type NatsConnection, NoRespondersError, RequestError } from "@nats-io/transport-node";
import { SHARD_SERVICE_NAME, type ShardStatus } from "@stratreg/protocol";

/** The `$SRV.STATS` reply of one service instance (the fields stratreg reads). */
interface ServiceStats {
  name: string;
  id: string;
  metadata?: Record<string, string>;
  endpoints?: Array<{ subject: string; data?: unknown }>;
}

/** What every shard of a cluster reports, gathered in one sweep. */
export interface ClusterStatus {
  cluster: string;
  partitions: number;
  shards: ShardStatus[];
  /** Partitions that no shard serves. */
  unserved: number[];
  /** Partitions that more than one shard serves. */
  contested: number[];
  strategies: number;
}

/**
 * Asks every shard for its status and keeps the replies from `cluster`'s shards.
 * Collects replies for `maxWaitMs` (shards answer within a few ms).
 */
export async function shardStatuses(nc: NatsConnection, cluster: string, maxWaitMs = 500): Promise<ShardStatus[]> {
  const out: ShardStatus[] = [];
  try {
    const replies = await nc.requestMany(`$SRV.STATS.${SHARD_SERVICE_NAME}`, undefined, {
      strategy: "timer",
      maxWait: maxWaitMs,
    });
    for await (const msg of replies) collectStatus(msg, cluster, out);
  } catch (err) {
    // No shard is up (yet): an empty cluster, not a failure.
    const noResponders = (err instanceof RequestError && err.isNoResponders()) || err instanceof NoRespondersError;
    if (!noResponders) throw err;
  }
  return out.sort((a, b) => a.member.localeCompare(b.member));
}

function collectStatus(msg: Msg, cluster: string, out: ShardStatus[]): void {
  let stats: ServiceStats;
  try {
    stats = msg.json<ServiceStats>();
  } catch {
    return;
  }
  if (stats.metadata?.cluster !== cluster) return;
  const status = stats.endpoints?.find((e) => e.subject.endsWith(".status"))?.data as ShardStatus | undefined;
  if (status !== undefined && status !== null) out.push(status);
}

/** The status of every shard of `cluster`, and which of its `partitions` are served by none or by several. */
export async function clusterStatus(
  nc: NatsConnection,
  cluster: string,
  partitions: number,
  maxWaitMs = 500,
): Promise<ClusterStatus> {
  const shards = await shardStatuses(nc, cluster, maxWaitMs);
  const servedBy = new Array<number>(partitions).fill(0);
  for (const shard of shards) for (const p of shard.serving) if (p < partitions) servedBy[p] = (servedBy[p] ?? 0) + 1;
  const unserved: number[] = [];
  const contested: number[] = [];
  servedBy.forEach((count, p) => {
    if (count === 0) unserved.push(p);
    else if (count > 1) contested.push(p);
  });
  return {
    cluster,
    partitions,
    shards,
    unserved,
    contested,
    strategies: shards.reduce((n, s) => n + s.strategies, 0),
  };
}
