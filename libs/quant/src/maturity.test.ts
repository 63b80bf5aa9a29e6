import { describe, expect, test } from "vitest";
import { metricsOf } from "./batch.js";
import { DEFAULT_MATURITY, maturityPhase, TrendAccumulator } from "./maturity.js";

/** A deterministic series with a given mean and spread (alternating ±spread around the mean). */
function series(n: number, mean: number, spread: number): number[] {
  return Array.from({ length: n }, (_, i) => mean + (i % 2 === 0 ? spread : -spread));
}

function phaseAfter(returns: number[], current?: "growth" | "decline") {
  const trend = new TrendAccumulator();
  for (const r of returns) trend.add(r);
  return maturityPhase({
    periods: returns.length,
    sharpe: metricsOf(returns).sharpe,
    recentSharpe: trend.sharpe(),
    current,
  });
}

describe("maturity phases", () => {
  test("a short record is in birth", () => {
    expect(phaseAfter(series(DEFAULT_MATURITY.birthPeriods - 1, 0.01, 0.01))).toBe("birth");
  });

  test("steady performance is maturity", () => {
    expect(phaseAfter(series(300, 0.001, 0.01))).toBe("maturity");
  });

  test("recent returns well above the long run are growth; well below, decline", () => {
    expect(phaseAfter([...series(250, 0, 0.01), ...series(100, 0.004, 0.01)])).toBe("growth");
    expect(phaseAfter([...series(250, 0.002, 0.01), ...series(100, -0.003, 0.01)])).toBe("decline");
  });

  test("hysteresis: growth holds within half the band, maturity does not enter it", () => {
    const input = { periods: 500, sharpe: 1, recentSharpe: 1.7 };
    expect(maturityPhase(input)).toBe("maturity");
    expect(maturityPhase({ ...input, current: "growth" })).toBe("growth");
    expect(maturityPhase({ ...input, recentSharpe: 0.3, current: "decline" })).toBe("decline");
    expect(maturityPhase({ ...input, recentSharpe: 1.4, current: "growth" })).toBe("maturity");
    expect(maturityPhase({ ...input, recentSharpe: Number.NaN, current: "growth" })).toBe("growth");
  });

  test("the trend's Sharpe ratio weighs recent returns more and survives its state", () => {
    const trend = new TrendAccumulator(10);
    for (const r of series(200, 0.0, 0.01)) trend.add(r);
    const before = trend.sharpe();
    for (const r of series(20, 0.005, 0.01)) trend.add(r);
    expect(trend.sharpe()).toBeGreaterThan(before + 1);
    const copy = new TrendAccumulator(10, trend.toState());
    copy.add(0.01);
    trend.add(0.01);
    expect(copy.sharpe()).toBe(trend.sharpe());
    expect(copy.count).toBe(221);
    expect(new TrendAccumulator().sharpe()).toBeNaN();
  });

  test("a short steady record's recent Sharpe ratio is its long-run one, not pulled towards its first return", () => {
    const returns = series(126, 0.001, 0.01);
    const trend = new TrendAccumulator();
    for (const r of returns) trend.add(r);
    expect(Math.abs(trend.sharpe() - metricsOf(returns).sharpe)).toBeLessThan(0.2);
  });
});
