/**
 * @stratreg/client: the SDK a trading service embeds to use the strategy registry.
 * @module
 */

export {
  ConflictError,
  Encodings,
  type ErrorCode,
  ErrorCodes,
  NotFoundError,
  type ShardStatus,
  type Strategy,
  type StrategyInput,
  type StrategyPatch,
  StratregError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from "@stratreg/protocol";
export { type ClusterStatus, clusterStatus, shardStatuses } from "./admin.js";
export { DEFAULT_RETRY, type RetryPolicy } from "./call.js";
export {
  type CallOptions,
  type ClientOptions,
  type FailedBatch,
  type ListPage,
  type RegisterBatchResult,
  type RegisterManyOptions,
  type RegisterManyResult,
  type Rejection,
  StratregClient,
} from "./client.js";
