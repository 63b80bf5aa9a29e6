import type { Costs, Market } from "@stratreg/alpha";
import { describe, expect, test } from "vitest";
import { checkRegimeLabels, regimeResults, walkForward } from "./heldout.js";

const COSTS: Costs = { feeBps: 0, slippageBps: 0, periodsPerYear: 252 };

function flatMarket(n: number): Market {
  const t = Float64Array.from({ length: n }, (_, i) => 1000 * i);
  const column = new Float64Array(n).fill(1);
  return {
    length: n,
    t,
    assets: [{ name: "AAA", open: column, high: column, low: column, close: column, volume: column }],
  };
}

describe("walkForward", () => {
  test("cuts the held-out bars into consecutive folds and compounds each fold's net return", () => {
    const n = 20;
    const market = flatMarket(n);
    const positions = new Float64Array(n).fill(1);
    // +1 % into every bar of [10, 15), −1 % into every bar of [15, 20).
    const returns = Float64Array.from({ length: n }, (_, i) => (i < 10 ? 0 : i < 15 ? 0.01 : -0.01));
    const folds = walkForward(market, positions, returns, 10, 20, 2, COSTS);
    expect(folds.map((f) => [f.from, f.to, f.start, f.end])).toEqual([
      [10, 15, 10_000, 14_000],
      [15, 20, 15_000, 19_000],
    ]);
    // Each fold starts flat: its first bar's position earns the return into the second.
    expect(folds[0]?.netReturn).toBeCloseTo(1.01 ** 4 - 1, 14);
    expect(folds[1]?.netReturn).toBeCloseTo(0.99 ** 4 - 1, 14);
    expect(folds.map((f) => f.trades)).toEqual([1, 1]);
    expect(folds[0]?.sharpe).toBeNull();
    expect(() => walkForward(market, positions, returns, 10, 20, 6, COSTS)).toThrow(/folds of at least 2 bars/);
  });
});

describe("regimeResults", () => {
  const names = ["calm", "volatile", "never"];
  // Bar i's regime: calm for even i, volatile for odd.
  const labels = Int8Array.from({ length: 12 }, (_, i) => i % 2);

  test("labels each period with the regime of the bar whose move it earns, and lists every regime", () => {
    // The window [2, 12): return k earns the move into bar 3 + k.
    const windowReturns = Float64Array.from({ length: 9 }, (_, k) =>
      (3 + k) % 2 === 0 ? 0.01 + k * 1e-4 : -0.01 - k * 1e-4,
    );
    const results = regimeResults(windowReturns, 2, { labels, names }, 2, 252);
    expect(results.map((r) => [r.regime, r.periods])).toEqual([
      ["calm", 4],
      ["volatile", 5],
      ["never", 0],
    ]);
    expect(results[0]?.sharpe).toBeGreaterThan(0);
    expect(results[1]?.sharpe).toBeLessThan(0);
    expect(results[2]?.sharpe).toBeNull();
    // Too few periods to judge: null.
    expect(regimeResults(windowReturns, 2, { labels, names }, 5, 252).map((r) => r.sharpe === null)).toEqual([
      true,
      false,
      true,
    ]);
  });

  test("labels must index the names, one per bar", () => {
    expect(() => checkRegimeLabels({ labels, names }, 12)).not.toThrow();
    expect(() => checkRegimeLabels({ labels, names }, 13)).toThrow(/one per bar/);
    expect(() => checkRegimeLabels({ labels: Int8Array.of(0, 3), names }, 2)).toThrow(/label 3 of bar 1/);
    expect(() => checkRegimeLabels({ labels, names: ["a", "a"] }, 12)).toThrow(/distinct/);
  });
});
