import { describe, expect, test } from "vitest";
import type { BarSeries } from "./bars.js";
import { leadLag, rollingCorrelation, spreadZScore } from "./cross.js";
import { generateMarket } from "./generator.js";
import { seededNormal, seededUniform } from "./random.js";

describe("leadLag on the synthetic market", () => {
  const market = generateMarket({ seed: 1, mode: "planted" });
  const byKey = new Map(market.series.map((s) => [s.key, s]));
  const pattern = market.planted.find((p) => p.kind === "lead-lag");
  if (pattern === undefined) throw new Error("no lead-lag pattern");
  const source = (byKey.get(pattern.rule.source) as BarSeries).returns();
  const target = (byKey.get(pattern.rule.target) as BarSeries).returns();

  test("finds the planted lead at its lag and sign, beyond the bound", () => {
    const result = leadLag(source, target, { maxLag: 5 });
    expect(result.peakLag).toBe(pattern.rule.lag);
    expect(Math.sign(result.peakCorrelation)).toBe(pattern.rule.sign);
    expect(Math.abs(result.peakCorrelation)).toBeGreaterThan(1.5 * result.bound);
    // Read the other way round, the target lags: the peak is at the negative lag.
    expect(leadLag(target, source, { maxLag: 5 }).peakLag).toBe(-pattern.rule.lag);
  });

  test("lag 0 is co-movement, reported but never the peak", () => {
    const result = leadLag(source, target, { maxLag: 3 });
    expect(result.lags[3]).toBe(0);
    expect(result.correlations[3]).toBeGreaterThan(0.1); // the market factor
    expect(result.pairs[3]).toBe(source.length);
    expect(result.pairs[0]).toBe(source.length - 3);
  });

  test("in a random walk no pair has a peak beyond a multiple-testing bound", () => {
    const walk = generateMarket({ seed: 1 });
    // In units of the true volatility: regimes spread raw returns' correlations beyond 1/√n.
    const returns = walk.series.map((s, k) =>
      s.returns().map((r, j) => r / ((walk.volatility[k] as Float64Array)[j + 1] as number)),
    );
    // 30 ordered pairs × 10 lags: Bonferroni at 5% is Φ⁻¹(1 − 0.05/600) ≈ 3.76 standard errors.
    for (const a of returns) {
      for (const b of returns) {
        if (a === b) continue;
        const result = leadLag(a, b, { maxLag: 5 });
        expect(Math.abs(result.peakCorrelation)).toBeLessThan((3.76 / 2) * result.bound);
      }
    }
  });

  test("short or unequal series", () => {
    expect(() => leadLag([1, 2], [1])).toThrow(RangeError);
    const tiny = leadLag([0.1, 0.2, 0.1], [0.2, 0.1, 0.3], { maxLag: 5 });
    expect(Array.from(tiny.lags)).toEqual([-1, 0, 1]);
    // Lag −1 pairs a₁, a₂ with b₀, b₁: (0.2, 0.1) with (0.2, 0.1).
    expect(tiny.correlations[0]).toBeCloseTo(1, 12);
    expect(tiny.pairs[0]).toBe(2);
  });
});

describe("rollingCorrelation and spreadZScore", () => {
  const normal = seededNormal(seededUniform(3));
  const n = 3000;
  const common = Float64Array.from({ length: n }, normal);
  // Correlation 0.8 in the first half, 0 in the second.
  const a = Float64Array.from(common, (x) => 0.01 * x);
  const b = Float64Array.from(common, (x, i) => 0.01 * (i < n / 2 ? 0.8 * x + 0.6 * normal() : normal()));

  test("co-movement that changes is tracked window by window", () => {
    const rolling = rollingCorrelation(a, b, 200);
    expect(rolling[198]).toBeNaN();
    expect(rolling[1400]).toBeGreaterThan(0.65);
    expect(rolling[1400]).toBeLessThan(0.9);
    expect(Math.abs(rolling[2900] as number)).toBeLessThan(0.2);
    expect(() => rollingCorrelation(a, b, 1)).toThrow(RangeError);
  });

  test("a pair that drifts apart reads as a large spread z-score", () => {
    const priceA = new Float64Array(n);
    const priceB = new Float64Array(n);
    let pa = 100;
    let pb = 50;
    for (let i = 0; i < n; i++) {
      const shock = 0.01 * (common[i] as number);
      pa *= 1 + shock;
      pb *= 1 + shock + 0.001 * normal();
      priceA[i] = i >= 2000 ? pa * 1.03 : pa; // A jumps 3% away from B at 2000
      priceB[i] = pb;
    }
    const z = spreadZScore(priceA, priceB, 100);
    expect(z[98]).toBeNaN();
    expect(z[2000]).toBeGreaterThan(5);
    expect(Math.abs(z[1999] as number)).toBeLessThan(4);
    // Scaled by β the spread is ln a − β ln b; β = 0 leaves ln a alone.
    const alone = spreadZScore(priceA, priceB, 100, { hedgeRatio: 0 });
    const direct = spreadZScore(priceA, new Float64Array(n).fill(1), 100);
    expect(alone[2500]).toBeCloseTo(direct[2500] as number, 12);
    expect(spreadZScore([1, 1, 1], [1, 1, 1], 2)[2]).toBeNaN();
  });
});
