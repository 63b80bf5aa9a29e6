/**
 * The reference interpreter: the meaning of every operator written the plain way, one node at a
 * time, each rolling window summed afresh with a nested loop. It is slow on purpose-free code
 * and exists to be obviously right; the compiler is tested against it.
 *
 * The rules every operator follows (README "Semantics"):
 * - a series value is a finite number or NaN (undefined); an arithmetic result that is not
 *   finite (x / 0, an overflow) is NaN;
 * - a lag or window needs every input it reads defined, so warm-up periods are NaN;
 * - a condition is 1, 0 or NaN; NaN in, NaN out (and, or, not included), so a condition during
 *   a warm-up is undefined rather than false;
 * - a position is +1, −1 or 0, and 0 whenever its conditions are undefined.
 */
import type { Expr } from "./ast.js";
import { assetOf, checkMarket, type Market } from "./market.js";
import { check } from "./tree.js";

/**
 * Evaluates an expression on a market the straightforward way: one value per bar (see the
 * module's rules), as a new Float64Array. Throws an ExpressionError for an invalid expression and
 * a RangeError for an unusable market or an asset it lacks.
 */
export function interpret(expr: Expr, market: Market): Float64Array {
  check(expr);
  checkMarket(market);
  return evaluate(expr, market);
}

function finite(v: number): number {
  return Number.isFinite(v) ? v : Number.NaN;
}

function bool(condition: boolean): number {
  return condition ? 1 : 0;
}

function evaluate(expr: Expr, market: Market): Float64Array {
  return applyOp(
    expr,
    expr.args.map((arg) => evaluate(arg, market)),
    market,
  );
}

/**
 * One step of the interpreter: the values of `expr`'s operator given the values of its
 * children (`args`, in order). The tests feed it the compiled children's values to check each
 * compiled node on its own.
 */
export function applyOp(expr: Expr, args: readonly Float64Array[], market: Market): Float64Array {
  const n = market.length;
  const out = new Float64Array(n);
  const arg = (i: number): Float64Array => args[i] as Float64Array;
  const k = expr.k as number;
  const c = expr.c as number;
  switch (expr.op) {
    case "open":
    case "high":
    case "low":
    case "close":
    case "volume":
      out.set(assetOf(market, expr.asset as string)[expr.op]);
      return out;
    case "returns": {
      const close = assetOf(market, expr.asset as string).close;
      for (let i = 0; i < n; i++) out[i] = i === 0 ? Number.NaN : finite(at(close, i) / at(close, i - 1) - 1);
      return out;
    }
    case "hour":
      for (let i = 0; i < n; i++) out[i] = new Date(at(market.t, i)).getUTCHours();
      return out;
    case "weekday":
      for (let i = 0; i < n; i++) out[i] = new Date(at(market.t, i)).getUTCDay();
      return out;
    case "add":
    case "sub":
    case "mul":
    case "div": {
      const [x, y] = [arg(0), arg(1)];
      for (let i = 0; i < n; i++) out[i] = finite(arithmetic(expr.op, at(x, i), at(y, i)));
      return out;
    }
    case "lag": {
      const x = arg(0);
      for (let i = 0; i < n; i++) out[i] = i >= k ? at(x, i - k) : Number.NaN;
      return out;
    }
    case "ret": {
      const x = arg(0);
      for (let i = 0; i < n; i++) out[i] = i >= k ? finite(at(x, i) / at(x, i - k) - 1) : Number.NaN;
      return out;
    }
    case "sma":
    case "std":
    case "zscore":
    case "max":
    case "min": {
      const x = arg(0);
      for (let i = 0; i < n; i++) out[i] = windowed(expr.op, x, i, k);
      return out;
    }
    case "ema":
      return ema(arg(0), k);
    case "rsi":
      return rsi(arg(0), k);
    case "gt":
    case "lt": {
      const x = arg(0);
      for (let i = 0; i < n; i++) {
        const v = at(x, i);
        out[i] = Number.isNaN(v) ? Number.NaN : bool(expr.op === "gt" ? v > c : v < c);
      }
      return out;
    }
    case "above":
    case "below": {
      const [x, y] = [arg(0), arg(1)];
      for (let i = 0; i < n; i++) {
        const [a, b] = [at(x, i), at(y, i)];
        out[i] = Number.isNaN(a) || Number.isNaN(b) ? Number.NaN : bool(expr.op === "above" ? a > b : a < b);
      }
      return out;
    }
    case "crosses_above":
    case "crosses_below": {
      const [x, y] = [arg(0), arg(1)];
      for (let i = 0; i < n; i++) {
        const now = [at(x, i), at(y, i)] as const;
        const before = i > 0 ? ([at(x, i - 1), at(y, i - 1)] as const) : ([Number.NaN, Number.NaN] as const);
        if ([...now, ...before].some(Number.isNaN)) out[i] = Number.NaN;
        else if (expr.op === "crosses_above") out[i] = bool(now[0] > now[1] && before[0] <= before[1]);
        else out[i] = bool(now[0] < now[1] && before[0] >= before[1]);
      }
      return out;
    }
    case "and":
    case "or": {
      const [a, b] = [arg(0), arg(1)];
      for (let i = 0; i < n; i++) {
        const [p, q] = [at(a, i), at(b, i)];
        if (Number.isNaN(p) || Number.isNaN(q)) out[i] = Number.NaN;
        else out[i] = bool(expr.op === "and" ? p === 1 && q === 1 : p === 1 || q === 1);
      }
      return out;
    }
    case "not": {
      const a = arg(0);
      for (let i = 0; i < n; i++) out[i] = Number.isNaN(at(a, i)) ? Number.NaN : 1 - at(a, i);
      return out;
    }
    case "signal":
    case "short": {
      const a = arg(0);
      const side = expr.op === "signal" ? 1 : -1;
      for (let i = 0; i < n; i++) out[i] = at(a, i) === 1 ? side : 0;
      return out;
    }
    case "long_short": {
      const [long, short] = [arg(0), arg(1)];
      for (let i = 0; i < n; i++) {
        const [l, s] = [at(long, i), at(short, i)];
        out[i] = l === 1 && s === 0 ? 1 : l === 0 && s === 1 ? -1 : 0;
      }
      return out;
    }
  }
}

function at(values: Float64Array, i: number): number {
  return values[i] as number;
}

function arithmetic(op: "add" | "sub" | "mul" | "div", a: number, b: number): number {
  if (op === "add") return a + b;
  if (op === "sub") return a - b;
  if (op === "mul") return a * b;
  return a / b;
}

/** The window x[i−k+1..i], or undefined when it starts before bar 0 or holds a NaN. */
function window(x: Float64Array, i: number, k: number): number[] | undefined {
  if (i - k + 1 < 0) return undefined;
  const values = Array.from(x.subarray(i - k + 1, i + 1));
  return values.some(Number.isNaN) ? undefined : values;
}

function windowed(op: "sma" | "std" | "zscore" | "max" | "min", x: Float64Array, i: number, k: number): number {
  const values = window(x, i, k);
  if (values === undefined) return Number.NaN;
  if (op === "max") return Math.max(...values);
  if (op === "min") return Math.min(...values);
  // A window of equal values has that value as its mean and no spread, exactly: a flat market
  // must not show a rounding error as a signal.
  const flat = values.every((v) => v === values[0]);
  let sum = 0;
  for (const v of values) sum += v;
  const mean = flat ? at(x, i) : sum / k;
  if (op === "sma") return finite(mean);
  let squares = 0;
  for (const v of values) squares += (v - mean) * (v - mean);
  const sd = flat ? 0 : finite(Math.sqrt(squares / (k - 1)));
  if (op === "std") return sd;
  return sd > 0 ? finite((at(x, i) - mean) / sd) : Number.NaN;
}

/**
 * EMA with α = 2/(k+1), over the current run of defined values: the first value is the mean of
 * the run's first k (the value itself when they are all equal), then e += α·(x − e). A NaN input
 * ends the run; the next defined value starts a new one.
 */
function ema(x: Float64Array, k: number): Float64Array {
  const out = new Float64Array(x.length);
  const alpha = 2 / (k + 1);
  let runStart = 0;
  let e = Number.NaN;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(at(x, i))) {
      out[i] = Number.NaN;
      runStart = i + 1;
      continue;
    }
    const run = i - runStart + 1;
    if (run < k) {
      out[i] = Number.NaN;
      continue;
    }
    if (run === k) {
      const first = Array.from(x.subarray(runStart, i + 1));
      let sum = 0;
      for (const v of first) sum += v;
      e = first.every((v) => v === first[0]) ? at(x, i) : sum / k;
    } else {
      e += alpha * (at(x, i) - e);
    }
    out[i] = finite(e);
  }
  return out;
}

/**
 * Wilder's RSI over the current run of defined values: the first k changes are averaged, then
 * each average moves as (avg·(k−1) + new)/k. RSI = 100·gain/(gain + loss), 50 when both are 0.
 */
function rsi(x: Float64Array, k: number): Float64Array {
  const out = new Float64Array(x.length).fill(Number.NaN);
  let runStart = 0;
  let gain = 0;
  let loss = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(at(x, i))) {
      runStart = i + 1;
      continue;
    }
    const changes = i - runStart; // changes seen in this run, the one into bar i included
    if (changes < k) continue;
    const d = (j: number): number => at(x, j) - at(x, j - 1);
    if (changes === k) {
      gain = 0;
      loss = 0;
      for (let j = runStart + 1; j <= i; j++) {
        gain += Math.max(d(j), 0);
        loss += Math.max(-d(j), 0);
      }
      gain /= k;
      loss /= k;
    } else {
      gain = (gain * (k - 1) + Math.max(d(i), 0)) / k;
      loss = (loss * (k - 1) + Math.max(-d(i), 0)) / k;
    }
    out[i] = finite(gain + loss === 0 ? 50 : (100 * gain) / (gain + loss));
  }
  return out;
}
