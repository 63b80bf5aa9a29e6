/**
 * @stratreg/protocol: the wire contract shared by every stratreg service and client.
 * @module
 */
export { decode, encode, encodeRecords, encodeWithRaw, RawMsgpack } from "./codec.js";
export {
  ConflictError,
  type ErrorCode,
  ErrorCodes,
  errorFromWire,
  isRetryableCode,
  NotFoundError,
  StratregError,
  type StratregErrorOptions,
  TimeoutError,
  toStratregError,
  UnavailableError,
  ValidationError,
  type WireError,
} from "./errors.js";
export { hashString, murmur3, partitionOf } from "./hash.js";
export {
  type LifecycleEvent,
  LifecycleEvents,
  nextLifecycle,
  nextLifecycleState,
  strategyLifecycle,
} from "./lifecycle.js";
export {
  bin32At,
  type CommandSegments,
  decodeLogEntry,
  encodeLogEntry,
  isKnownLogOp,
  LOG_FORMAT_VERSION,
  type LogEntry,
  type LogEntryHead,
  type LogEntryLayout,
  type LogOp,
  LogOps,
  readLogEntry,
  recordAt,
} from "./log.js";
export type { Heartbeat, Leave, OwnershipEvent, PartitionStatus, ShardStatus } from "./membership.js";
export {
  type BatchRejection,
  type ClusterConfig,
  CommandIdSchema,
  DEADLINE_MS_MAX,
  DeadlineMsSchema,
  type GetBatchRequest,
  type GetRequest,
  IssuedSchema,
  isWriteOp,
  type ListRequest,
  PROTOCOL_VERSION,
  type RegisterBatchRequest,
  type RegisterRequest,
  type Reply,
  type ReplyBodies,
  type Request,
  RequestBodies,
  type RequestBody,
  type RetireRequest,
  requestSchema,
  type UpdateRequest,
  WRITE_OPS,
} from "./messages.js";
export { type BytesCheck, compileBytesCheck } from "./msgpack-check.js";
export {
  MAX_NESTING,
  type MsgpackPath,
  type MsgpackProblem,
  type MsgpackProblemKind,
  MsgpackProblems,
  standardMsgpackProblem,
} from "./msgpack-read.js";
export { MsgpackScanError, MsgpackScanner } from "./msgpack-scan.js";
export {
  bytesRecord,
  decodeStrategy,
  encodeStrategy,
  planValidatedStrategy,
  type RecordSource,
  spliceNewStrategy,
  writeRecord,
} from "./record.js";
export { assignPartitions, partitionsOwnedBy, rendezvousOwner } from "./rendezvous.js";
export {
  type LifecycleState,
  LifecycleStates,
  Limits,
  lifecycleOf,
  newStrategy,
  type Params,
  type ParamValue,
  patchStrategy,
  STRATEGY_ID_PATTERN,
  type StoredLifecycle,
  type Strategy,
  type StrategyInput,
  StrategyInputSchema,
  type StrategyPatch,
  StrategyPatchSchema,
  type TemplateRef,
  type VenueVariant,
} from "./strategy.js";
export {
  type ClusterSubjects,
  clusterSubjects,
  DEFAULT_CLUSTER,
  DEFAULT_PARTITIONS,
  ENCODING_HEADER,
  type Encoding,
  Encodings,
  isValidClusterName,
  isValidMemberId,
  MEMBER_ID_PATTERN,
  type PartitionOp,
  PartitionOps,
  parsePartitionSubject,
  SHARD_SERVICE_NAME,
} from "./subjects.js";
export {
  acceptsBytes,
  checkPayloadSize,
  compileValidators,
  type EnvelopeFields,
  envelopeFields,
  fieldPath,
  parseRequest,
  validateRequest,
  validationErrorOf,
} from "./validate.js";
