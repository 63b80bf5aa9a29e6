import { describe, expect, test } from "vitest";
import { metricsOf } from "./batch.js";
import { type Forecast, forecastSharpe, type OwnEstimate } from "./forecast.js";
import { normalQuantile } from "./normal.js";
import { type SharpeEstimate, sharpeStandardError } from "./sharpe-inference.js";

const A = 252;

/** xoshiro128** (Blackman & Vigna): a small seeded generator, so the simulation is the same every run. */
function generator(seed: number): () => number {
  let a = seed >>> 0 || 1;
  let b = 0x9e3779b9;
  let c = 0x243f6a88;
  let d = 0xb7e15162;
  const next = (): number => {
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    const t = b << 9;
    c ^= a;
    d ^= b;
    b ^= c;
    a ^= d;
    c ^= t;
    d = rotl(d, 11);
    return result / 4294967296;
  };
  for (let i = 0; i < 16; i++) next();
  return next;
}
const rotl = (x: number, k: number): number => (x << k) | (x >>> (32 - k));

function normalSampler(uniform: () => number): () => number {
  return () => normalQuantile(uniform() * (1 - 2 ** -32) + 2 ** -33);
}

/** Noise with mean 0 and variance 1, normal, fat-tailed (Student t, 5 df) or negatively skewed (lognormal). */
type Noise = "normal" | "fatTailed" | "skewed";
function noiseSampler(kind: Noise, normal: () => number): () => number {
  if (kind === "normal") return normal;
  if (kind === "fatTailed") {
    return () => {
      let chi2 = 0;
      for (let i = 0; i < 5; i++) chi2 += normal() ** 2;
      return normal() / Math.sqrt(chi2 / 5) / Math.sqrt(5 / 3);
    };
  }
  const mean = Math.exp(0.125);
  const sd = Math.sqrt((Math.exp(0.25) - 1) * Math.exp(0.25));
  return () => -(Math.exp(0.5 * normal()) - mean) / sd;
}

interface Strategy {
  trueSharpe: number;
  own: OwnEstimate;
  regime: SharpeEstimate;
}

/**
 * Strategies whose true annual Sharpe ratio is drawn from N(0.5, 0.5²), each with 60–750 daily
 * returns of that Sharpe ratio (and a separate 60–250-day regime window), noise of each kind.
 */
function simulate(count: number, seed: number): Strategy[] {
  const uniform = generator(seed);
  const normal = normalSampler(uniform);
  const kinds: Noise[] = ["normal", "fatTailed", "skewed"];
  const strategies: Strategy[] = [];
  for (let i = 0; i < count; i++) {
    const trueSharpe = 0.5 + 0.5 * normal();
    const noise = noiseSampler(kinds[i % kinds.length] as Noise, normal);
    const sigma = 0.005 + 0.015 * uniform();
    const mu = (trueSharpe / Math.sqrt(A)) * sigma;
    const track = (days: number): number[] => Array.from({ length: days }, () => mu + sigma * noise());
    const m = metricsOf(track(60 + Math.floor(uniform() * 691)));
    const r = metricsOf(track(60 + Math.floor(uniform() * 191)));
    strategies.push({
      trueSharpe,
      own: { ...m, meanReturn: m.mean, volatility: m.volatility },
      regime: { sharpe: r.sharpe, periods: r.periods, skewness: r.skewness, kurtosis: r.kurtosis },
    });
  }
  return strategies;
}

interface Score {
  coverage: number;
  mseForecast: number;
  mseRaw: number;
}

function score(strategies: Strategy[], forecastOf: (s: Strategy, peers: SharpeEstimate[]) => Forecast): Score {
  const estimates = strategies.map(({ own: { sharpe, periods, skewness, kurtosis } }) => ({
    sharpe,
    periods,
    skewness,
    kurtosis,
  }));
  let covered = 0;
  let squaredForecast = 0;
  let squaredRaw = 0;
  strategies.forEach((s, i) => {
    const peers = estimates.filter((_, j) => j !== i);
    const f = forecastOf(s, peers);
    if (f.low <= s.trueSharpe && s.trueSharpe <= f.high) covered++;
    squaredForecast += (f.sharpe - s.trueSharpe) ** 2;
    squaredRaw += (f.raw - s.trueSharpe) ** 2;
  });
  return {
    coverage: covered / strategies.length,
    mseForecast: squaredForecast / strategies.length,
    mseRaw: squaredRaw / strategies.length,
  };
}

describe("forecastSharpe calibration (2,000 simulated strategies)", () => {
  const strategies = simulate(2_000, 20_240_607);

  test("90% intervals cover the true Sharpe ratio 85–95% of the time; shrinking beats the raw estimate", () => {
    const { coverage, mseForecast, mseRaw } = score(strategies, (s, peers) =>
      forecastSharpe(s.own, peers, { periodsPerYear: A }),
    );
    expect(coverage).toBeGreaterThanOrEqual(0.85);
    expect(coverage).toBeLessThanOrEqual(0.95);
    expect(mseForecast).toBeLessThan(mseRaw);
  });

  test("with a regime record: still calibrated, and closer to the truth than without it", () => {
    const without = score(strategies, (s, peers) => forecastSharpe(s.own, peers, { periodsPerYear: A }));
    const withRegime = score(strategies, (s, peers) =>
      forecastSharpe(s.own, peers, { periodsPerYear: A, regime: s.regime }),
    );
    expect(withRegime.coverage).toBeGreaterThanOrEqual(0.85);
    expect(withRegime.coverage).toBeLessThanOrEqual(0.95);
    expect(withRegime.mseForecast).toBeLessThan(without.mseForecast);
  });
});

describe("forecastSharpe", () => {
  const own: OwnEstimate = { sharpe: 2, periods: 250, skewness: 0, kurtosis: 3, meanReturn: 0.001, volatility: 0.126 };
  const se = sharpeStandardError(own, A);
  const z = normalQuantile(0.95);

  test("without peers: the raw estimate ± z·SE, no shrinkage", () => {
    const f = forecastSharpe(own, [], { periodsPerYear: A });
    expect(f.sharpe).toBe(2);
    expect(f.shrinkage).toBe(0);
    expect(f.prior).toBeNaN();
    expect(f.low).toBeCloseTo(2 - z * se, 12);
    expect(f.high).toBeCloseTo(2 + z * se, 12);
    expect(f.confidence).toBe(0.9);
  });

  test("shrinks toward the peers' mean by SE²/(τ² + SE²)", () => {
    const peers: SharpeEstimate[] = [-0.5, 0, 0.5, 1, 1.5, 2.5].map((sharpe) => ({
      sharpe,
      periods: 2_000,
      skewness: 0,
      kurtosis: 3,
    }));
    const f = forecastSharpe(own, peers, { periodsPerYear: A, confidence: 0.8 });
    const peerSe2 = peers.map((p) => sharpeStandardError(p, A) ** 2);
    const prior = 5 / 6;
    const spread = peers.reduce((sum, p) => sum + (p.sharpe - prior) ** 2, 0) / 5;
    const tau2 = spread - peerSe2.reduce((sum, x) => sum + x, 0) / 6;
    const weight = (se * se) / (tau2 + se * se);
    expect(f.prior).toBeCloseTo(prior, 14);
    expect(f.priorVariance).toBeCloseTo(tau2, 14);
    expect(f.shrinkage).toBeCloseTo(weight, 14);
    expect(f.sharpe).toBeCloseTo(2 * (1 - weight) + prior * weight, 14);
    // Posterior variance, plus the prior mean's own uncertainty (spread / k) carried by the weight.
    const variance = (tau2 * se * se) / (tau2 + se * se) + weight * weight * (spread / 6);
    expect(f.high - f.sharpe).toBeCloseTo(normalQuantile(0.9) * Math.sqrt(variance), 12);
  });

  test("peers whose spread is all noise: the forecast is their mean", () => {
    const peers = [0.9, 1.1, 1, 1].map((sharpe) => ({ sharpe, periods: 100, skewness: 0, kurtosis: 3 }));
    const f = forecastSharpe(own, peers, { periodsPerYear: A });
    expect(f.priorVariance).toBe(0);
    expect(f.shrinkage).toBe(1);
    expect(f.sharpe).toBe(1);
    expect(f.high).toBeGreaterThan(f.low);
  });

  test("a regime record counts as one more measurement, by its precision", () => {
    const regime: SharpeEstimate = { sharpe: 0, periods: 250, skewness: 0, kurtosis: 3 };
    const f = forecastSharpe(own, [], { periodsPerYear: A, regime });
    const seRegime = sharpeStandardError(regime, A);
    const w = 1 / se ** 2 / (1 / se ** 2 + 1 / seRegime ** 2);
    expect(f.sharpe).toBeCloseTo(2 * w, 14);
    expect(f.high - f.sharpe).toBeCloseTo(z / Math.sqrt(1 / se ** 2 + 1 / seRegime ** 2), 14);
  });

  test("the return forecast is Sharpe × volatility / A above the risk-free rate of the own estimate", () => {
    const consistent: OwnEstimate = { ...own, meanReturn: (2 * 0.126) / A };
    const f = forecastSharpe(consistent, [], { periodsPerYear: A });
    expect(f.returnMean).toBeCloseTo((f.sharpe * 0.126) / A, 16);
    expect(f.returnLow).toBeCloseTo((f.low * 0.126) / A, 16);
    expect(f.returnHigh).toBeCloseTo((f.high * 0.126) / A, 16);
    const withRiskFree = forecastSharpe({ ...consistent, meanReturn: consistent.meanReturn + 0.0001 }, [], {
      periodsPerYear: A,
    });
    expect(withRiskFree.returnMean).toBeCloseTo(f.returnMean + 0.0001, 16);
  });

  test("no usable measurement: the prior; nothing at all: NaN; bad options: RangeError", () => {
    const peers = [0, 1, 2, 3].map((sharpe) => ({ sharpe, periods: 5_000, skewness: 0, kurtosis: 3 }));
    const blank: OwnEstimate = { ...own, sharpe: Number.NaN, periods: 1 };
    expect(forecastSharpe(blank, peers, { periodsPerYear: A }).sharpe).toBeCloseTo(1.5, 14);
    expect(forecastSharpe(blank, peers, { periodsPerYear: A }).shrinkage).toBe(1);
    expect(forecastSharpe(blank, [], { periodsPerYear: A }).sharpe).toBeNaN();
    expect(() => forecastSharpe(own, [], { periodsPerYear: 0 })).toThrow(RangeError);
    expect(() => forecastSharpe(own, [], { periodsPerYear: A, confidence: 1 })).toThrow(RangeError);
  });
});
