/**
 * @stratreg/client: the SDK a trading service embeds to use the strategy registry.
 * @module
 */

/** Genealogy: how strategies were made and the queries over parents and families. */
export {
  type BreedingQuery,
  type BreedingReply,
  type CandidateMessage,
  type CascadeAction,
  CascadeActions,
  type CascadeReply,
  ConflictError,
  type CrossBreed,
  DiscoveryLimits,
  type DynastiesQuery,
  type DynastiesReply,
  type Dynasty,
  Encodings,
  type ErrorCode,
  ErrorCodes,
  type FamilyPerformance,
  type FamilyQuery,
  type FamilyReply,
  type GenealogyEdge,
  type GenealogyNode,
  type GraphNode,
  type GraphStatus,
  type ImportBarsReply,
  type ImportBarsRequest,
  type InstanceStrategy,
  type LineageDirection,
  LineageDirections,
  type LineageQuery,
  type LineageReply,
  type LinkReply,
  NotFoundError,
  type Origin,
  Origins,
  type OwnershipEvent,
  type RunOutcome,
  RunOutcomes,
  type RunProgress,
  type RunRequest,
  type SearchHit,
  type SearchQuery,
  type SearchReply,
  type SearchStatus,
  type SeriesInfo,
  type ShardStatus,
  type SimilarQuery,
  type SimilarReply,
  type Strategy,
  type StrategyInput,
  type StrategyPatch,
  StratregError,
  type Template,
  type TemplateInput,
  type TemplateListReply,
  type TemplateParamSpec,
  type TemplateRule,
  type TemplateSummary,
  type TemplateViolation,
  TimeoutError,
  type TradingState,
  TradingStates,
  type TradingStatus,
  type TraversalReply,
  UnavailableError,
  ValidationError,
} from "@stratreg/protocol";
export {
  AdminError,
  type AdminErrorCode,
  AdminErrorCodes,
  type ClusterStatus,
  clusterStatus,
  type DrainOptions,
  type DrainOutcome,
  type DrainProgress,
  type DrainReply,
  type DrainResult,
  drainShard,
  type OwnershipWatch,
  shardStatuses,
  watchOwnership,
} from "./admin.js";
export { DEFAULT_RETRY, type RetryPolicy } from "./call.js";
export {
  type CallOptions,
  type ClientOptions,
  type FailedBatch,
  type GateThresholdsReply,
  type ListPage,
  type RegisterBatchResult,
  type RegisterManyOptions,
  type RegisterManyResult,
  type Rejection,
  StratregClient,
} from "./client.js";
/** Discovery: bars in, runs, progress, candidates and the scanner's findings. */
export {
  type CandidatesQuery,
  type CandidatesReply,
  type DataReply,
  type DiscoveryCallOptions,
  DiscoveryClient,
  type DiscoveryClientOptions,
  type DiscoveryFollower,
  type DiscoveryStatus,
  type ImportSeriesOptions,
  type ScanFindings,
  type SeriesBar,
} from "./discovery.js";
export {
  followLifecycleEvents,
  type LifecycleEventFollower,
  type LifecycleEventsOptions,
  type StreamedLifecycleEvent,
} from "./lifecycle-events.js";
/** The near-cache: strategies held in this process, current from the logs within a bounded lag. */
export { NearCache, type NearCacheOptions, type NearCacheStats } from "./near-cache.js";
/** The SDK's request path: one inbox subscription per connection, no error built unless a request fails. */
export {
  NoRespondersError,
  ReplyTimeoutError,
  RequestClosedError,
  RequestMux,
  requestsThroughMux,
} from "./request-mux.js";
export { RiskClient, type RiskClientOptions } from "./risk.js";
/** Strategy templates: list, get, instantiate, and (operators) put. */
export {
  type InstantiateOptions,
  type PutTemplateOptions,
  type TemplateCallOptions,
  TemplatesClient,
  type TemplatesClientOptions,
} from "./templates.js";
export { type FollowOptions, followTradingState, type TradingStateFollower } from "./trading-state.js";
/** Version control: replies of the versions service's ops (the calls are StratregClient methods). */
export type {
  Branch,
  BranchView,
  FieldChange,
  MergeOutcome,
  RollbackResult,
  ShownVersion,
  VersionDiff,
  VersionLog,
  VersionTag,
} from "./versions.js";
