/**
 * @stratreg/replica: a replica of some partitions kept current from the
 * partition logs: the latest snapshot of each, then every entry after it, in
 * order, with gaps (entries compacted under a lagging reader) closed by loading
 * the partition again, and a measured lag. The SDK's near-cache and the search
 * service stand on it.
 * @module
 */

/** Follows the partition logs into a target's state; reports its lag. */
export { type FollowerOptions, LogFollower, type ReplicaLag, type ReplicaTarget } from "./follower.js";
/** A partition's performance book: per-strategy accumulators of reported returns and trades, as the shards keep it. */
export {
  type LoggedReport,
  MISSING_MAX,
  metricVector,
  PerformanceBook,
  type ScopeAttributes,
  StrategyPerformance,
} from "./performance-book.js";
