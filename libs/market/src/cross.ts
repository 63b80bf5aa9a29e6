/**
 * Features across two markets: who leads whom (lagged cross-correlation), how far apart two
 * prices have drifted (the spread's z-score) and how closely they move (rolling correlation).
 * Both series must be aligned (`align`): index i is the same moment in each.
 */
import { rollingMeanSd, rollingPearson } from "./rolling.js";

/** Options of `leadLag`. */
export interface LeadLagOptions {
  /** Lags −maxLag … maxLag are measured; default 10. */
  maxLag?: number;
}

/** Cross-correlations of two return series at lags −k … k. */
export interface LeadLag {
  /** −k … k. */
  lags: Int32Array;
  /** corr(a_t, b_{t+lag}) for each lag: a positive lag with a large correlation means a leads b. */
  correlations: Float64Array;
  /** Pairs behind each correlation (n − |lag|). */
  pairs: Int32Array;
  /** The non-zero lag with the largest |correlation| (lag 0 is co-movement, not lead-lag); 0 when none is defined. */
  peakLag: number;
  /** The correlation at `peakLag`. */
  peakCorrelation: number;
  /**
   * 2/√n: roughly the two-sided 95% bound of one sample correlation of independent series. It is
   * per lag: among 2k lags of pure noise one or more exceed it most of the time (k = 10: about
   * 64%), so a miner testing many lags or pairs must raise it (Bonferroni: Φ⁻¹(1 − 0.025/m)/√n).
   * And it assumes steady volatility: under volatility regimes sample correlations of raw
   * returns spread wider, by √(E[σ⁴]/E[σ²]²) (≈ 1.4 on the synthetic market's defaults);
   * returns divided by a volatility estimate first bring them back to about 1/√n.
   */
  bound: number;
  /** |peakCorrelation| > bound. */
  significant: boolean;
}

/**
 * Lead-lag between return series a and b (equally long): for each lag in −maxLag … maxLag, the
 * Pearson correlation of a_t with b_{t+lag} over the n − |lag| overlapping pairs, each with its
 * own means. O(n·maxLag). A RangeError for unequal lengths.
 */
export function leadLag(a: ArrayLike<number>, b: ArrayLike<number>, options: LeadLagOptions = {}): LeadLag {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`leadLag needs series of equal length, got ${n} and ${b.length}`);
  const maxLag = Math.min(options.maxLag ?? 10, Math.max(0, n - 2));
  if (!(Number.isInteger(maxLag) && maxLag >= 0)) throw new RangeError("maxLag must be an integer ≥ 0");
  const size = 2 * maxLag + 1;
  const lags = new Int32Array(size);
  const correlations = new Float64Array(size);
  const pairs = new Int32Array(size);
  let peakLag = 0;
  let peakCorrelation = Number.NaN;
  for (let index = 0; index < size; index++) {
    const lag = index - maxLag;
    const from = Math.max(0, -lag);
    const to = Math.min(n, n - lag); // t ranges over [from, to), pairing a_t with b_{t+lag}
    const count = to - from;
    let ma = 0;
    let mb = 0;
    for (let t = from; t < to; t++) {
      ma += a[t] as number;
      mb += b[t + lag] as number;
    }
    ma /= count;
    mb /= count;
    let sab = 0;
    let saa = 0;
    let sbb = 0;
    for (let t = from; t < to; t++) {
      const x = (a[t] as number) - ma;
      const y = (b[t + lag] as number) - mb;
      sab += x * y;
      saa += x * x;
      sbb += y * y;
    }
    const r = saa > 0 && sbb > 0 ? Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb))) : Number.NaN;
    lags[index] = lag;
    correlations[index] = r;
    pairs[index] = count;
    if (lag !== 0 && Math.abs(r) > (Number.isNaN(peakCorrelation) ? -1 : Math.abs(peakCorrelation))) {
      peakLag = lag;
      peakCorrelation = r;
    }
  }
  const bound = 2 / Math.sqrt(n);
  return { lags, correlations, pairs, peakLag, peakCorrelation, bound, significant: Math.abs(peakCorrelation) > bound };
}

/** Rolling Pearson correlation of two return series over each window [i − window + 1, i]: co-movement. NaN before the first full window. O(n). */
export function rollingCorrelation(a: ArrayLike<number>, b: ArrayLike<number>, window: number): Float64Array {
  return rollingPearson(a, b, window);
}

/** Options of `spreadZScore`. */
export interface SpreadOptions {
  /** β in the spread ln a − β·ln b; default 1 (a ratio of prices). */
  hedgeRatio?: number;
}

/**
 * The z-score of the spread s_i = ln a_i − β·ln b_i between two price series against its own
 * window [i − window + 1, i] (the current value included, as a moving-average band has it):
 * (s_i − mean) / sd, sd with ddof 1; NaN before the first full window or where the window is
 * flat. O(n). A pair that has drifted far from its usual relation reads as a large |z|.
 */
export function spreadZScore(
  a: ArrayLike<number>,
  b: ArrayLike<number>,
  window: number,
  options: SpreadOptions = {},
): Float64Array {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`spreadZScore needs series of equal length, got ${n} and ${b.length}`);
  const beta = options.hedgeRatio ?? 1;
  const spread = new Float64Array(n);
  for (let i = 0; i < n; i++) spread[i] = Math.log(a[i] as number) - beta * Math.log(b[i] as number);
  const { mean, sd } = rollingMeanSd(spread, window);
  const z = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    const s = sd[i] as number;
    z[i] = s > 0 ? ((spread[i] as number) - (mean[i] as number)) / s : Number.NaN;
  }
  return z;
}
