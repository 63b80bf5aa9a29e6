import { sharpe } from "@stratreg/quant";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { backtest, evaluatePositions } from "./backtest.js";
import type { Market } from "./market.js";
import { Rng } from "./rng.js";
import { parse } from "./text.js";

const DAILY = { feeBps: 0, slippageBps: 0, periodsPerYear: 252 };
const DESIGN_RETURNS = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.03, -0.015, 0.005, 0.01];

/** One asset "X" whose closes follow `returns` (returns[0] is ignored). */
function marketFrom(returns: readonly number[]): Market {
  const close = new Float64Array(returns.length);
  let price = 100;
  returns.forEach((r, i) => {
    if (i > 0) price *= 1 + r;
    close[i] = price;
  });
  const t = Float64Array.from(returns, (_, i) => i * 86_400_000);
  return {
    length: returns.length,
    t,
    assets: [{ name: "X", open: close, high: close, low: close, close, volume: close }],
  };
}

describe("evaluatePositions", () => {
  test("the position at bar i earns the return from i to i + 1; a change costs fee + slippage per unit", () => {
    const result = evaluatePositions([0, 1, 1, -1, 0], [Number.NaN, 0.01, 0.02, -0.03, 0.01], {
      feeBps: 10,
      slippageBps: 5,
      periodsPerYear: 252,
    });
    expect(Array.from(result.grossReturns)).toEqual([0, 0.02, -0.03, -0.01]);
    const net = Array.from(result.returns);
    [0, 0.02 - 0.0015, -0.03, -0.01 - 0.003].forEach((expected, j) => {
      expect(net[j]).toBeCloseTo(expected, 15);
    });
    expect(result.turnover).toBe(3);
    expect(result.trades).toBe(2);
    expect(result.exposure).toBe(0.75);
    expect(result.missing).toBe(0);
  });

  test("Sharpe is quant's: always long over the DESIGN.md returns gives 3.937981", () => {
    const result = evaluatePositions(new Array(11).fill(1), [Number.NaN, ...DESIGN_RETURNS], DAILY);
    expect(result.sharpe).toBeCloseTo(3.937981, 6);
    expect(result.sharpe).toBe(sharpe(DESIGN_RETURNS));
    expect(result.metrics.maxDrawdown).toBeCloseTo(-0.02, 12);
    expect(result.metrics.periodsPerYear).toBe(252);
  });

  test("a missing return earns nothing and is counted; flat positions have no Sharpe ratio", () => {
    const result = evaluatePositions([1, 1, 1], [Number.NaN, Number.NaN, 0.01], DAILY);
    expect(Array.from(result.returns)).toEqual([0, 0.01]);
    expect(result.missing).toBe(1);
    expect(evaluatePositions([0, 0, 0], [0, 0.01, -0.01], DAILY).sharpe).toBeNaN();
  });

  test("costs only lower returns, in proportion to turnover", () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom(-1, 0, 1, 0.5), fc.double({ min: -0.1, max: 0.1, noNaN: true })), {
          minLength: 2,
          maxLength: 60,
        }),
        fc.double({ min: 0, max: 50, noNaN: true }),
        (bars, bps) => {
          const positions = bars.map(([p]) => p);
          const returns = bars.map(([, r]) => r);
          const free = evaluatePositions(positions, returns, DAILY);
          const paid = evaluatePositions(positions, returns, { ...DAILY, feeBps: bps });
          let charged = 0;
          paid.returns.forEach((r, j) => {
            expect(r).toBeLessThanOrEqual(free.returns[j] as number);
            charged += (free.returns[j] as number) - r;
          });
          expect(charged).toBeCloseTo((bps / 10_000) * paid.turnover, 12);
        },
      ),
    );
  });

  test("peeking would pay, and the language cannot peek", () => {
    const rng = new Rng(7);
    const returns = [Number.NaN, ...Array.from({ length: 1000 }, () => 0.01 * rng.normal())];
    // Built outside the language: the sign of the next bar's return. It earns |r| every period,
    // which shows the alignment: positions earn the return after their bar.
    const peeking = returns.map((_, i) => Math.sign(returns[i + 1] ?? 0));
    expect(evaluatePositions(peeking, returns, DAILY).sharpe).toBeGreaterThan(20);
    // The closest the language gets reads the return of the bar itself, known at its close.
    const latest = backtest(parse("long_short(gt(returns(X), 0), lt(returns(X), 0))"), marketFrom(returns), "X", DAILY);
    expect(Math.abs(latest.sharpe)).toBeLessThan(2); // about ±0.5 by chance on 1,000 independent days
  });

  test("bad input is refused, naming it", () => {
    expect(() => evaluatePositions([1, 2], [0, 0], DAILY)).toThrow(/positions\[1\] must be in \[-1, 1\], got 2/);
    expect(() => evaluatePositions([2, 0], [0, 0], DAILY)).toThrow(/positions\[0\] must be in \[-1, 1\]/);
    expect(() => evaluatePositions([Number.NaN, 0], [0, 0], DAILY)).toThrow(/positions\[0\]/);
    expect(() => evaluatePositions([0], [0, 0], DAILY)).toThrow(/aligned/);
    expect(() => evaluatePositions([0, 0], [0, Number.POSITIVE_INFINITY], DAILY)).toThrow(/returns\[1\] is infinite/);
    expect(() => evaluatePositions([0, 0], [0, 0], { ...DAILY, feeBps: -1 })).toThrow(/feeBps/);
    expect(() => evaluatePositions([0, 0], [0, 0], { ...DAILY, periodsPerYear: 0 })).toThrow(/periodsPerYear/);
    expect(() => backtest(parse("close(X)"), marketFrom([0, 0]), "X", DAILY)).toThrow(/expected a position/);
  });
});
