/**
 * A CSV file of bars made ready for `stratreg data import`: parsed by
 * libs/market's `parseBarsCsv` (every bad line reported with its number and
 * skipped), narrowed or completed by `--symbol`/`--venue`, and split into
 * series under the names the market-data stream allows.
 */
import type { SeriesBar } from "@stratreg/client";
import { type CsvProblem, parseBarsCsv } from "@stratreg/market";
import { seriesKeyOf } from "@stratreg/protocol";
import { marketName } from "./options.js";
import { plural } from "./text.js";

/** The series a file names by `--symbol` and `--venue`, when given. */
export interface SeriesSelection {
  symbol?: string;
  venue?: string;
}

/** One series to import. */
export interface SeriesToImport {
  symbol: string;
  venue: string;
  /** The series' key as the file spells it, when the stream's name differs (`BRK.B@XNYS`). */
  fileKey?: string;
  bars: SeriesBar[];
}

/** A bar file made ready: the series to import, the file's problems, and notes on what was changed or left out. */
export interface PreparedBars {
  series: SeriesToImport[];
  problems: CsvProblem[];
  notes: string[];
  /** Bars in the series to import. */
  bars: number;
}

const IGNORED_COLUMN = "unknown column, ignored";

/** Whether a problem only says a column was ignored: the file is still read, and nothing is lost. */
export function isHarmless(problem: CsvProblem): boolean {
  return problem.message === IGNORED_COLUMN;
}

/** The header's column names, lower-cased, from the first line that is not blank. */
function headerColumns(text: string): string[] {
  const first = text.split("\n").find((line) => line.trim() !== "") ?? "";
  return first.split(",").map((cell) => cell.trim().replace(/^"|"$/g, "").trim().toLowerCase());
}

/** `text` with a column `name` of `value` in front of every line that is not blank (the header gets the name). */
function withColumn(text: string, name: string, value: string): string {
  let header = true;
  return text
    .split("\n")
    .map((line) => {
      if (line.trim() === "") return line;
      const bom = line.charCodeAt(0) === 0xfeff ? "\ufeff" : "";
      const rest = bom === "" ? line : line.slice(1);
      const cell = header ? name : value;
      header = false;
      return `${bom}${cell},${rest}`;
    })
    .join("\n");
}

/**
 * Parses CSV `text` of bars (columns symbol, venue, time, open, high, low,
 * close, volume, optional spread; libs/market/src/csv.ts). `--symbol` and
 * `--venue` name the series of a file without that column, and keep only the
 * bars of that series in a file with it. Names the stream does not allow are
 * mapped (`BRK.B` → `BRK_B`, noted); a series whose name cannot be mapped is a
 * problem and is left out.
 */
export function prepareBars(text: string, selection: SeriesSelection = {}): PreparedBars {
  const notes: string[] = [];
  const columns = headerColumns(text);
  const filters: Array<["symbol" | "venue", string]> = [];
  let source = text;
  for (const column of ["venue", "symbol"] as const) {
    const value = selection[column];
    if (value === undefined) continue;
    if (columns.includes(column)) filters.push([column, value]);
    else source = withColumn(source, column, value);
  }
  const { bars, errors } = parseBarsCsv(source);
  const problems = [...errors];
  const groups = new Map<string, SeriesBar[]>();
  let leftOut = 0;
  for (const bar of bars) {
    if (filters.some(([column, value]) => bar[column] !== value && marketName(bar[column]) !== value)) {
      leftOut++;
      continue;
    }
    const key = seriesKeyOf(bar.symbol, bar.venue);
    let group = groups.get(key);
    if (group === undefined) {
      group = [];
      groups.set(key, group);
    }
    group.push(bar);
  }
  if (leftOut > 0) {
    const only = filters.map(([column, value]) => `--${column} ${value}`).join(" ");
    notes.push(`${plural(leftOut, "bar")} of other series left out (${only})`);
  }
  const series: SeriesToImport[] = [];
  for (const [fileKey, group] of groups) {
    const first = group[0] as SeriesBar;
    const symbol = marketName(first.symbol);
    const venue = marketName(first.venue);
    if (symbol === undefined || venue === undefined) {
      const bad = symbol === undefined ? `symbol "${first.symbol}"` : `venue "${first.venue}"`;
      problems.push({
        line: 0,
        message: `${fileKey}: ${bad} cannot name a series (1-32 letters, digits, _ or -, starting with a letter or digit): ${plural(group.length, "bar")} not imported`,
      });
      continue;
    }
    const key = seriesKeyOf(symbol, venue);
    const renamed = key !== fileKey;
    if (renamed) notes.push(`${fileKey} is imported as ${key} (names are letters, digits, _ and -)`);
    const named = renamed ? group.map((bar) => ({ ...bar, symbol, venue })) : group;
    const existing = series.find((s) => s.symbol === symbol && s.venue === venue);
    if (existing !== undefined) {
      // Two spellings mapped onto one name: their bars go together, the first of a time stays.
      existing.bars.push(...named);
      existing.bars.sort((a, b) => a.t - b.t);
      continue;
    }
    series.push(renamed ? { symbol, venue, fileKey, bars: named } : { symbol, venue, bars: named });
  }
  return { series, problems, notes, bars: series.reduce((n, s) => n + s.bars.length, 0) };
}

/** A problem for stderr: `line 3: … (field high)`, or the file's own for line 0. */
export function problemLine(problem: CsvProblem, file: string): string {
  const where = problem.line === 0 ? file : `line ${problem.line}`;
  const field = problem.field === undefined ? "" : ` (field ${problem.field})`;
  return `${where}: ${problem.message}${field}`;
}
