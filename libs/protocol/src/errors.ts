/**
 * Stable error codes and the error classes that carry them. On the wire an error
 * is `{ code, message, retryable, field?, details? }`; the client SDK turns it
 * back into the same class the shard threw.
 */

/** Every error code stratreg puts on the wire. Codes never change meaning. */
export const ErrorCodes = {
  /** The payload is not decodable msgpack, or not a map at the top. */
  Malformed: "MALFORMED",
  /** The envelope's protocol version is not one this service speaks. */
  UnsupportedVersion: "UNSUPPORTED_VERSION",
  /** A required field is absent. */
  MissingField: "MISSING_FIELD",
  /** A field has the wrong type, length, range or format. */
  InvalidField: "INVALID_FIELD",
  /** A field that the message kind does not define. */
  UnknownField: "UNKNOWN_FIELD",
  /** A batch holds more items than the endpoint accepts. */
  BatchTooLarge: "BATCH_TOO_LARGE",
  /** The request, or the log entry it would make, exceeds the size limit. */
  PayloadTooLarge: "PAYLOAD_TOO_LARGE",
  /** A strategy id was sent to a partition it does not hash to. */
  WrongPartition: "WRONG_PARTITION",
  /** The subject names no operation this service serves. */
  UnknownOperation: "UNKNOWN_OPERATION",
  /** A search query does not parse or does not type-check; `details` holds its `position`, `line` and `column`. */
  InvalidQuery: "INVALID_QUERY",
  /** No strategy has that id. */
  NotFound: "NOT_FOUND",
  /** A strategy with that id is already registered. */
  AlreadyExists: "ALREADY_EXISTS",
  /** The expected version does not match the stored one. */
  Conflict: "CONFLICT",
  /** The lifecycle does not allow that move from the current state. */
  InvalidTransition: "INVALID_TRANSITION",
  /** The quality gates refused a validation or activation; `details` lists every gate. */
  GatesFailed: "GATES_FAILED",
  /** A dependency edge would close a cycle; `details.path` is the cycle, from the edge's source back to it. */
  Cycle: "CYCLE",
  /** Others depend on the strategy: suspend or retire it through a cascade; `details.dependents` lists them. */
  HasDependents: "HAS_DEPENDENTS",
  /** The risk guard reports trading halted (or not active): nothing is activated or resumed. */
  TradingHalted: "TRADING_HALTED",
  /** The strategy is retired: it takes no more performance reports. */
  Retired: "RETIRED",
  /** This process no longer owns the partition (ownership moved); retry. */
  NotOwner: "NOT_OWNER",
  /** The partition is not being served right now (owner starting or moving); retry. */
  Unavailable: "UNAVAILABLE",
  /** The deadline passed before a reply arrived. */
  Timeout: "TIMEOUT",
  /** The partition's queue is full; retry after `details.retryAfterMs` with the same command id. */
  Overloaded: "OVERLOADED",
  /** The command was first issued longer ago than the de-duplication window: it can no longer be told apart from a new one. */
  CommandExpired: "COMMAND_EXPIRED",
  /** The cluster's config does not match this process (e.g. another partition count). */
  ConfigMismatch: "CONFIG_MISMATCH",
  /** An unexpected failure inside the service. */
  Internal: "INTERNAL",
} as const;
export type ErrorCode = (typeof ErrorCodes)[keyof typeof ErrorCodes];

const RETRYABLE: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.NotOwner,
  ErrorCodes.Unavailable,
  ErrorCodes.Timeout,
  ErrorCodes.Overloaded,
]);

/** Whether a code is retryable by default (the same command id may be sent again). */
export function isRetryableCode(code: ErrorCode): boolean {
  return RETRYABLE.has(code);
}

/** An error as it travels on the wire. */
export interface WireError {
  code: ErrorCode;
  message: string;
  retryable: boolean;
  /** Path of the offending field, e.g. `body.strategies[3].name`. */
  field?: string;
  /** Extra structured data, e.g. `{ expected, actual }` for CONFLICT. */
  details?: Record<string, unknown>;
}

/** Options shared by every {@link StratregError}. */
export interface StratregErrorOptions {
  retryable?: boolean;
  field?: string;
  details?: Record<string, unknown>;
  cause?: unknown;
}

/** Base class of every error stratreg raises or replies with. */
export class StratregError extends Error {
  override name = "StratregError";
  readonly code: ErrorCode;
  readonly retryable: boolean;
  readonly field: string | undefined;
  readonly details: Record<string, unknown> | undefined;

  constructor(code: ErrorCode, message: string, options: StratregErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.retryable = options.retryable ?? isRetryableCode(code);
    this.field = options.field;
    this.details = options.details;
  }

  /** The wire form of this error. */
  toWire(): WireError {
    const wire: WireError = { code: this.code, message: this.message, retryable: this.retryable };
    if (this.field !== undefined) wire.field = this.field;
    if (this.details !== undefined) wire.details = this.details;
    return wire;
  }
}

/** The request was rejected before anything was done: malformed, invalid, unknown or oversize input. */
export class ValidationError extends StratregError {
  override name = "ValidationError";
}

/** The strategy does not exist. */
export class NotFoundError extends StratregError {
  override name = "NotFoundError";
  constructor(message: string, options: StratregErrorOptions = {}) {
    super(ErrorCodes.NotFound, message, options);
  }
}

/** The command conflicts with stored state: stale version, existing id, or a forbidden lifecycle move. */
export class ConflictError extends StratregError {
  override name = "ConflictError";
}

/** The partition could not be served right now; the same command may be retried. */
export class UnavailableError extends StratregError {
  override name = "UnavailableError";
}

/** The deadline passed before a reply arrived. */
export class TimeoutError extends StratregError {
  override name = "TimeoutError";
  constructor(message: string, options: StratregErrorOptions = {}) {
    super(ErrorCodes.Timeout, message, options);
  }
}

const VALIDATION_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.Malformed,
  ErrorCodes.UnsupportedVersion,
  ErrorCodes.MissingField,
  ErrorCodes.InvalidField,
  ErrorCodes.UnknownField,
  ErrorCodes.BatchTooLarge,
  ErrorCodes.PayloadTooLarge,
  ErrorCodes.WrongPartition,
  ErrorCodes.UnknownOperation,
  ErrorCodes.InvalidQuery,
]);
const CONFLICT_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.AlreadyExists,
  ErrorCodes.CommandExpired,
  ErrorCodes.Conflict,
  ErrorCodes.InvalidTransition,
  ErrorCodes.GatesFailed,
  ErrorCodes.TradingHalted,
  ErrorCodes.Retired,
  ErrorCodes.Cycle,
  ErrorCodes.HasDependents,
]);
const UNAVAILABLE_CODES: ReadonlySet<ErrorCode> = new Set<ErrorCode>([
  ErrorCodes.NotOwner,
  ErrorCodes.Unavailable,
  ErrorCodes.Overloaded,
]);
const KNOWN_CODES: ReadonlySet<string> = new Set<string>(Object.values(ErrorCodes));

/** Builds the error class matching `code` (the inverse of {@link StratregError.toWire}). */
export function errorFromWire(wire: WireError): StratregError {
  const code: ErrorCode = KNOWN_CODES.has(wire.code) ? wire.code : ErrorCodes.Internal;
  // A peer that leaves `retryable` out gets the code's default.
  const options: StratregErrorOptions = typeof wire.retryable === "boolean" ? { retryable: wire.retryable } : {};
  if (typeof wire.field === "string") options.field = wire.field;
  if (wire.details !== undefined && wire.details !== null && typeof wire.details === "object")
    options.details = wire.details;
  const message = typeof wire.message === "string" ? wire.message : String(wire.code);
  if (code === ErrorCodes.NotFound) return new NotFoundError(message, options);
  if (code === ErrorCodes.Timeout) return new TimeoutError(message, options);
  if (VALIDATION_CODES.has(code)) return new ValidationError(code, message, options);
  if (CONFLICT_CODES.has(code)) return new ConflictError(code, message, options);
  if (UNAVAILABLE_CODES.has(code)) return new UnavailableError(code, message, options);
  return new StratregError(code, message, options);
}

/** Wraps anything thrown into a {@link StratregError} (unknown failures become INTERNAL). */
export function toStratregError(err: unknown): StratregError {
  if (err instanceof StratregError) return err;
  const message = err instanceof Error ? err.message : String(err);
  return new StratregError(ErrorCodes.Internal, `internal error: ${message}`, { cause: err });
}
