/**
 * The compiler: an expression becomes one JavaScript function with a single fused loop over the
 * bars. Every node computes its value for bar i in a local variable, children first; rolling
 * operators keep running state (sums, shifted moment sums, a monotonic deque, recursive averages)
 * in locals declared before the loop, so a bar costs O(1) per node whatever the window. A node
 * whose past values a parent reads (`lag`, `ret`, the windows) also stores its value in a
 * history buffer; market columns are their own history. Buffers come from a pool shared by every
 * compiled function and reused across calls (evaluation is synchronous, so never two at once):
 * a call allocates only its result.
 *
 * Identical subtrees are computed once (keyed by canonical text). The meaning of every operator
 * is the reference interpreter's (interpret.ts); the property tests hold the two together.
 * Only `sma`, `std` and `zscore` compute differently (running sums instead of summing each
 * window afresh) and so may differ from the interpreter in the last bits; everything else
 * performs the same floating-point operations in the same order and agrees exactly.
 */
import type { Expr } from "./ast.js";
import { assetOf, checkMarket, type Field, type Market } from "./market.js";
import { print } from "./text.js";
import { check } from "./tree.js";

/** A compiled expression: its value on every bar of a market, as a new Float64Array. */
export type CompiledExpr = (market: Market) => Float64Array;

type Kernel = (
  market: Market,
  out: Float64Array,
  floats: (slot: number, n: number) => Float64Array,
  ints: (slot: number, n: number) => Int32Array,
  column: (market: Market, asset: string, field: Field) => Float64Array,
) => void;

/** Compiled functions kept, by canonical text; the least recently used goes first. */
export const COMPILE_CACHE_SIZE = 4096;
const cache = new Map<string, CompiledExpr>();

const floatPool: Float64Array[] = [];
const intPool: Int32Array[] = [];

function floats(slot: number, n: number): Float64Array {
  const buffer = floatPool[slot];
  if (buffer !== undefined && buffer.length >= n) return buffer;
  const grown = new Float64Array(n);
  floatPool[slot] = grown;
  return grown;
}

function ints(slot: number, n: number): Int32Array {
  const buffer = intPool[slot];
  if (buffer !== undefined && buffer.length >= n) return buffer;
  const grown = new Int32Array(n);
  intPool[slot] = grown;
  return grown;
}

function column(market: Market, asset: string, field: Field): Float64Array {
  return assetOf(market, asset)[field];
}

/**
 * Compiles an expression of any type (a strategy's root is a position) into a function of a
 * market. Compiled functions are cached by canonical text, so compiling the same pattern twice
 * returns the same function. Throws an ExpressionError for an invalid expression; the function
 * throws a RangeError for an unusable market or a missing asset.
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
  const kernel = new Function("m", "out", "floats", "ints", "column", generateSource(expr)) as Kernel;
  const compiled: CompiledExpr = (market) => {
    checkMarket(market);
    const out = new Float64Array(market.length);
    kernel(market, out, floats, ints, column);
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
 * market), `out` (the result), `floats`/`ints` (the buffer pool) and `column`. The expression
 * must have passed `check`.
 */
export function generateSource(expr: Expr): string {
  const gen = new Generator();
  const root = gen.node(expr);
  return [
    '"use strict";',
    "const n = m.length;",
    "const t = m.t;",
    ...gen.before,
    "for (let i = 0; i < n; i++) {",
    ...(gen.usesCalendar ? ["  const ms = ((t[i] % 86400000) + 86400000) % 86400000;"] : []),
    ...gen.body.map((line) => `  ${line}`),
    `  out[i] = ${root};`,
    "}",
  ].join("\n");
}

/** A number as JavaScript source that reads back as the same double. */
function literal(x: number): string {
  return Object.is(x, -0) ? "-0" : String(x);
}

/** Statements that turn a non-finite value of `v` into NaN (v − v is 0 exactly for finite v). */
function finite(v: string): string {
  return `if (${v} - ${v} !== 0) ${v} = NaN;`;
}

class Generator {
  readonly before: string[] = [];
  readonly body: string[] = [];
  usesCalendar = false;
  private next = 0;
  private floatSlots = 0;
  private intSlots = 0;
  private readonly values = new Map<string, string>();
  private readonly histories = new Map<string, string>();
  private readonly columns = new Map<string, string>();

  private fresh(prefix: string): string {
    return `${prefix}${this.next++}`;
  }

  private column(asset: string, field: Field): string {
    const key = `${field} ${asset}`;
    let name = this.columns.get(key);
    if (name === undefined) {
      name = this.fresh("col");
      this.before.push(`const ${name} = column(m, ${JSON.stringify(asset)}, ${JSON.stringify(field)});`);
      this.columns.set(key, name);
    }
    return name;
  }

  /** The array holding a node's past values: its market column, or a buffer it now fills. */
  private history(expr: Expr, value: string): string {
    if (expr.op === "open" || expr.op === "high" || expr.op === "low" || expr.op === "close" || expr.op === "volume") {
      return this.column(expr.asset as string, expr.op);
    }
    const key = print(expr);
    let name = this.histories.get(key);
    if (name === undefined) {
      name = this.fresh("h");
      this.before.push(`const ${name} = floats(${this.floatSlots++}, n);`);
      this.body.push(`${name}[i] = ${value};`);
      this.histories.set(key, name);
    }
    return name;
  }

  /** State variables, declared before the loop; returns their names in order. */
  private state(...initial: string[]): string[] {
    const names = initial.map(() => this.fresh("s"));
    this.before.push(`let ${names.map((name, j) => `${name} = ${initial[j]}`).join(", ")};`);
    return names;
  }

  /** Emits the statements computing `expr` at bar i; returns the variable holding the value. */
  node(expr: Expr): string {
    const key = print(expr);
    const known = this.values.get(key);
    if (known !== undefined) return known;
    const args = expr.args.map((arg) => this.node(arg));
    const [a = "", b = ""] = args;
    const v = this.fresh("v");
    const emit = (...lines: string[]): void => {
      this.body.push(...lines);
    };
    const K = expr.k as number;
    switch (expr.op) {
      case "open":
      case "high":
      case "low":
      case "close":
      case "volume":
        emit(`const ${v} = ${this.column(expr.asset as string, expr.op)}[i];`);
        break;
      case "returns": {
        const close = this.column(expr.asset as string, "close");
        emit(`let ${v} = i > 0 ? ${close}[i] / ${close}[i - 1] - 1 : NaN;`, finite(v));
        break;
      }
      case "hour":
        this.usesCalendar = true;
        emit(`const ${v} = (ms - (ms % 3600000)) / 3600000;`);
        break;
      case "weekday":
        this.usesCalendar = true;
        emit(`const ${v} = ((((t[i] - ms) / 86400000 + 4) % 7) + 7) % 7;`);
        break;
      case "add":
      case "sub":
      case "mul":
      case "div": {
        const symbol = { add: "+", sub: "-", mul: "*", div: "/" }[expr.op];
        emit(`let ${v} = ${a} ${symbol} ${b};`, finite(v));
        break;
      }
      case "lag": {
        const h = this.history(expr.args[0] as Expr, a);
        emit(`const ${v} = i >= ${K} ? ${h}[i - ${K}] : NaN;`);
        break;
      }
      case "ret": {
        const h = this.history(expr.args[0] as Expr, a);
        emit(`let ${v} = NaN;`, `if (i >= ${K}) { ${v} = ${a} / ${h}[i - ${K}] - 1; ${finite(v)} }`);
        break;
      }
      case "sma":
        this.sma(v, a, this.history(expr.args[0] as Expr, a), K);
        break;
      case "std":
      case "zscore":
        this.moments(expr.op, v, a, this.history(expr.args[0] as Expr, a), K);
        break;
      case "max":
      case "min":
        this.extreme(expr.op, v, a, this.history(expr.args[0] as Expr, a), K);
        break;
      case "ema":
        this.ema(v, a, K);
        break;
      case "rsi":
        this.rsi(v, a, K);
        break;
      case "gt":
      case "lt":
        emit(
          `const ${v} = ${a} !== ${a} ? NaN : ${a} ${expr.op === "gt" ? ">" : "<"} ${literal(expr.c as number)} ? 1 : 0;`,
        );
        break;
      case "above":
      case "below":
        emit(
          `const ${v} = ${a} !== ${a} || ${b} !== ${b} ? NaN : ${a} ${expr.op === "above" ? ">" : "<"} ${b} ? 1 : 0;`,
        );
        break;
      case "crosses_above":
      case "crosses_below": {
        const [pa, pb] = this.state("NaN", "NaN");
        const [now, then] = expr.op === "crosses_above" ? [">", "<="] : ["<", ">="];
        emit(
          `const ${v} = ${a} !== ${a} || ${b} !== ${b} || ${pa} !== ${pa} || ${pb} !== ${pb} ? NaN : ${a} ${now} ${b} && ${pa} ${then} ${pb} ? 1 : 0;`,
          `${pa} = ${a};`,
          `${pb} = ${b};`,
        );
        break;
      }
      case "and":
      case "or":
        emit(
          `const ${v} = ${a} !== ${a} || ${b} !== ${b} ? NaN : ${a} === 1 ${expr.op === "and" ? "&&" : "||"} ${b} === 1 ? 1 : 0;`,
        );
        break;
      case "not":
        emit(`const ${v} = ${a} !== ${a} ? NaN : 1 - ${a};`);
        break;
      case "signal":
        emit(`const ${v} = ${a} === 1 ? 1 : 0;`);
        break;
      case "short":
        emit(`const ${v} = ${a} === 1 ? -1 : 0;`);
        break;
      case "long_short":
        emit(`const ${v} = ${a} === 1 && ${b} === 0 ? 1 : ${a} === 0 && ${b} === 1 ? -1 : 0;`);
        break;
    }
    this.values.set(key, v);
    return v;
  }

  /**
   * Running sum over the current run of defined values. `eq` counts the trailing equal values:
   * a window of equal values has exactly that value as its mean (the sum would not say so).
   * Every K bars the sum is taken afresh from the window (K additions per K bars, so still O(1)
   * a bar): rounding errors then cannot pile up over a long series, and a sum that overflowed
   * recovers as soon as the huge values leave the window.
   */
  private sma(v: string, a: string, h: string, K: number): void {
    const [run, eq, sum] = this.state("0", "0", "0");
    this.body.push(
      `let ${v} = NaN;`,
      `if (${a} !== ${a}) { ${run} = 0; ${eq} = 0; ${sum} = 0; } else {`,
      `  ${eq} = ${run} > 0 && ${a} === ${h}[i - 1] ? ${eq} + 1 : 1;`,
      `  ${run}++;`,
      `  ${sum} += ${a};`,
      `  if (${run} > ${K}) ${sum} -= ${h}[i - ${K}];`,
      `  if (${run} % ${K} === 0 || ${sum} - ${sum} !== 0) { ${sum} = 0; for (let j = i - Math.min(${run}, ${K}) + 1; j <= i; j++) ${sum} += ${h}[j]; }`,
      `  if (${run} >= ${K}) { ${v} = ${eq} >= ${K} ? ${a} : ${sum} / ${K}; ${finite(v)} }`,
      "}",
    );
  }

  /**
   * Sums of the deviations from a shift c and of their squares, slid over the window:
   * mean = c + s1/K, variance = (s2 − s1²/K)/(K − 1). With c near the window's values this does
   * not cancel catastrophically as Σx² − (Σx)²/K does on prices far from zero. Every K bars c
   * becomes the window's mean and both sums are taken afresh (O(1) a bar still), so rounding
   * cannot pile up over a long series; likewise whenever a sum stops being finite.
   */
  private moments(op: "std" | "zscore", v: string, a: string, h: string, K: number): void {
    const [run, eq, shift, s1, s2] = this.state("0", "0", "0", "0", "0");
    const use =
      op === "std" ? `${v} = sd;` : `if (sd > 0) { ${v} = (${a} - ${shift} - ${s1} / ${K}) / sd; ${finite(v)} }`;
    this.body.push(
      `let ${v} = NaN;`,
      `if (${a} !== ${a}) { ${run} = 0; ${eq} = 0; ${s1} = 0; ${s2} = 0; } else {`,
      `  ${eq} = ${run} > 0 && ${a} === ${h}[i - 1] ? ${eq} + 1 : 1;`,
      `  ${run}++;`,
      `  if (${run} === 1) ${shift} = ${a};`,
      `  const d = ${a} - ${shift}; ${s1} += d; ${s2} += d * d;`,
      `  if (${run} > ${K}) { const o = ${h}[i - ${K}] - ${shift}; ${s1} -= o; ${s2} -= o * o; }`,
      `  if (${run} % ${K} === 0 || ${s1} - ${s1} !== 0 || ${s2} - ${s2} !== 0) {`,
      `    const w = Math.min(${run}, ${K}); let s = 0; for (let j = i - w + 1; j <= i; j++) s += ${h}[j];`,
      `    ${shift} = s / w; ${s1} = 0; ${s2} = 0;`,
      `    for (let j = i - w + 1; j <= i; j++) { const e = ${h}[j] - ${shift}; ${s1} += e; ${s2} += e * e; }`,
      "  }",
      `  if (${run} >= ${K}) {`,
      `    if (${eq} >= ${K}) ${v} = ${op === "std" ? "0" : "NaN"};`,
      `    else { const m2 = ${s2} - (${s1} * ${s1}) / ${K}; let sd = Math.sqrt(m2 > 0 ? m2 / ${K - 1} : 0); ${finite("sd")} ${use} }`,
      "  }",
      "}",
    );
  }

  /** Rolling max or min by a monotonic deque of bar indices (each index enters and leaves once). */
  private extreme(op: "max" | "min", v: string, a: string, h: string, K: number): void {
    const dq = this.fresh("dq");
    this.before.push(`const ${dq} = ints(${this.intSlots++}, n);`);
    const [run, head, tail] = this.state("0", "0", "0");
    const dominated = op === "max" ? "<=" : ">=";
    this.body.push(
      `let ${v} = NaN;`,
      `if (${a} !== ${a}) { ${run} = 0; ${head} = 0; ${tail} = 0; } else {`,
      `  ${run}++;`,
      `  while (${tail} > ${head} && ${h}[${dq}[${tail} - 1]] ${dominated} ${a}) ${tail}--;`,
      `  ${dq}[${tail}++] = i;`,
      `  if (${dq}[${head}] <= i - ${K}) ${head}++;`,
      `  if (${run} >= ${K}) ${v} = ${h}[${dq}[${head}]];`,
      "}",
    );
  }

  /** EMA seeded with the mean of the run's first K values, as the interpreter defines it. */
  private ema(v: string, a: string, K: number): void {
    const [run, eq, sum, e, prev] = this.state("0", "0", "0", "NaN", "NaN");
    this.body.push(
      `let ${v} = NaN;`,
      `if (${a} !== ${a}) { ${run} = 0; ${eq} = 0; ${sum} = 0; } else {`,
      `  ${eq} = ${run} > 0 && ${a} === ${prev} ? ${eq} + 1 : 1;`,
      `  ${run}++;`,
      `  if (${run} < ${K}) ${sum} += ${a};`,
      `  else if (${run} === ${K}) { ${sum} += ${a}; ${e} = ${eq} >= ${K} ? ${a} : ${sum} / ${K}; ${v} = ${e}; }`,
      `  else { ${e} += ${literal(2 / (K + 1))} * (${a} - ${e}); ${v} = ${e}; }`,
      `  ${finite(v)}`,
      `  ${prev} = ${a};`,
      "}",
    );
  }

  /** Wilder's RSI: the first K changes averaged, then (avg·(K−1) + new)/K. */
  private rsi(v: string, a: string, K: number): void {
    const [run, gain, loss, prev] = this.state("0", "0", "0", "NaN");
    this.body.push(
      `let ${v} = NaN;`,
      `if (${a} !== ${a}) { ${run} = 0; ${gain} = 0; ${loss} = 0; } else {`,
      `  ${run}++;`,
      `  if (${run} >= 2) {`,
      `    const d = ${a} - ${prev}; const up = d > 0 ? d : 0; const down = d < 0 ? -d : 0;`,
      `    if (${run} - 1 < ${K}) { ${gain} += up; ${loss} += down; } else {`,
      `      if (${run} - 1 === ${K}) { ${gain} = (${gain} + up) / ${K}; ${loss} = (${loss} + down) / ${K}; }`,
      `      else { ${gain} = (${gain} * ${K - 1} + up) / ${K}; ${loss} = (${loss} * ${K - 1} + down) / ${K}; }`,
      `      ${v} = ${gain} + ${loss} === 0 ? 50 : (100 * ${gain}) / (${gain} + ${loss});`,
      `      ${finite(v)}`,
      "    }",
      "  }",
      `  ${prev} = ${a};`,
      "}",
    );
  }
}
