/** The end-of-import summary: the object `--json` prints, and its text form. */
import { formatCount, formatDuration, formatRanges } from "../format.js";
import type { ImportCounts } from "./importer.js";
import type { LineProblem } from "./jsonl.js";

/** What an import did. */
export interface ImportSummary extends ImportCounts {
  file: string;
  /** Lines read (blank ones included). */
  lines: number;
  elapsedMs: number;
  /** Strategies the registry answered for (registered or already registered) per second. */
  perSecond: number;
  /** Whether Ctrl-C stopped the import early. */
  interrupted: boolean;
  /** The first problems, by line (counts above are complete). */
  problems: LineProblem[];
  problemsOmitted: number;
}

/** Whether the import did everything it was asked: each strategy is now registered. */
export function succeeded(summary: ImportSummary): boolean {
  return !summary.interrupted && summary.invalid === 0 && summary.failed === 0 && summary.notSent === 0;
}

/** The counts, for stdout. */
export function summaryLines(summary: ImportSummary): string[] {
  const rows: Array<[string, number]> = [
    ["registered", summary.registered],
    ["already registered", summary.alreadyRegistered],
    ["invalid lines", summary.invalid],
    ["other failures", summary.failed],
  ];
  if (summary.notSent > 0) rows.push(["not sent (interrupted)", summary.notSent]);
  const width = Math.max(...rows.map(([label]) => label.length)) + 1;
  const head = `${summary.interrupted ? "interrupted" : "imported"} ${summary.file}: ${formatCount(summary.lines)} lines in ${formatDuration(summary.elapsedMs)} (${formatCount(summary.perSecond)} strategies/s)`;
  return [head, ...rows.map(([label, n]) => `  ${`${label}:`.padEnd(width)} ${formatCount(n)}`)];
}

/** One line per problem, for stderr. */
export function problemLines(summary: ImportSummary): string[] {
  const lines = [...summary.problems]
    .sort((a, b) => a.line - b.line)
    .map((p) => {
      const where = p.lines === undefined ? `line ${p.line}` : `lines ${formatRanges(p.lines)}`;
      const field = p.field === undefined ? "" : ` (field ${p.field})`;
      return `${where}: ${p.code}: ${p.message}${field}`;
    });
  if (summary.problemsOmitted > 0) lines.push(`… and ${formatCount(summary.problemsOmitted)} more problems`);
  if (summary.interrupted) lines.push("run the same import again to finish: strategies already registered are skipped");
  return lines;
}
