/**
 * Quality gates: whether a backtest's evidence ({@link EvidenceSummary}) is good enough for a
 * strategy to go further. Each gate compares one figure with one threshold; every evaluation
 * lists every gate, so a reader sees what passed, what failed and what evidence was missing.
 */
import type { EvidenceSummary } from "./evidence.js";
import { expectedMaxSharpe } from "./inference.js";
import { deflatedSharpe } from "./sharpe-inference.js";

/** The gates, by the name each result carries. */
export const GateNames = {
  Trades: "trades",
  Sharpe: "sharpe",
  MaxDrawdown: "maxDrawdown",
  OutOfSample: "outOfSample",
  WalkForward: "walkForward",
  MonteCarlo: "monteCarlo",
  ParameterStability: "parameterStability",
  Regimes: "regimes",
  DeflatedSharpe: "deflatedSharpe",
} as const;
/** A gate's name. */
export type GateName = (typeof GateNames)[keyof typeof GateNames];

/** How a gate's value must compare with its threshold to pass. */
export type GateComparison = ">=" | ">" | "<" | "<=";

/** What each gate demands. */
export interface GateThresholds {
  /** Closed trades ≥ this. */
  minTrades: number;
  /** Annualised Sharpe ratio > this (strict). */
  minSharpe: number;
  /** Maximum drawdown, a positive fraction, < this (strict). */
  maxDrawdown: number;
  /** Out-of-sample Sharpe ratio ≥ this × in-sample Sharpe ratio (which must be positive). */
  minOutOfSampleRatio: number;
  /** Positive walk-forward folds / folds ≥ this. */
  minPositiveFolds: number;
  /** 5th percentile of the Monte Carlo Sharpe ratios > this (strict). */
  minMonteCarloP5Sharpe: number;
  /** Worst perturbed Sharpe / Sharpe ≥ 1 − this: the Sharpe ratio loses at most this fraction under perturbation. */
  maxPerturbationDrop: number;
  /** Only regimes with at least this many periods count; each of them needs a Sharpe ratio ≥ 0. */
  regimeMinPeriods: number;
  /** Deflated Sharpe ratio ≥ this. */
  minDeflatedSharpe: number;
}

/** The default gates: 1,000 trades, Sharpe > 1, drawdown < 20%, OOS ≥ half of IS, 60% positive folds, Monte Carlo p5 > 0, Sharpe within 50% under perturbation, no negative regime of 60+ periods, DSR ≥ 0.95. */
export const DEFAULT_GATES: Readonly<GateThresholds> = Object.freeze({
  minTrades: 1000,
  minSharpe: 1.0,
  maxDrawdown: 0.2,
  minOutOfSampleRatio: 0.5,
  minPositiveFolds: 0.6,
  minMonteCarloP5Sharpe: 0,
  maxPerturbationDrop: 0.5,
  regimeMinPeriods: 60,
  minDeflatedSharpe: 0.95,
});

/** What the registry knows of the strategy's family (its template's variants) for the Deflated Sharpe Ratio. */
export interface FamilyTrials {
  /** Variants tried in the family (≥ 1). */
  trials: number;
  /** Variance of the variants' annualised Sharpe ratios, when known. */
  sharpeVariance: number | null;
}

/** One gate's verdict. */
export interface GateResult {
  gate: GateName;
  /** The figure judged; null when the evidence for it is missing or it is undefined (the gate then fails). */
  value: number | null;
  /**
   * What it is compared with. Null only for the out-of-sample gate when there is no in-sample
   * Sharpe ratio to scale the ratio by.
   */
  threshold: number | null;
  comparison: GateComparison;
  passed: boolean;
  /** What was missing, or how the threshold was arrived at. */
  detail?: string;
}

/** Every gate's verdict; `passed` when all passed. */
export interface GateEvaluation {
  passed: boolean;
  gates: GateResult[];
}

/** Significant digits gate comparisons are made at, see {@link passesGate}. */
export const GATE_DIGITS = 12;

function rounded(x: number): number {
  return Number(x.toPrecision(GATE_DIGITS));
}

/**
 * `value comparison threshold`, both rounded to {@link GATE_DIGITS} significant digits first.
 * Why: gates sit on round numbers, and evidence built to sit exactly on one computes a hair off
 * it (a fall of exactly 20%, wealth 1.01 → 0.909 → 0.808, comes out as 0.19999999999999998
 * by way of logarithms; numpy's cumulative product gives 0.19999999999999996 for 1.25 → 1), so
 * a raw comparison would pass or fail by rounding noise. The package's figures are good to
 * about 1e-14 relative, so 12 digits absorb that noise, and only differences past the 12th
 * digit, far below anything a backtest can tell apart, count as equal. Near 0 the rounding is
 * relative, so 1e-17 is still above 0.
 * Non-finite values never pass.
 */
export function passesGate(value: number, comparison: GateComparison, threshold: number): boolean {
  if (!(Number.isFinite(value) && Number.isFinite(threshold))) return false;
  const v = rounded(value);
  const t = rounded(threshold);
  switch (comparison) {
    case ">=":
      return v >= t;
    case ">":
      return v > t;
    case "<":
      return v < t;
    case "<=":
      return v <= t;
  }
}

function judged(
  gate: GateName,
  value: number | null,
  comparison: GateComparison,
  threshold: number | null,
  detail?: string,
): GateResult {
  const passed = value !== null && threshold !== null && passesGate(value, comparison, threshold);
  const result: GateResult = { gate, value, threshold, comparison, passed };
  if (detail !== undefined) result.detail = detail;
  return result;
}

function show(x: number): string {
  return String(Number(x.toPrecision(4)));
}

function checkThresholds(thresholds: GateThresholds): void {
  for (const key of Object.keys(DEFAULT_GATES) as (keyof GateThresholds)[]) {
    const value = thresholds[key];
    if (typeof value !== "number" || !Number.isFinite(value)) {
      throw new RangeError(`gate threshold ${key} must be a finite number, got ${value}`);
    }
  }
}

function checkFamily(family: FamilyTrials): void {
  if (!(Number.isInteger(family.trials) && family.trials >= 1)) {
    throw new RangeError(`family trials must be an integer ≥ 1, got ${family.trials}`);
  }
  const v = family.sharpeVariance;
  if (v !== null && !(Number.isFinite(v) && v >= 0)) {
    throw new RangeError(`family sharpeVariance must be null or a finite number ≥ 0, got ${v}`);
  }
}

function outOfSampleGate(s: EvidenceSummary, ratio: number): GateResult {
  const gate = GateNames.OutOfSample;
  const oos = s.outOfSampleSharpe;
  const is = s.inSampleSharpe;
  if (is === null && oos === null) {
    const missing = "no out-of-sample split in the evidence, or neither part has a Sharpe ratio";
    return judged(gate, null, ">=", null, missing);
  }
  if (is === null) return judged(gate, oos, ">=", null, "the in-sample part has no Sharpe ratio");
  const threshold = ratio * is;
  const scaled = `${show(ratio)} × in-sample Sharpe ${show(is)}`;
  if (oos === null)
    return judged(gate, null, ">=", threshold, `the out-of-sample part has no Sharpe ratio; needs ${scaled}`);
  // A ratio of a non-positive in-sample Sharpe ratio asks nothing (a loser "keeping" half its loss).
  if (!(is > 0)) {
    return { ...judged(gate, oos, ">=", threshold, `in-sample Sharpe ${show(is)} is not positive`), passed: false };
  }
  return judged(gate, oos, ">=", threshold, scaled);
}

function walkForwardGate(s: EvidenceSummary, min: number): GateResult {
  if (s.folds === 0) return judged(GateNames.WalkForward, null, ">=", min, "no walk-forward folds in the evidence");
  const detail = `${s.positiveFolds} of ${s.folds} folds positive`;
  return judged(GateNames.WalkForward, s.positiveFolds / s.folds, ">=", min, detail);
}

function monteCarloGate(s: EvidenceSummary, min: number): GateResult {
  const mc = s.monteCarlo;
  if (mc.runs === 0) {
    return judged(GateNames.MonteCarlo, null, ">", min, `fewer than 2 ${mc.resampled} to resample`);
  }
  const of = `5th percentile of ${mc.runs} bootstrap resamples of the ${mc.resampled} (seed ${mc.seed})`;
  if (mc.p5Sharpe === null) return judged(GateNames.MonteCarlo, null, ">", min, `${of} is undefined`);
  return judged(GateNames.MonteCarlo, mc.p5Sharpe, ">", min, of);
}

function parameterStabilityGate(s: EvidenceSummary, maxDrop: number): GateResult {
  const gate = GateNames.ParameterStability;
  const threshold = 1 - maxDrop;
  const p = s.perturbation;
  if (p.runs === 0) return judged(gate, null, ">=", threshold, "no parameter perturbations in the evidence");
  if (p.worstRatio === null || p.worst === null) {
    return judged(gate, null, ">=", threshold, "the Sharpe ratio is not positive: no ratio to keep");
  }
  const change = `${p.worst.change > 0 ? "+" : ""}${show(p.worst.change * 100)}%`;
  return judged(gate, p.worstRatio, ">=", threshold, `worst of ${p.runs}: ${p.worst.param} ${change}`);
}

function regimesGate(s: EvidenceSummary, minPeriods: number): GateResult {
  const gate = GateNames.Regimes;
  if (s.regimes.length === 0) return judged(gate, null, ">=", 0, "no regime labels in the evidence");
  const counted = s.regimes.filter((r) => r.periods >= minPeriods);
  const skipped = s.regimes.length - counted.length;
  const uncounted = skipped > 0 ? `; ${skipped} regime(s) under ${minPeriods} periods not counted` : "";
  if (counted.length === 0) return judged(gate, null, ">=", 0, `no regime has ${minPeriods} periods${uncounted}`);
  const undefinedSharpe = counted.find((r) => r.sharpe === null);
  if (undefinedSharpe) {
    return judged(gate, null, ">=", 0, `regime ${undefinedSharpe.regime} has no Sharpe ratio (constant returns)`);
  }
  let worst = counted[0] as (typeof counted)[number];
  for (const r of counted) if ((r.sharpe as number) < (worst.sharpe as number)) worst = r;
  const detail = `worst of ${counted.length}: ${worst.regime} (${worst.periods} periods)${uncounted}`;
  return judged(gate, worst.sharpe, ">=", 0, detail);
}

/**
 * The DSR against the family's trials. Trials: the family's count, or the strategy's own when
 * larger (its variants were tried whether the registry saw them or not). Variance of the
 * trials' Sharpe ratios: the family's, else that of the strategy's own `trialSharpes`, else
 * A/(T − 1), the sampling variance of an annualised Sharpe estimate from T returns when the
 * true Sharpe ratio is 0: what trials of equal, skill-less variants would show. It is the least
 * the variance can be (real variants also differ in true Sharpe), so the fallback deflates as
 * little as the data allow rather than inventing a spread.
 */
function deflatedSharpeGate(s: EvidenceSummary, min: number, family: FamilyTrials): GateResult {
  const gate = GateNames.DeflatedSharpe;
  if (s.sharpe === null) return judged(gate, null, ">=", min, "the Sharpe ratio is undefined");
  const trials = Math.max(family.trials, s.trials);
  let variance: number;
  let source: string;
  if (family.sharpeVariance !== null) {
    variance = family.sharpeVariance;
    source = "the family's";
  } else if (s.trialSharpeVariance !== null) {
    variance = s.trialSharpeVariance;
    source = "the evidence's trial Sharpe ratios'";
  } else {
    variance = s.periodsPerYear / (s.periods - 1);
    source = "A/(T − 1), no known spread";
  }
  const srStar = expectedMaxSharpe(trials, variance);
  const estimate = {
    sharpe: s.sharpe,
    periods: s.periods,
    skewness: s.skewness ?? Number.NaN,
    kurtosis: s.kurtosis ?? Number.NaN,
    periodsPerYear: s.periodsPerYear,
  };
  const dsr = deflatedSharpe(estimate, trials, variance);
  const detail = `${trials} trial(s), Sharpe variance ${show(variance)} (${source}), SR* ${show(srStar)}`;
  return judged(gate, Number.isFinite(dsr) ? dsr : null, ">=", min, detail);
}

/**
 * Every gate of a backtest's evidence summary, in {@link GateNames} order, each with its value,
 * threshold, comparison and verdict (compared by {@link passesGate}). A gate whose evidence is
 * missing fails with value null and a `detail` saying what is missing. Thresholds must be
 * finite and the family's trials an integer ≥ 1 (RangeError otherwise).
 *
 * - trades: `trades` ≥ minTrades. sharpe: `sharpe` > minSharpe. maxDrawdown: `maxDrawdown` < maxDrawdown.
 * - outOfSample: the out-of-sample Sharpe ratio ≥ minOutOfSampleRatio × the in-sample one; the
 *   value is the OOS Sharpe ratio and the threshold the scaled IS one, so both read as Sharpe
 *   ratios. Fails when the in-sample Sharpe ratio is ≤ 0: there is nothing to hold on to.
 * - walkForward: positiveFolds / folds ≥ minPositiveFolds.
 * - monteCarlo: `monteCarlo.p5Sharpe` > minMonteCarloP5Sharpe.
 * - parameterStability: `perturbation.worstRatio` ≥ 1 − maxPerturbationDrop.
 * - regimes: the lowest Sharpe ratio of the regimes with ≥ regimeMinPeriods periods ≥ 0 (fails
 *   when no regime is that long, or one of them has no Sharpe ratio).
 * - deflatedSharpe: the Deflated Sharpe Ratio ≥ minDeflatedSharpe; trials and the variance of
 *   their Sharpe ratios as described at the gate (the larger trial count; the family's variance,
 *   else the evidence's, else A/(T − 1)); `detail` gives the trials, variance and SR*.
 */
export function evaluateGates(
  summary: EvidenceSummary,
  thresholds: GateThresholds,
  family: FamilyTrials,
): GateEvaluation {
  checkThresholds(thresholds);
  checkFamily(family);
  const t = thresholds;
  const s = summary;
  const gates: GateResult[] = [
    judged(GateNames.Trades, s.trades, ">=", t.minTrades),
    judged(
      GateNames.Sharpe,
      s.sharpe,
      ">",
      t.minSharpe,
      s.sharpe === null ? "the Sharpe ratio is undefined" : undefined,
    ),
    judged(
      GateNames.MaxDrawdown,
      s.maxDrawdown,
      "<",
      t.maxDrawdown,
      s.maxDrawdown === null ? "wealth went negative: no drawdown to measure" : undefined,
    ),
    outOfSampleGate(s, t.minOutOfSampleRatio),
    walkForwardGate(s, t.minPositiveFolds),
    monteCarloGate(s, t.minMonteCarloP5Sharpe),
    parameterStabilityGate(s, t.maxPerturbationDrop),
    regimesGate(s, t.regimeMinPeriods),
    deflatedSharpeGate(s, t.minDeflatedSharpe, family),
  ];
  return { passed: gates.every((g) => g.passed), gates };
}
