/** Stable codes of the errors this library throws. */
export const NatsdErrorCodes = {
  /** No nats-server binary could be found (see {@link NATS_INSTALL_HINT}). */
  NotFound: "NATS_SERVER_NOT_FOUND",
  /** nats-server exited, or never became ready, while starting. */
  StartFailed: "NATS_SERVER_START_FAILED",
  /** A cluster did not elect a JetStream meta leader in time. */
  NoMetaLeader: "NATS_CLUSTER_NO_META_LEADER",
  /** The handle was used after `stop()`. */
  Stopped: "NATS_SERVER_STOPPED",
} as const;

/** One of {@link NatsdErrorCodes}. */
export type NatsdErrorCode = (typeof NatsdErrorCodes)[keyof typeof NatsdErrorCodes];

/** Options of every {@link NatsdError}. */
export interface NatsdErrorOptions {
  /** The last log lines of the server(s) involved, newest last. */
  logs?: readonly string[];
  cause?: unknown;
}

/**
 * Base class of the errors this library throws. Nothing here is retryable by the
 * library itself: a start that failed needs a human (a missing binary, a bad config).
 */
export class NatsdError extends Error {
  override name = "NatsdError";
  readonly code: NatsdErrorCode;
  readonly retryable = false;
  /** The last log lines of the server(s) involved, newest last (empty when none). */
  readonly logs: readonly string[];

  constructor(code: NatsdErrorCode, message: string, options: NatsdErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.logs = options.logs ?? [];
  }
}

/** No nats-server binary was found; the message says how to get one. */
export class NatsServerNotFoundError extends NatsdError {
  override name = "NatsServerNotFoundError";
  constructor(message: string) {
    super(NatsdErrorCodes.NotFound, message);
  }
}

/** nats-server exited early or missed its readiness deadline; the message ends with its last log lines. */
export class NatsServerStartError extends NatsdError {
  override name = "NatsServerStartError";
  constructor(message: string, logs: readonly string[], cause?: unknown) {
    super(NatsdErrorCodes.StartFailed, withLogs(message, logs), { logs, cause });
  }
}

/** Appends the tail of a log to a message, so a failed CI run shows why without digging. */
export function withLogs(message: string, logs: readonly string[], max = 40): string {
  if (logs.length === 0) return `${message} (no log output)`;
  const tail = logs.slice(-max);
  return `${message}\n--- last ${tail.length} log lines ---\n${tail.join("\n")}`;
}
