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
  type Strategy,
  type StrategyInput,
  type StrategyPatch,
  StratregError,
  TimeoutError,
  UnavailableError,
  ValidationError,
} from "@stratreg/protocol";
export { DEFAULT_RETRY, type RetryPolicy } from "./call.js";
export {
  type CallOptions,
  type ClientOptions,
  type ListPage,
  type RegisterBatchResult,
  type RegisterManyOptions,
  type RegisterManyResult,
  type Rejection,
  StratregClient,
} from "./client.js";
