/**
 * A candidate's validation report as text: the candidates table and what
 * `stratreg candidates show` prints (every check with its value, threshold and
 * verdict, the Sharpe ratio per regime, the estimate, the capacity).
 *
 * The report is read defensively: the protocol promises only `passed`, and a
 * report from another discovery build may lack any other part (or carry it
 * differently); a missing part is left out, never a crash.
 */
import type { CandidateMessage } from "@stratreg/client";
import { type Align, formatTable } from "../format.js";

/** What a value that is not there prints as. */
export const DASH = "–";

type Fields = Record<string, unknown>;

function fields(value: unknown): Fields | undefined {
  return value !== null && typeof value === "object" && !Array.isArray(value) ? (value as Fields) : undefined;
}

function num(value: unknown): number | null {
  return typeof value === "number" && Number.isFinite(value) ? value : null;
}

function text(value: unknown): string | undefined {
  return typeof value === "string" ? value : undefined;
}

/** A figure for people: from 1,000 up rounded and grouped, integers as they are, others to 4 significant digits; null as a dash. */
export function figure(value: number | null): string {
  if (value === null) return DASH;
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Number.isInteger(value)) return String(value);
  return Number(value.toPrecision(4)).toString();
}

/** A Sharpe ratio: two decimals, a dash when undefined. */
export function formatSharpe(value: number | null | undefined): string {
  return value === null || value === undefined || !Number.isFinite(value) ? DASH : value.toFixed(2);
}

/** A share as a percentage: `0.1234` → `12.3%` (one decimal unless told). */
export function formatPercent(value: number | null, decimals = 1): string {
  return value === null ? DASH : `${(value * 100).toFixed(decimals)}%`;
}

function interval(value: unknown): [number, number] | null {
  if (!Array.isArray(value) || value.length !== 2) return null;
  const [low, high] = value.map(num);
  return low === null || low === undefined || high === null || high === undefined ? null : [low, high];
}

/** `[0.41, 1.92]`, with `format` for each bound; a dash without an interval. */
function formatInterval(value: [number, number] | null, format: (x: number) => string): string {
  return value === null ? DASH : `[${format(value[0])}, ${format(value[1])}]`;
}

/** The test split's Sharpe ratio: the test window's, else the estimate's, else the `testSharpe` check's value. */
export function testSharpe(report: Fields): number | null {
  const fromWindow = num(fields(report.test)?.sharpe);
  if (fromWindow !== null) return fromWindow;
  const fromEstimate = num(fields(report.estimate)?.sharpe);
  if (fromEstimate !== null) return fromEstimate;
  const check = checksOf(report)?.find((c) => c.name === "testSharpe");
  return check?.value ?? null;
}

/** The estimate's Sharpe interval and its coverage (0.9 when the report does not say). */
export function sharpeInterval(report: Fields): { interval: [number, number] | null; level: number } {
  const estimate = fields(report.estimate);
  return { interval: interval(estimate?.sharpeInterval), level: num(estimate?.level) ?? 0.9 };
}

/** One check as the table reads it. */
export interface CheckRow {
  name: string;
  value: number | null;
  threshold: number | null;
  comparison: string;
  passed: boolean;
  note: string | undefined;
}

/** The report's checks, or undefined when it has none (an early report carries only `passed`). */
export function checksOf(report: Fields): CheckRow[] | undefined {
  if (!Array.isArray(report.checks)) return undefined;
  return report.checks.flatMap((raw): CheckRow[] => {
    const check = fields(raw);
    if (check === undefined) return [];
    return [
      {
        name: text(check.name) ?? "?",
        value: num(check.value),
        threshold: num(check.threshold),
        comparison: text(check.comparison) ?? "",
        passed: check.passed === true,
        note: text(check.note),
      },
    ];
  });
}

/** The candidates as a table: id, target, origin, test Sharpe, its interval, expression (last: it is long). */
export function candidateTableLines(candidates: readonly CandidateMessage[]): string[] {
  if (candidates.length === 0) return ["no candidates"];
  const level = sharpeInterval(fields(candidates[0]?.report) ?? {}).level;
  const rows = [
    ["ID", "TARGET", "ORIGIN", "TEST SHARPE", `${Math.round(level * 100)}% INTERVAL`, "EXPRESSION"],
    ...candidates.map((c) => {
      const report = fields(c.report) ?? {};
      return [
        c.id,
        c.target,
        c.origin,
        formatSharpe(testSharpe(report)),
        formatInterval(sharpeInterval(report).interval, (x) => x.toFixed(2)),
        c.expression,
      ];
    }),
  ];
  const align: Align[] = ["left", "left", "left", "right", "right", "left"];
  return formatTable(rows, align);
}

function checkLines(checks: readonly CheckRow[]): string[] {
  const rows = [
    ["CHECK", "VALUE", "THRESHOLD", "RESULT", "NOTE"],
    ...checks.map((c) => [
      c.name,
      figure(c.value),
      c.threshold === null ? DASH : `${c.comparison} ${figure(c.threshold)}`.trim(),
      c.passed ? "pass" : "FAIL",
      c.note ?? "",
    ]),
  ];
  const failed = checks.filter((c) => !c.passed).length;
  return [
    ...formatTable(rows, ["left", "right", "left", "left", "left"]),
    failed === 0 ? `every check passes (${checks.length})` : `${failed} of ${checks.length} checks fail`,
  ];
}

function windowLines(report: Fields): string[] {
  const parts: string[] = [];
  for (const name of ["train", "validation", "test"]) {
    const window = fields(report[name]);
    if (window === undefined) continue;
    const trades = num(window.trades);
    parts.push(`${name} ${formatSharpe(num(window.sharpe))}${trades === null ? "" : ` (${figure(trades)} trades)`}`);
  }
  return parts.length === 0 ? [] : [`Sharpe by split: ${parts.join(", ")}`];
}

function regimeLines(report: Fields): string[] {
  if (!Array.isArray(report.regimes) || report.regimes.length === 0) return [];
  const rows = [
    ["REGIME", "PERIODS", "SHARPE"],
    ...report.regimes.flatMap((raw) => {
      const regime = fields(raw);
      if (regime === undefined) return [];
      return [[text(regime.regime) ?? "?", figure(num(regime.periods)), formatSharpe(num(regime.sharpe))]];
    }),
  ];
  return ["held-out Sharpe by regime:", ...formatTable(rows, ["left", "right", "right"]).map((l) => `  ${l}`)];
}

function estimateLines(report: Fields): string[] {
  const estimate = fields(report.estimate);
  if (estimate === undefined) return [];
  const level = `${Math.round((num(estimate.level) ?? 0.9) * 100)}%`;
  const lines = [
    `estimate (test split, net of costs${costs(estimate)}):`,
    `  Sharpe ${formatSharpe(num(estimate.sharpe))}, ${level} interval ${formatInterval(interval(estimate.sharpeInterval), (x) => x.toFixed(2))}`,
    `  annual return ${formatPercent(num(estimate.annualReturn))}, ${level} interval ${formatInterval(interval(estimate.annualReturnInterval), (x) => formatPercent(x))}`,
  ];
  const turnover = num(estimate.turnoverPerYear);
  if (turnover !== null) lines.push(`  turnover ${figure(turnover)} a year`);
  return lines;
}

function costs(estimate: Fields): string {
  const fee = num(estimate.feeBps);
  const slippage = num(estimate.slippageBps);
  if (fee === null && slippage === null) return "";
  return `: fees ${figure(fee)} bp, slippage ${figure(slippage)} bp`;
}

function capacityLines(report: Fields): string[] {
  const estimate = fields(report.estimate);
  if (report.capacity === undefined && estimate?.capacity === undefined) return [];
  // The capacity is the estimate's (the report's own, as a number or an object, wins when there is one).
  const own = fields(report.capacity);
  const capacity = num(report.capacity) ?? num(own?.notional) ?? num(estimate?.capacity);
  const participation = num(own?.participation) ?? num(estimate?.participation);
  const share = participation === null ? "" : ` at ${formatPercent(participation)} of each bar's traded value`;
  return [`capacity: ${capacity === null ? "unknown (no trades)" : `${figure(capacity)} notional`}${share}`];
}

/** Everything `candidates show` prints about one candidate. */
export function candidateReportLines(candidate: CandidateMessage): string[] {
  const report = fields(candidate.report) ?? {};
  const lines = [
    `${candidate.id}: ${candidate.origin} by run ${candidate.runId} at ${new Date(candidate.at).toISOString()}`,
    `target:      ${candidate.target}`,
    `family:      ${candidate.family}`,
    `expression:  ${candidate.expression}`,
  ];
  if (candidate.parents.length > 0) lines.push(`parents:     ${candidate.parents.join(", ")}`);
  lines.push(`validation:  ${report.passed === true ? "passed" : "not passed"}`, "");
  const checks = checksOf(report);
  if (checks === undefined || checks.length === 0) lines.push("the report lists no checks");
  else lines.push(...checkLines(checks));
  const more = [windowLines(report), regimeLines(report), estimateLines(report), capacityLines(report)];
  for (const part of more) if (part.length > 0) lines.push("", ...part);
  return lines;
}
