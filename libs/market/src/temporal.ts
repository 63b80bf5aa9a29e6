/**
 * Calendar features: the mean return by hour of day or by day of week (UTC), with what it
 * takes to judge whether one of them is more than noise.
 */
import type { BarSeries } from "./bars.js";
import { dayOfWeek, hourOfDay } from "./calendar.js";

/** What `calendarProfile` groups by. */
export type CalendarBucket = "hour" | "weekday";

/** Returns grouped by calendar bucket: index k is hour k (0–23) or weekday k (0 = Sunday … 6). */
export interface CalendarProfile {
  by: CalendarBucket;
  /** Returns in each bucket. */
  count: Int32Array;
  /** Their mean (NaN for an empty bucket). */
  mean: Float64Array;
  /** Their sample standard deviation, ddof 1 (NaN below two). */
  sd: Float64Array;
  /**
   * mean / (sd / √count): about N(0, 1) for a bucket without an effect, so with 7 or 24
   * buckets tested, |t| ≳ 3 is where a calendar effect starts to be believable.
   */
  tStat: Float64Array;
}

/**
 * The series' bar returns grouped by the UTC hour or weekday of the bar they are earned over
 * (bar i's return, close[i] / close[i − 1] − 1, goes to bar i's open time). O(n).
 */
export function calendarProfile(series: BarSeries, by: CalendarBucket): CalendarProfile {
  const size = by === "hour" ? 24 : 7;
  const bucketOf = by === "hour" ? hourOfDay : dayOfWeek;
  const count = new Int32Array(size);
  const sum = new Float64Array(size);
  const n = series.length;
  const bucket = new Int8Array(n);
  const r = new Float64Array(n);
  for (let i = 1; i < n; i++) {
    const k = bucketOf(series.t[i] as number);
    bucket[i] = k;
    r[i] = (series.close[i] as number) / (series.close[i - 1] as number) - 1;
    count[k] = (count[k] as number) + 1;
    sum[k] = (sum[k] as number) + (r[i] as number);
  }
  const mean = new Float64Array(size);
  for (let k = 0; k < size; k++)
    mean[k] = (count[k] as number) > 0 ? (sum[k] as number) / (count[k] as number) : Number.NaN;
  const squares = new Float64Array(size);
  for (let i = 1; i < n; i++) {
    const k = bucket[i] as number;
    squares[k] = (squares[k] as number) + ((r[i] as number) - (mean[k] as number)) ** 2;
  }
  const sd = new Float64Array(size);
  const tStat = new Float64Array(size);
  for (let k = 0; k < size; k++) {
    const c = count[k] as number;
    sd[k] = c >= 2 ? Math.sqrt((squares[k] as number) / (c - 1)) : Number.NaN;
    tStat[k] = c >= 2 && (sd[k] as number) > 0 ? ((mean[k] as number) / (sd[k] as number)) * Math.sqrt(c) : Number.NaN;
  }
  return { by, count, mean, sd, tStat };
}
