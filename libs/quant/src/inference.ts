/**
 * The statistics of an estimated Sharpe ratio, on per-period values: its standard error under
 * skewness and kurtosis (Mertens 2002, Lo 2002), the probabilistic Sharpe ratio and minimum
 * track record length (Bailey & López de Prado 2012) and the expected maximum of many trials
 * (Bailey & López de Prado 2014). The public forms taking returns or annualised estimates are
 * in sharpe-inference.ts.
 */
import { normalCdf, normalQuantile } from "./normal.js";

/** Euler–Mascheroni constant γ. */
export const EULER_GAMMA = 0.5772156649015329;

/**
 * 1 − γ3·SR + (γ4 − 1)/4·SR², the variance factor of a per-period Sharpe estimate (times
 * n − 1). NaN when it is not positive (only degenerate two-valued series get there).
 */
export function sharpeVarianceFactor(sr: number, skewness: number, kurtosis: number): number {
  const factor = 1 - skewness * sr + ((kurtosis - 1) / 4) * sr * sr;
  return factor > 0 ? factor : Number.NaN;
}

/** PSR(SR*) = Φ((SR − SR*)·√(n − 1) / √factor), all per period. NaN when any input is undefined. */
export function probabilisticSharpeOfPeriod(
  sr: number,
  periods: number,
  skewness: number,
  kurtosis: number,
  srStar: number,
): number {
  if (!(periods >= 2)) return Number.NaN;
  const factor = sharpeVarianceFactor(sr, skewness, kurtosis);
  const z = ((sr - srStar) * Math.sqrt(periods - 1)) / Math.sqrt(factor);
  return normalCdf(z);
}

/**
 * MinTRL = 1 + factor·(Φ⁻¹(p) / (SR − SR*))², in periods, all per period. +∞ when SR ≤ SR*
 * (no track record is long enough), NaN when any input is undefined.
 */
export function minTrackRecordOfPeriod(
  sr: number,
  skewness: number,
  kurtosis: number,
  srStar: number,
  confidence: number,
): number {
  const factor = sharpeVarianceFactor(sr, skewness, kurtosis);
  if (Number.isNaN(factor) || Number.isNaN(srStar) || !(confidence > 0 && confidence < 1)) return Number.NaN;
  if (sr <= srStar) return Number.POSITIVE_INFINITY;
  const ratio = normalQuantile(confidence) / (sr - srStar);
  return 1 + factor * ratio * ratio;
}

/**
 * E[max of N Sharpe estimates] under the null of zero true Sharpe, for estimates with variance
 * V across trials: √V·((1 − γ)Φ⁻¹(1 − 1/N) + γΦ⁻¹(1 − 1/(N·e))). In the units of √V. N = 1
 * gives 0 (one draw's expectation; the approximation itself diverges there). NaN when N < 1 or
 * V < 0.
 */
export function expectedMaxSharpe(trials: number, variance: number): number {
  if (!(trials >= 1) || !(variance >= 0)) return Number.NaN;
  if (trials === 1) return 0;
  return (
    Math.sqrt(variance) *
    ((1 - EULER_GAMMA) * normalQuantile(1 - 1 / trials) + EULER_GAMMA * normalQuantile(1 - 1 / (trials * Math.E)))
  );
}
