import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { metricsOf } from "./batch.js";
import { expectedMaxSharpe } from "./inference.js";
import {
  deflatedSharpe,
  minTrackRecordLength,
  probabilisticSharpe,
  type SharpeEstimate,
  sharpeStandardError,
} from "./sharpe-inference.js";

const DESIGN_RETURNS = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.03, -0.015, 0.005, 0.01];
const estimate: SharpeEstimate = { sharpe: 1.2, periods: 500, skewness: -0.4, kurtosis: 5 };

describe("probabilistic and deflated Sharpe ratio", () => {
  test("PSR is 1/2 against the observed Sharpe ratio itself and falls as the bar rises", () => {
    expect(probabilisticSharpe(estimate, estimate.sharpe)).toBeCloseTo(0.5, 15);
    fc.assert(
      fc.property(
        fc.double({ min: -3, max: 3, noNaN: true }),
        fc.double({ min: 0.01, max: 1, noNaN: true }),
        (bar, step) => {
          expect(probabilisticSharpe(estimate, bar + step)).toBeLessThanOrEqual(probabilisticSharpe(estimate, bar));
        },
      ),
    );
  });

  test("the same from returns, from their metrics and from an estimate", () => {
    const metrics = metricsOf(DESIGN_RETURNS);
    const fromReturns = probabilisticSharpe(DESIGN_RETURNS);
    expect(fromReturns).toBeCloseTo(metrics.psr, 14);
    expect(probabilisticSharpe(metrics)).toBeCloseTo(fromReturns, 14);
    const { sharpe, periods, skewness, kurtosis } = metrics;
    expect(probabilisticSharpe({ sharpe, periods, skewness, kurtosis })).toBeCloseTo(fromReturns, 14);
  });

  test("metrics are read with the A they were annualised with", () => {
    const weekly = metricsOf(DESIGN_RETURNS, { periodsPerYear: 52 });
    expect(probabilisticSharpe(weekly, 0.5)).toBeCloseTo(
      probabilisticSharpe(DESIGN_RETURNS, 0.5, { periodsPerYear: 52 }),
      14,
    );
  });

  test("DSR is the PSR against the expected maximum of the trials", () => {
    const bar = expectedMaxSharpe(100, 0.25);
    expect(deflatedSharpe(estimate, 100, 0.25)).toBe(probabilisticSharpe(estimate, bar));
    expect(deflatedSharpe(estimate, 100, 0.25)).toBeLessThan(probabilisticSharpe(estimate, 0));
    expect(deflatedSharpe(estimate, 1, 0.25)).toBe(probabilisticSharpe(estimate, 0));
  });

  test("undefined inputs give NaN", () => {
    expect(probabilisticSharpe([0.01])).toBeNaN();
    expect(probabilisticSharpe([0.01, 0.01, 0.01])).toBeNaN();
    expect(probabilisticSharpe({ ...estimate, periods: 1 })).toBeNaN();
    // A variance factor that is not positive (kurtosis below the bound 1 + skewness²).
    expect(probabilisticSharpe({ sharpe: 252, periods: 10, skewness: 3, kurtosis: 1 })).toBeNaN();
  });
});

describe("expected maximum Sharpe ratio", () => {
  test("grows with the number of trials and scales with √V", () => {
    expect(expectedMaxSharpe(1, 4)).toBe(0);
    expect(expectedMaxSharpe(1000, 4)).toBeCloseTo(2 * expectedMaxSharpe(1000, 1), 14);
    let previous = expectedMaxSharpe(2, 1);
    for (const trials of [5, 10, 100, 1e4, 1e8]) {
      const next = expectedMaxSharpe(trials, 1);
      expect(next).toBeGreaterThan(previous);
      previous = next;
    }
    expect(expectedMaxSharpe(0.5, 1)).toBeNaN();
    expect(expectedMaxSharpe(10, -1)).toBeNaN();
  });
});

describe("minimum track record length", () => {
  test("a track record of exactly that length reaches the confidence", () => {
    for (const bar of [0, 0.5, 1]) {
      for (const confidence of [0.9, 0.95, 0.99]) {
        const periods = minTrackRecordLength(estimate, bar, confidence);
        expect(probabilisticSharpe({ ...estimate, periods }, bar)).toBeCloseTo(confidence, 12);
      }
    }
  });

  test("+∞ when the Sharpe ratio does not beat the bar; NaN when undefined", () => {
    expect(minTrackRecordLength(estimate, estimate.sharpe)).toBe(Number.POSITIVE_INFINITY);
    expect(minTrackRecordLength({ ...estimate, sharpe: -1 })).toBe(Number.POSITIVE_INFINITY);
    expect(minTrackRecordLength(estimate, 0, 1)).toBeNaN();
    expect(minTrackRecordLength([0.01, 0.01])).toBeNaN();
  });
});

describe("standard error of a Sharpe ratio", () => {
  test("normal returns: √((1 + SR²/2)/(n − 1)), per period, annualised", () => {
    const sr = 1.5 / Math.sqrt(252);
    const expected = Math.sqrt((1 + (sr * sr) / 2) / 999) * Math.sqrt(252);
    expect(sharpeStandardError({ sharpe: 1.5, periods: 1000, skewness: 0, kurtosis: 3 }, 252)).toBeCloseTo(
      expected,
      15,
    );
  });

  test("negative skewness and fat tails widen it; fewer than two periods make it NaN", () => {
    const normal = sharpeStandardError({ sharpe: 2, periods: 250, skewness: 0, kurtosis: 3 }, 252);
    expect(sharpeStandardError({ sharpe: 2, periods: 250, skewness: -1, kurtosis: 8 }, 252)).toBeGreaterThan(normal);
    expect(sharpeStandardError({ sharpe: 2, periods: 1, skewness: 0, kurtosis: 3 }, 252)).toBeNaN();
  });
});
