/**
 * Several series on one time grid, so that index i is the same moment in each: what cross-market
 * features (lead-lag, spreads, co-movement) and rules trading one series on another's signal need.
 */
import { BarSeries } from "./bars.js";

/**
 * How rows where some series has no bar are treated:
 * - `"drop"` (the default): keep only the times at which every series has a bar. Nothing is
 *   invented; the price of doing so is fewer rows when calendars differ.
 * - `"forward-fill"`: keep every time from the first at which all series have started. A missing
 *   bar repeats the previous close as open, high, low and close, with volume 0 and the previous
 *   spread, and is marked in `filled`. Its return is 0 and the next real bar's return carries the
 *   whole move, which looks like the filled series lagging the others: forward-filled data
 *   manufactures lead-lag, so look for lead-lag on dropped rows.
 */
export type AlignPolicy = "drop" | "forward-fill";

/** Options of `align`. */
export interface AlignOptions {
  /** Default "drop". */
  policy?: AlignPolicy;
}

/** Series aligned on a common grid: `series[j].t` is `t` for every j. */
export interface MarketData {
  /** The common grid, ms UTC, strictly increasing. */
  t: Float64Array;
  /** `symbol@venue` of each series, in the order given to `align`. */
  keys: string[];
  /** The series on the grid, in the order given. */
  series: BarSeries[];
  /** `series[j].close`, for the common case. */
  closes: Float64Array[];
  /** Per series, 1 where the bar was forward-filled (all 0 under "drop"). */
  filled: Uint8Array[];
}

/** `series` on one time grid under `policy` (module doc of `AlignPolicy`). Two series with one key are refused (RangeError). */
export function align(series: readonly BarSeries[], options: AlignOptions = {}): MarketData {
  const policy = options.policy ?? "drop";
  const keys = series.map((s) => s.key);
  if (new Set(keys).size !== keys.length) throw new RangeError(`align needs distinct series, got ${keys.join(", ")}`);
  const grid = policy === "drop" ? commonTimes(series) : unionTimes(series);
  const aligned: BarSeries[] = [];
  const filled: Uint8Array[] = [];
  for (const s of series) {
    const n = grid.length;
    const columns = {
      t: grid,
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      volume: new Float64Array(n),
      spread: new Float64Array(n),
    };
    const mask = new Uint8Array(n);
    let source = 0;
    for (let i = 0; i < n; i++) {
      const time = grid[i] as number;
      while (source < s.length && (s.t[source] as number) < time) source++;
      if (source < s.length && s.t[source] === time) {
        columns.open[i] = s.open[source] as number;
        columns.high[i] = s.high[source] as number;
        columns.low[i] = s.low[source] as number;
        columns.close[i] = s.close[source] as number;
        columns.volume[i] = s.volume[source] as number;
        columns.spread[i] = s.spread[source] as number;
      } else {
        // Only "forward-fill" gets here, with source ≥ 1: the grid starts once every series has.
        const close = s.close[source - 1] as number;
        columns.open[i] = close;
        columns.high[i] = close;
        columns.low[i] = close;
        columns.close[i] = close;
        columns.volume[i] = 0;
        columns.spread[i] = s.spread[source - 1] as number;
        mask[i] = 1;
      }
    }
    aligned.push(new BarSeries(s.symbol, s.venue, columns));
    filled.push(mask);
  }
  return { t: grid, keys, series: aligned, closes: aligned.map((s) => s.close), filled };
}

/** Times present in every series: a k-way intersection of ascending arrays. */
function commonTimes(series: readonly BarSeries[]): Float64Array {
  if (series.length === 0) return new Float64Array(0);
  let common = (series[0] as BarSeries).t;
  for (let j = 1; j < series.length; j++) {
    const other = (series[j] as BarSeries).t;
    const out = new Float64Array(Math.min(common.length, other.length));
    let count = 0;
    let a = 0;
    let b = 0;
    while (a < common.length && b < other.length) {
      const x = common[a] as number;
      const y = other[b] as number;
      if (x === y) {
        out[count++] = x;
        a++;
        b++;
      } else if (x < y) a++;
      else b++;
    }
    common = out.subarray(0, count);
  }
  return common.slice();
}

/** Union of the series' times from the latest first bar on (before it some series has no price to carry). */
function unionTimes(series: readonly BarSeries[]): Float64Array {
  let start = Number.NEGATIVE_INFINITY;
  for (const s of series) {
    if (s.length === 0) return new Float64Array(0);
    start = Math.max(start, s.t[0] as number);
  }
  const all: number[] = [];
  for (const s of series) for (let i = s.indexAtOrAfter(start); i < s.length; i++) all.push(s.t[i] as number);
  const sorted = Float64Array.from(all).sort();
  let count = 0;
  for (let i = 0; i < sorted.length; i++) {
    if (i === 0 || sorted[i] !== sorted[count - 1]) sorted[count++] = sorted[i] as number;
  }
  return sorted.slice(0, count);
}
