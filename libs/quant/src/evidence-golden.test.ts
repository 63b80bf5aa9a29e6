/**
 * Golden vectors for the evidence summaries: values golden/evidence.py computed independently
 * with numpy and scipy from the same evidence (in-sample and out-of-sample Sharpe ratios, fold
 * returns, per-regime Sharpe ratios, the Deflated Sharpe Ratio the gate reports), numpy's
 * percentile of fixed arrays, and whole Monte Carlo runs, the Python side repeating the sfc32
 * stream. 1e-9 relative (numpy's moments and products round differently from the package's
 * compensated sums and logarithms; a resample's Sharpe ratio against max(|value|, 1)); the
 * percentiles exactly.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { type BacktestEvidence, bootstrapSharpes, summariseEvidence } from "./evidence.js";
import { DEFAULT_GATES, evaluateGates, type FamilyTrials, GateNames } from "./gates.js";
import { linearPercentile } from "./quantile.js";

interface GoldenCase {
  name: string;
  evidence: BacktestEvidence;
  summary: {
    periods: number;
    sharpe: number;
    maxDrawdown: number;
    skewness: number;
    kurtosis: number;
    inSampleSharpe: number | null;
    outOfSampleSharpe: number | null;
    foldReturns: number[];
    positiveFolds: number;
    regimes: { regime: string; periods: number; sharpe: number | null }[];
    trialSharpeVariance: number | null;
    worstRatio: number | null;
  };
  deflated: { family: FamilyTrials; trials: number; variance: number; srStar: number; deflatedSharpe: number }[];
}
interface Golden {
  cases: GoldenCase[];
  percentiles: { sorted: number[]; q: number[]; values: number[] }[];
  monteCarlo: {
    name: string;
    values: number[];
    runs: number;
    seed: number;
    periodsPerYear: number;
    /** Ascending; null for −∞ (a resample of equal draws). */
    sharpes: (number | null)[];
    p5Sharpe: number | null;
  }[];
}

const golden = JSON.parse(readFileSync(new URL("../golden/evidence.json", import.meta.url), "utf8")) as Golden;
const TOLERANCE = 1e-9;

function expectClose(actual: number | null, expected: number | null, what: string, floor = Number.MIN_VALUE): void {
  if (expected === null) {
    expect(actual, what).toBeNull();
    return;
  }
  expect(actual, what).not.toBeNull();
  const error = Math.abs((actual as number) - expected) / Math.max(Math.abs(expected), floor);
  expect(error, `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(TOLERANCE);
}

describe("evidence golden vectors (numpy/scipy)", () => {
  test("the cases are there", () => {
    expect(golden.cases.map((c) => c.name)).toEqual(["daily", "weekly"]);
    expect(golden.monteCarlo.map((c) => c.name)).toEqual(["drift", "weekly-trades", "degenerate", "seed-max"]);
  });

  for (const c of golden.cases) {
    test(`${c.name}: whole-run figures, in-sample and out-of-sample, folds, regimes, trials, perturbations`, () => {
      const g = c.summary;
      const s = summariseEvidence(c.evidence, { monteCarloRuns: 10 });
      expect(s.periods).toBe(g.periods);
      for (const key of [
        "sharpe",
        "maxDrawdown",
        "skewness",
        "kurtosis",
        "inSampleSharpe",
        "outOfSampleSharpe",
      ] as const) {
        expectClose(s[key], g[key], key);
      }
      expect(s.folds).toBe(g.foldReturns.length);
      expect(s.positiveFolds).toBe(g.positiveFolds);
      expect(s.regimes.map((r) => [r.regime, r.periods])).toEqual(g.regimes.map((r) => [r.regime, r.periods]));
      for (const [i, r] of s.regimes.entries()) expectClose(r.sharpe, g.regimes[i]?.sharpe ?? null, r.regime);
      expectClose(s.trialSharpeVariance, g.trialSharpeVariance, "trialSharpeVariance");
      expectClose(s.perturbation.worstRatio, g.worstRatio, "worstRatio");
    });

    test(`${c.name}: the Deflated Sharpe gate's trials, variance, SR* and DSR`, () => {
      const s = summariseEvidence(c.evidence, { monteCarloRuns: 10 });
      for (const g of c.deflated) {
        const gate = evaluateGates(s, DEFAULT_GATES, g.family).gates.find((r) => r.gate === GateNames.DeflatedSharpe);
        expectClose(gate?.value ?? null, g.deflatedSharpe, `DSR with ${JSON.stringify(g.family)}`);
        expect(gate?.detail).toContain(`${g.trials} trial(s)`);
        expect(gate?.detail).toContain(`SR* ${Number(g.srStar.toPrecision(4))}`);
        expect(gate?.detail).toContain(`variance ${Number(g.variance.toPrecision(4))}`);
        expect(gate?.passed).toBe(g.deflatedSharpe >= DEFAULT_GATES.minDeflatedSharpe);
      }
    });
  }

  test("a fold that nets exactly zero (1.25 × 0.8) is not positive", () => {
    const weekly = golden.cases.find((c) => c.name === "weekly") as GoldenCase;
    const flat = weekly.evidence.folds?.findIndex(([start, end]) => start === 40 && end === 42);
    expect(weekly.summary.foldReturns[flat as number]).toBe(0);
    const s = summariseEvidence({ ...weekly.evidence, folds: [[40, 42]] }, { monteCarloRuns: 10 });
    expect(s.positiveFolds).toBe(0);
  });

  test("percentiles are numpy's, to the last bit", () => {
    for (const g of golden.percentiles) {
      g.q.forEach((q, i) => {
        expect(linearPercentile(g.sorted, q), `q = ${q} of ${g.sorted.length} values`).toBe(g.values[i]);
      });
    }
  });

  for (const g of golden.monteCarlo) {
    test(`Monte Carlo ${g.name}: every resample's Sharpe ratio and the 5th percentile`, () => {
      const sharpes = bootstrapSharpes(g.values, g.runs, g.seed, g.periodsPerYear);
      expect(sharpes).toHaveLength(g.sharpes.length);
      // Against max(|value|, 1): a resample of values on a decimal grid can net to 0, and its
      // Sharpe ratio is then rounding noise (about 1e-15) on both sides.
      for (const [i, x] of sharpes.entries()) {
        expectClose(Number.isFinite(x) ? x : null, g.sharpes[i] ?? null, `resample ${i}`, 1);
      }
      const s = summariseEvidence(
        { returns: [0.01, -0.01], trades: g.values, periodsPerYear: g.periodsPerYear },
        { monteCarloRuns: g.runs, seed: g.seed },
      );
      expectClose(s.monteCarlo.p5Sharpe, g.p5Sharpe, "p5Sharpe");
    });
  }
});
