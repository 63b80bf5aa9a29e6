/**
 * The part of the wire contract a browser can load: subjects, the codec, errors,
 * partition hashing and the operation names and message types. Nothing here
 * imports a `node:` module (`mod.ts` also exports the msgpack scanners, which do),
 * so the operator console bundles this entry instead of duplicating subject strings.
 * @module
 */
export { decode, encode } from "./codec.js";
export type { CandidateMessage, RunProgress } from "./discovery.js";
export { DiscoveryOps } from "./discovery.js";
export type { ValidationCheck, ValidationReport } from "./discovery-report.js";
export {
  type ErrorCode,
  ErrorCodes,
  errorFromWire,
  StratregError,
  type WireError,
} from "./errors.js";
export type { LifecycleEventMessage } from "./gates.js";
export { GraphOps, type TraversalReply } from "./graph.js";
export { partitionOf } from "./hash.js";
export type { LifecycleHistoryEntry } from "./lifecycle.js";
export type { Heartbeat, OwnershipEvent, PartitionStatus, ShardStatus } from "./membership.js";
export { type ClusterConfig, DEADLINE_MS_MAX, type GatesReply, PROTOCOL_VERSION, type Reply } from "./messages.js";
export {
  type ForecastReply,
  type Freshness,
  type HistoryReply,
  METRICS,
  type Metric,
  Metrics,
  type RankEntry,
  type TopReply,
} from "./performance.js";
export {
  type CorrelationReply,
  type ExposureReply,
  type LimitsReply,
  RiskControlOps,
  RiskOps,
  type ScopeExposure,
  type TradingCommandReply,
  TradingStates,
  type TradingStatus,
} from "./risk.js";
export { type LineageReply, SearchOps } from "./search.js";
export type { Strategy } from "./strategy.js";
export { type ClusterSubjects, clusterSubjects, DEFAULT_CLUSTER, PartitionOps, RankerOps } from "./subjects.js";
