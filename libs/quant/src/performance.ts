/**
 * From a summary of a return series to every performance metric. The summary is gathered
 * either online ({@link ReturnAccumulator}) or in one batch pass (`metricsOf`); the formulas
 * below are the only copy of the definitions in DESIGN.md, so the two forms can differ only
 * in how the summary was gathered.
 */
import type { Conventions } from "./conventions.js";
import { probabilisticSharpeOfPeriod } from "./inference.js";

/** Every performance metric of a return series. Undefined values are NaN (README, "Metrics"). */
export interface PerformanceMetrics {
  /** Number of returns n. */
  periods: number;
  /** The annualisation factor A the metrics were computed with. */
  periodsPerYear: number;
  /** Arithmetic mean return per period (not annualised). NaN when n = 0. */
  mean: number;
  /** Standard deviation of returns (ddof = 1) × √A. NaN when n < 2. */
  volatility: number;
  /** mean(r − rf) / std(r, ddof = 1) × √A. NaN when n < 2 or volatility is 0. */
  sharpe: number;
  /** mean(r − MAR) × A / downside risk. NaN when n = 0 or downside risk is 0. */
  sortino: number;
  /** √(mean over all periods of min(r − MAR, 0)²) × √A. NaN when n = 0. */
  downsideRisk: number;
  /** (V_n / V_0)^(A/n) − 1. NaN when n = 0 or wealth went negative. */
  cagr: number;
  /** V_n / V_0 − 1 (0 when n = 0). NaN when wealth went negative. */
  totalReturn: number;
  /** min over t of V_t / max(V_0..V_t) − 1, ≤ 0 (0 when n = 0). NaN when wealth went negative. */
  maxDrawdown: number;
  /** Longest run of periods with V_t below a previous peak. NaN when wealth went negative. */
  maxDrawdownDuration: number;
  /** CAGR / |max drawdown|. NaN when there was no drawdown. */
  calmar: number;
  /** Population skewness m3 / m2^1.5 (biased estimator). NaN when n < 2 or all returns are equal. */
  skewness: number;
  /** Population kurtosis m4 / m2², non-excess (normal = 3). NaN when n < 2 or all returns are equal. */
  kurtosis: number;
  /** Probabilistic Sharpe ratio against SR* = 0. NaN when the Sharpe ratio is. */
  psr: number;
}

/**
 * What every metric is computed from. Moments are of the shifted returns r − shift (a shift by
 * the first return keeps the sums small when the mean is large against the spread).
 */
export interface ReturnSummary {
  count: number;
  /** The mean return per period. */
  mean: number;
  /** Σ(r − mean)², Σ(r − mean)³, Σ(r − mean)⁴. */
  m2: number;
  m3: number;
  m4: number;
  /** True when every return is the same value: the central sums are then exactly 0. */
  constant: boolean;
  /** Σ min(r − MAR, 0)². */
  downsideSquares: number;
  /** log V_n. */
  logWealth: number;
  /** ≤ 0. */
  maxDrawdown: number;
  maxDrawdownDuration: number;
}

/** Per-period Sharpe ratio (mean − rf) / std(ddof = 1); NaN when undefined. */
export function periodSharpe(s: ReturnSummary, riskFree: number): number {
  const sd = sampleStd(s);
  return sd > 0 ? (s.mean - riskFree) / sd : Number.NaN;
}

/** Sample standard deviation (ddof = 1), per period; NaN when n < 2. */
export function sampleStd(s: ReturnSummary): number {
  if (s.count < 2) return Number.NaN;
  return s.constant ? 0 : Math.sqrt(s.m2 / (s.count - 1));
}

/** Population skewness; NaN when n < 2 or the series is constant. */
export function skewnessOf(s: ReturnSummary): number {
  if (s.count < 2 || s.constant || !(s.m2 > 0)) return Number.NaN;
  return (Math.sqrt(s.count) * s.m3) / (s.m2 * Math.sqrt(s.m2));
}

/** Population kurtosis (non-excess); NaN when n < 2 or the series is constant. */
export function kurtosisOf(s: ReturnSummary): number {
  if (s.count < 2 || s.constant || !(s.m2 > 0)) return Number.NaN;
  return (s.count * s.m4) / (s.m2 * s.m2);
}

/** Annualised downside risk; NaN when n = 0. */
export function downsideRiskOf(s: ReturnSummary, c: Conventions): number {
  if (s.count === 0) return Number.NaN;
  return Math.sqrt(s.downsideSquares / s.count) * Math.sqrt(c.periodsPerYear);
}

/** Sortino ratio; NaN when n = 0 or there is no downside. */
export function sortinoOf(s: ReturnSummary, c: Conventions): number {
  const risk = downsideRiskOf(s, c);
  return risk > 0 ? ((s.mean - c.mar) * c.periodsPerYear) / risk : Number.NaN;
}

/** CAGR; NaN when n = 0 or wealth went negative. */
export function cagrOf(s: ReturnSummary, c: Conventions): number {
  if (s.count === 0) return Number.NaN;
  return Math.expm1((s.logWealth * c.periodsPerYear) / s.count);
}

/** Max drawdown and its duration, NaN when wealth went negative. */
export function drawdownOf(s: ReturnSummary): { maxDrawdown: number; duration: number } {
  if (Number.isNaN(s.logWealth)) return { maxDrawdown: Number.NaN, duration: Number.NaN };
  return { maxDrawdown: s.maxDrawdown, duration: s.maxDrawdownDuration };
}

/** Calmar ratio; NaN when there was no drawdown (or CAGR is undefined). */
export function calmarOf(s: ReturnSummary, c: Conventions): number {
  const { maxDrawdown } = drawdownOf(s);
  return maxDrawdown < 0 ? cagrOf(s, c) / -maxDrawdown : Number.NaN;
}

/** Every metric from a summary. */
export function metricsFromSummary(s: ReturnSummary, c: Conventions): PerformanceMetrics {
  const rootA = Math.sqrt(c.periodsPerYear);
  const sd = sampleStd(s);
  const sr = periodSharpe(s, c.riskFree);
  const skewness = skewnessOf(s);
  const kurtosis = kurtosisOf(s);
  const drawdown = drawdownOf(s);
  return {
    periods: s.count,
    periodsPerYear: c.periodsPerYear,
    mean: s.count > 0 ? s.mean : Number.NaN,
    volatility: sd * rootA,
    sharpe: sr * rootA,
    sortino: sortinoOf(s, c),
    downsideRisk: downsideRiskOf(s, c),
    cagr: cagrOf(s, c),
    totalReturn: Math.expm1(s.logWealth),
    maxDrawdown: drawdown.maxDrawdown,
    maxDrawdownDuration: drawdown.duration,
    calmar: calmarOf(s, c),
    skewness,
    kurtosis,
    psr: probabilisticSharpeOfPeriod(sr, s.count, skewness, kurtosis, 0),
  };
}
