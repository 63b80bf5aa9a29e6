/**
 * How much to believe an observed Sharpe ratio: probabilistic and deflated Sharpe ratios,
 * minimum track record length and the standard error, from a return series or from an
 * estimate. Every Sharpe ratio in and out of this module is annualised, as everywhere in the
 * package; the formulas run on per-period values (SR/√A) as Bailey & López de Prado state them.
 */
import { withMoments } from "./batch.js";
import { type Conventions, resolveConventions } from "./conventions.js";
import {
  expectedMaxSharpe,
  minTrackRecordOfPeriod,
  probabilisticSharpeOfPeriod,
  sharpeVarianceFactor,
} from "./inference.js";
import { kurtosisOf, periodSharpe, skewnessOf } from "./performance.js";

/** An observed Sharpe ratio with what its sampling error depends on. */
export interface SharpeEstimate {
  /** Annualised Sharpe ratio. */
  sharpe: number;
  /** Number of returns it was estimated from. */
  periods: number;
  /** Population skewness of the returns. */
  skewness: number;
  /** Population kurtosis of the returns, non-excess (normal = 3). */
  kurtosis: number;
}

/** A per-period view of either input form. */
interface PeriodEstimate {
  sr: number;
  periods: number;
  skewness: number;
  kurtosis: number;
  rootA: number;
}

function isEstimate(input: ArrayLike<number> | SharpeEstimate): input is SharpeEstimate {
  return !("length" in input) && typeof (input as SharpeEstimate).sharpe === "number";
}

function perPeriod(
  input: ArrayLike<number> | SharpeEstimate,
  conventions: Partial<Conventions> | undefined,
): PeriodEstimate {
  const c = resolveConventions(conventions);
  if (isEstimate(input)) {
    // PerformanceMetrics carry the A they were annualised with; it wins over the default.
    const a = (input as { periodsPerYear?: number }).periodsPerYear ?? c.periodsPerYear;
    const rootA = Math.sqrt(a);
    return {
      sr: input.sharpe / rootA,
      periods: input.periods,
      skewness: input.skewness,
      kurtosis: input.kurtosis,
      rootA,
    };
  }
  const s = withMoments(input);
  return {
    sr: periodSharpe(s, c.riskFree),
    periods: s.count,
    skewness: skewnessOf(s),
    kurtosis: kurtosisOf(s),
    rootA: Math.sqrt(c.periodsPerYear),
  };
}

/**
 * Probabilistic Sharpe ratio: the probability that the true Sharpe ratio exceeds srStar given
 * the observed one, its length, skewness and kurtosis,
 * Φ((SR − SR*)·√(n − 1) / √(1 − γ3·SR + (γ4 − 1)/4·SR²)) on per-period values.
 * `srStar` is annualised. NaN when n < 2, the Sharpe ratio is undefined, or the variance factor
 * is not positive. An estimate carrying `periodsPerYear` (as PerformanceMetrics do) is read with
 * its own A.
 */
export function probabilisticSharpe(
  input: ArrayLike<number> | SharpeEstimate,
  srStar = 0,
  conventions?: Partial<Conventions>,
): number {
  const e = perPeriod(input, conventions);
  return probabilisticSharpeOfPeriod(e.sr, e.periods, e.skewness, e.kurtosis, srStar / e.rootA);
}

/**
 * Deflated Sharpe ratio: the PSR against the Sharpe ratio the best of `trials` independent
 * strategies with no skill would show, SR* = {@link expectedMaxSharpe}(trials, sharpeVariance).
 * `sharpeVariance` is the variance of the trials' annualised Sharpe ratios.
 */
export function deflatedSharpe(
  input: ArrayLike<number> | SharpeEstimate,
  trials: number,
  sharpeVariance: number,
  conventions?: Partial<Conventions>,
): number {
  return probabilisticSharpe(input, expectedMaxSharpe(trials, sharpeVariance), conventions);
}

/**
 * Minimum track record length, in periods: how many returns with this Sharpe ratio, skewness
 * and kurtosis it takes for PSR(srStar) to reach `confidence`,
 * 1 + (1 − γ3·SR + (γ4 − 1)/4·SR²)·(Φ⁻¹(confidence)/(SR − SR*))² on per-period values.
 * `srStar` is annualised. +∞ when the Sharpe ratio does not exceed srStar; NaN when it is undefined.
 */
export function minTrackRecordLength(
  input: ArrayLike<number> | SharpeEstimate,
  srStar = 0,
  confidence = 0.95,
  conventions?: Partial<Conventions>,
): number {
  const e = perPeriod(input, conventions);
  return minTrackRecordOfPeriod(e.sr, e.skewness, e.kurtosis, srStar / e.rootA, confidence);
}

/**
 * Standard error of an annualised Sharpe estimate under non-normal returns (Mertens 2002; Lo
 * 2002): √((1 − γ3·SR + (γ4 − 1)/4·SR²)/(n − 1)) on the per-period SR, times √A. NaN when
 * n < 2 or the variance factor is not positive.
 */
export function sharpeStandardError(e: SharpeEstimate, periodsPerYear: number): number {
  if (!(e.periods >= 2)) return Number.NaN;
  const rootA = Math.sqrt(periodsPerYear);
  const factor = sharpeVarianceFactor(e.sharpe / rootA, e.skewness, e.kurtosis);
  return Math.sqrt(factor / (e.periods - 1)) * rootA;
}
