import { assetReturns, type Costs, type Expr, evaluatePositions, type Market } from "@stratreg/alpha";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { exprArbs, marketArb } from "../../../../libs/alpha/src/testing/arbitraries.js";
import { marketWindow } from "../mining/market.js";
import { barWindow, checkSplits, chronologicalSplits, positionsOf, windowOf } from "./splits.js";

const COSTS: Costs = { feeBps: 1, slippageBps: 2, periodsPerYear: 252 };

function sameBits(a: ArrayLike<number>, b: ArrayLike<number>): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

describe("chronologicalSplits", () => {
  test("cuts 50 % / 25 % / 25 % by default, in time order", () => {
    expect(chronologicalSplits(10_000)).toEqual({ bars: 10_000, trainEnd: 5000, validationEnd: 7500 });
    expect(chronologicalSplits(1001)).toEqual({ bars: 1001, trainEnd: 500, validationEnd: 750 });
    expect(chronologicalSplits(1000, { train: 0.6, validation: 0.2 })).toEqual({
      bars: 1000,
      trainEnd: 600,
      validationEnd: 800,
    });
  });

  test("refuses splits too short to judge, saying which and why", () => {
    expect(() => chronologicalSplits(300)).toThrow(RangeError);
    expect(() => chronologicalSplits(300)).toThrow(/the validation split has 75 bars, fewer than the 100 needed/);
    expect(() => checkSplits({ bars: 300, trainEnd: 150, validationEnd: 225 }, 50)).not.toThrow();
    expect(() => chronologicalSplits(1000, { train: 0.8, validation: 0.2 })).toThrow(/room for a test split/);
    expect(() => chronologicalSplits(1000, { train: 0 })).toThrow(RangeError);
    expect(() => checkSplits({ bars: 1000, trainEnd: 500.5, validationEnd: 750 })).toThrow(/integer/);
    expect(() => checkSplits({ bars: 1000, trainEnd: 800, validationEnd: 750 })).toThrow(/validation split has -50/);
  });
});

describe("marketWindow and barWindow", () => {
  const market: Market = {
    length: 4,
    t: Float64Array.of(10, 20, 30, 40),
    assets: [
      {
        name: "AAA",
        open: Float64Array.of(1, 2, 3, 4),
        high: Float64Array.of(1, 2, 3, 4),
        low: Float64Array.of(1, 2, 3, 4),
        close: Float64Array.of(1, 2, 3, 4),
        volume: Float64Array.of(5, 6, 7, 8),
      },
    ],
  };

  test("a window of every column, and the times of its first and last bar", () => {
    const window = marketWindow(market, 1, 3);
    expect(window.length).toBe(2);
    expect([...window.t]).toEqual([20, 30]);
    expect([...(window.assets[0]?.volume ?? [])]).toEqual([6, 7]);
    expect(barWindow(market, 1, 3)).toEqual({ from: 1, to: 3, start: 20, end: 30 });
    expect(() => marketWindow(market, 2, 5)).toThrow(RangeError);
  });
});

describe("figures of a window, from the full market", () => {
  test("equal those of evaluating on the prefix up to the window's end, bit for bit, for any expression", () => {
    const window = marketArb({ minLength: 2, maxLength: 120 }).chain((market) =>
      fc
        .tuple(fc.integer({ min: 0, max: market.length - 2 }), fc.integer({ min: 1, max: market.length - 1 }))
        .map(([a, b]) => ({ market, from: Math.min(a, b), to: Math.max(a, b) + 1 })),
    );
    fc.assert(
      fc.property(window, exprArbs(4).position, ({ market, from, to }, expr: Expr) => {
        const full = positionsOf(expr, market);
        const prefixMarket = marketWindow(market, 0, to);
        const prefix = positionsOf(expr, prefixMarket);
        expect(sameBits(full.subarray(from, to), prefix.subarray(from, to))).toBe(true);
        const sliced = windowOf(full, assetReturns(market, "AAA"), from, to, COSTS);
        const onPrefix = evaluatePositions(
          prefix.subarray(from, to),
          assetReturns(prefixMarket, "AAA").subarray(from, to),
          COSTS,
        );
        expect(sameBits(sliced.returns, onPrefix.returns)).toBe(true);
        expect(sliced.trades).toBe(onPrefix.trades);
        expect(Object.is(sliced.sharpe, onPrefix.sharpe)).toBe(true);
      }),
      { numRuns: 150 },
    );
  });

  test("a window starts flat: holding the same position as the bar before is an entry there", () => {
    const positions = Float64Array.of(1, 1, 1, 1);
    const returns = Float64Array.of(Number.NaN, 0.01, 0.01, 0.01);
    const window = windowOf(positions, returns, 2, 4, COSTS);
    expect(window.trades).toBe(1);
    expect(window.returns[0]).toBeCloseTo(0.01 - 3 / 10_000, 15);
  });
});
