import { Rng } from "@stratreg/alpha";
import { sharpe } from "@stratreg/quant";
import { describe, expect, test } from "vitest";
import { bootstrapIntervals, defaultBlockLength, meanPValue } from "./bootstrap.js";

function normalReturns(n: number, mean: number, sd: number, seed: number): Float64Array {
  const rng = new Rng(seed);
  return Float64Array.from({ length: n }, () => mean + sd * rng.normal());
}

describe("meanPValue", () => {
  test("under the null (i.i.d. normal returns with mean 0) the p-values are about uniform", () => {
    const seeds = 400;
    const pValues = Array.from({ length: seeds }, (_, s) =>
      meanPValue(normalReturns(500, 0, 0.01, 1000 + s), { seed: s, resamples: 499 }),
    ).map((t) => t.pValue);
    // Binomial(400, 0.05) has mean 20 and standard deviation 4.4: [8, 33] holds 99.7 % of it.
    const below5 = pValues.filter((p) => p <= 0.05).length;
    expect(below5).toBeGreaterThanOrEqual(8);
    expect(below5).toBeLessThanOrEqual(33);
    // Binomial(400, 0.5): standard deviation 10.
    const belowHalf = pValues.filter((p) => p <= 0.5).length;
    expect(belowHalf).toBeGreaterThanOrEqual(170);
    expect(belowHalf).toBeLessThanOrEqual(230);
  });

  test("a real mean return gives a small p-value, a negative one a large p-value", () => {
    // t = 0.002/0.01·√500 ≈ 4.5: no resample of the demeaned returns gets near it.
    const positive = meanPValue(normalReturns(500, 0.002, 0.01, 7), { seed: 1, resamples: 999 });
    expect(positive.pValue).toBeLessThan(0.005);
    expect(positive.pValue).toBe((1 + positive.exceedances) / (1 + positive.resamples));
    const negative = meanPValue(normalReturns(500, -0.002, 0.01, 7), { seed: 1, resamples: 999 });
    expect(negative.pValue).toBeGreaterThan(0.99);
  });

  test("is deterministic for a seed, and another seed draws other resamples", () => {
    const returns = normalReturns(300, 0.0005, 0.01, 3);
    const a = meanPValue(returns, { seed: 42, resamples: 999 });
    expect(meanPValue(returns, { seed: 42, resamples: 999 })).toEqual(a);
    expect(meanPValue(returns, { seed: 43, resamples: 999 }).exceedances).not.toBe(a.exceedances);
    const c = meanPValue(returns, { seed: 42, resamples: 999, method: "circular" });
    expect(meanPValue(returns, { seed: 42, resamples: 999, method: "circular" })).toEqual(c);
  });

  test("blocks keep the dependence: on returns in runs of ten the block p-value is larger than the i.i.d. one", () => {
    const rng = new Rng(5);
    const runs = Array.from({ length: 60 }, () => 0.003 + 0.01 * rng.normal());
    const returns = Float64Array.from(
      { length: 600 },
      (_, i) => (runs[Math.floor(i / 10)] as number) + 0.0001 * rng.normal(),
    );
    const iid = meanPValue(returns, { seed: 1, resamples: 1999, blockLength: 1 });
    const blocks = meanPValue(returns, { seed: 1, resamples: 1999, blockLength: 20 });
    expect(blocks.pValue).toBeGreaterThan(2 * iid.pValue);
  });

  test("stops early once the answer is clear, with a Besag–Clifford p-value", () => {
    const returns = normalReturns(400, -0.001, 0.01, 9);
    const t = meanPValue(returns, { seed: 1, resamples: 9999, stopAfter: 10 });
    expect(t.exceedances).toBe(10);
    expect(t.resamples).toBeLessThan(100);
    expect(t.pValue).toBe(10 / t.resamples);
  });

  test("refuses what it cannot test", () => {
    expect(() => meanPValue([0.1], { seed: 1 })).toThrow(RangeError);
    expect(() => meanPValue([0.1, Number.NaN], { seed: 1 })).toThrow(/returns\[1\]/);
    expect(() => meanPValue([0.1, 0.2], { seed: 1, resamples: 0 })).toThrow(/resamples/);
    expect(() => meanPValue([0.1, 0.2], { seed: 1, blockLength: 0.5 })).toThrow(/blockLength/);
  });

  test("a series that never moves has nothing to show: p = 1", () => {
    expect(meanPValue(new Float64Array(100), { seed: 1, resamples: 99 }).pValue).toBe(1);
  });
});

describe("bootstrapIntervals", () => {
  test("a 90 % interval of the Sharpe ratio brackets the sample's and is about ±1.645 standard errors wide", () => {
    const returns = normalReturns(1000, 0.0008, 0.01, 11);
    const observed = sharpe(returns, { periodsPerYear: 252 });
    const result = bootstrapIntervals(returns, { seed: 3, periodsPerYear: 252, resamples: 999 });
    const [lo, hi] = result.sharpe as [number, number];
    expect(lo).toBeLessThan(observed);
    expect(hi).toBeGreaterThan(observed);
    // Standard error of an annualised Sharpe ratio from 1,000 daily returns: √(252/1000) ≈ 0.5.
    expect(hi - lo).toBeGreaterThan(2 * 1.645 * 0.5 * 0.7);
    expect(hi - lo).toBeLessThan(2 * 1.645 * 0.5 * 1.3);
    const [rLo, rHi] = result.annualReturn as [number, number];
    expect(rLo).toBeLessThan(rHi);
    expect(result).toMatchObject({ level: 0.9, resamples: 999, blockLength: defaultBlockLength(1000) });
    expect(bootstrapIntervals(returns, { seed: 3, periodsPerYear: 252, resamples: 999 })).toEqual(result);
  });

  test("constant returns have no Sharpe ratio to bracket: the interval is null, not NaN", () => {
    const result = bootstrapIntervals(new Float64Array(50), { seed: 1, periodsPerYear: 252, resamples: 99 });
    expect(result.sharpe).toBeNull();
    expect(result.annualReturn).toEqual([0, 0]);
  });
});

test("defaultBlockLength grows as the cube root", () => {
  expect(defaultBlockLength(1)).toBe(1);
  expect(defaultBlockLength(1000)).toBe(10);
  expect(defaultBlockLength(2500)).toBe(14);
});
