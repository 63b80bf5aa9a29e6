import { describe, expect, it } from "vitest";
import { isHarmless, prepareBars, problemLine } from "./bars-file.js";

const HEADER = "symbol,venue,time,open,high,low,close,volume";

function csv(...lines: string[]): string {
  return `${lines.join("\n")}\n`;
}

describe("prepareBars", () => {
  it("splits a file into series and reports each bad line by number, importing the rest", () => {
    const prepared = prepareBars(
      csv(
        HEADER,
        "BTC,binance,2026-01-01,100,110,95,105,12",
        "ETH,binance,2026-01-01,10,11,9,10.5,40",
        "BTC,binance,2026-01-02,105,104,100,103,9",
        "",
        "BTC,binance,2026-01-03,103,108,101,107,abc",
        "BTC,binance,2026-01-04,107,109,106,108,15",
      ),
    );
    expect(prepared.series.map((s) => [s.symbol, s.venue, s.bars.length])).toEqual([
      ["BTC", "binance", 2],
      ["ETH", "binance", 1],
    ]);
    expect(prepared.bars).toBe(3);
    expect(prepared.problems.map((p) => problemLine(p, "bars.csv"))).toEqual([
      "line 4: high 104 is below max(open 105, close 103) (field high)",
      'line 6: "abc" is not a finite number (field volume)',
    ]);
    expect(prepared.notes).toEqual([]);
  });

  it("yields nothing for a file without the required columns, saying which", () => {
    const prepared = prepareBars(csv("symbol,venue,time,open,high,low,volume", "BTC,binance,2026-01-01,1,1,1,1"));
    expect(prepared.series).toEqual([]);
    expect(prepared.problems.map((p) => problemLine(p, "bars.csv"))).toEqual([
      "line 1: required column missing from the header (field close)",
    ]);
    expect(prepareBars("").problems.map((p) => problemLine(p, "empty.csv"))).toEqual(["empty.csv: no header row"]);
  });

  it("takes an unknown column as harmless", () => {
    const prepared = prepareBars(csv(`${HEADER},adj_close`, "BTC,binance,2026-01-01,100,110,95,105,12,104"));
    expect(prepared.bars).toBe(1);
    expect(prepared.problems).toHaveLength(1);
    expect(isHarmless(prepared.problems[0] as never)).toBe(true);
  });

  it("names the series of a file without symbol and venue columns by --symbol and --venue", () => {
    const prepared = prepareBars(
      csv("time,open,high,low,close,volume", "2026-01-01,100,110,95,105,12", "", "2026-01-02,105,106,99,100,8"),
      { symbol: "SPY", venue: "arca" },
    );
    expect(prepared.problems).toEqual([]);
    expect(prepared.series).toHaveLength(1);
    expect(prepared.series[0]).toMatchObject({ symbol: "SPY", venue: "arca" });
    expect(prepared.series[0]?.bars.map((b) => b.t)).toEqual([Date.UTC(2026, 0, 1), Date.UTC(2026, 0, 2)]);
  });

  it("keeps only the series --symbol or --venue names in a file with those columns", () => {
    const prepared = prepareBars(
      csv(
        HEADER,
        "BTC,binance,2026-01-01,100,110,95,105,12",
        "ETH,binance,2026-01-01,10,11,9,10.5,40",
        "BTC,kraken,2026-01-01,100,110,95,105,12",
      ),
      { symbol: "BTC" },
    );
    expect(prepared.series.map((s) => `${s.symbol}@${s.venue}`)).toEqual(["BTC@binance", "BTC@kraken"]);
    expect(prepared.notes).toEqual(["1 bar of other series left out (--symbol BTC)"]);
  });

  it("maps names the stream does not allow, noting it, and leaves out a series it cannot name", () => {
    const prepared = prepareBars(
      csv(HEADER, "BRK.B,XNYS,2026-01-01,400,410,395,405,1000", `${"X".repeat(40)},XNYS,2026-01-01,1,1,1,1,1`),
    );
    expect(prepared.series).toHaveLength(1);
    expect(prepared.series[0]).toMatchObject({ symbol: "BRK_B", venue: "XNYS", fileKey: "BRK.B@XNYS" });
    expect(prepared.series[0]?.bars[0]).toMatchObject({ symbol: "BRK_B", venue: "XNYS" });
    expect(prepared.notes).toEqual(["BRK.B@XNYS is imported as BRK_B@XNYS (names are letters, digits, _ and -)"]);
    expect(prepared.problems.map((p) => problemLine(p, "f.csv"))).toEqual([
      `f.csv: ${"X".repeat(40)}@XNYS: symbol "${"X".repeat(40)}" cannot name a series (1-32 letters, digits, _ or -, starting with a letter or digit): 1 bar not imported`,
    ]);
  });
});
