import { describe, expect, test } from "vitest";
import { ReturnAccumulator } from "./accumulator.js";
import {
  cagr,
  calmar,
  downsideRisk,
  kurtosis,
  maxDrawdown,
  mean,
  metricsOf,
  sharpe,
  skewness,
  sortino,
  volatility,
} from "./batch.js";
import { correlation } from "./correlation.js";

const DESIGN_RETURNS = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.03, -0.015, 0.005, 0.01];

describe("batch metrics", () => {
  test("the DESIGN.md check vector", () => {
    expect(sharpe(DESIGN_RETURNS)).toBeCloseTo(3.937981, 6);
    expect(sortino(DESIGN_RETURNS)).toBeCloseTo(7.332121, 6);
    expect(maxDrawdown(DESIGN_RETURNS).maxDrawdown).toBeCloseTo(-0.02, 12);
    // Under water in periods 2–4 (below 1.01) and 8–10 (below 1.0397).
    expect(maxDrawdown(DESIGN_RETURNS).duration).toBe(3);
  });

  test("each function agrees with metricsOf", () => {
    const conventions = { periodsPerYear: 52, riskFree: 0.0002, mar: 0.001 };
    const all = metricsOf(DESIGN_RETURNS, conventions);
    expect(mean(DESIGN_RETURNS)).toBe(all.mean);
    expect(volatility(DESIGN_RETURNS, conventions)).toBe(all.volatility);
    expect(sharpe(DESIGN_RETURNS, conventions)).toBe(all.sharpe);
    expect(sortino(DESIGN_RETURNS, conventions)).toBe(all.sortino);
    expect(downsideRisk(DESIGN_RETURNS, conventions)).toBe(all.downsideRisk);
    expect(cagr(DESIGN_RETURNS, conventions)).toBe(all.cagr);
    expect(calmar(DESIGN_RETURNS, conventions)).toBe(all.calmar);
    expect(skewness(DESIGN_RETURNS)).toBe(all.skewness);
    expect(kurtosis(DESIGN_RETURNS)).toBe(all.kurtosis);
    expect(maxDrawdown(DESIGN_RETURNS)).toEqual({ maxDrawdown: all.maxDrawdown, duration: all.maxDrawdownDuration });
    expect(all.periodsPerYear).toBe(52);
  });

  test("rf enters Sharpe only, MAR downside risk and Sortino only", () => {
    const base = metricsOf(DESIGN_RETURNS);
    const withRf = metricsOf(DESIGN_RETURNS, { riskFree: 0.001 });
    expect(withRf.sharpe).toBeCloseTo(((0.004 - 0.001) / (base.volatility / Math.sqrt(252))) * Math.sqrt(252), 12);
    expect(withRf.sortino).toBe(base.sortino);
    const withMar = metricsOf(DESIGN_RETURNS, { mar: 0.001 });
    expect(withMar.sharpe).toBe(base.sharpe);
    expect(withMar.downsideRisk).toBeGreaterThan(base.downsideRisk);
  });

  test("an empty series: counts are 0, no drawdown, everything else NaN", () => {
    const m = metricsOf([]);
    expect(m.periods).toBe(0);
    expect(m.totalReturn).toBe(0);
    expect(m.maxDrawdown).toBe(0);
    expect(m.maxDrawdownDuration).toBe(0);
    for (const key of [
      "mean",
      "volatility",
      "sharpe",
      "sortino",
      "downsideRisk",
      "cagr",
      "calmar",
      "skewness",
      "kurtosis",
      "psr",
    ] as const) {
      expect(m[key], key).toBeNaN();
    }
    expect(new ReturnAccumulator().metrics()).toEqual(m);
  });

  test("one return: mean, downside and wealth are defined, the rest NaN", () => {
    const m = metricsOf([-0.01]);
    expect(m.mean).toBe(-0.01);
    expect(m.downsideRisk).toBeCloseTo(0.01 * Math.sqrt(252), 15);
    expect(m.sortino).toBeCloseTo((-0.01 * 252) / (0.01 * Math.sqrt(252)), 12);
    expect(m.maxDrawdown).toBeCloseTo(-0.01, 15);
    expect(m.calmar).toBeCloseTo((0.99 ** 252 - 1) / 0.01, 10);
    for (const key of ["volatility", "sharpe", "skewness", "kurtosis", "psr"] as const) expect(m[key], key).toBeNaN();
  });

  test("a constant series has zero volatility and so no Sharpe ratio, skewness or kurtosis", () => {
    const m = metricsOf([0.001, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001]);
    expect(m.volatility).toBe(0);
    for (const key of ["sharpe", "skewness", "kurtosis", "psr", "sortino", "calmar"] as const)
      expect(m[key], key).toBeNaN();
    expect(m.downsideRisk).toBe(0);
    expect(m.maxDrawdown).toBe(0);
  });

  test("no return below MAR: downside risk 0, Sortino NaN; no drawdown: Calmar NaN", () => {
    const m = metricsOf([0.01, 0.02, 0.005]);
    expect(m.downsideRisk).toBe(0);
    expect(m.sortino).toBeNaN();
    expect(m.maxDrawdown).toBe(0);
    expect(m.maxDrawdownDuration).toBe(0);
    expect(m.calmar).toBeNaN();
    expect(m.sharpe).toBeGreaterThan(0);
  });

  test("two returns: skewness 0 and kurtosis 1, exactly", () => {
    expect(skewness([0.01, -0.03])).toBe(0);
    expect(kurtosis([0.01, -0.03])).toBe(1);
  });

  test("a return of −1 ruins the account: drawdown −1, CAGR −1 for good", () => {
    const m = metricsOf([0.1, -1, 0.5, 0.2]);
    expect(m.maxDrawdown).toBe(-1);
    expect(m.totalReturn).toBe(-1);
    expect(m.cagr).toBe(-1);
    expect(m.calmar).toBe(-1);
    expect(m.maxDrawdownDuration).toBe(3);
  });

  test("a return below −1 makes wealth negative: every wealth metric NaN", () => {
    const m = metricsOf([0.1, -1.5, 0.2]);
    for (const key of ["totalReturn", "cagr", "maxDrawdown", "maxDrawdownDuration", "calmar"] as const) {
      expect(m[key], key).toBeNaN();
    }
    expect(m.sharpe).not.toBeNaN();
  });

  test("wealth does not overflow over a long run of large returns", () => {
    const returns = Array.from({ length: 10_000 }, (_, i) => (i % 2 === 0 ? 3 : -0.5));
    const m = metricsOf(returns);
    // Each pair multiplies wealth by 4 · 0.5 = 2: V = 2^5000, far beyond a double.
    expect(m.cagr).toBeCloseTo(Math.expm1((5000 * Math.log(2) * 252) / 10_000), 6);
    expect(m.maxDrawdown).toBeCloseTo(-0.5, 12);
    expect(m.totalReturn).toBe(Number.POSITIVE_INFINITY);
  });

  test("non-finite returns and bad conventions are refused", () => {
    expect(() => sharpe([0.01, Number.NaN])).toThrow(RangeError);
    expect(() => maxDrawdown([Number.POSITIVE_INFINITY])).toThrow(RangeError);
    expect(() => sharpe([0.01, 0.02], { periodsPerYear: 0 })).toThrow(RangeError);
    expect(() => sortino([0.01, 0.02], { mar: Number.NaN })).toThrow(RangeError);
  });

  test("a mean far above the spread keeps its moments (returns are shifted by the first)", () => {
    const returns = [1 + 1e-9, 1 - 1e-9, 1 + 2e-9, 1, 1 - 2e-9];
    expect(skewness(returns)).toBeCloseTo(0, 6);
    expect(kurtosis(returns)).toBeCloseTo(1.7, 6);
  });
});

describe("correlation", () => {
  test("Pearson's coefficient", () => {
    expect(correlation([1, 2, 3, 4], [2, 4, 6, 8])).toBe(1);
    expect(correlation([1, 2, 3, 4], [8, 6, 4, 2])).toBe(-1);
    expect(correlation([1, 2, 3], [1, 3, 2])).toBeCloseTo(0.5, 15);
  });

  test("undefined for fewer than two points or a constant series; refuses unequal lengths", () => {
    expect(correlation([1], [2])).toBeNaN();
    expect(correlation([0.1, 0.1, 0.1], [1, 2, 3])).toBeNaN();
    expect(() => correlation([1, 2], [1])).toThrow(RangeError);
    expect(() => correlation([1, Number.NaN], [1, 2])).toThrow(RangeError);
  });
});
