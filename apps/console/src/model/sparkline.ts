/**
 * Sparklines of a strategy's recent returns: the wealth path from the performance
 * history (`history` answers buckets with open/high/low/close of wealth starting at 1),
 * as the x/y arrays uPlot draws, and an SVG path for the table cells where a chart
 * object per row would cost more than it shows.
 */
import type { HistoryReply } from "@stratreg/protocol/web";

/** x (seconds, as uPlot wants) and y (wealth) of a sparkline, oldest first. */
export interface SparklineSeries {
  x: number[];
  y: number[];
}

/** The wealth path of a history reply: each bucket's close at its time. Buckets without a finite close are left out. */
export function wealthSeries(history: Pick<HistoryReply, "points">): SparklineSeries {
  const x: number[] = [];
  const y: number[] = [];
  for (const point of history.points) {
    if (!Number.isFinite(point.close) || !Number.isFinite(point.t)) continue;
    x.push(point.t / 1000);
    y.push(point.close);
  }
  return { x, y };
}

/** Whether a series ended above where it started (drawn in the "up" colour), below, or flat. */
export function trendOf(series: SparklineSeries): "up" | "down" | "flat" {
  const first = series.y[0];
  const last = series.y[series.y.length - 1];
  if (first === undefined || last === undefined || last === first) return "flat";
  return last > first ? "up" : "down";
}

/**
 * An SVG path (`M x y L x y …`) drawing `values` in a `width`×`height` box, the lowest value
 * at the bottom. A single value or a flat series is a horizontal line through the middle.
 */
export function sparklinePath(values: readonly number[], width: number, height: number): string {
  const finite = values.filter(Number.isFinite);
  if (finite.length === 0) return "";
  const min = Math.min(...finite);
  const max = Math.max(...finite);
  const span = max - min;
  const step = finite.length > 1 ? width / (finite.length - 1) : 0;
  const round = (n: number) => Math.round(n * 100) / 100;
  return finite
    .map((v, i) => {
      const y = span === 0 ? height / 2 : height - ((v - min) / span) * height;
      return `${i === 0 ? "M" : "L"}${round(i * step)} ${round(y)}`;
    })
    .join(" ");
}
