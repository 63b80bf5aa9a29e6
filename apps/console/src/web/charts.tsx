/**
 * Charts: uPlot for time series (a strategy's wealth path), an SVG path for the
 * sparklines in table rows (a chart object per row would cost more than it shows),
 * and a grid of coloured cells for the correlation heatmap.
 */
import { useEffect, useRef } from "preact/hooks";
import uPlot from "uplot";
import { formatNumber } from "../model/format.js";
import { type CorrelationMatrix, correlationColour } from "../model/heatmap.js";
import { type SparklineSeries, sparklinePath, trendOf } from "../model/sparkline.js";

/** A sparkline of a series in a small box. */
export function Sparkline({
  series,
  width = 120,
  height = 24,
}: {
  series: SparklineSeries | undefined;
  width?: number;
  height?: number;
}) {
  if (series === undefined || series.y.length === 0) {
    return (
      <svg class="spark" width={width} height={height} role="img" aria-label="no returns yet">
        <title>no returns yet</title>
      </svg>
    );
  }
  const trend = trendOf(series);
  return (
    <svg
      class={`spark ${trend}`}
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={`recent returns, ${trend}`}
    >
      <title>recent returns, {trend}</title>
      <path d={sparklinePath(series.y, width, height - 2)} fill="none" stroke-width="1.5" />
    </svg>
  );
}

/** A uPlot line chart of one series, redrawn when the data changes. */
export function LineChart({
  series,
  label,
  height = 200,
}: {
  series: SparklineSeries;
  label: string;
  height?: number;
}) {
  const box = useRef<HTMLDivElement>(null);
  const plot = useRef<uPlot | undefined>(undefined);
  useEffect(() => {
    const el = box.current;
    if (el === null) return;
    plot.current = new uPlot(
      {
        width: Math.max(300, el.clientWidth),
        height,
        series: [{}, { label, stroke: "#2563eb", width: 1.5 }],
        axes: [{}, { values: (_u, ticks) => ticks.map((t) => formatNumber(t, 3)) }],
        legend: { show: false },
      },
      [series.x, series.y],
      el,
    );
    return () => {
      plot.current?.destroy();
      plot.current = undefined;
    };
  }, [label, height]);
  useEffect(() => {
    plot.current?.setData([series.x, series.y]);
  }, [series]);
  return <div class="chart" ref={box} />;
}

/** The correlation matrix as coloured cells, each with its value in its tooltip. */
export function Heatmap({ matrix }: { matrix: CorrelationMatrix }) {
  const n = matrix.labels.length;
  if (n === 0) return <p class="muted">No strategy has exposure and enough reported returns yet.</p>;
  return (
    <div class="heatmap" style={{ gridTemplateColumns: `8em repeat(${n}, 1.6em)` }}>
      <span />
      {matrix.labels.map((l) => (
        <span class="hm-col" title={l} key={`c-${l}`}>
          {l}
        </span>
      ))}
      {matrix.cells.map((row, i) => [
        <span class="hm-row" key={`r-${matrix.labels[i]}`}>
          {matrix.labels[i]}
        </span>,
        ...row.map((rho, j) => (
          <span
            class="hm-cell"
            key={`${i}-${j}`}
            style={{ background: correlationColour(rho) }}
            title={`${matrix.labels[i]} × ${matrix.labels[j]}: ${rho === null ? "not reported" : formatNumber(rho, 2)}`}
          />
        )),
      ])}
    </div>
  );
}
