import { describe, expect, test } from "vitest";
import type { BarSeries } from "./bars.js";
import { HOUR_MS } from "./calendar.js";
import { generateMarket, isVolatile, type SyntheticMarket } from "./generator.js";
import { seededNormal, seededUniform } from "./random.js";
import { fitRegimes } from "./regimes.js";

/** The true volatility regime (1 volatile) of each return: returns()[j − 1] is bar j's. */
function truth(market: SyntheticMarket): Int8Array {
  return Int8Array.from(market.regimes.subarray(1), (r) => (isVolatile(r) ? 1 : 0));
}

function agreement(labels: Int8Array, truth: Int8Array): number {
  let same = 0;
  for (let i = 0; i < labels.length; i++) if (labels[i] === truth[i]) same++;
  return same / labels.length;
}

describe("fitRegimes on the synthetic market's regime-switching returns", () => {
  const market = generateMarket({ seed: 1, barMs: HOUR_MS });
  const regimes = truth(market);
  const volatileShare = regimes.reduce((a, r) => a + r, 0) / regimes.length;
  // Always answering the more common regime would score this much.
  const chance = Math.max(volatileShare, 1 - volatileShare);

  test("two states on one symbol's returns find the volatility regimes", () => {
    const fit = fitRegimes((market.series[0] as BarSeries).returns(), { states: 2 });
    expect(fit.converged).toBe(true);
    // States come ordered by volatility, so label 1 is the volatile one: no matching needed.
    const score = agreement(fit.labels, regimes);
    expect(chance).toBeLessThan(0.8);
    expect(score).toBeGreaterThan(0.95);
    const sdRatio = Math.sqrt((fit.variances[1] as number) / (fit.variances[0] as number));
    expect(sdRatio).toBeGreaterThan(2.2);
    expect(sdRatio).toBeLessThan(2.8);
    // Spells of 70 and 30 days of seven bars: staying probabilities near 1 − 1/490 and 1 − 1/210.
    expect(fit.transition[0]).toBeGreaterThan(0.99);
    expect(fit.transition[3]).toBeGreaterThan(0.98);
  });

  test("every symbol's returns as dimensions of one model agree still better", () => {
    const fit = fitRegimes(
      market.series.map((s) => s.returns()),
      { states: 2 },
    );
    expect(fit.dimensions).toBe(6);
    expect(agreement(fit.labels, regimes)).toBeGreaterThan(0.99);
  });

  test("daily bars, shorter spells: still far above chance", () => {
    const daily = generateMarket({ seed: 2 });
    const fit = fitRegimes((daily.series[0] as BarSeries).returns(), { states: 2 });
    expect(agreement(fit.labels, truth(daily))).toBeGreaterThan(0.9);
  });

  test("the information criterion prefers the two states there are", () => {
    const r = (market.series[0] as BarSeries).returns();
    const bic = [1, 2, 3].map((states) => fitRegimes(r, { states, restarts: 2 }).bic);
    expect(bic[1]).toBeLessThan(bic[0] as number);
    expect(bic[1]).toBeLessThan(bic[2] as number);
  });

  test("labels are stable: other random starts, posterior labels, the same answer", () => {
    const r = (market.series[0] as BarSeries).returns();
    const a = fitRegimes(r, { seed: 1 });
    const b = fitRegimes(r, { seed: 99, restarts: 6 });
    expect(agreement(a.labels, b.labels)).toBeGreaterThan(0.999);
    expect(fitRegimes(r, { seed: 1 })).toEqual(a);
    const byPosterior = fitRegimes(r, { labels: "posterior" });
    expect(agreement(byPosterior.labels, a.labels)).toBeGreaterThan(0.99);
    for (let t = 0; t < r.length; t += 997) {
      const p0 = byPosterior.posterior[2 * t] as number;
      const p1 = byPosterior.posterior[2 * t + 1] as number;
      expect(p0 + p1).toBeCloseTo(1, 12);
      expect(byPosterior.labels[t]).toBe(p1 > p0 ? 1 : 0);
    }
  });
});

describe("fitRegimes without regimes, and bad input", () => {
  test("one volatility throughout: the criterion prefers one state", () => {
    const normal = seededNormal(seededUniform(5));
    const r = Float64Array.from({ length: 5000 }, () => 0.01 * normal());
    const one = fitRegimes(r, { states: 1 });
    const two = fitRegimes(r, { states: 2 });
    expect(one.bic).toBeLessThan(two.bic);
    expect(Math.sqrt(one.variances[0] as number)).toBeCloseTo(0.01, 3);
    expect(one.labels.every((l) => l === 0)).toBe(true);
  });

  test("non-finite values, unequal dimensions, too few observations, a bad state count", () => {
    expect(() => fitRegimes([0.1, Number.NaN, 0.2, 0.3])).toThrow(/not finite/);
    expect(() => fitRegimes([[0.1, 0.2, 0.3, 0.4], [0.1]])).toThrow(/dimension 1/);
    expect(() => fitRegimes([0.1, 0.2, 0.3], { states: 2 })).toThrow(/too few/);
    expect(() => fitRegimes([0.1, 0.2, 0.3, 0.4], { states: 9 })).toThrow(/states/);
    expect(() => fitRegimes([])).toThrow(RangeError);
  });
});
