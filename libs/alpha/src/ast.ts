/**
 * The expression language's vocabulary: node types, operators and their signatures. Every other
 * module (type check, printer, parser, compiler, interpreter, genetic operators) reads this one
 * table, so adding an operator is one entry here plus its semantics in the compiler and the
 * interpreter.
 */

/**
 * What a node computes, one value per bar: `series` a number (NaN when undefined), `bool` a
 * condition (1, 0, or NaN when undefined), `position` the holding in the traded asset (−1, 0, +1).
 */
export const NodeTypes = ["series", "bool", "position"] as const;
/** One of {@link NodeTypes}. */
export type NodeType = (typeof NodeTypes)[number];

/**
 * The literal parameter an operator takes after its child arguments, if any: an asset name, a
 * lag from {@link LAGS}, a window from {@link WINDOWS}, or a threshold (any finite number).
 */
export type ParamKind = "asset" | "lag" | "window" | "threshold";

/** Lags (bars back) that `lag` and `ret` accept: small and fixed, so a pattern stays readable. */
export const LAGS: readonly number[] = Object.freeze([1, 2, 3, 5, 10, 20, 50, 100]);
/** Window lengths of the rolling operators; 1 is left out (a window of one is the value itself). */
export const WINDOWS: readonly number[] = Object.freeze([2, 3, 5, 10, 20, 50, 100]);

/** An operator's signature: its result type, the types of its child arguments, its parameter. */
export interface OpSpec {
  readonly type: NodeType;
  readonly args: readonly NodeType[];
  readonly param?: ParamKind;
  /**
   * Operators with the same group share a signature and a meaning class, so a point mutation may
   * swap one for another (`sma` for `ema`, `gt` for `lt`).
   */
  readonly group: string;
}

const S = "series";
const B = "bool";

/** Every operator of the language by name. The text form of a node is `name(args…, param)`. */
export const OPS = Object.freeze({
  // Terminals: data of one asset, and the calendar (UTC) of each bar.
  open: { type: S, args: [], param: "asset", group: "field" },
  high: { type: S, args: [], param: "asset", group: "field" },
  low: { type: S, args: [], param: "asset", group: "field" },
  close: { type: S, args: [], param: "asset", group: "field" },
  volume: { type: S, args: [], param: "asset", group: "field" },
  returns: { type: S, args: [], param: "asset", group: "field" },
  hour: { type: S, args: [], group: "calendar" },
  weekday: { type: S, args: [], group: "calendar" },
  // Arithmetic, protected: a result that is not finite (x / 0) is undefined.
  add: { type: S, args: [S, S], group: "arithmetic" },
  sub: { type: S, args: [S, S], group: "arithmetic" },
  mul: { type: S, args: [S, S], group: "arithmetic" },
  div: { type: S, args: [S, S], group: "arithmetic" },
  // Looking back a fixed number of bars.
  lag: { type: S, args: [S], param: "lag", group: "lagged" },
  ret: { type: S, args: [S], param: "lag", group: "lagged" },
  // Rolling windows.
  sma: { type: S, args: [S], param: "window", group: "rolling" },
  ema: { type: S, args: [S], param: "window", group: "rolling" },
  std: { type: S, args: [S], param: "window", group: "rolling" },
  zscore: { type: S, args: [S], param: "window", group: "rolling" },
  rsi: { type: S, args: [S], param: "window", group: "rolling" },
  max: { type: S, args: [S], param: "window", group: "rolling" },
  min: { type: S, args: [S], param: "window", group: "rolling" },
  // Conditions.
  gt: { type: B, args: [S], param: "threshold", group: "threshold" },
  lt: { type: B, args: [S], param: "threshold", group: "threshold" },
  above: { type: B, args: [S, S], group: "relation" },
  below: { type: B, args: [S, S], group: "relation" },
  crosses_above: { type: B, args: [S, S], group: "relation" },
  crosses_below: { type: B, args: [S, S], group: "relation" },
  and: { type: B, args: [B, B], group: "logic" },
  or: { type: B, args: [B, B], group: "logic" },
  not: { type: B, args: [B], group: "negation" },
  // Positions: the root of a strategy.
  signal: { type: "position", args: [B], group: "side" },
  short: { type: "position", args: [B], group: "side" },
  long_short: { type: "position", args: [B, B], group: "sides" },
} as const satisfies Record<string, OpSpec>);

/** The name of an operator of {@link OPS}. */
export type Op = keyof typeof OPS;

/** Every operator name, in the order of {@link OPS}. */
export const OP_NAMES: readonly Op[] = Object.freeze(Object.keys(OPS) as Op[]);

/**
 * A node of an expression: a plain, immutable object. `args` are the child nodes (typed by the
 * operator's signature); `asset`, `k` (a lag or window) or `c` (a threshold) is the operator's
 * literal parameter, present exactly when its {@link OpSpec.param} says so. Validate a node
 * built by hand with `check`.
 */
export interface Expr {
  readonly op: Op;
  readonly args: readonly Expr[];
  readonly asset?: string;
  readonly k?: number;
  readonly c?: number;
}

/** The signature of an operator. */
export function specOf(op: Op): OpSpec {
  return OPS[op];
}

/** True when `name` is an operator of the language. */
export function isOp(name: string): name is Op {
  return Object.hasOwn(OPS, name);
}

/** The set a lag or window parameter must come from. */
export function integerSet(kind: "lag" | "window"): readonly number[] {
  return kind === "lag" ? LAGS : WINDOWS;
}
