/**
 * @stratreg/client: the SDK a trading service embeds to use the strategy registry.
 * @module
 */

export {
  ConflictError,
  Encodings,
  type ErrorCode,
  ErrorCodes,
  type InstanceStrategy,
  NotFoundError,
  type OwnershipEvent,
  type ShardStatus,
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
export {
  followLifecycleEvents,
  type LifecycleEventFollower,
  type LifecycleEventsOptions,
  type StreamedLifecycleEvent,
} from "./lifecycle-events.js";
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
