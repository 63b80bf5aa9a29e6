import { type AssetBars, type Costs, type Market, parse, Rng } from "@stratreg/alpha";
import { describe, expect, test } from "vitest";
import { holm, resamplesFor, screenCandidates } from "./screen.js";
import { chronologicalSplits } from "./splits.js";

const COSTS: Costs = { feeBps: 1, slippageBps: 1, periodsPerYear: 252 };

function bars(name: string, returns: readonly number[]): AssetBars {
  const close = new Float64Array(returns.length);
  let price = 100;
  returns.forEach((r, i) => {
    if (i > 0) price *= 1 + r;
    close[i] = price;
  });
  const volume = close.map(() => 1e6);
  return { name, open: close, high: close, low: close, close, volume };
}

/** Daily bars of AAA and BBB; BBB's return follows the sign of AAA's the bar before, by `strength`. */
function leadLagMarket(n: number, strength: number, seed: number): Market {
  const rng = new Rng(seed);
  const t = Float64Array.from({ length: n }, (_, i) => Date.UTC(2010, 0, 4) + i * 86_400_000);
  const aaa = Array.from({ length: n }, () => 0.01 * rng.normal());
  const bbb = aaa.map((_, i) => (i > 0 ? strength * Math.sign(aaa[i - 1] as number) : 0) + 0.01 * rng.normal());
  return { length: n, t, assets: [bars("AAA", aaa), bars("BBB", bbb)] };
}

const REAL = "long_short(gt(returns(AAA), 0), lt(returns(AAA), 0))";
const NOISE = [
  "signal(gt(weekday(), 2.5))",
  "long_short(above(close(BBB), sma(close(BBB), 20)), below(close(BBB), sma(close(BBB), 20)))",
  "short(lt(rsi(close(BBB), 10), 30))",
  "signal(gt(zscore(volume(AAA), 10), 1))",
  "long_short(gt(ret(close(AAA), 5), 0), lt(ret(close(AAA), 5), 0))",
];

describe("holm", () => {
  test("steps down from the smallest p-value and stops at the first that misses α / (m − k + 1)", () => {
    expect(holm([0.01, 0.04, 0.03, 0.005], 0.05)).toEqual([true, false, false, true]);
    // Rejects more than Bonferroni (which stops at p ≤ 0.05/3): each step's bar is looser.
    expect(holm([0.01, 0.015, 0.02], 0.05)).toEqual([true, true, true]);
    expect(holm([0.5, 0.001], 0.05)).toEqual([false, true]);
    expect(holm([], 0.05)).toEqual([]);
    expect(() => holm([0.1], 1)).toThrow(RangeError);
  });
});

test("resamplesFor leaves room for about 20 exceedances at the level compared with", () => {
  expect(resamplesFor(0.05)).toBe(1999);
  expect(resamplesFor(0.05 / 50)).toBe(19_999);
  expect(resamplesFor(1e-9)).toBe(200_000);
});

describe("screenCandidates", () => {
  const market = leadLagMarket(2000, 0.003, 4);
  const splits = chronologicalSplits(market.length);
  const exprs = [parse(REAL), ...NOISE.map((text) => parse(text))];
  const ctx = { market, target: "BBB", splits, costs: COSTS, seed: 9 };

  test("keeps the real lead–lag pattern and drops patterns with nothing behind them", () => {
    const screening = screenCandidates(exprs, ctx);
    expect(screening.alpha).toBe(0.05);
    const [real, ...noise] = screening.candidates;
    expect(real).toMatchObject({ expression: REAL, survives: true });
    // 0.3 % a day against 1 % of noise over 500 validation days, less costs: t ≈ 6.
    expect(real?.pValue).toBeLessThan(0.001);
    expect(real?.sharpe).toBeGreaterThan(2);
    expect(real?.trades).toBeGreaterThan(100);
    expect(noise.map((c) => c.survives)).toEqual(NOISE.map(() => false));
    expect(screening.survivors).toBe(1);
  });

  test("a candidate's p-value does not depend on its place in the list, and repeats for a seed", () => {
    const forward = screenCandidates(exprs, ctx).candidates;
    const backward = screenCandidates([...exprs].reverse(), ctx).candidates.reverse();
    expect(backward).toEqual(forward);
    const reseeded = screenCandidates(exprs, { ...ctx, seed: 10 }).candidates;
    expect(reseeded.map((c) => c.pValue)).not.toEqual(forward.map((c) => c.pValue));
  });

  test("reads only the validation window: a pattern that paid in train alone does not survive", () => {
    const n = market.length;
    const rng = new Rng(5);
    const aaa = Array.from({ length: n }, () => 0.01 * rng.normal());
    // The edge stops where the validation split begins.
    const bbb = aaa.map((_, i) =>
      i > 0 && i < splits.trainEnd
        ? 0.005 * Math.sign(aaa[i - 1] as number) + 0.01 * rng.normal()
        : 0.01 * rng.normal(),
    );
    const faded: Market = { length: n, t: market.t, assets: [bars("AAA", aaa), bars("BBB", bbb)] };
    const [only] = screenCandidates([parse(REAL)], { ...ctx, market: faded }).candidates;
    expect(only?.survives).toBe(false);
  });

  test("refuses splits of another market", () => {
    expect(() => screenCandidates(exprs, { ...ctx, splits: chronologicalSplits(1000) })).toThrow(/1000 bars/);
  });
});
