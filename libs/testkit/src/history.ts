/**
 * Operation histories for fault tests, in the manner of Jepsen: every register, update, retire
 * and read that the test's clients run is recorded with its invocation and completion times and
 * what it returned, and the whole history is checked after recovery (see `history-check.ts`).
 *
 * Times come from `performance.now()`, a monotonic clock: the checker orders operations in real
 * time by them, and a wall clock that steps back would invent stale reads.
 */
import { checkHistory, type HistoryReport } from "./history-check.js";
import {
  ABSENT,
  type FinalState,
  type ObservedVersion,
  type Operation,
  type OperationKind,
  OperationKinds,
  type Outcome,
  Outcomes,
  type Versioned,
  type WorkerId,
} from "./history-operation.js";

type MutableOperation = { -readonly [K in keyof Operation]: Operation[K] };

/** Options of {@link History.invoke}. */
export interface InvokeOptions {
  /** The write's command id, so that retries of one command are recognised as such. */
  cid?: string;
}

/** An invoked operation, waiting for exactly one of its completions. */
export interface PendingOperation {
  /** The record; it changes when the operation completes. */
  readonly operation: Operation;
  /**
   * It succeeded: `result` is the reply's strategy (or its version), or {@link ABSENT} for a
   * read that found nothing. Throws if the operation already completed.
   */
  ok(result: Versioned | ObservedVersion): Operation;
  /** It was definitely not applied (the system refused it). */
  fail(error?: unknown): Operation;
  /** It may or may not have been applied (e.g. a timeout). */
  unknown(error?: unknown): Operation;
}

/** How {@link classifyError} reads a thrown error: a refusal, an unknown outcome, or, for a read, "absent". */
export type ErrorOutcome = typeof Outcomes.Fail | typeof Outcomes.Unknown | typeof ABSENT;

/** Options of {@link History.run}. */
export interface RunOptions<T> {
  /** For a write, what identifies it (a tag, a name). */
  value?: unknown;
  /** The write's command id. */
  cid?: string;
  /** The version in a successful result (default: the result's `version`, or the result if it is a number). */
  versionOf?: (result: T) => ObservedVersion;
  /** How to read a thrown error (default {@link classifyError}). */
  classify?: (error: unknown, kind: OperationKind) => ErrorOutcome;
}

/** What {@link History.run} resolves with: the call's result or error, and the record. */
export type RunResult<T> =
  | { readonly outcome: typeof Outcomes.Ok; readonly value: T; readonly operation: Operation }
  | { readonly outcome: ErrorOutcome; readonly error: unknown; readonly operation: Operation };

/** Reads the state after recovery for the ids of a history. */
export type FinalStateSource = (ids: string[]) => FinalState | Promise<FinalState>;

/** Options of {@link History}. */
export interface HistoryOptions {
  /** The clock (default `performance.now`); tests of the checker inject their own. */
  now?: () => number;
}

/**
 * Error codes after which a write may or may not have been applied. COMMAND_EXPIRED is here
 * although it is not retryable: the shard can no longer tell whether an earlier send of the
 * command was applied, so calling it a refusal would make the checker cry "gap" for nothing.
 */
export const UNKNOWN_OUTCOME_CODES: ReadonlySet<string> = new Set([
  "TIMEOUT",
  "UNAVAILABLE",
  "NOT_OWNER",
  "OVERLOADED",
  "COMMAND_EXPIRED",
]);

/**
 * The default reading of an error thrown by a client call: NOT_FOUND on a read means "absent";
 * `retryable === true` or a code in {@link UNKNOWN_OUTCOME_CODES} means the outcome is unknown;
 * anything else is a refusal ("fail"). Errors are read structurally (`code`, `retryable`), so
 * the test kit needs no dependency on the protocol package.
 */
export function classifyError(error: unknown, kind: OperationKind): ErrorOutcome {
  const { code, retryable } = (typeof error === "object" && error !== null ? error : {}) as {
    code?: unknown;
    retryable?: unknown;
  };
  if (kind === OperationKinds.Read && code === "NOT_FOUND") return ABSENT;
  if (retryable === true || (typeof code === "string" && UNKNOWN_OUTCOME_CODES.has(code))) return Outcomes.Unknown;
  return Outcomes.Fail;
}

function defaultVersionOf(result: unknown): ObservedVersion {
  if (typeof result === "number" || result === ABSENT) return result;
  if (typeof result === "object" && result !== null && typeof (result as Versioned).version === "number") {
    return (result as Versioned).version;
  }
  throw new TypeError("History.run: the result has no numeric `version`; pass `versionOf`");
}

/**
 * A history of operations on strategies, recorded by any number of concurrent workers:
 *
 * ```ts
 * const history = new History();
 * const put = await history.run(w, "update", id, () => client.update(id, v, { name: tag }), { value: tag });
 * const got = await history.run(w, "read", id, () => client.get(id));
 * // … kill shards, restart them, wait for them to serve …
 * const report = await history.check(async (ids) => (await client.getMany(ids)).strategies);
 * expect(report.ok, report.summary()).toBe(true);
 * ```
 */
export class History {
  readonly #operations: MutableOperation[] = [];
  readonly #now: () => number;

  constructor(options: HistoryOptions = {}) {
    this.#now = options.now ?? (() => performance.now());
  }

  /** Every operation recorded so far, in invocation order. */
  get operations(): readonly Operation[] {
    return this.#operations;
  }

  /** Records that `worker` is about to send `kind` on strategy `id`; complete it with the returned handle. */
  invoke(
    worker: WorkerId,
    kind: OperationKind,
    id: string,
    value?: unknown,
    options: InvokeOptions = {},
  ): PendingOperation {
    const op: MutableOperation = {
      index: this.#operations.length,
      worker,
      kind,
      id,
      value,
      cid: options.cid,
      invokedAt: this.#now(),
      completedAt: undefined,
      outcome: Outcomes.Pending,
      version: undefined,
      error: undefined,
    };
    this.#operations.push(op);
    const complete = (outcome: Outcome, version: ObservedVersion | undefined, error: unknown): Operation => {
      // A second completion is a bug in the test; silently keeping either would corrupt the history.
      if (op.outcome !== Outcomes.Pending) throw new Error(`operation #${op.index} already completed (${op.outcome})`);
      op.completedAt = this.#now();
      op.outcome = outcome;
      op.version = version;
      op.error = error;
      return op;
    };
    return {
      operation: op,
      ok: (result) => {
        const version = typeof result === "object" ? result.version : result;
        if (typeof version !== "number" && !(version === ABSENT && kind === OperationKinds.Read)) {
          throw new TypeError(`operation #${op.index} (${kind}): ok needs a version, got ${String(version)}`);
        }
        return complete(Outcomes.Ok, version, undefined);
      },
      fail: (error) => complete(Outcomes.Fail, undefined, error),
      unknown: (error) => complete(Outcomes.Unknown, undefined, error),
    };
  }

  /**
   * Invokes `call` as one recorded operation and completes the record from its result or error
   * (see {@link classifyError}). Never rejects because `call` did: the error is in the result.
   */
  async run<T>(
    worker: WorkerId,
    kind: OperationKind,
    id: string,
    call: () => Promise<T>,
    options: RunOptions<T> = {},
  ): Promise<RunResult<T>> {
    const pending = this.invoke(worker, kind, id, options.value, { cid: options.cid });
    let value: T;
    try {
      value = await call();
    } catch (error) {
      const outcome = (options.classify ?? classifyError)(error, kind);
      if (outcome === ABSENT) pending.ok(ABSENT);
      else if (outcome === Outcomes.Unknown) pending.unknown(error);
      else pending.fail(error);
      return { outcome, error, operation: pending.operation };
    }
    pending.ok((options.versionOf ?? defaultVersionOf)(value));
    return { outcome: Outcomes.Ok, value, operation: pending.operation };
  }

  /**
   * Checks the history against the state read after recovery, given directly or read by
   * `source` for the history's ids. Operations still pending count as unknown.
   */
  async check(final: FinalState | FinalStateSource): Promise<HistoryReport> {
    const state = typeof final === "function" ? await final([...new Set(this.#operations.map((op) => op.id))]) : final;
    return checkHistory(this.#operations, state);
  }
}
