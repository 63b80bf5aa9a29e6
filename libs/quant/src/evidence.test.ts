import { describe, expect, test } from "vitest";
import { metricsOf, sharpe } from "./batch.js";
import {
  type BacktestEvidence,
  bootstrapSharpes,
  checkEvidence,
  type EvidenceSummary,
  summariseEvidence,
} from "./evidence.js";
import { normalQuantile } from "./normal.js";
import { linearPercentile } from "./quantile.js";
import { sharpeStandardError } from "./sharpe-inference.js";

const DESIGN_RETURNS = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.03, -0.015, 0.005, 0.01];
const FEW_RUNS = { monteCarloRuns: 50 };

/** Normal returns with this mean and sd per period, from a seeded mulberry32 stream. */
function normalReturns(n: number, mean: number, sd: number, seed: number): number[] {
  let state = seed | 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t = ((t + Math.imul(t ^ (t >>> 7), t | 61)) | 0) ^ t;
    return (((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296;
  };
  return Array.from({ length: n }, () => mean + sd * normalQuantile(uniform()));
}

/** Every number anywhere in a value. */
function numbersIn(value: unknown): number[] {
  if (typeof value === "number") return [value];
  if (value === null || typeof value !== "object") return [];
  return Object.values(value).flatMap(numbersIn);
}

describe("checkEvidence", () => {
  const valid: BacktestEvidence = {
    returns: DESIGN_RETURNS,
    periodsPerYear: 252,
    trades: [0.01, -0.02],
    oosStart: 6,
    folds: [
      [0, 5],
      [5, 10],
    ],
    perturbations: [{ param: "lookback", change: -0.1, sharpe: 2.5 }],
    regimes: DESIGN_RETURNS.map((_, i) => (i < 5 ? "bull" : "bear")),
    trials: 3,
    trialSharpes: [1, 2],
  };

  test("complete, valid evidence has no problem, and neither has the minimum", () => {
    expect(checkEvidence(valid)).toBeUndefined();
    expect(checkEvidence({ returns: [0.01, 0.02] })).toBeUndefined();
    expect(checkEvidence({ ...valid, trades: [], trialSharpes: [], folds: [], perturbations: [] })).toBeUndefined();
  });

  const cases: [string, unknown, string][] = [
    ["not an object", null, ""],
    ["returns missing", { periodsPerYear: 252 }, "returns"],
    ["one return", { returns: [0.01] }, "returns"],
    ["a NaN return", { returns: [0.01, 0.02, Number.NaN] }, "returns[2]"],
    ["a string return", { returns: [0.01, "0.02"] }, "returns[1]"],
    ["A = 0", { ...valid, periodsPerYear: 0 }, "periodsPerYear"],
    ["an infinite trade", { ...valid, trades: [0.01, Number.POSITIVE_INFINITY] }, "trades[1]"],
    ["oosStart 0", { ...valid, oosStart: 0 }, "oosStart"],
    ["oosStart n", { ...valid, oosStart: 10 }, "oosStart"],
    ["fractional oosStart", { ...valid, oosStart: 4.5 }, "oosStart"],
    ["folds not an array", { ...valid, folds: "0-5" }, "folds"],
    ["a fold not a pair", { ...valid, folds: [[0, 5], [5]] }, "folds[1]"],
    ["a fold start past n", { ...valid, folds: [[10, 10]] }, "folds[0][0]"],
    [
      "a fold end past n",
      {
        ...valid,
        folds: [
          [0, 5],
          [5, 11],
        ],
      },
      "folds[1][1]",
    ],
    [
      "an empty fold",
      {
        ...valid,
        folds: [
          [0, 5],
          [5, 10],
          [4, 4],
        ],
      },
      "folds[2]",
    ],
    ["a fold backwards", { ...valid, folds: [[6, 2]] }, "folds[0]"],
    [
      "a perturbation without param",
      { ...valid, perturbations: [{ param: "", change: 0.1, sharpe: 1 }] },
      "perturbations[0].param",
    ],
    ["a zero change", { ...valid, perturbations: [{ param: "a", change: 0, sharpe: 1 }] }, "perturbations[0].change"],
    [
      "a NaN perturbed Sharpe",
      { ...valid, perturbations: [{ param: "a", change: 0.1, sharpe: Number.NaN }] },
      "perturbations[0].sharpe",
    ],
    ["a perturbation not an object", { ...valid, perturbations: [3] }, "perturbations[0]"],
    ["regimes too short", { ...valid, regimes: ["bull"] }, "regimes"],
    ["a regime not a string", { ...valid, regimes: valid.regimes?.map((r, i) => (i === 7 ? 7 : r)) }, "regimes[7]"],
    ["zero trials", { ...valid, trials: 0 }, "trials"],
    ["fractional trials", { ...valid, trials: 2.5 }, "trials"],
    ["a NaN trial Sharpe", { ...valid, trialSharpes: [1, Number.NaN] }, "trialSharpes[1]"],
  ];
  for (const [what, evidence, field] of cases) {
    test(`${what}: the problem names ${field || "the evidence"}, and summariseEvidence throws it`, () => {
      const problem = checkEvidence(evidence as BacktestEvidence);
      expect(problem?.field).toBe(field);
      expect(problem?.message).toBeTruthy();
      expect(() => summariseEvidence(evidence as BacktestEvidence, FEW_RUNS)).toThrow(RangeError);
      if (field) expect(() => summariseEvidence(evidence as BacktestEvidence, FEW_RUNS)).toThrow(`${field}: `);
    });
  }

  test("options out of range are refused", () => {
    const evidence = { returns: DESIGN_RETURNS };
    expect(() => summariseEvidence(evidence, { monteCarloRuns: 0 })).toThrow(RangeError);
    expect(() => summariseEvidence(evidence, { monteCarloRuns: 2.5 })).toThrow(RangeError);
    expect(() => summariseEvidence(evidence, { seed: -1 })).toThrow(RangeError);
    expect(() => summariseEvidence(evidence, { seed: 2 ** 32 })).toThrow(RangeError);
    expect(summariseEvidence(evidence, { seed: 2 ** 32 - 1, monteCarloRuns: 1 }).monteCarlo.seed).toBe(2 ** 32 - 1);
  });
});

describe("summariseEvidence", () => {
  test("the whole run's figures are the package's metrics of the returns, bit for bit", () => {
    const returns = normalReturns(500, 0.0005, 0.01, 4);
    const metrics = metricsOf(returns, { periodsPerYear: 52 });
    const s = summariseEvidence({ returns, periodsPerYear: 52 }, FEW_RUNS);
    expect(s.periods).toBe(500);
    expect(s.periodsPerYear).toBe(52);
    expect(s.sharpe).toBe(metrics.sharpe);
    expect(s.maxDrawdown).toBe(-metrics.maxDrawdown);
    expect(s.maxDrawdown).toBeGreaterThan(0);
    expect(s.skewness).toBe(metrics.skewness);
    expect(s.kurtosis).toBe(metrics.kurtosis);
  });

  test("the defaults: A = 252, trades = periods, one trial, nothing else known", () => {
    const s = summariseEvidence({ returns: DESIGN_RETURNS }, FEW_RUNS);
    expect(s).toMatchObject({
      periods: 10,
      periodsPerYear: 252,
      trades: 10,
      inSampleSharpe: null,
      outOfSampleSharpe: null,
      folds: 0,
      positiveFolds: 0,
      perturbation: { runs: 0, worstRatio: null, worst: null },
      regimes: [],
      trials: 1,
      trialSharpeVariance: null,
    });
    expect(s.monteCarlo).toMatchObject({ runs: 50, seed: 1, resampled: "returns" });
    // DESIGN.md's check vector.
    expect(s.sharpe).toBeCloseTo(3.937981, 6);
    expect(s.maxDrawdown).toBeCloseTo(0.02, 15);
  });

  test("undefined figures are null, never NaN, and the summary survives JSON", () => {
    const flat = summariseEvidence(
      { returns: [0.01, 0.01, 0.01, -1.5, 0.5], oosStart: 3, regimes: ["a", "a", "a", "b", "b"], trades: [0.02] },
      FEW_RUNS,
    );
    expect(flat.inSampleSharpe).toBeNull(); // constant part
    expect(flat.maxDrawdown).toBeNull(); // wealth went negative
    expect(flat.regimes[0]).toEqual({ regime: "a", periods: 3, sharpe: null });
    expect(flat.monteCarlo).toMatchObject({ runs: 0, resampled: "trades", p5Sharpe: null }); // one trade
    const constant = summariseEvidence({ returns: [0.001, 0.001, 0.001] }, FEW_RUNS);
    expect([constant.sharpe, constant.skewness, constant.kurtosis, constant.monteCarlo.p5Sharpe]).toEqual([
      null,
      null,
      null,
      null,
    ]);
    for (const s of [flat, constant]) {
      expect(numbersIn(s).every(Number.isFinite)).toBe(true);
      expect(JSON.parse(JSON.stringify(s))).toEqual(s);
    }
  });

  test("in-sample and out-of-sample Sharpe ratios are those of the two parts", () => {
    const returns = normalReturns(300, 0.0008, 0.01, 9);
    const s = summariseEvidence({ returns, oosStart: 200 }, FEW_RUNS);
    expect(s.inSampleSharpe).toBe(sharpe(returns.slice(0, 200)));
    expect(s.outOfSampleSharpe).toBe(sharpe(returns.slice(200)));
    expect(s.inSampleSharpe).not.toBe(s.outOfSampleSharpe);
    // One return on a side has no Sharpe ratio.
    expect(summariseEvidence({ returns, oosStart: 299 }, FEW_RUNS).outOfSampleSharpe).toBeNull();
    expect(summariseEvidence({ returns, oosStart: 1 }, FEW_RUNS).inSampleSharpe).toBeNull();
  });

  test("a fold is positive when its compounded return is, and one that nets exactly zero is not", () => {
    const returns = [0.25, -0.2, 0.25, -0.19, 0.1, -1, 0.5, 0.01, -0.01, 0.02];
    const positiveFolds = (folds: Array<[number, number]>): number =>
      summariseEvidence({ returns, folds }, FEW_RUNS).positiveFolds;
    expect(positiveFolds([[0, 2]])).toBe(0); // 1.25 × 0.8 = 1
    // (1 + 1/23)(1 − 1/24) = 1, but the logarithms of the rounded returns sum to +7e-18.
    expect(Math.log1p(1 / 23) + Math.log1p(-1 / 24)).toBeGreaterThan(0);
    expect(summariseEvidence({ returns: [1 / 23, -1 / 24], folds: [[0, 2]] }, FEW_RUNS).positiveFolds).toBe(0);
    expect(positiveFolds([[2, 4]])).toBe(1); // 1.25 × 0.81 > 1
    expect(positiveFolds([[4, 7]])).toBe(0); // ruined by −1, whatever follows
    expect(positiveFolds([[7, 9]])).toBe(0); // 1.01 × 0.99 < 1
    expect(positiveFolds([[9, 10]])).toBe(1);
    const s = summariseEvidence(
      {
        returns,
        folds: [
          [0, 2],
          [2, 4],
          [4, 7],
          [7, 9],
          [9, 10],
          [0, 10],
        ],
      },
      FEW_RUNS,
    );
    expect([s.folds, s.positiveFolds]).toEqual([6, 2]);
  });

  test("regimes: each label's returns in order, their count and Sharpe ratio, sorted by name", () => {
    const returns = normalReturns(200, 0.0004, 0.01, 5);
    const labels = returns.map((_, i) => (i % 7 === 0 ? "volatile" : i < 120 ? "Trend" : "range"));
    const s = summariseEvidence({ returns, regimes: labels }, FEW_RUNS);
    expect(s.regimes.map((r) => r.regime)).toEqual(["Trend", "range", "volatile"]); // code-unit order
    for (const r of s.regimes) {
      const own = returns.filter((_, i) => labels[i] === r.regime);
      expect(r.periods).toBe(own.length);
      expect(r.sharpe).toBe(sharpe(own));
    }
    expect(s.regimes.reduce((total, r) => total + r.periods, 0)).toBe(200);
  });

  test("perturbations: the worst ratio to the Sharpe ratio and which one gave it", () => {
    const returns = normalReturns(250, 0.002, 0.01, 12);
    const full = sharpe(returns);
    expect(full).toBeGreaterThan(0);
    const perturbations = [
      { param: "lookback", change: 0.1, sharpe: full * 1.1 },
      { param: "lookback", change: -0.1, sharpe: full * 0.4 },
      { param: "stop", change: 0.1, sharpe: full * 0.7 },
    ];
    const s = summariseEvidence({ returns, perturbations }, FEW_RUNS);
    expect(s.perturbation.runs).toBe(3);
    expect(s.perturbation.worstRatio).toBeCloseTo(0.4, 14);
    expect(s.perturbation.worst).toEqual({ param: "lookback", change: -0.1 });
    // Against a Sharpe ratio at or below 0 a ratio says nothing.
    const losing = returns.map((r) => -r);
    const none = summariseEvidence({ returns: losing, perturbations }, FEW_RUNS).perturbation;
    expect(none).toEqual({ runs: 3, worstRatio: null, worst: null });
  });

  test("trials and the sample variance of the trial Sharpe ratios", () => {
    const s = summariseEvidence({ returns: DESIGN_RETURNS, trials: 4, trialSharpes: [0.5, 1, 1.5, 3] }, FEW_RUNS);
    expect(s.trials).toBe(4);
    // mean 1.5; squared deviations 1, 0.25, 0, 2.25 → 3.5 / 3
    expect(s.trialSharpeVariance).toBeCloseTo(3.5 / 3, 15);
    expect(summariseEvidence({ returns: DESIGN_RETURNS, trialSharpes: [2] }, FEW_RUNS).trialSharpeVariance).toBeNull();
    expect(summariseEvidence({ returns: DESIGN_RETURNS, trialSharpes: [2, 2] }, FEW_RUNS).trialSharpeVariance).toBe(0);
  });
});

describe("Monte Carlo", () => {
  const trades = normalReturns(400, 0.002, 0.01, 21);

  test("the same seed gives the same figure, another seed another", () => {
    const at = (seed: number): EvidenceSummary["monteCarlo"] =>
      summariseEvidence({ returns: DESIGN_RETURNS, trades }, { monteCarloRuns: 200, seed }).monteCarlo;
    expect(at(7)).toEqual(at(7));
    expect(at(7).p5Sharpe).not.toBe(at(8).p5Sharpe);
    expect(bootstrapSharpes(trades, 100, 7, 252)).toEqual(bootstrapSharpes(trades, 100, 7, 252));
    expect(bootstrapSharpes(trades, 100, 7, 252)).not.toEqual(bootstrapSharpes(trades, 100, 8, 252));
  });

  test("trades are resampled when given, else the returns", () => {
    const returns = normalReturns(400, -0.002, 0.01, 22);
    const withTrades = summariseEvidence({ returns, trades }, FEW_RUNS).monteCarlo;
    const withoutTrades = summariseEvidence({ returns }, FEW_RUNS).monteCarlo;
    expect(withTrades.resampled).toBe("trades");
    expect(withoutTrades.resampled).toBe("returns");
    expect(withTrades.p5Sharpe).toBeGreaterThan(0);
    expect(withoutTrades.p5Sharpe).toBeLessThan(0);
  });

  test("a strongly positive drift keeps p5 above 0; a zero-mean series does not", () => {
    const drift = summariseEvidence({ returns: normalReturns(1000, 0.003, 0.01, 31) }).monteCarlo.p5Sharpe;
    expect(drift).toBeGreaterThan(2);
    for (const seed of [32, 33, 34]) {
      const zero = normalReturns(1000, 0, 0.01, seed);
      const centred = zero.map((r) => r - zero.reduce((a, b) => a + b, 0) / zero.length);
      expect(summariseEvidence({ returns: centred }).monteCarlo.p5Sharpe).toBeLessThan(0);
    }
  });

  test("the resamples spread as a Sharpe estimate's standard error says they should", () => {
    const returns = normalReturns(2000, 0.0006, 0.01, 41);
    const sharpes = bootstrapSharpes(returns, 2000, 5, 252);
    const metrics = metricsOf(returns);
    const mean = sharpes.reduce((a, b) => a + b, 0) / sharpes.length;
    const sd = Math.sqrt(sharpes.reduce((a, b) => a + (b - mean) ** 2, 0) / (sharpes.length - 1));
    const se = sharpeStandardError(metrics, 252);
    expect(Math.abs(mean - metrics.sharpe)).toBeLessThan(0.1 * se);
    expect(sd / se).toBeGreaterThan(0.92);
    expect(sd / se).toBeLessThan(1.08);
    expect(Array.from(sharpes)).toEqual(Array.from(sharpes).sort((a, b) => a - b));
  });

  test("resamples of all-equal draws have no Sharpe ratio and rank lowest", () => {
    // Two values: each resample of two draws is all-equal half of the time.
    const sharpes = bootstrapSharpes([0.01, 0.03], 400, 1, 252);
    const undefinedRuns = sharpes.filter((x) => x === Number.NEGATIVE_INFINITY).length;
    expect(undefinedRuns).toBeGreaterThan(150);
    expect(undefinedRuns).toBeLessThan(250);
    expect(sharpes.slice(0, undefinedRuns).every((x) => x === Number.NEGATIVE_INFINITY)).toBe(true);
    expect(sharpes.slice(undefinedRuns).every(Number.isFinite)).toBe(true);
    expect(summariseEvidence({ returns: [0.01, 0.03] }).monteCarlo.p5Sharpe).toBeNull();
    expect(summariseEvidence({ returns: DESIGN_RETURNS, trades: [0.02, 0.02, 0.02] }).monteCarlo.p5Sharpe).toBeNull();
  });

  test("the 5th percentile interpolates linearly between order statistics, as numpy's default", () => {
    expect(linearPercentile([1, 2, 3, 4, 5], 0.05)).toBeCloseTo(1.2, 15); // h = 0.2
    expect(linearPercentile([10, 20], 0.05)).toBeCloseTo(10.5, 15);
    expect(
      linearPercentile(
        Array.from({ length: 21 }, (_, i) => i),
        0.05,
      ),
    ).toBe(1); // h = 1 exactly
    expect(linearPercentile([7], 0.05)).toBe(7);
    expect(linearPercentile([], 0.05)).toBeNaN();
    expect(linearPercentile([1, 2, 3], 0)).toBe(1);
    expect(linearPercentile([1, 2, 3], 1)).toBe(3);
    // Interpolating towards an undefined run is undefined.
    expect(linearPercentile([Number.NEGATIVE_INFINITY, 1, 2], 0.05)).toBeNaN();
  });
});
