/**
 * Messages shards exchange about themselves: heartbeats (every member, every
 * heartbeat interval), a goodbye when one stops gracefully, and the status a
 * shard reports through `$SRV.STATS`.
 */

/** Published on `<cluster>.member.heartbeat`. */
export interface Heartbeat {
  v: number;
  member: string;
  /** Partitions this member is serving now. */
  serving: number[];
  strategies: number;
}

/** Published on `<cluster>.member.leave` when a member stops gracefully. */
export interface Leave {
  v: number;
  member: string;
}

/** A shard's status: the `data` of its `status` endpoint in `$SRV.STATS`, and the reply of that endpoint. */
export interface ShardStatus {
  cluster: string;
  member: string;
  /** Members this shard currently sees as live, itself included. */
  members: string[];
  /** Partitions this shard is serving. */
  serving: number[];
  /** Partitions this shard should own but is still loading. */
  loading: number[];
  strategies: number;
  /** Resident set size of the process, bytes. */
  rss: number;
  heapUsed: number;
  uptimeMs: number;
  requests: Record<string, number>;
  errors: number;
}
