/**
 * What the discovery commands print, as pure functions of discovery's replies:
 * the series held, an import's summary, a run's progress line and how it
 * ended, the loop's status and the scanner's findings.
 */
import type { DataReply, DiscoveryStatus, ImportBarsReply, RunProgress, ScanFindings } from "@stratreg/client";
import { RunOutcomes, seriesKeyOf } from "@stratreg/protocol";
import { formatCount, formatTable } from "../format.js";
import { DASH, figure, formatPercent, formatSharpe } from "./report.js";

const WEEKDAYS = ["Sunday", "Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday"];

/** `1 bar`, `2,000 bars`. */
export function plural(n: number, one: string, many = `${one}s`): string {
  return `${formatCount(n)} ${n === 1 ? one : many}`;
}

/** A span for people, zero parts left out: `45.2 s`, `1 min 30 s`, `10 min`, `1 h`, `2 h 5 min`. */
export function formatSpan(ms: number): string {
  const total = Math.max(0, ms);
  if (total < 60_000) return `${Number((total / 1000).toFixed(1))} s`;
  const seconds = Math.round(total / 1000);
  const h = Math.floor(seconds / 3600);
  const min = Math.floor((seconds % 3600) / 60);
  const s = seconds % 60;
  if (h > 0) return min === 0 ? `${h} h` : `${h} h ${min} min`;
  return s === 0 ? `${min} min` : `${min} min ${s} s`;
}

/** A time as ISO-8601 UTC, without milliseconds when they are zero; a dash for none. */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return DASH;
  return new Date(ms).toISOString().replace(".000Z", "Z");
}

/** The series held, as a table, then the totals. */
export function seriesLines(reply: DataReply): string[] {
  if (reply.series.length === 0) return ["no market data held: import bars with `stratreg data import <file.csv>`"];
  const series = [...reply.series].sort((a, b) => a.symbol.localeCompare(b.symbol) || a.venue.localeCompare(b.venue));
  const rows = [
    ["SYMBOL", "VENUE", "BARS", "FROM", "TO"],
    ...series.map((s) => [s.symbol, s.venue, formatCount(s.bars), formatTime(s.from), formatTime(s.to)]),
  ];
  const bars = series.reduce((n, s) => n + s.bars, 0);
  return [
    ...formatTable(rows, ["left", "left", "right", "left", "left"]),
    `${plural(series.length, "series", "series")}, ${plural(bars, "bar")}`,
  ];
}

/** What `data import` did with one series; `fileKey` when the file spelt it otherwise. */
export interface SeriesImported extends ImportBarsReply {
  fileKey?: string;
}

/** A series whose import failed part way, or whose name could not be used. */
export interface SeriesFailed {
  series: string;
  error: string;
  /** Bars appended before it failed. */
  appended: number;
}

/** What `data import` did: the object `--json` prints. */
export interface BarsImportSummary {
  file: string;
  series: SeriesImported[];
  failed: SeriesFailed[];
  /** Lines of the file skipped for a problem. */
  skippedLines: number;
  elapsedMs: number;
  interrupted: boolean;
}

/** The import's summary for stdout: one row per series (appended, duplicates, bars held now). */
export function importSummaryLines(summary: BarsImportSummary): string[] {
  const appended = summary.series.reduce((n, s) => n + s.appended, 0);
  const duplicates = summary.series.reduce((n, s) => n + s.duplicates, 0);
  const head =
    `${summary.interrupted ? "interrupted" : "imported"} ${summary.file}: ${plural(summary.series.length, "series", "series")}, ` +
    `${plural(appended, "bar")} appended, ${formatCount(duplicates)} already held, in ${formatSpan(summary.elapsedMs)}`;
  const lines = [head];
  if (summary.series.length > 0) {
    const rows = [
      ["SERIES", "APPENDED", "DUPLICATES", "HELD"],
      ...summary.series.map((s) => [
        seriesKeyOf(s.symbol, s.venue),
        formatCount(s.appended),
        formatCount(s.duplicates),
        formatCount(s.bars),
      ]),
    ];
    lines.push(...formatTable(rows, ["left", "right", "right", "right"]).map((l) => `  ${l}`));
  }
  if (summary.skippedLines > 0) lines.push(`  skipped lines: ${formatCount(summary.skippedLines)} (listed on stderr)`);
  for (const f of summary.failed)
    lines.push(`  failed: ${f.series}: ${f.error} (${plural(f.appended, "bar")} appended before)`);
  return lines;
}

/** Where a run is, in one line: phase, series, generation, evaluated, best train Sharpe, candidates, time. */
export function progressLine(p: RunProgress): string {
  const parts: string[] = [p.phase];
  const n = p.targets.length;
  if (n > 0) {
    const current = Math.min(p.targetsDone + (p.target === null ? 0 : 1), n);
    parts[0] = `${p.phase}${p.target === null ? "" : ` ${p.target}`} (series ${current}/${n})`;
  }
  if (p.generation > 0) parts.push(`generation ${p.generation}`);
  parts.push(
    `${formatCount(p.evaluated)} evaluated`,
    `best train Sharpe ${formatSharpe(p.bestTrainSharpe)}`,
    plural(p.candidates, "candidate"),
    `${formatSpan(p.elapsedMs)} of ${formatSpan(p.budgetMs)}`,
  );
  return parts.join(" | ");
}

/** The command that resumes a run. */
export function resumeCommand(runId: string): string {
  return `stratreg discover --resume ${runId}`;
}

/** How a run ended, for stdout (`lines`) and stderr (`warnings`: why it failed). */
export function runEndReport(p: RunProgress): { lines: string[]; warnings: string[] } {
  const took = formatSpan(p.elapsedMs);
  const found = `${plural(p.targetsDone, "series", "series")} mined, ${formatCount(p.evaluated)} evaluated, ${plural(p.candidates, "candidate")}`;
  const where =
    p.target === null ? p.phase : `${p.phase} ${p.target}${p.generation > 0 ? `, generation ${p.generation}` : ""}`;
  switch (p.outcome) {
    case RunOutcomes.Completed:
      return { lines: [`run ${p.runId} completed in ${took}: ${found}`], warnings: [] };
    case RunOutcomes.Stopped:
      return {
        lines: [
          `run ${p.runId} stopped after ${took} (${where}): ${found}; its checkpoint is kept`,
          `resume it with: ${resumeCommand(p.runId)}`,
        ],
        warnings: [],
      };
    case RunOutcomes.Halted:
      return {
        lines: [
          `run ${p.runId} halted after ${took} (${where}): trading was HALTED; ${found}; its checkpoint is kept`,
          `once trading resumes, resume it with: ${resumeCommand(p.runId)}`,
        ],
        warnings: [],
      };
    default:
      return {
        lines: [`run ${p.runId} ${p.outcome ?? "ended"} after ${took}: ${found}`],
        warnings: [`error: run ${p.runId} failed: ${p.error ?? "no reason given"}`],
      };
  }
}

function tradingText(trading: unknown): string {
  if (trading === null || trading === undefined) return "trading state unknown (no risk guard heard yet)";
  if (typeof trading === "string") return `trading ${trading}`;
  const state = (trading as { state?: unknown }).state;
  return typeof state === "string" ? `trading ${state}` : "trading state unknown";
}

/** The loop's state, the trading state, the run in progress and the latest runs. */
export function statusLines(status: DiscoveryStatus): string[] {
  const member = typeof status.member === "string" ? ` (${status.member})` : "";
  const counts: string[] = [];
  if (typeof status.series === "number") counts.push(plural(status.series, "series", "series"));
  if (typeof status.candidates === "number") counts.push(plural(status.candidates, "candidate"));
  const lines = [
    `discovery ${status.state ?? "unknown"}${member}; ${tradingText(status.trading)}${counts.length === 0 ? "" : `; ${counts.join(", ")} held`}`,
  ];
  const run = status.run;
  lines.push(
    run === null || run === undefined ? "no run in progress" : `run ${run.runId} in progress: ${progressLine(run)}`,
  );
  const runs = Array.isArray(status.runs) ? status.runs : [];
  if (runs.length === 0) {
    lines.push("no runs yet");
    return lines;
  }
  const rows = [
    ["RUN", "STARTED", "OUTCOME", "SERIES", "EVALUATED", "CANDIDATES", "TOOK"],
    ...runs.map((r) => [
      r.runId,
      formatTime(r.startedAt),
      r.outcome ?? "running",
      `${r.targetsDone}/${r.targets.length}`,
      formatCount(r.evaluated),
      formatCount(r.candidates),
      formatSpan(r.elapsedMs),
    ]),
  ];
  lines.push(
    "latest runs:",
    ...formatTable(rows, ["left", "left", "left", "right", "right", "right", "right"]).map((l) => `  ${l}`),
  );
  return lines;
}

function indent(lines: string[]): string[] {
  return lines.map((line) => `  ${line}`);
}

/** The scanner's findings: regimes (current, shares), lead-lag, weekday effects, latest anomalies. */
export function scanLines(scan: ScanFindings | null): string[] {
  if (scan === null) return ["no scan yet: discovery scans the market at the start of each run"];
  const lines = [`scan of ${plural(scan.bars ?? 0, "aligned bar")} at ${formatTime(scan.at)}`];
  const regimes = scan.regimes;
  if (regimes !== undefined) {
    lines.push(`regime now: ${regimes.current}`);
    const shares = Object.entries(regimes.shares ?? {}).sort(([, a], [, b]) => b - a);
    const rows = [["REGIME", "SHARE"], ...shares.map(([name, share]) => [name, formatPercent(share)])];
    lines.push(...indent(formatTable(rows, ["left", "right"])));
  }
  const leadLag = scan.leadLag ?? [];
  if (leadLag.length === 0) lines.push("lead-lag: none significant");
  else {
    const rows = [
      ["LEADER", "FOLLOWER", "LAG", "CORRELATION"],
      ...leadLag.map((f) => [f.leader, f.follower, plural(f.lag, "bar"), f.correlation.toFixed(3)]),
    ];
    lines.push(
      "lead-lag (significant after a Bonferroni correction):",
      ...indent(formatTable(rows, ["left", "left", "right", "right"])),
    );
  }
  const calendar = scan.calendar ?? [];
  if (calendar.length === 0) lines.push("weekday effects: none significant");
  else {
    const rows = [
      ["SERIES", "WEEKDAY", "MEAN RETURN", "T"],
      ...calendar.map((f) => [
        f.series,
        WEEKDAYS[f.weekday] ?? String(f.weekday),
        formatPercent(f.meanReturn, 3),
        figure(f.t),
      ]),
    ];
    lines.push("weekday effects (UTC):", ...indent(formatTable(rows, ["left", "left", "right", "right"])));
  }
  const anomalies = scan.anomalies ?? [];
  if (anomalies.length === 0) lines.push("anomalies: none");
  else {
    const rows = [
      ["SERIES", "FIELD", "AT", "SCORE"],
      ...anomalies.map((a) => [a.series, a.field, formatTime(a.t), a.score.toFixed(1)]),
    ];
    lines.push("latest anomalies:", ...indent(formatTable(rows, ["left", "left", "left", "right"])));
  }
  return lines;
}
