/**
 * Anomalies in returns, volume and spreads: robust z-scores, each value measured against the
 * median and MAD of the values before it, so one spike neither hides itself nor inflates the
 * scale every later value is judged by (as it would a mean and a standard deviation).
 */
import type { BarSeries } from "./bars.js";
import { SortedWindow } from "./rolling.js";

/** Fields `anomalies` scores. */
export const AnomalyFields = ["return", "volume", "spread"] as const;
/** One of `AnomalyFields`. */
export type AnomalyField = (typeof AnomalyFields)[number];

/** A value whose robust z-score reached the threshold. */
export interface Anomaly {
  /** The bar's index in the series. */
  index: number;
  /** The bar's open, ms UTC. */
  t: number;
  field: AnomalyField;
  /** Signed robust z-score (a collapse in volume is negative). */
  score: number;
}

/** Options of `anomalies` and `robustZScores`. */
export interface AnomalyOptions {
  /** Values before each one that it is measured against; default 500. Infinity: all of them (an expanding window, O(n²)). */
  window?: number;
  /** |score| at or above which a value is flagged; default 6. */
  threshold?: number;
  /** Values needed before scoring starts; default 50. */
  minHistory?: number;
  /** Default all three. */
  fields?: readonly AnomalyField[];
}

/** 1/Φ⁻¹(3/4): makes the MAD of normal data estimate its standard deviation. */
const MAD_SCALE = 1.482602218505602;
/** √(π/2): the same for the mean absolute deviation. */
const MEAN_AD_SCALE = 1.2533141373155003;

/**
 * z_i = (x_i − median) / (1.4826·MAD) over the up to `window` finite values before x_i
 * (x_i itself left out); NaN for a non-finite x_i (which also stays out of later windows) and
 * until `minHistory` values have been seen. When more than half of a window is one value the
 * MAD is 0 and √(π/2)·(mean absolute deviation) is the scale; when that is 0 too, the score is
 * NaN. O(n·window).
 */
export function robustZScores(values: ArrayLike<number>, options: AnomalyOptions = {}): Float64Array {
  const window = options.window ?? 500;
  const minHistory = Math.max(1, options.minHistory ?? 50);
  if (!(window === Number.POSITIVE_INFINITY || (Number.isInteger(window) && window >= 1))) {
    throw new RangeError(`window must be an integer ≥ 1 or Infinity, got ${window}`);
  }
  const n = values.length;
  const out = new Float64Array(n).fill(Number.NaN);
  const held = new SortedWindow(Number.isFinite(window) ? window + 1 : 64);
  // Indices of the finite values in the window, oldest first, to know which to drop.
  const queue = new Int32Array(n);
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    const x = values[i] as number;
    if (!Number.isFinite(x)) continue;
    if (held.size >= minHistory) {
      const median = held.median();
      let scale = MAD_SCALE * held.medianAbsoluteDeviation(median);
      if (!(scale > 0)) scale = MEAN_AD_SCALE * held.meanAbsoluteDeviation(median);
      if (scale > 0) out[i] = (x - median) / scale;
    }
    held.insert(x);
    queue[tail++] = i;
    if (tail - head > window) held.remove(values[queue[head++] as number] as number);
  }
  return out;
}

/**
 * Values of a series' field as scored: bar i's return (close[i] / close[i − 1] − 1; NaN for
 * bar 0); log(1 + volume), because volume is skewed and multiplicative (a zero volume is then
 * scored, as a halt should be); log(spread) for a positive spread, NaN otherwise.
 */
export function anomalyValues(series: BarSeries, field: AnomalyField): Float64Array {
  const n = series.length;
  const out = new Float64Array(n);
  for (let i = 0; i < n; i++) {
    if (field === "return")
      out[i] = i === 0 ? Number.NaN : (series.close[i] as number) / (series.close[i - 1] as number) - 1;
    else if (field === "volume") out[i] = Math.log1p(series.volume[i] as number);
    else {
      const s = series.spread[i] as number;
      out[i] = s > 0 ? Math.log(s) : Number.NaN;
    }
  }
  return out;
}

/**
 * Bars whose return, volume or spread is anomalous: |robust z-score| ≥ threshold, the field's
 * values taken as `anomalyValues` reads them, each scored against the window before it
 * (`robustZScores`). Ordered by index, then field in `AnomalyFields` order. Volatility regimes
 * make their own: the first bars of a volatile spell stand out against a calm window.
 */
export function anomalies(series: BarSeries, options: AnomalyOptions = {}): Anomaly[] {
  const threshold = options.threshold ?? 6;
  const fields = AnomalyFields.filter((f) => (options.fields ?? AnomalyFields).includes(f));
  const found: Anomaly[] = [];
  for (const field of fields) {
    const scores = robustZScores(anomalyValues(series, field), options);
    for (let i = 0; i < scores.length; i++) {
      const score = scores[i] as number;
      if (Math.abs(score) >= threshold) found.push({ index: i, t: series.t[i] as number, field, score });
    }
  }
  const rank = (field: AnomalyField) => AnomalyFields.indexOf(field);
  return found.sort((a, b) => a.index - b.index || rank(a.field) - rank(b.field));
}
