import { describe, expect, test } from "vitest";
import { parseBarsCsv } from "./csv.js";

const HEADER = "symbol,venue,time,open,high,low,close,volume,spread";
const T = Date.UTC(2024, 2, 1, 14);

function csv(...lines: string[]): string {
  return [HEADER, ...lines].join("\n");
}

describe("parseBarsCsv: good input", () => {
  test("bars in file order, times as ISO-8601 or epoch ms, an empty spread left out", () => {
    const { bars, errors } = parseBarsCsv(
      csv(
        "AAA,V1,2024-03-01T14:00:00Z,100,101,99,100.5,1200,0.0004",
        `AAA,V1,${T + 3_600_000},100.5,102,100,101,900,`,
        "BBB,V2,2024-03-01T15:00:00+01:00,50,50,50,50,0,0",
        "BBB,V2,2024-03-02,50,51,49,50.5,10,0.001",
      ),
    );
    expect(errors).toEqual([]);
    expect(bars).toEqual([
      { symbol: "AAA", venue: "V1", t: T, open: 100, high: 101, low: 99, close: 100.5, volume: 1200, spread: 0.0004 },
      { symbol: "AAA", venue: "V1", t: T + 3_600_000, open: 100.5, high: 102, low: 100, close: 101, volume: 900 },
      { symbol: "BBB", venue: "V2", t: T, open: 50, high: 50, low: 50, close: 50, volume: 0, spread: 0 },
      {
        symbol: "BBB",
        venue: "V2",
        t: Date.UTC(2024, 2, 2),
        open: 50,
        high: 51,
        low: 49,
        close: 50.5,
        volume: 10,
        spread: 0.001,
      },
    ]);
  });

  test("columns in any order and case, no spread column, quotes, CRLF, a BOM, blank lines, fractional seconds", () => {
    const text =
      '\uFEFFTime,Close,Open,High,Low,Volume,Venue,Symbol\r\n\r\n"2024-03-01T14:00:00.250Z",10,10,10,10,5,"V,1","A""B"\r\n';
    const { bars, errors } = parseBarsCsv(text);
    expect(errors).toEqual([]);
    expect(bars).toEqual([
      { symbol: 'A"B', venue: "V,1", t: T + 250, open: 10, high: 10, low: 10, close: 10, volume: 5 },
    ]);
  });
});

describe("parseBarsCsv: every problem by line and field", () => {
  test("a bad line is reported and skipped, the rest is read", () => {
    const { bars, errors } = parseBarsCsv(
      csv(
        "AAA,V1,2024-03-01T14:00:00Z,100,101,99,100,10,",
        "AAA,V1,2024-03-01T15:00:00Z,abc,101,99,100,10,",
        "AAA,V1,2024-03-01T16:00:00Z,100,101,99,100,10,",
      ),
    );
    expect(bars.map((b) => b.t)).toEqual([T, T + 2 * 3_600_000]);
    expect(errors).toEqual([{ line: 3, field: "open", message: '"abc" is not a finite number' }]);
  });

  test.each([
    ["open", "AAA,V1,2024-03-01T14:00:00Z,NaN,101,99,100,10,", "open", /not a finite number/],
    ["high", "AAA,V1,2024-03-01T14:00:00Z,100,Infinity,99,100,10,", "high", /not a finite number/],
    ["overflow", "AAA,V1,2024-03-01T14:00:00Z,100,1e999,99,100,10,", "high", /not a finite number/],
    ["hex", "AAA,V1,2024-03-01T14:00:00Z,100,0x10,99,100,10,", "high", /not a finite number/],
    ["empty number", "AAA,V1,2024-03-01T14:00:00Z,100,101,,100,10,", "low", /not a finite number/],
    ["zero price", "AAA,V1,2024-03-01T14:00:00Z,100,101,99,0,10,", "close", /must be > 0/],
    ["negative price", "AAA,V1,2024-03-01T14:00:00Z,-1,101,99,100,10,", "open", /must be > 0/],
    ["negative volume", "AAA,V1,2024-03-01T14:00:00Z,100,101,99,100,-5,", "volume", /≥ 0/],
    ["spread ≥ 1", "AAA,V1,2024-03-01T14:00:00Z,100,101,99,100,5,1", "spread", /in \[0, 1\)/],
    ["negative spread", "AAA,V1,2024-03-01T14:00:00Z,100,101,99,100,5,-0.1", "spread", /in \[0, 1\)/],
    ["high below open", "AAA,V1,2024-03-01T14:00:00Z,102,101,99,100,5,", "high", /below max\(open 102, close 100\)/],
    ["high below close", "AAA,V1,2024-03-01T14:00:00Z,100,101,99,101.5,5,", "high", /below max/],
    ["low above close", "AAA,V1,2024-03-01T14:00:00Z,100,101,99,98,5,", "low", /above min\(open 100, close 98\)/],
    ["low above open", "AAA,V1,2024-03-01T14:00:00Z,98.5,101,99,100,5,", "low", /above min/],
    ["empty symbol", " ,V1,2024-03-01T14:00:00Z,100,101,99,100,5,", "symbol", /empty/],
    ["@ in venue", "AAA,V@1,2024-03-01T14:00:00Z,100,101,99,100,5,", "venue", /contains @/],
    ["no zone", "AAA,V1,2024-03-01T14:00:00,100,101,99,100,5,", "time", /no zone/],
    ["no such day", "AAA,V1,2024-02-30T14:00:00Z,100,101,99,100,5,", "time", /not a valid date/],
    ["hour 24", "AAA,V1,2024-02-03T24:00:00Z,100,101,99,100,5,", "time", /not a valid date/],
    ["bad zone", "AAA,V1,2024-02-03T12:00:00+25:00,100,101,99,100,5,", "time", /invalid zone/],
    ["not a time", "AAA,V1,yesterday,100,101,99,100,5,", "time", /neither epoch milliseconds nor ISO-8601/],
    ["epoch seconds", "AAA,V1,1709301600,100,101,99,100,5,", "time", /seconds, perhaps/],
    ["beyond dates", "AAA,V1,99999999999999999,100,101,99,100,5,", "time", /beyond the range/],
  ])("%s", (_, line, field, message) => {
    const { bars, errors } = parseBarsCsv(csv(line));
    expect(bars).toEqual([]);
    expect(errors).toHaveLength(1);
    expect(errors[0]).toMatchObject({ line: 2, field });
    expect(errors[0]?.message).toMatch(message);
  });

  test("every problem of a line is reported", () => {
    const { errors } = parseBarsCsv(csv(",V1,never,x,101,99,100,-1,"));
    expect(errors.map((e) => e.field)).toEqual(["symbol", "time", "open", "volume"]);
    expect(errors.every((e) => e.line === 2)).toBe(true);
  });

  test("a line with too few or too many fields, an open quote", () => {
    const { errors } = parseBarsCsv(
      csv(
        "AAA,V1,2024-03-01T14:00:00Z,100,101,99,100",
        'AAA,"V1,2024-03-01T14:00:00Z,100,101,99,100,5,',
        "AAA,V1,2024-03-01T14:00:00Z,100,101,99,100,5,,x",
      ),
    );
    expect(errors).toEqual([
      { line: 2, message: "expected 9 fields as in the header, got 7" },
      { line: 3, message: "unbalanced double quote" },
      { line: 4, message: "expected 9 fields as in the header, got 10" },
    ]);
  });

  test("times must increase within a series, not across series", () => {
    const { bars, errors } = parseBarsCsv(
      csv(
        "AAA,V1,2024-03-01T14:00:00Z,100,101,99,100,5,",
        "BBB,V1,2024-03-01T13:00:00Z,100,101,99,100,5,",
        "AAA,V1,2024-03-01T14:00:00Z,100,101,99,100,5,",
        "AAA,V1,2024-03-01T13:00:00Z,100,101,99,100,5,",
        "AAA,V2,2024-03-01T13:00:00Z,100,101,99,100,5,",
        "AAA,V1,2024-03-01T15:00:00Z,100,101,99,100,5,",
      ),
    );
    expect(bars.map((b) => `${b.symbol}@${b.venue}`)).toEqual(["AAA@V1", "BBB@V1", "AAA@V2", "AAA@V1"]);
    expect(errors).toEqual([
      { line: 4, field: "time", message: "2024-03-01T14:00:00.000Z is not after the previous bar of AAA@V1 (line 2)" },
      { line: 5, field: "time", message: "2024-03-01T13:00:00.000Z is not after the previous bar of AAA@V1 (line 2)" },
    ]);
  });
});

describe("parseBarsCsv: the header and the size guard", () => {
  test("a missing required column yields no bars", () => {
    const { bars, errors } = parseBarsCsv("symbol,venue,time,open,high,low,close\nAAA,V1,2024-03-01,1,1,1,1");
    expect(bars).toEqual([]);
    expect(errors).toEqual([{ line: 1, field: "volume", message: "required column missing from the header" }]);
  });

  test("a column named twice yields no bars", () => {
    const { bars, errors } = parseBarsCsv(`${HEADER},close\nAAA,V1,2024-03-01,1,1,1,1,1,,1`);
    expect(bars).toEqual([]);
    expect(errors).toEqual([{ line: 1, field: "close", message: "column named twice" }]);
  });

  test("an unknown column is reported and ignored", () => {
    const { bars, errors } = parseBarsCsv(`${HEADER},note\nAAA,V1,2024-03-01,1,1,1,1,1,,hello`);
    expect(bars).toHaveLength(1);
    expect(errors).toEqual([{ line: 1, field: "note", message: "unknown column, ignored" }]);
  });

  test("no header at all, or an unreadable one", () => {
    expect(parseBarsCsv("").errors).toEqual([{ line: 0, message: "no header row" }]);
    expect(parseBarsCsv("\n \r\n").errors).toEqual([{ line: 0, message: "no header row" }]);
    expect(parseBarsCsv('symbol,"venue\nAAA').errors).toEqual([{ line: 1, message: "unbalanced double quote" }]);
  });

  test("text longer than maxLength is not read", () => {
    const text = csv("AAA,V1,2024-03-01T14:00:00Z,100,101,99,100,5,");
    const { bars, errors } = parseBarsCsv(text, { maxLength: text.length - 1 });
    expect(bars).toEqual([]);
    expect(errors).toEqual([
      { line: 0, message: `text of ${text.length} characters exceeds the limit of ${text.length - 1}` },
    ]);
    expect(parseBarsCsv(text, { maxLength: text.length }).bars).toHaveLength(1);
  });

  test("reading stops at maxBars, and problems past maxProblems are counted", () => {
    const lines = Array.from({ length: 5 }, (_, i) => `AAA,V1,${T + i * 60_000},100,101,99,100,5,`);
    const capped = parseBarsCsv(csv(...lines), { maxBars: 3 });
    expect(capped.bars).toHaveLength(3);
    expect(capped.errors).toEqual([{ line: 5, message: "more than 3 bars: the rest of the text is not read" }]);
    const bad = Array.from({ length: 5 }, (_, i) => `AAA,V1,${T + i * 60_000},x,101,99,100,5,`);
    const many = parseBarsCsv(csv(...bad), { maxProblems: 2 });
    expect(many.errors).toHaveLength(3);
    expect(many.errors[2]).toEqual({ line: 0, message: "3 more problems not listed" });
  });
});
