import { describe, expect, test } from "vitest";
import { type EvidenceSummary, summariseEvidence } from "./evidence.js";
import {
  DEFAULT_GATES,
  evaluateGates,
  type FamilyTrials,
  type GateName,
  GateNames,
  type GateResult,
  type GateThresholds,
  passesGate,
} from "./gates.js";
import { expectedMaxSharpe } from "./inference.js";
import { normalQuantile } from "./normal.js";
import { probabilisticSharpe } from "./sharpe-inference.js";

const ONE_TRIAL: FamilyTrials = { trials: 1, sharpeVariance: null };

/** A summary that passes every default gate, to change one figure at a time. */
function passing(): EvidenceSummary {
  return {
    periods: 1260,
    periodsPerYear: 252,
    trades: 1500,
    sharpe: 2,
    maxDrawdown: 0.12,
    skewness: 0,
    kurtosis: 3,
    inSampleSharpe: 2.2,
    outOfSampleSharpe: 1.6,
    folds: 10,
    positiveFolds: 8,
    monteCarlo: { runs: 1000, seed: 1, resampled: "trades", p5Sharpe: 0.9 },
    perturbation: { runs: 4, worstRatio: 0.8, worst: { param: "lookback", change: -0.1 } },
    regimes: [
      { regime: "bear", periods: 300, sharpe: 0.4 },
      { regime: "bull", periods: 900, sharpe: 2.5 },
      { regime: "crash", periods: 20, sharpe: -3 },
    ],
    trials: 1,
    trialSharpeVariance: null,
  };
}

function gate(
  summary: EvidenceSummary,
  name: GateName,
  thresholds: GateThresholds = DEFAULT_GATES,
  family = ONE_TRIAL,
): GateResult {
  const result = evaluateGates(summary, thresholds, family).gates.find((g) => g.gate === name);
  if (result === undefined) throw new Error(`no ${name} gate in the evaluation`);
  return result;
}

function changed(changes: Partial<EvidenceSummary>): EvidenceSummary {
  return { ...passing(), ...changes };
}

/** n daily returns whose sample Sharpe ratio is exactly `annualSharpe` (seeded normal noise, standardised). */
function returnsWithSharpe(n: number, annualSharpe: number, seed: number): number[] {
  let state = seed | 0;
  const z = Array.from({ length: n }, () => {
    state = (state + 0x6d2b79f5) | 0;
    let t = Math.imul(state ^ (state >>> 15), state | 1);
    t = ((t + Math.imul(t ^ (t >>> 7), t | 61)) | 0) ^ t;
    return normalQuantile((((t ^ (t >>> 14)) >>> 0) + 0.5) / 4294967296);
  });
  const mean = z.reduce((a, b) => a + b, 0) / n;
  const sd = Math.sqrt(z.reduce((a, b) => a + (b - mean) ** 2, 0) / (n - 1));
  const sigma = 0.01;
  return z.map((x) => (annualSharpe / Math.sqrt(252)) * sigma + ((x - mean) / sd) * sigma);
}

describe("evaluateGates", () => {
  test("lists every gate in order, with value, threshold and comparison; passes when all pass", () => {
    const evaluation = evaluateGates(passing(), DEFAULT_GATES, ONE_TRIAL);
    expect(evaluation.gates.map((g) => g.gate)).toEqual(Object.values(GateNames));
    expect(evaluation.gates.map((g) => g.comparison)).toEqual([">=", ">", "<", ">=", ">=", ">", ">=", ">=", ">="]);
    expect(evaluation.gates.filter((g) => !g.passed)).toEqual([]);
    expect(evaluation.passed).toBe(true);
    expect(evaluation.gates.find((g) => g.gate === GateNames.Trades)).toEqual({
      gate: "trades",
      value: 1500,
      threshold: 1000,
      comparison: ">=",
      passed: true,
    });
  });

  test("one failing gate fails the evaluation, and the others still show", () => {
    const evaluation = evaluateGates(changed({ trades: 10 }), DEFAULT_GATES, ONE_TRIAL);
    expect(evaluation.passed).toBe(false);
    expect(evaluation.gates.filter((g) => !g.passed).map((g) => g.gate)).toEqual(["trades"]);
    expect(evaluation.gates).toHaveLength(9);
  });

  test("missing evidence fails every gate it feeds, with value null and what is missing", () => {
    const bare = summariseEvidence({ returns: returnsWithSharpe(1260, 2, 3) }, { monteCarloRuns: 100 });
    const evaluation = evaluateGates(bare, DEFAULT_GATES, ONE_TRIAL);
    const failed = Object.fromEntries(evaluation.gates.filter((g) => !g.passed).map((g) => [g.gate, g]));
    expect(Object.keys(failed).sort()).toEqual(["outOfSample", "parameterStability", "regimes", "walkForward"]);
    for (const g of Object.values(failed)) {
      expect(g.value).toBeNull();
      expect(g.detail).toMatch(/^no /);
    }
    expect(failed.outOfSample?.detail).toContain("no out-of-sample split");
    expect(failed.outOfSample?.threshold).toBeNull();
    expect(failed.walkForward?.detail).toBe("no walk-forward folds in the evidence");
    expect(failed.parameterStability?.detail).toBe("no parameter perturbations in the evidence");
    expect(failed.regimes?.detail).toBe("no regime labels in the evidence");
  });

  test("trades: 999 fails, 1000 passes", () => {
    expect(gate(changed({ trades: 999 }), GateNames.Trades).passed).toBe(false);
    expect(gate(changed({ trades: 1000 }), GateNames.Trades).passed).toBe(true);
  });

  test("Sharpe: exactly 1.0 fails the strict gate, 1.0000001 passes, undefined fails", () => {
    expect(gate(changed({ sharpe: 1.0 }), GateNames.Sharpe).passed).toBe(false);
    expect(gate(changed({ sharpe: 1.0000001 }), GateNames.Sharpe).passed).toBe(true);
    // A hair above 1 by rounding alone is 1.
    expect(gate(changed({ sharpe: 1.0000000000000002 }), GateNames.Sharpe).passed).toBe(false);
    const none = gate(changed({ sharpe: null }), GateNames.Sharpe);
    expect([none.passed, none.value, none.detail]).toEqual([false, null, "the Sharpe ratio is undefined"]);
  });

  test("drawdown: exactly 20% by construction fails < 20%, 19% passes", () => {
    const tail = [0.01, 0.02, -0.005, 0.015, 0.01];
    // 1.25 → 1 and 1.01 → 0.909 → 0.808 both fall by exactly 20%; the second computes a hair
    // under it (by way of logarithms), and the gate still compares it as 0.2.
    for (const fall of [
      [0.25, -0.2],
      [0.01, -0.1, -1 / 9],
    ]) {
      const exact = summariseEvidence({ returns: [...fall, ...tail] }, { monteCarloRuns: 10 });
      expect(Math.abs((exact.maxDrawdown as number) - 0.2)).toBeLessThan(1e-15);
      const failed = gate(exact, GateNames.MaxDrawdown);
      expect([failed.passed, failed.threshold, failed.comparison]).toEqual([false, 0.2, "<"]);
    }
    const hair = summariseEvidence({ returns: [0.01, -0.1, -1 / 9, ...tail] }, { monteCarloRuns: 10 });
    expect(hair.maxDrawdown).toBeLessThan(0.2);
    const under = summariseEvidence({ returns: [0.25, -0.19, ...tail] }, { monteCarloRuns: 10 });
    expect(under.maxDrawdown).toBeCloseTo(0.19, 14);
    expect(gate(under, GateNames.MaxDrawdown).passed).toBe(true);
    const ruined = summariseEvidence({ returns: [0.1, -1.5, 0.2] }, { monteCarloRuns: 10 });
    expect(gate(ruined, GateNames.MaxDrawdown)).toMatchObject({ passed: false, value: null });
  });

  test("out-of-sample: OOS Sharpe against the ratio times IS Sharpe, inclusive; IS must be positive", () => {
    const at = (inSampleSharpe: number | null, outOfSampleSharpe: number | null): GateResult =>
      gate(changed({ inSampleSharpe, outOfSampleSharpe }), GateNames.OutOfSample);
    expect(at(2, 1)).toMatchObject({ value: 1, threshold: 1, comparison: ">=", passed: true });
    expect(at(2, 0.999).passed).toBe(false);
    expect(at(1.2, 0.6).passed).toBe(true); // 0.5 × 1.2 = 0.6
    expect(at(2, 3).passed).toBe(true);
    expect(at(0.6, -0.1).passed).toBe(false);
    // A negative IS Sharpe ratio would make "half of it" a bar any loser clears.
    const negative = at(-1, -0.4);
    expect(negative).toMatchObject({ value: -0.4, threshold: -0.5, passed: false });
    expect(negative.detail).toContain("not positive");
    expect(at(0, 1).passed).toBe(false);
    expect(at(null, 1)).toMatchObject({ value: 1, threshold: null, passed: false });
    expect(at(2, null)).toMatchObject({ value: null, threshold: 1, passed: false });
  });

  test("walk-forward: 6 of 10 positive folds pass 60%, 5 of 10 fail, none fails", () => {
    expect(gate(changed({ folds: 10, positiveFolds: 6 }), GateNames.WalkForward)).toMatchObject({
      value: 0.6,
      passed: true,
      detail: "6 of 10 folds positive",
    });
    expect(gate(changed({ folds: 10, positiveFolds: 5 }), GateNames.WalkForward).passed).toBe(false);
    expect(gate(changed({ folds: 5, positiveFolds: 3 }), GateNames.WalkForward).passed).toBe(true);
    const seventy = { ...DEFAULT_GATES, minPositiveFolds: 0.7 };
    expect(gate(changed({ folds: 10, positiveFolds: 7 }), GateNames.WalkForward, seventy).passed).toBe(true);
    expect(gate(changed({ folds: 0, positiveFolds: 0 }), GateNames.WalkForward)).toMatchObject({
      value: null,
      passed: false,
    });
  });

  test("Monte Carlo: p5 exactly 0 fails the strict gate, just above passes, undefined fails", () => {
    const at = (p5Sharpe: number | null, runs = 1000): GateResult =>
      gate(changed({ monteCarlo: { runs, seed: 9, resampled: "trades", p5Sharpe } }), GateNames.MonteCarlo);
    expect(at(0).passed).toBe(false);
    expect(at(1e-9).passed).toBe(true);
    expect(at(-0.2).passed).toBe(false);
    expect(at(0.5).detail).toBe("5th percentile of 1000 bootstrap resamples of the trades (seed 9)");
    expect(at(null)).toMatchObject({ value: null, passed: false });
    expect(at(null).detail).toContain("undefined");
    expect(at(null, 0).detail).toBe("fewer than 2 trades to resample");
  });

  test("parameter stability: the Sharpe ratio may lose at most half, inclusive", () => {
    const at = (worstRatio: number | null, thresholds = DEFAULT_GATES): GateResult =>
      gate(
        changed({
          perturbation: { runs: 2, worstRatio, worst: worstRatio === null ? null : { param: "stop", change: 0.1 } },
        }),
        GateNames.ParameterStability,
        thresholds,
      );
    expect(at(0.5)).toMatchObject({ threshold: 0.5, passed: true, detail: "worst of 2: stop +10%" });
    expect(at(0.4999).passed).toBe(false);
    expect(at(-0.3).passed).toBe(false);
    // 0.15 / 0.30000000000000004 = 0.49999999999999994: half by construction.
    expect(at(0.15 / (0.1 * 3)).passed).toBe(true);
    expect(at(0.7, { ...DEFAULT_GATES, maxPerturbationDrop: 0.3 }).passed).toBe(true);
    expect(at(null).detail).toContain("not positive");
    expect(at(null).passed).toBe(false);
  });

  test("regimes: only regimes with enough periods count, and none of them may be negative", () => {
    const at = (regimes: EvidenceSummary["regimes"]): GateResult => gate(changed({ regimes }), GateNames.Regimes);
    const worst = at(passing().regimes);
    expect(worst).toMatchObject({ value: 0.4, threshold: 0, comparison: ">=", passed: true });
    expect(worst.detail).toBe("worst of 2: bear (300 periods); 1 regime(s) under 60 periods not counted");
    expect(
      at([
        { regime: "bear", periods: 59, sharpe: -1 },
        { regime: "bull", periods: 60, sharpe: 1 },
      ]).passed,
    ).toBe(true);
    expect(
      at([
        { regime: "bear", periods: 60, sharpe: -0.01 },
        { regime: "bull", periods: 600, sharpe: 1 },
      ]),
    ).toMatchObject({
      value: -0.01,
      passed: false,
    });
    expect(at([{ regime: "flat", periods: 100, sharpe: 0 }]).passed).toBe(true);
    expect(at([{ regime: "closed", periods: 100, sharpe: null }])).toMatchObject({ value: null, passed: false });
    const short = at([{ regime: "bull", periods: 10, sharpe: 2 }]);
    expect(short).toMatchObject({ value: null, passed: false });
    expect(short.detail).toContain("no regime has 60 periods");
  });

  describe("Deflated Sharpe Ratio", () => {
    // Five years of daily returns with a Sharpe ratio of exactly 2.
    const summary = summariseEvidence({ returns: returnsWithSharpe(1260, 2, 7) }, { monteCarloRuns: 10 });

    test("the series is what it says", () => {
      expect(summary.sharpe).toBeCloseTo(2, 12);
      expect(summary.periods).toBe(1260);
    });

    test("the same track record passes as the only trial and fails as the best of 1000", () => {
      const alone = gate(summary, GateNames.DeflatedSharpe, DEFAULT_GATES, ONE_TRIAL);
      expect(alone.passed).toBe(true);
      expect(alone.value).toBeGreaterThan(0.999);
      expect(alone.detail).toContain("1 trial(s)");
      expect(alone.detail).toContain("SR* 0");
      const many = gate(summary, GateNames.DeflatedSharpe, DEFAULT_GATES, { trials: 1000, sharpeVariance: null });
      expect(many.passed).toBe(false);
      expect(many.value).toBeLessThan(0.92);
      // With no known spread, A/(T − 1): 252/1259.
      const srStar = expectedMaxSharpe(1000, 252 / 1259);
      expect(many.detail).toBe(
        `1000 trial(s), Sharpe variance ${Number((252 / 1259).toPrecision(4))} (A/(T − 1), no known spread), SR* ${Number(srStar.toPrecision(4))}`,
      );
      expect(many.value).toBe(probabilisticSharpe(summary as Parameters<typeof probabilisticSharpe>[0], srStar));
      // A realistic spread among the variants deflates it further.
      const spread = gate(summary, GateNames.DeflatedSharpe, DEFAULT_GATES, { trials: 1000, sharpeVariance: 0.5 });
      expect(spread.value).toBeLessThan(0.5);
    });

    test("trials: the larger of the family's count and the strategy's own", () => {
      const ownThousand = { ...summary, trials: 1000 };
      expect(gate(ownThousand, GateNames.DeflatedSharpe).detail).toMatch(/^1000 trial\(s\)/);
      expect(gate(ownThousand, GateNames.DeflatedSharpe).passed).toBe(false);
      const family = { trials: 40, sharpeVariance: null };
      expect(gate({ ...summary, trials: 12 }, GateNames.DeflatedSharpe, DEFAULT_GATES, family).detail).toMatch(/^40 /);
    });

    test("variance: the family's, else the evidence's trial Sharpe ratios', else A/(T − 1)", () => {
      const withOwn = { ...summary, trialSharpeVariance: 0.3 };
      const family = (sharpeVariance: number | null): FamilyTrials => ({ trials: 20, sharpeVariance });
      expect(gate(withOwn, GateNames.DeflatedSharpe, DEFAULT_GATES, family(0.1)).detail).toContain(
        "variance 0.1 (the family's)",
      );
      expect(gate(withOwn, GateNames.DeflatedSharpe, DEFAULT_GATES, family(null)).detail).toContain(
        "variance 0.3 (the evidence's",
      );
      expect(gate(summary, GateNames.DeflatedSharpe, DEFAULT_GATES, family(null)).detail).toContain("A/(T − 1)");
      const low = gate(withOwn, GateNames.DeflatedSharpe, DEFAULT_GATES, family(0.1)).value as number;
      const high = gate(withOwn, GateNames.DeflatedSharpe, DEFAULT_GATES, family(null)).value as number;
      expect(low).toBeGreaterThan(high);
    });

    test("an undefined Sharpe ratio fails", () => {
      expect(gate(changed({ sharpe: null }), GateNames.DeflatedSharpe)).toMatchObject({ value: null, passed: false });
    });
  });

  test("thresholds and the family are checked", () => {
    expect(() => evaluateGates(passing(), { ...DEFAULT_GATES, minSharpe: Number.NaN }, ONE_TRIAL)).toThrow(/minSharpe/);
    expect(() => evaluateGates(passing(), { ...DEFAULT_GATES, minTrades: undefined } as never, ONE_TRIAL)).toThrow(
      /minTrades/,
    );
    expect(() => evaluateGates(passing(), DEFAULT_GATES, { trials: 0, sharpeVariance: null })).toThrow(RangeError);
    expect(() => evaluateGates(passing(), DEFAULT_GATES, { trials: 1.5, sharpeVariance: null })).toThrow(RangeError);
    expect(() => evaluateGates(passing(), DEFAULT_GATES, { trials: 5, sharpeVariance: -0.1 })).toThrow(RangeError);
  });

  test("the default gates are the brief's, frozen", () => {
    expect(DEFAULT_GATES).toEqual({
      minTrades: 1000,
      minSharpe: 1,
      maxDrawdown: 0.2,
      minOutOfSampleRatio: 0.5,
      minPositiveFolds: 0.6,
      minMonteCarloP5Sharpe: 0,
      maxPerturbationDrop: 0.5,
      regimeMinPeriods: 60,
      minDeflatedSharpe: 0.95,
    });
    expect(Object.isFrozen(DEFAULT_GATES)).toBe(true);
  });
});

describe("passesGate", () => {
  test("each comparison, at 12 significant digits", () => {
    expect(passesGate(0.19999999999999996, "<", 0.2)).toBe(false);
    expect(passesGate(0.19999999999999996, "<=", 0.2)).toBe(true);
    expect(passesGate(0.199999999999, "<", 0.2)).toBe(true); // a real difference at the 12th digit
    expect(passesGate(1.0000000000000002, ">", 1)).toBe(false);
    expect(passesGate(1.0000000000000002, ">=", 1)).toBe(true);
    expect(passesGate(1.00000000001, ">", 1)).toBe(true);
    expect(passesGate(0.99999999999999989, ">=", 1)).toBe(true);
    // Relative rounding: near 0 small values keep their sign.
    expect(passesGate(1e-17, ">", 0)).toBe(true);
    expect(passesGate(-1e-17, ">=", 0)).toBe(false);
  });

  test("non-finite values never pass", () => {
    for (const comparison of [">=", ">", "<", "<="] as const) {
      expect(passesGate(Number.NaN, comparison, 0)).toBe(false);
      expect(passesGate(0, comparison, Number.NaN)).toBe(false);
    }
    expect(passesGate(Number.POSITIVE_INFINITY, ">", 1)).toBe(false);
  });
});
