/**
 * A table of figures against their thresholds, each passed or not: a strategy's gates and a
 * candidate's validation checks read alike.
 */
import { formatNumber } from "../../model/format.js";

/** One figure: its name, its value, how it is compared and with what, and whether it passed. */
export interface ThresholdRow {
  name: string;
  value: number | null;
  comparison: string;
  threshold: number | null;
  passed: boolean;
}

export function ThresholdTable({
  rows,
  kind,
  class: className,
}: {
  rows: ThresholdRow[];
  kind: string;
  class: string;
}) {
  return (
    <table class={className}>
      <thead>
        <tr>
          <th>{kind}</th>
          <th>value</th>
          <th>threshold</th>
          <th />
        </tr>
      </thead>
      <tbody>
        {rows.map((r) => (
          <tr key={r.name} class={r.passed ? "pass" : "fail"}>
            <td>{r.name}</td>
            <td class="num">{formatNumber(r.value, 3)}</td>
            <td class="num">
              {r.comparison} {formatNumber(r.threshold, 3)}
            </td>
            <td>{r.passed ? "✓" : "✗"}</td>
          </tr>
        ))}
      </tbody>
    </table>
  );
}
