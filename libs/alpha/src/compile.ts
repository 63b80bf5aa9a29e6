/**
 * The compiler: an expression becomes a JavaScript function of straight-line code, one call per
 * node to that operator's loop (kernels.ts), children first, each node's values in a Float64Array
 * from a pool. Market columns are read in place; the calendar and the close-to-close returns of
 * a market are computed once and kept with it. Identical subtrees are computed once (keyed by
 * canonical text), and a buffer goes back to the pool as soon as its last reader has run, so a
 * strategy needs about as many buffers as its depth. The pool is shared by every compiled
 * function and reused across calls (evaluation is synchronous, never two at once): a call
 * allocates only its result.
 *
 * Why calls to shared loops rather than one fused loop per strategy: V8 optimises a function
 * only after it has run for a while, and discovery evaluates most strategies once. A fused loop
 * generated per strategy ran about 10 ms on its first call on 10,000 bars and under 1 ms warm;
 * the shared loops are optimised after the first few strategies and stay so for all the others.
 */
import type { Expr } from "./ast.js";
import * as kernels from "./kernels.js";
import { assetOf, checkMarket, type Field, type Market } from "./market.js";
import { print } from "./text.js";
import { check } from "./tree.js";

/** A compiled expression: its value on every bar of a market, as a new Float64Array. */
export type CompiledExpr = (market: Market) => Float64Array;

type Kernel = (market: Market, out: Float64Array, runtime: Runtime) => void;

/** What generated code calls: the kernels, the buffer pool and the market's columns. */
interface Runtime {
  readonly k: typeof kernels;
  floats(slot: number, n: number): Float64Array;
  ints(n: number): Int32Array;
  column(market: Market, asset: string, field: Field): Float64Array;
  returns(market: Market, asset: string): Float64Array;
  hour(market: Market): Float64Array;
  weekday(market: Market): Float64Array;
}

/** Compiled functions kept, by canonical text; the least recently used goes first. */
export const COMPILE_CACHE_SIZE = 4096;
const cache = new Map<string, CompiledExpr>();

const floatPool: Float64Array[] = [];
let intPool = new Int32Array(0);
const calendars = new WeakMap<Float64Array, { hour: Float64Array; weekday: Float64Array }>();
const closeReturns = new WeakMap<Float64Array, Float64Array>();

const DAY = 86_400_000;
const HOUR = 3_600_000;

function calendarOf(market: Market): { hour: Float64Array; weekday: Float64Array } {
  let calendar = calendars.get(market.t);
  if (calendar === undefined) {
    const n = market.length;
    const hour = new Float64Array(n);
    const weekday = new Float64Array(n);
    for (let i = 0; i < n; i++) {
      const t = market.t[i] as number;
      const ms = ((t % DAY) + DAY) % DAY; // exact for integer t; positive before 1970 too
      hour[i] = (ms - (ms % HOUR)) / HOUR;
      weekday[i] = ((((t - ms) / DAY + 4) % 7) + 7) % 7; // 1970-01-01 was a Thursday (4)
    }
    calendar = { hour, weekday };
    calendars.set(market.t, calendar);
  }
  return calendar;
}

const runtime: Runtime = {
  k: kernels,
  floats(slot, n) {
    const buffer = floatPool[slot];
    if (buffer !== undefined && buffer.length >= n) return buffer;
    const grown = new Float64Array(n);
    floatPool[slot] = grown;
    return grown;
  },
  ints(n) {
    if (intPool.length < n) intPool = new Int32Array(n);
    return intPool;
  },
  column(market, asset, field) {
    return assetOf(market, asset)[field];
  },
  returns(market, asset) {
    const close = assetOf(market, asset).close;
    let r = closeReturns.get(close);
    if (r === undefined) {
      r = new Float64Array(market.length);
      if (market.length > 0) r[0] = Number.NaN;
      for (let i = 1; i < market.length; i++) {
        const v = (close[i] as number) / (close[i - 1] as number) - 1;
        r[i] = v - v === 0 ? v : Number.NaN;
      }
      closeReturns.set(close, r);
    }
    return r;
  },
  hour: (market) => calendarOf(market).hour,
  weekday: (market) => calendarOf(market).weekday,
};

/**
 * Compiles an expression of any type (a strategy's root is a position) into a function of a
 * market. Compiled functions are cached by canonical text, so compiling the same pattern twice
 * returns the same function. Throws an ExpressionError for an invalid expression; the function
 * throws a RangeError for an unusable market or a missing asset. The calendar and returns kept
 * with a market are keyed by its `t` and close arrays: a market's arrays are not to change.
 */
export function compile(expr: Expr): CompiledExpr {
  check(expr);
  const key = print(expr);
  const hit = cache.get(key);
  if (hit !== undefined) {
    cache.delete(key);
    cache.set(key, hit);
    return hit;
  }
  const kernel = new Function("m", "out", "rt", generateSource(expr)) as Kernel;
  const compiled: CompiledExpr = (market) => {
    checkMarket(market);
    const out = new Float64Array(market.length);
    kernel(market, out, runtime);
    return out;
  };
  cache.set(key, compiled);
  if (cache.size > COMPILE_CACHE_SIZE) cache.delete(cache.keys().next().value as string);
  return compiled;
}

/** The number of compiled functions in the cache. */
export function compileCacheSize(): number {
  return cache.size;
}

/**
 * The body of the function `compile` builds, for reading and for tests: parameters `m` (the
 * market), `out` (the result) and `rt` (kernels, buffer pool, columns). The expression must have
 * passed `check`.
 */
export function generateSource(expr: Expr): string {
  const gen = new Generator(expr);
  const root = gen.node(expr, "out");
  if (root !== "out") gen.lines.push(`out.set(${root}.subarray(0, n));`);
  return ['"use strict";', "const n = m.length;", "const k = rt.k;", ...gen.lines].join("\n");
}

/** A number as JavaScript source that reads back as the same double. */
function literal(x: number): string {
  return Object.is(x, -0) ? "-0" : String(x);
}

class Generator {
  readonly lines: string[] = [];
  private next = 0;
  /** Array variable of each computed subtree, by canonical text. */
  private readonly arrays = new Map<string, string>();
  /** Readers still to come of each subtree's array (a parent reading it twice counts twice). */
  private readonly readers = new Map<string, number>();
  /** Pool slot of each variable holding a pooled buffer. */
  private readonly slots = new Map<string, number>();
  private readonly free: number[] = [];
  private slotCount = 0;

  constructor(root: Expr) {
    const count = (node: Expr): void => {
      for (const arg of node.args) {
        const text = print(arg);
        const seen = this.readers.get(text);
        this.readers.set(text, (seen ?? 0) + 1);
        if (seen === undefined) count(arg);
      }
    };
    count(root);
  }

  /** A pooled buffer for a new node's values. */
  private allocate(): string {
    const slot = this.free.pop() ?? this.slotCount++;
    const name = `b${this.next++}`;
    this.lines.push(`const ${name} = rt.floats(${slot}, n);`);
    this.slots.set(name, slot);
    return name;
  }

  /** One reader of `arg` is done; its buffer returns to the pool after the last. */
  private done(arg: Expr): void {
    const text = print(arg);
    const left = (this.readers.get(text) as number) - 1;
    this.readers.set(text, left);
    const slot = this.slots.get(this.arrays.get(text) as string);
    if (left === 0 && slot !== undefined) this.free.push(slot);
  }

  /** A read-only array from the market (a column, its returns, the calendar). */
  private marketArray(source: string): string {
    const name = `c${this.next++}`;
    this.lines.push(`const ${name} = ${source};`);
    return name;
  }

  /**
   * Emits the statements computing `expr`; returns the variable holding its values. `into`
   * names the array to write (the result, for the root); otherwise a pooled buffer is taken.
   */
  node(expr: Expr, into?: string): string {
    const text = print(expr);
    const known = this.arrays.get(text);
    if (known !== undefined) return known;
    let name: string;
    const asset = JSON.stringify(expr.asset);
    switch (expr.op) {
      case "open":
      case "high":
      case "low":
      case "close":
      case "volume":
        name = this.marketArray(`rt.column(m, ${asset}, "${expr.op}")`);
        break;
      case "returns":
        name = this.marketArray(`rt.returns(m, ${asset})`);
        break;
      case "hour":
      case "weekday":
        name = this.marketArray(`rt.${expr.op}(m)`);
        break;
      default: {
        const args = expr.args.map((arg) => this.node(arg));
        name = into ?? this.allocate();
        this.lines.push(`k.${call(expr, name, args)};`);
        for (const arg of expr.args) this.done(arg);
      }
    }
    this.arrays.set(text, name);
    return name;
  }
}

/** The kernel call computing `expr` into `out` from its children's arrays. */
function call(expr: Expr, out: string, args: readonly string[]): string {
  const [x = "", y = ""] = args;
  const k = String(expr.k);
  switch (expr.op) {
    case "add":
    case "sub":
    case "mul":
    case "div":
    case "above":
    case "below":
    case "and":
    case "or":
      return `${expr.op}(n, ${out}, ${x}, ${y})`;
    case "lag":
    case "ret":
    case "sma":
    case "ema":
    case "rsi":
      return `${expr.op}(n, ${out}, ${x}, ${k})`;
    case "std":
    case "zscore":
      return `moments(n, ${out}, ${x}, ${k}, ${expr.op === "zscore"})`;
    case "max":
    case "min":
      return `extreme(n, ${out}, ${x}, ${k}, ${expr.op === "max" ? 1 : -1}, rt.ints(n))`;
    case "gt":
    case "lt":
      return `${expr.op}(n, ${out}, ${x}, ${literal(expr.c as number)})`;
    case "crosses_above":
    case "crosses_below":
      return `crosses(n, ${out}, ${x}, ${y}, ${expr.op === "crosses_above" ? 1 : -1})`;
    case "not":
      return `not(n, ${out}, ${x})`;
    case "signal":
    case "short":
      return `side(n, ${out}, ${x}, ${expr.op === "signal" ? 1 : -1})`;
    case "long_short":
      return `longShort(n, ${out}, ${x}, ${y})`;
    default:
      throw new Error(`${expr.op} is a terminal`);
  }
}
