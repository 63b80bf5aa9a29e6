/**
 * The vocabulary of operation histories, shared by the recorder (`history.ts`) and the checker
 * (`history-check.ts`): what an operation is, how it can end, and what the final state is.
 */

/** What a recorded operation does to one strategy. */
export const OperationKinds = {
  Register: "register",
  Update: "update",
  Retire: "retire",
  Read: "read",
} as const;
/** One of {@link OperationKinds}. */
export type OperationKind = (typeof OperationKinds)[keyof typeof OperationKinds];

/**
 * How an operation ended. `fail`: definitely not applied (the system refused it). `unknown`: it
 * may or may not have been applied (a timeout, the owner moving). `pending`: it never completed
 * while recorded, which the checker treats as `unknown` that could land at any time.
 */
export const Outcomes = {
  Ok: "ok",
  Fail: "fail",
  Unknown: "unknown",
  Pending: "pending",
} as const;
/** One of {@link Outcomes}. */
export type Outcome = (typeof Outcomes)[keyof typeof Outcomes];

/** What a read saw when the strategy did not exist (a NOT_FOUND reply). */
export const ABSENT = "absent";

/** A version written or read; {@link ABSENT} for a read of a strategy that did not exist. */
export type ObservedVersion = number | typeof ABSENT;

/** Anything with a strategy version, e.g. a `Strategy`. */
export interface Versioned {
  readonly version: number;
}

/** Who ran an operation: the worker (client) number or name. */
export type WorkerId = number | string;

/** One recorded operation. Fields that the completion sets are undefined while it is pending. */
export interface Operation {
  /** Position in the history, in invocation order. */
  readonly index: number;
  readonly worker: WorkerId;
  readonly kind: OperationKind;
  /** The strategy id. */
  readonly id: string;
  /** For a write, what identifies it (a tag, a name); undefined for reads. */
  readonly value: unknown;
  /** Command id of a write; attempts that share it are one command, applied at most once. */
  readonly cid: string | undefined;
  /** Monotonic time (ms) just before the request was sent. */
  readonly invokedAt: number;
  /** Monotonic time (ms) just after the outcome was known; undefined while pending. */
  readonly completedAt: number | undefined;
  readonly outcome: Outcome;
  /** An ok write: the version its reply returned. An ok read: the version read, or {@link ABSENT}. */
  readonly version: ObservedVersion | undefined;
  /** What a failed or unknown operation threw. */
  readonly error: unknown;
}

/**
 * The state after recovery: strategies by id (a missing id or undefined means absent), or the
 * strategies themselves, e.g. `(await client.getMany(ids)).strategies`.
 */
export type FinalState = ReadonlyMap<string, Versioned | undefined> | Iterable<Versioned & { readonly id: string }>;

/** What a thrown or recorded value looks like in a message. */
function show(value: unknown): string {
  if (typeof value === "string") return JSON.stringify(value);
  if (value instanceof Error) {
    const { code } = value as { code?: unknown };
    return `${typeof code === "string" ? code : value.name}: ${value.message}`;
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * One operation in words, e.g. `#17 worker 3 update "w3-17" t+120.4→135.9 ms ok v5`. Times are
 * relative to `origin` (the history's first invocation) so that they are short and comparable.
 */
export function describeOperation(op: Operation, origin = 0): string {
  const time = (t: number | undefined) => (t === undefined ? "…" : (t - origin).toFixed(1));
  const value = op.value === undefined ? "" : ` ${show(op.value)}`;
  const cid = op.cid === undefined ? "" : ` cid=${op.cid}`;
  const version = op.version === undefined ? "" : ` v${op.version}`;
  const error = op.error === undefined ? "" : ` (${show(op.error)})`;
  return `#${op.index} worker ${op.worker} ${op.kind}${value}${cid} t+${time(op.invokedAt)}→${time(op.completedAt)} ms ${op.outcome}${version}${error}`;
}
