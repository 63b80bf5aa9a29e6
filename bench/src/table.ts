/** How the benchmark prints its figures: numbers in en-US form, rows of markdown tables, medians of rounds. */

/** `n` with thousands separators and exactly `d` decimals. */
export const fmt = (n: number, d = 0) =>
  n.toLocaleString("en-US", { maximumFractionDigits: d, minimumFractionDigits: d });

/**
 * One markdown table row: each cell padded to its width, at the end when the
 * width is positive (text), at the start when negative (figures).
 */
export function tableRow(cells: readonly string[], widths: readonly number[]): string {
  const padded = cells.map((cell, i) => {
    const width = widths[i] ?? 0;
    return width < 0 ? cell.padStart(-width) : cell.padEnd(width);
  });
  return `| ${padded.join(" | ")} |`;
}

/** The middle value (the upper middle of an even count); NaN when there is none or any value is NaN. */
export function median(values: readonly number[]): number {
  if (values.some(Number.isNaN)) return Number.NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)] ?? Number.NaN;
}
