import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { profitFactor, TradeAccumulator, winRate } from "./trades.js";

function online(pnls: readonly number[]): TradeAccumulator {
  const accumulator = new TradeAccumulator();
  for (const pnl of pnls) accumulator.add(pnl);
  return accumulator;
}

describe("trade statistics", () => {
  test("win rate and profit factor", () => {
    const pnls = [100, -50, 25, 0, -25];
    expect(winRate(pnls)).toBe(0.4);
    expect(profitFactor(pnls)).toBe(125 / 75);
    const accumulator = online(pnls);
    expect(accumulator.count).toBe(5);
    expect(accumulator.winRate()).toBe(0.4);
    expect(accumulator.profitFactor()).toBe(125 / 75);
  });

  test("no trades: NaN; no losses: +∞; only break-even trades: NaN", () => {
    expect(winRate([])).toBeNaN();
    expect(profitFactor([])).toBeNaN();
    expect(profitFactor([1, 2])).toBe(Number.POSITIVE_INFINITY);
    expect(profitFactor([0, 0])).toBeNaN();
    expect(winRate([0, 0])).toBe(0);
    expect(profitFactor([-1])).toBe(0);
    expect(new TradeAccumulator().profitFactor()).toBeNaN();
  });

  test("online agrees with batch exactly, and a restored state continues exactly", () => {
    const pnl = fc.double({ min: -1e6, max: 1e6, noNaN: true });
    fc.assert(
      fc.property(fc.array(pnl), fc.array(pnl), (head, tail) => {
        const original = online(head);
        expect(original.winRate()).toBe(winRate(head));
        expect(original.profitFactor()).toBe(profitFactor(head));
        const restored = TradeAccumulator.fromState(original.toState());
        for (const x of tail) {
          original.add(x);
          restored.add(x);
        }
        expect(restored.toState()).toEqual(original.toState());
        expect(restored.toState()).toHaveLength(TradeAccumulator.STATE_LENGTH);
      }),
    );
  });

  test("non-finite pnl and malformed states are refused", () => {
    const accumulator = online([1, -1]);
    expect(() => accumulator.add(Number.NaN)).toThrow(RangeError);
    expect(accumulator.count).toBe(2);
    expect(() => winRate([1, Number.POSITIVE_INFINITY])).toThrow(RangeError);
    expect(() => TradeAccumulator.fromState(new Float64Array(3))).toThrow(RangeError);
    expect(() => TradeAccumulator.fromState(new Float64Array(TradeAccumulator.STATE_LENGTH))).toThrow(/version/);
  });
});
