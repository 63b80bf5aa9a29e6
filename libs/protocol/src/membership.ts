/**
 * Messages shards exchange about themselves: heartbeats (every member, every
 * heartbeat interval), a goodbye when one stops gracefully, and the status a
 * shard reports through `$SRV.STATS`.
 */
import type { TradingStatus } from "./risk.js";

/** Published on `<cluster>.member.heartbeat`. */
export interface Heartbeat {
  v: number;
  member: string;
  /** Partitions this member is serving now. */
  serving: number[];
  strategies: number;
  /**
   * Past its join grace and taking partitions. Peers hand partitions only to
   * ready members, so a newcomer never leaves partitions released and untaken.
   * Absent from older shards' heartbeats: taken as ready.
   */
  ready?: boolean;
}

/** Published on `<cluster>.member.leave` when a member stops gracefully. */
export interface Leave {
  v: number;
  member: string;
}

/** What a shard reports about one partition it holds a lease on. */
export interface PartitionStatus {
  partition: number;
  /** Ownership state: acquiring, loading, serving, handing-off, … */
  state: string;
  /** The owner's epoch (the lease's), 0 before the lease is taken. */
  epoch: number;
  /** Milliseconds since the lease was last renewed (by this shard's monotonic clock); -1 without a lease. */
  leaseAgeMs: number;
  /** Stream sequence of the last log entry applied. */
  logSeq: number;
  /** Log sequence the latest snapshot covers, 0 without one. */
  snapshotSeq: number;
  /** Writes waiting in the partition's queue. */
  queued: number;
  strategies: number;
}

/** An ownership change, published on `<cluster>.events.ownership` (and logged). */
export interface OwnershipEvent {
  v: number;
  member: string;
  partition: number;
  /** acquired | released | lost (taken over, fenced or lease expired) */
  change: "acquired" | "released" | "lost";
  epoch: number;
  at: number;
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
  /** Requests answered OVERLOADED. */
  overloaded?: number;
  /** Queued writes dropped because their caller's deadline had passed. */
  expired?: number;
  /** Every partition this shard holds or is taking a lease on. */
  partitions?: PartitionStatus[];
  /** True while the shard is handing everything off (SIGTERM or `stratreg drain`). */
  draining?: boolean;
  /** The trading state this shard follows (null until a risk guard answered or broadcast). */
  trading?: TradingStatus | null;
}
