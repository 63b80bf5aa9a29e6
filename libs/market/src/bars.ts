/**
 * Bars, one at a time (`Bar`, what a parser or a feed yields) and as columns (`BarSeries`, what
 * every computation reads): one Float64Array per field, so a pass over 10,000 bars touches
 * numbers, not objects.
 */

/** One bar of one symbol on one venue. */
export interface Bar {
  symbol: string;
  venue: string;
  /** The bar's open, milliseconds since the epoch, UTC. */
  t: number;
  open: number;
  high: number;
  low: number;
  close: number;
  volume: number;
  /** Relative bid-ask spread ((ask − bid) / mid, 0.0004 = 4 bp), when known. */
  spread?: number;
}

/** The columns of a `BarSeries`, equally long; `spread` is NaN where unknown, or left out when unknown throughout. */
export interface BarColumns {
  t: Float64Array;
  open: Float64Array;
  high: Float64Array;
  low: Float64Array;
  close: Float64Array;
  volume: Float64Array;
  spread?: Float64Array;
}

/**
 * The key naming one series: `symbol@venue`. Symbols and venues contain no `@` (the CSV reader
 * refuses one), so the key is unambiguous.
 */
export function seriesKey(symbol: string, venue: string): string {
  return `${symbol}@${venue}`;
}

/** Index of the first of the ascending `t` that is ≥ `time` (t.length when none is). */
function lowerBound(t: Float64Array, time: number): number {
  let lo = 0;
  let hi = t.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((t[mid] as number) < time) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

/**
 * The bars of one (symbol, venue), as columns, in strictly increasing time. Slices share memory
 * with the series they come from (typed-array views): cheap, and read-only by convention.
 */
export class BarSeries {
  readonly symbol: string;
  readonly venue: string;
  readonly t: Float64Array;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
  /** Relative bid-ask spread per bar, NaN where unknown. */
  readonly spread: Float64Array;

  /**
   * Columns as they are (not copied). Throws a RangeError when their lengths differ or the times
   * do not strictly increase; the values themselves are the caller's (`parseBarsCsv` checks them).
   */
  constructor(symbol: string, venue: string, columns: BarColumns) {
    const n = columns.t.length;
    for (const name of ["open", "high", "low", "close", "volume", "spread"] as const) {
      const column = columns[name];
      if (column !== undefined && column.length !== n) {
        throw new RangeError(`${seriesKey(symbol, venue)}: column ${name} has ${column.length} values, t has ${n}`);
      }
    }
    for (let i = 1; i < n; i++) {
      if (!((columns.t[i] as number) > (columns.t[i - 1] as number))) {
        throw new RangeError(`${seriesKey(symbol, venue)}: times must strictly increase (index ${i})`);
      }
    }
    this.symbol = symbol;
    this.venue = venue;
    this.t = columns.t;
    this.open = columns.open;
    this.high = columns.high;
    this.low = columns.low;
    this.close = columns.close;
    this.volume = columns.volume;
    this.spread = columns.spread ?? new Float64Array(n).fill(Number.NaN);
  }

  /** One series from bars of a single (symbol, venue), in increasing time; a RangeError otherwise or when empty. */
  static fromBars(bars: readonly Bar[]): BarSeries {
    const first = bars[0];
    if (first === undefined) throw new RangeError("a series needs at least one bar");
    const n = bars.length;
    const columns = {
      t: new Float64Array(n),
      open: new Float64Array(n),
      high: new Float64Array(n),
      low: new Float64Array(n),
      close: new Float64Array(n),
      volume: new Float64Array(n),
      spread: new Float64Array(n),
    };
    for (let i = 0; i < n; i++) {
      const bar = bars[i] as Bar;
      if (bar.symbol !== first.symbol || bar.venue !== first.venue) {
        throw new RangeError(
          `bar ${i} is ${seriesKey(bar.symbol, bar.venue)}, the series is ${seriesKey(first.symbol, first.venue)}`,
        );
      }
      columns.t[i] = bar.t;
      columns.open[i] = bar.open;
      columns.high[i] = bar.high;
      columns.low[i] = bar.low;
      columns.close[i] = bar.close;
      columns.volume[i] = bar.volume;
      columns.spread[i] = bar.spread ?? Number.NaN;
    }
    return new BarSeries(first.symbol, first.venue, columns);
  }

  /** `symbol@venue`. */
  get key(): string {
    return seriesKey(this.symbol, this.venue);
  }

  /** Number of bars. */
  get length(): number {
    return this.t.length;
  }

  /**
   * Simple close-to-close returns, length − 1 of them (numpy's `diff(c) / c[:-1]`):
   * `returns()[i − 1]` is bar i's return, close[i] / close[i − 1] − 1. A new array per call.
   */
  returns(): Float64Array {
    const n = this.length;
    const out = new Float64Array(Math.max(0, n - 1));
    for (let i = 1; i < n; i++) out[i - 1] = (this.close[i] as number) / (this.close[i - 1] as number) - 1;
    return out;
  }

  /** Bar i as an object (for display and tests; loops should read the columns). */
  bar(i: number): Bar {
    if (!(Number.isInteger(i) && i >= 0 && i < this.length)) throw new RangeError(`no bar ${i} in ${this.length}`);
    const bar: Bar = {
      symbol: this.symbol,
      venue: this.venue,
      t: this.t[i] as number,
      open: this.open[i] as number,
      high: this.high[i] as number,
      low: this.low[i] as number,
      close: this.close[i] as number,
      volume: this.volume[i] as number,
    };
    const spread = this.spread[i] as number;
    if (!Number.isNaN(spread)) bar.spread = spread;
    return bar;
  }

  /** Bars [start, end) by index, as `Array.prototype.slice` reads its arguments (negative from the end); a view. */
  slice(start = 0, end = this.length): BarSeries {
    const n = this.length;
    const from = Math.min(n, Math.max(0, start < 0 ? n + start : start));
    const to = Math.min(n, Math.max(from, end < 0 ? n + end : end));
    return new BarSeries(this.symbol, this.venue, {
      t: this.t.subarray(from, to),
      open: this.open.subarray(from, to),
      high: this.high.subarray(from, to),
      low: this.low.subarray(from, to),
      close: this.close.subarray(from, to),
      volume: this.volume.subarray(from, to),
      spread: this.spread.subarray(from, to),
    });
  }

  /** Bars opening in [from, to) (ms UTC), by binary search; a view. */
  between(from: number, to: number): BarSeries {
    return this.slice(this.indexAtOrAfter(from), this.indexAtOrAfter(to));
  }

  /** Index of the first bar opening at or after `time`; `length` when there is none. */
  indexAtOrAfter(time: number): number {
    return lowerBound(this.t, time);
  }
}

/**
 * Bars of any number of series (a parsed CSV file, say) grouped into one `BarSeries` per
 * (symbol, venue), ordered by key. Within a series the bars keep their order, which must be
 * strictly increasing in time (`parseBarsCsv` guarantees it); a RangeError otherwise.
 */
export function seriesFromBars(bars: readonly Bar[]): BarSeries[] {
  const groups = new Map<string, Bar[]>();
  for (const bar of bars) {
    const key = seriesKey(bar.symbol, bar.venue);
    let group = groups.get(key);
    if (group === undefined) {
      group = [];
      groups.set(key, group);
    }
    group.push(bar);
  }
  return [...groups.keys()].sort().map((key) => BarSeries.fromBars(groups.get(key) as Bar[]));
}
