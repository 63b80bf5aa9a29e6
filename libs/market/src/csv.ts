/**
 * Bars from CSV text. Parsing only: the caller reads the file (the CLI will). A bad line is
 * reported by its number and field and skipped, so one typo in a million lines costs one bar,
 * not the import; problems with the file as a whole (no header, a missing column, too large)
 * are reported on line 0 or 1 and yield no bars.
 */
import { type Bar, seriesKey } from "./bars.js";

/** The columns a bar file must have, in any order (names are matched case-insensitively). */
export const CSV_REQUIRED_COLUMNS = ["symbol", "venue", "time", "open", "high", "low", "close", "volume"] as const;
/** Columns a bar file may have besides the required ones. */
export const CSV_OPTIONAL_COLUMNS = ["spread"] as const;

type Column = (typeof CSV_REQUIRED_COLUMNS)[number] | (typeof CSV_OPTIONAL_COLUMNS)[number];

/** One problem found in the text. */
export interface CsvProblem {
  /** 1-based line number (1 is the header); 0 for the text as a whole. */
  line: number;
  /** The column at fault, when one is. */
  field?: string;
  message: string;
}

/** Limits of `parseBarsCsv`. */
export interface CsvOptions {
  /** Longest text read, in UTF-16 code units (about bytes for ASCII); longer yields no bars. Default 256 Mi. */
  maxLength?: number;
  /** Most bars returned; reading stops there with a problem saying so. Default 5,000,000. */
  maxBars?: number;
  /** Most problems listed; one last problem counts the rest. Default 1,000. */
  maxProblems?: number;
}

/** What `parseBarsCsv` returns: the good bars in file order and every problem. */
export interface ParsedBars {
  bars: Bar[];
  errors: CsvProblem[];
}

const NUMBER = /^[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?$/;
const EPOCH_MS = /^-?\d+$/;
const ISO = /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,9}))?)?(Z|[+-]\d{2}:?\d{2})?)?$/;
/** Epoch milliseconds below this (1973-03-03) are refused: such a number is almost surely in seconds. */
const MIN_EPOCH_MS = 1e11;
/** The largest time a JavaScript Date can hold. */
const MAX_EPOCH_MS = 8.64e15;

/**
 * Bars from CSV `text` with a header row naming the columns `symbol,venue,time,open,high,low,
 * close,volume[,spread]` (any order). `time` is the bar's open, as epoch milliseconds (digits
 * only) or ISO-8601: a date (`2024-03-01`, UTC midnight) or a date-time with a zone (`Z` or
 * `±hh:mm`; one without a zone would be read in the reader's local time, so it is refused).
 * Fields may be double-quoted. Blank lines are skipped.
 *
 * Each line is checked: prices finite and > 0, high ≥ max(open, close), low ≤ min(open, close),
 * volume finite and ≥ 0, spread (optional, may be empty) finite in [0, 1), symbol and venue
 * non-empty without `@`, and time strictly after the previous accepted bar of the same
 * (symbol, venue). Every problem of a line is reported; the line is then skipped.
 */
export function parseBarsCsv(text: string, options: CsvOptions = {}): ParsedBars {
  const maxLength = options.maxLength ?? 256 * 1024 * 1024;
  const maxBars = options.maxBars ?? 5_000_000;
  const maxProblems = options.maxProblems ?? 1_000;
  const bars: Bar[] = [];
  const errors: CsvProblem[] = [];
  let unlisted = 0;
  const report = (problem: CsvProblem): void => {
    if (errors.length < maxProblems) errors.push(problem);
    else unlisted++;
  };
  if (text.length > maxLength) {
    return {
      bars,
      errors: [{ line: 0, message: `text of ${text.length} characters exceeds the limit of ${maxLength}` }],
    };
  }

  let position = text.charCodeAt(0) === 0xfeff ? 1 : 0;
  let lineNumber = 0;
  let columns: Map<Column, number> | undefined;
  let width = 0;
  const last = new Map<string, { t: number; line: number }>();
  while (position <= text.length) {
    let end = text.indexOf("\n", position);
    if (end === -1) end = text.length;
    let line = text.slice(position, end);
    position = end + 1;
    lineNumber++;
    if (line.endsWith("\r")) line = line.slice(0, -1);
    if (line.trim() === "") continue;
    const fields = splitCsvLine(line);
    if (fields === undefined) {
      report({ line: lineNumber, message: "unbalanced double quote" });
      if (columns === undefined) return { bars, errors };
      continue;
    }
    if (columns === undefined) {
      const header = readHeader(fields, lineNumber, report);
      if (header === undefined) return { bars, errors };
      columns = header;
      width = fields.length;
      continue;
    }
    if (bars.length >= maxBars) {
      report({ line: lineNumber, message: `more than ${maxBars} bars: the rest of the text is not read` });
      break;
    }
    if (fields.length !== width) {
      report({ line: lineNumber, message: `expected ${width} fields as in the header, got ${fields.length}` });
      continue;
    }
    const bar = readBar(fields, columns, lineNumber, report);
    if (bar === undefined) continue;
    const key = seriesKey(bar.symbol, bar.venue);
    const previous = last.get(key);
    if (previous !== undefined && !(bar.t > previous.t)) {
      report({
        line: lineNumber,
        field: "time",
        message: `${new Date(bar.t).toISOString()} is not after the previous bar of ${key} (line ${previous.line})`,
      });
      continue;
    }
    last.set(key, { t: bar.t, line: lineNumber });
    bars.push(bar);
  }
  if (columns === undefined && errors.length === 0) report({ line: 0, message: "no header row" });
  if (unlisted > 0) errors.push({ line: 0, message: `${unlisted} more problems not listed` });
  return { bars, errors };
}

/** Fields of one line; quotes ("a,b", "say ""x""") honoured; undefined when a quote is left open. */
function splitCsvLine(line: string): string[] | undefined {
  if (!line.includes('"')) return line.split(",");
  const fields: string[] = [];
  let field = "";
  let quoted = false;
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (quoted) {
      if (c === '"' && line[i + 1] === '"') {
        field += '"';
        i++;
      } else if (c === '"') quoted = false;
      else field += c;
    } else if (c === '"') quoted = true;
    else if (c === ",") {
      fields.push(field);
      field = "";
    } else field += c;
  }
  if (quoted) return undefined;
  fields.push(field);
  return fields;
}

function readHeader(
  fields: string[],
  line: number,
  report: (problem: CsvProblem) => void,
): Map<Column, number> | undefined {
  const known = new Set<string>([...CSV_REQUIRED_COLUMNS, ...CSV_OPTIONAL_COLUMNS]);
  const columns = new Map<Column, number>();
  let fatal = false;
  fields.forEach((raw, index) => {
    const name = raw.trim().toLowerCase();
    if (!known.has(name)) {
      report({ line, field: raw.trim(), message: "unknown column, ignored" });
      return;
    }
    if (columns.has(name as Column)) {
      report({ line, field: name, message: "column named twice" });
      fatal = true;
      return;
    }
    columns.set(name as Column, index);
  });
  for (const name of CSV_REQUIRED_COLUMNS) {
    if (!columns.has(name)) {
      report({ line, field: name, message: "required column missing from the header" });
      fatal = true;
    }
  }
  return fatal ? undefined : columns;
}

function readBar(
  fields: string[],
  columns: Map<Column, number>,
  line: number,
  report: (problem: CsvProblem) => void,
): Bar | undefined {
  let ok = true;
  const fail = (field: string, message: string): void => {
    report({ line, field, message });
    ok = false;
  };
  const raw = (column: Column): string => (fields[columns.get(column) as number] as string).trim();
  const name = (column: "symbol" | "venue"): string => {
    const value = raw(column);
    if (value === "") fail(column, "empty");
    else if (value.includes("@"))
      fail(column, `"${value}" contains @, which separates symbol and venue in a series key`);
    return value;
  };
  const number = (column: Column, check: (x: number) => boolean, rule: string): number => {
    const text = raw(column);
    const value = NUMBER.test(text) ? Number(text) : Number.NaN;
    if (!Number.isFinite(value)) fail(column, `"${text}" is not a finite number`);
    else if (!check(value)) fail(column, `${text} must be ${rule}`);
    return value;
  };
  const symbol = name("symbol");
  const venue = name("venue");
  const timeText = raw("time");
  const t = parseTime(timeText);
  if (typeof t === "string") fail("time", t);
  const positive = (x: number) => x > 0;
  const open = number("open", positive, "> 0");
  const high = number("high", positive, "> 0");
  const low = number("low", positive, "> 0");
  const close = number("close", positive, "> 0");
  const volume = number("volume", (x) => x >= 0, "≥ 0");
  let spread: number | undefined;
  if (columns.has("spread") && raw("spread") !== "") spread = number("spread", (x) => x >= 0 && x < 1, "in [0, 1)");
  if (!ok) return undefined;
  if (high < Math.max(open, close)) fail("high", `high ${high} is below max(open ${open}, close ${close})`);
  if (low > Math.min(open, close)) fail("low", `low ${low} is above min(open ${open}, close ${close})`);
  if (!ok) return undefined;
  const bar: Bar = { symbol, venue, t: t as number, open, high, low, close, volume };
  if (spread !== undefined) bar.spread = spread;
  return bar;
}

/** Epoch milliseconds of a time field, or why it is not one. */
function parseTime(text: string): number | string {
  if (EPOCH_MS.test(text)) {
    const ms = Number(text);
    if (Math.abs(ms) > MAX_EPOCH_MS) return `${text} is beyond the range of a date`;
    if (ms < MIN_EPOCH_MS) return `${text} is before 1973-03-03 as epoch milliseconds: seconds, perhaps?`;
    return ms;
  }
  const m = ISO.exec(text);
  if (m === null) return `"${text}" is neither epoch milliseconds nor ISO-8601 (2024-03-01T14:30:00Z)`;
  const [, y, mo, d, h, mi, s, fraction, zone] = m;
  const year = Number(y);
  const month = Number(mo);
  const day = Number(d);
  const hour = Number(h ?? 0);
  const minute = Number(mi ?? 0);
  const second = Number(s ?? 0);
  const daysInMonth = new Date(Date.UTC(year, month, 0)).getUTCDate();
  if (month < 1 || month > 12 || day < 1 || day > daysInMonth || hour > 23 || minute > 59 || second > 59) {
    return `"${text}" is not a valid date and time`;
  }
  if (h !== undefined && zone === undefined) return `"${text}" has no zone (Z or ±hh:mm)`;
  let offset = 0;
  if (zone !== undefined && zone !== "Z") {
    const digits = zone.replace(":", "");
    const sign = digits[0] === "-" ? -1 : 1;
    const zoneHours = Number(digits.slice(1, 3));
    const zoneMinutes = Number(digits.slice(3, 5));
    if (zoneHours > 23 || zoneMinutes > 59) return `"${text}" has an invalid zone`;
    offset = sign * (zoneHours * 60 + zoneMinutes) * 60_000;
  }
  const ms = Number((fraction ?? "").padEnd(3, "0").slice(0, 3));
  return Date.UTC(year, month - 1, day, hour, minute, second, ms) - offset;
}
