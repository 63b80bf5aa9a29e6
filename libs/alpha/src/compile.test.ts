import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Expr } from "./ast.js";
import { compile, compileCacheSize, generateSource } from "./compile.js";
import { applyOp, interpret } from "./interpret.js";
import type { Market } from "./market.js";
import { exprArbs, marketArb } from "./testing/arbitraries.js";
import { parse, print } from "./text.js";

/** The first bar where two outputs differ (NaN equals NaN), or −1. */
function firstDifference(a: Float64Array, b: Float64Array): number {
  if (a.length !== b.length) return 0;
  for (let i = 0; i < a.length; i++) {
    if (!(a[i] === b[i] || (Number.isNaN(a[i]) && Number.isNaN(b[i])))) return i;
  }
  return -1;
}

function expectSame(expr: Expr, compiled: Float64Array, reference: Float64Array): void {
  const i = firstDifference(compiled, reference);
  if (i >= 0) {
    throw new Error(`${print(expr)} differs at bar ${i}: compiled ${compiled[i]}, interpreted ${reference[i]}`);
  }
}

/** Bars after `cut` replaced by other values (and other times); bars up to `cut` untouched. */
function rewriteFuture(market: Market, cut: number, seed: number): Market {
  const wobble = (i: number): number => 1 + 0.4 * Math.sin(seed + 7.3 * i);
  const t = market.t.slice();
  for (let i = cut + 1; i < market.length; i++) t[i] = (t[i] as number) + 3_600_000 * ((seed + i) % 5);
  const assets = market.assets.map((asset) => {
    const copy = { ...asset };
    for (const field of ["open", "high", "low", "close", "volume"] as const) {
      const column = asset[field].slice();
      for (let i = cut + 1; i < market.length; i++) {
        column[i] = (seed + i) % 11 === 0 ? Number.NaN : (column[i] as number) * wobble(i) + (i % 3);
      }
      copy[field] = column;
    }
    return copy;
  });
  return { length: market.length, t, assets };
}

/** Relative rounding allowed in the three operators that compute by running sums (see below). */
const ROUNDING = 1e-12;

/**
 * Checks a compiled `sma`, `std` or `zscore` against the reference operator applied to the same
 * input `x`. The compiler slides sums over the window and takes them afresh every k bars, so a
 * sum has seen the values of at most the last 2k − 1 bars: its rounding error is a few ulps of
 * the largest of those (`scale`). A variance sums deviations from a recent mean, each off by
 * an ulp of the scale, so its error is a few ulps of scale × range. A z-score divides the mean's error by the
 * spread and carries the variance's relative error; where the variance is within that error of
 * 0 the z-score has no significant digit in any computation, and it is not compared.
 */
function expectClose(expr: Expr, x: Float64Array, compiled: Float64Array, reference: Float64Array): void {
  const k = expr.k as number;
  let runStart = 0;
  for (let i = 0; i < x.length; i++) {
    if (Number.isNaN(x[i])) runStart = i + 1;
    const [a, b] = [compiled[i] as number, reference[i] as number];
    const where = `${print(expr)} at bar ${i}: compiled ${a}, reference ${b}`;
    if (Number.isNaN(a) || Number.isNaN(b)) {
      if (Number.isNaN(a) && Number.isNaN(b)) continue;
      if (expr.op !== "zscore") throw new Error(where);
    }
    let scale = 0;
    let low = Number.POSITIVE_INFINITY;
    let high = Number.NEGATIVE_INFINITY;
    for (let j = Math.max(runStart, i - 2 * k + 2); j <= i; j++) {
      const v = x[j] as number;
      scale = Math.max(scale, Math.abs(v));
      low = Math.min(low, v);
      high = Math.max(high, v);
    }
    const spread = scale * (high - low);
    if (expr.op === "sma") {
      if (!(Math.abs(a - b) <= ROUNDING * scale)) throw new Error(`${where}, scale ${scale}`);
      continue;
    }
    const variance =
      (applyOp({ ...expr, op: "std" }, [x], { length: x.length, t: new Float64Array(x.length), assets: [] })[
        i
      ] as number) ** 2;
    if (expr.op === "std") {
      if (!(Math.abs(a * a - b * b) <= ROUNDING * spread)) throw new Error(`${where}, scale × range ${spread}`);
      continue;
    }
    if (variance <= 10 * ROUNDING * spread) continue; // no significant digit (see above)
    if (Number.isNaN(a) || Number.isNaN(b)) throw new Error(where);
    const sd = Math.sqrt(variance);
    const allowed = ROUNDING * (scale / sd + (Math.abs(b) * spread) / variance);
    if (!(Math.abs(a - b) <= allowed)) throw new Error(`${where}, allowed ${allowed}`);
  }
}

/** Every distinct node of `expr`, compiled alone, against the reference operator on its compiled children. */
function expectEveryNode(expr: Expr, market: Market): void {
  const seen = new Set<string>();
  const visit = (node: Expr): void => {
    const text = print(node);
    if (seen.has(text)) return;
    seen.add(text);
    node.args.forEach(visit);
    const children = node.args.map((arg) => compile(arg)(market));
    const compiled = compile(node)(market);
    const reference = applyOp(node, children, market);
    if (node.op === "sma" || node.op === "std" || node.op === "zscore") {
      expectClose(node, children[0] as Float64Array, compiled, reference);
    } else {
      expectSame(node, compiled, reference);
    }
  };
  visit(expr);
}

describe("compile", () => {
  const arbs = exprArbs(6);
  const RUNNING_SUMS = ["sma", "std", "zscore"] as const;
  const exact = exprArbs(6, RUNNING_SUMS);

  test("every node of a random strategy: compiled = the reference operator on the same inputs", () => {
    // The compiled whole tree is checked as its root node, on children compiled alone: the
    // generated statements of a node do not depend on where it sits, so this covers it.
    fc.assert(
      fc.property(arbs.position, marketArb(), (expr, market) => expectEveryNode(expr, market)),
      { numRuns: 400 },
    );
  });

  test("sma, std and zscore over random inputs and windows: within rounding of the reference", () => {
    const inner = exprArbs(3, RUNNING_SUMS).series;
    const windowed = fc.tuple(fc.constantFrom(...RUNNING_SUMS), fc.constantFrom(2, 3, 5, 10, 20, 50), inner);
    fc.assert(
      fc.property(windowed, marketArb({ maxLength: 200 }), ([op, k, x], market) => {
        expectEveryNode({ op, args: [x], k }, market);
      }),
      { numRuns: 300 },
    );
  });

  test("without running sums, whole strategies agree with the interpreter bit for bit", () => {
    fc.assert(
      fc.property(exact.position, marketArb(), (expr, market) => {
        expectSame(expr, compile(expr)(market), interpret(expr, market));
      }),
      { numRuns: 300 },
    );
  });

  test("… and so do those that trade", () => {
    // Most random patterns rarely trade; this one looks only at those that do in the reference.
    fc.assert(
      fc.property(exact.position, marketArb({ minLength: 20 }), (expr, market) => {
        const reference = interpret(expr, market);
        fc.pre(reference.some((p) => p !== 0) && reference.some((p) => p !== reference[0]));
        expectSame(expr, compile(expr)(market), reference);
      }),
      { numRuns: 200, maxSkipsPerRun: 1000 },
    );
  });

  test("… and so do conditions and series, undefined values included", () => {
    fc.assert(
      fc.property(fc.oneof(exact.bool, exact.series), marketArb(), (expr, market) => {
        expectSame(expr, compile(expr)(market), interpret(expr, market));
      }),
      { numRuns: 400 },
    );
  });

  test("running sums do not drift over 10,000 bars of a price far from zero", () => {
    const n = 10_000;
    const close = new Float64Array(n);
    let price = 5000;
    for (let i = 0; i < n; i++) {
      price *= 1 + 0.002 * Math.sin(i * 0.7) + 0.001 * Math.cos(i * 1.3);
      close[i] = price;
    }
    const t = Float64Array.from({ length: n }, (_, i) => i * 60_000);
    const market: Market = {
      length: n,
      t,
      assets: [{ name: "X", open: close, high: close, low: close, close, volume: close }],
    };
    for (const [op, k] of [
      ["sma", 100],
      ["std", 100],
      ["zscore", 100],
      ["std", 2],
      ["zscore", 5],
    ] as const) {
      const expr = parse(`${op}(close(X), ${k})`);
      const compiled = compile(expr)(market);
      const reference = interpret(expr, market);
      const spread = interpret(parse(`std(close(X), ${k})`), market);
      let worst = 0;
      for (let i = k; i < n; i++) {
        const error = Math.abs((compiled[i] as number) - (reference[i] as number)) / (close[i] as number);
        worst = Math.max(worst, op === "zscore" ? error * (spread[i] as number) : error);
      }
      // About 1e-15 for the means and 1e-13 for std over two bars; without the periodic
      // recomputation std over two bars reached 1e-8 of the price after 100,000 bars.
      expect(worst, `${op} ${k}`).toBeLessThan(1e-12);
    }
  });

  test("no bar sees the future: rewriting bars after i leaves every output up to i unchanged", () => {
    fc.assert(
      fc.property(arbs.position, marketArb({ minLength: 2 }), fc.nat(), fc.nat(1000), (expr, market, at, seed) => {
        const cut = at % market.length;
        const future = rewriteFuture(market, cut, seed);
        for (const evaluate of [compile(expr), (m: Market) => interpret(expr, m)]) {
          const before = evaluate(market).subarray(0, cut + 1);
          const after = evaluate(future).subarray(0, cut + 1);
          expectSame(expr, after, before);
        }
      }),
      { numRuns: 300 },
    );
  });

  test("the same pattern compiles once: the cache is keyed by canonical text", () => {
    const text = "signal(gt(zscore(close(AAA), 20), 1.5))";
    const first = compile(parse(text));
    const size = compileCacheSize();
    expect(compile(parse(`  signal( gt( zscore(close(AAA),20) , 1.5 ) )`))).toBe(first);
    expect(compileCacheSize()).toBe(size);
    expect(compile(parse("signal(gt(zscore(close(AAA), 20), 1.6))"))).not.toBe(first);
  });

  test("straight-line code: one kernel call per distinct operator node, buffers reused once read", () => {
    const expr = parse("signal(and(gt(sma(close(AAA), 5), 1), lt(sma(close(AAA), 5), 2)))");
    const source = generateSource(expr);
    expect(source).not.toMatch(/\bfor\b|\bwhile\b|\bnew\b/);
    expect(source.match(/k\.sma\(/g)).toHaveLength(1); // computed once for its two readers
    expect(source.match(/k\.\w+\(/g)).toHaveLength(5); // sma, gt, lt, and, side
    // sma's buffer is read twice before it is freed; and writes into the result directly.
    const slots = new Set([...source.matchAll(/rt\.floats\((\d+)/g)].map((m) => m[1]));
    expect(slots.size).toBe(3);
    expect(source).toMatch(/k\.side\(n, out, /);
    const deep = parse("signal(gt(sma(sma(sma(sma(close(AAA), 5), 5), 5), 5), 1))");
    const deepSlots = new Set([...generateSource(deep).matchAll(/rt\.floats\((\d+)/g)].map((m) => m[1]));
    expect(deepSlots.size).toBe(2); // a chain needs two buffers, however long
  });

  test("the function refuses a market without the asset, naming it", () => {
    const market: Market = { length: 0, t: new Float64Array(0), assets: [] };
    expect(() => compile(parse("close(ZZZ)"))(market)).toThrow(/no asset ZZZ/);
  });
});
