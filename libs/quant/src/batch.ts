/**
 * Metrics of a whole return series at once. Moments come from a two-pass computation here
 * (mean first, then central sums) and from Welford/Pébay updates in the accumulator: the
 * property tests hold the two against each other.
 */
import { type Conventions, resolveConventions } from "./conventions.js";
import {
  cagrOf,
  calmarOf,
  downsideRiskOf,
  drawdownOf,
  kurtosisOf,
  metricsFromSummary,
  type PerformanceMetrics,
  periodSharpe,
  type ReturnSummary,
  sampleStd,
  skewnessOf,
  sortinoOf,
} from "./performance.js";
import { addCompensated, compensatedValue } from "./sums.js";
import { logWealthOf, stepWealth, WEALTH_SLOTS, WealthSlots } from "./wealth.js";

type Moments = Pick<ReturnSummary, "count" | "mean" | "m2" | "m3" | "m4" | "constant">;

/** Throws unless r is a finite number: one NaN would silently poison every metric after it. */
export function checkReturn(r: number): void {
  if (!Number.isFinite(r)) throw new RangeError(`a return must be a finite number, got ${r}`);
}

/** Mean and central sums by two passes over r − r₀. */
function momentsOf(returns: ArrayLike<number>): Moments {
  const n = returns.length;
  if (n === 0) return { count: 0, mean: Number.NaN, m2: 0, m3: 0, m4: 0, constant: true };
  const shift = returns[0] as number;
  const sum = new Float64Array(2);
  let min = shift;
  let max = shift;
  for (let i = 0; i < n; i++) {
    const r = returns[i] as number;
    checkReturn(r);
    if (r < min) min = r;
    if (r > max) max = r;
    addCompensated(sum, 0, r - shift);
  }
  const shiftedMean = compensatedValue(sum, 0) / n;
  const mean = shift + shiftedMean;
  if (min === max) return { count: n, mean, m2: 0, m3: 0, m4: 0, constant: true };
  const sums = new Float64Array(8); // Σd, Σd², Σd³, Σd⁴, each compensated
  for (let i = 0; i < n; i++) {
    const d = (returns[i] as number) - shift - shiftedMean;
    const d2 = d * d;
    addCompensated(sums, 0, d);
    addCompensated(sums, 2, d2);
    addCompensated(sums, 4, d2 * d);
    addCompensated(sums, 6, d2 * d2);
  }
  // The deviations are from the rounded mean; e = Σd/n is what is left of the true mean in
  // them, and the binomial expansion moves the sums onto it (Chan, Golub & LeVeque's correction).
  const e = compensatedValue(sums, 0) / n;
  const s2 = compensatedValue(sums, 2);
  const s3 = compensatedValue(sums, 4);
  const s4 = compensatedValue(sums, 6);
  return {
    count: n,
    mean,
    m2: s2 - n * e * e,
    m3: s3 - 3 * e * s2 + 2 * n * e * e * e,
    m4: s4 - 4 * e * s3 + 6 * e * e * s2 - 3 * n * e * e * e * e,
    constant: false,
  };
}

function downsideSquaresOf(returns: ArrayLike<number>, mar: number): number {
  const sum = new Float64Array(2);
  for (let i = 0; i < returns.length; i++) {
    const below = (returns[i] as number) - mar;
    if (below < 0) addCompensated(sum, 0, below * below);
  }
  return compensatedValue(sum, 0);
}

function wealthOf(
  returns: ArrayLike<number>,
): Pick<ReturnSummary, "logWealth" | "maxDrawdown" | "maxDrawdownDuration"> {
  const slots = new Float64Array(WEALTH_SLOTS);
  for (let i = 0; i < returns.length; i++) {
    const r = returns[i] as number;
    checkReturn(r);
    stepWealth(slots, 0, r);
  }
  return {
    logWealth: logWealthOf(slots, 0),
    maxDrawdown: slots[WealthSlots.maxDrawdown] as number,
    maxDrawdownDuration: slots[WealthSlots.maxUnderwater] as number,
  };
}

/** Everything the metrics need, in one batch. */
export function summarize(returns: ArrayLike<number>, conventions: Conventions): ReturnSummary {
  return { ...momentsOf(returns), downsideSquares: downsideSquaresOf(returns, conventions.mar), ...wealthOf(returns) };
}

/** The summary without the wealth path and downside: enough for Sharpe, skewness and kurtosis. */
export function withMoments(returns: ArrayLike<number>): ReturnSummary {
  return { ...momentsOf(returns), downsideSquares: 0, logWealth: 0, maxDrawdown: 0, maxDrawdownDuration: 0 };
}

function withDownside(returns: ArrayLike<number>, c: Conventions): ReturnSummary {
  return { ...withMoments(returns), downsideSquares: downsideSquaresOf(returns, c.mar) };
}

function withWealth(returns: ArrayLike<number>): ReturnSummary {
  return { ...withMoments(returns), ...wealthOf(returns) };
}

/** Arithmetic mean per period; NaN for an empty series. */
export function mean(returns: ArrayLike<number>): number {
  return momentsOf(returns).mean;
}

/** Annualised volatility, std(r, ddof = 1)·√A; NaN when n < 2. */
export function volatility(returns: ArrayLike<number>, conventions?: Partial<Conventions>): number {
  const c = resolveConventions(conventions);
  return sampleStd(withMoments(returns)) * Math.sqrt(c.periodsPerYear);
}

/** Annualised Sharpe ratio, mean(r − rf)/std(r, ddof = 1)·√A; NaN when n < 2 or volatility is 0. */
export function sharpe(returns: ArrayLike<number>, conventions?: Partial<Conventions>): number {
  const c = resolveConventions(conventions);
  return periodSharpe(withMoments(returns), c.riskFree) * Math.sqrt(c.periodsPerYear);
}

/** Annualised downside risk, √(mean of min(r − MAR, 0)²)·√A over all periods; NaN when n = 0. */
export function downsideRisk(returns: ArrayLike<number>, conventions?: Partial<Conventions>): number {
  const c = resolveConventions(conventions);
  return downsideRiskOf(withDownside(returns, c), c);
}

/** Sortino ratio, mean(r − MAR)·A / downside risk; NaN when n = 0 or no return fell below MAR. */
export function sortino(returns: ArrayLike<number>, conventions?: Partial<Conventions>): number {
  const c = resolveConventions(conventions);
  return sortinoOf(withDownside(returns, c), c);
}

/** Max drawdown of compounded wealth (≤ 0) and the longest run of periods under a previous peak. */
export function maxDrawdown(returns: ArrayLike<number>): { maxDrawdown: number; duration: number } {
  return drawdownOf(withWealth(returns));
}

/** Compound annual growth rate (V_n/V_0)^(A/n) − 1; NaN when n = 0. */
export function cagr(returns: ArrayLike<number>, conventions?: Partial<Conventions>): number {
  const c = resolveConventions(conventions);
  return cagrOf(withWealth(returns), c);
}

/** Calmar ratio, CAGR / |max drawdown|; NaN when there was no drawdown. */
export function calmar(returns: ArrayLike<number>, conventions?: Partial<Conventions>): number {
  const c = resolveConventions(conventions);
  return calmarOf(withWealth(returns), c);
}

/** Population skewness (biased, m3/m2^1.5); NaN when n < 2 or all returns are equal. */
export function skewness(returns: ArrayLike<number>): number {
  return skewnessOf(withMoments(returns));
}

/** Population kurtosis, non-excess (biased, m4/m2²; normal = 3); NaN when n < 2 or all returns are equal. */
export function kurtosis(returns: ArrayLike<number>): number {
  return kurtosisOf(withMoments(returns));
}

/** Every metric of a return series at once. */
export function metricsOf(returns: ArrayLike<number>, conventions?: Partial<Conventions>): PerformanceMetrics {
  const c = resolveConventions(conventions);
  return metricsFromSummary(summarize(returns, c), c);
}
