import { compile, parse } from "@stratreg/alpha";
import { align, BarSeries, generateMarket } from "@stratreg/market";
import { describe, expect, test } from "vitest";
import { marketFromData, marketFromShared, marketWindow, shareMarket } from "./market.js";

function series(symbol: string, venue: string, closes: number[]): BarSeries {
  return BarSeries.fromBars(
    closes.map((close, i) => ({
      symbol,
      venue,
      t: Date.UTC(2024, 0, 1 + i),
      open: close,
      high: close,
      low: close,
      close,
      volume: 5,
    })),
  );
}

describe("market conversion", () => {
  test("assets are named by symbol when no symbol trades on two venues, and read the aligned columns in place", () => {
    const { series: bars } = generateMarket({ seed: 3, bars: 40, symbols: 3, venues: ["V1", "V2"] });
    const data = align(bars);
    const market = marketFromData(data);
    expect(market.assets.map((a) => a.name)).toEqual(["AAA", "BBB", "CCC"]);
    expect(data.keys).toEqual(["AAA@V1", "BBB@V2", "CCC@V1"]);
    expect(market.length).toBe(40);
    expect(market.t).toBe(data.t);
    expect(market.assets[1]?.close).toBe(data.series[1]?.close);
    const positions = compile(parse("long_short(gt(returns(BBB), 0), lt(returns(BBB), 0))"))(market);
    expect(positions.length).toBe(40);
  });

  test("a symbol on two venues names every asset by its key, and patterns quote such names", () => {
    const data = align([
      series("BTC", "A", [1, 2, 3, 4]),
      series("BTC", "B", [1, 2, 2, 3]),
      series("ETH", "A", [5, 4, 6, 7]),
    ]);
    const market = marketFromData(data);
    expect(market.assets.map((a) => a.name)).toEqual(["BTC@A", "BTC@B", "ETH@A"]);
    const positions = compile(parse('signal(above(close("BTC@A"), close("BTC@B")))'))(market);
    expect(Array.from(positions)).toEqual([0, 0, 1, 1]);
  });

  test("a series off the grid is refused", () => {
    const data = align([series("A", "V", [1, 2, 3])]);
    const short = { ...data, series: [series("A", "V", [1, 2])] };
    expect(() => marketFromData(short)).toThrow(/align the series first/);
  });

  test("a shared market is one copy of the bars, read through views by every holder", () => {
    const market = marketFromData(align(generateMarket({ seed: 4, bars: 30, symbols: 2, venues: ["V1"] }).series));
    const shared = shareMarket(market);
    expect(shared.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(shared.names).toEqual(["AAA", "BBB"]);
    const first = marketFromShared(shared);
    const second = marketFromShared(structuredClone(shared));
    expect(Array.from(first.t)).toEqual(Array.from(market.t));
    for (const [a, asset] of market.assets.entries()) {
      const copy = first.assets[a];
      expect(copy?.name).toBe(asset.name);
      for (const field of ["open", "high", "low", "close", "volume"] as const) {
        expect(Array.from(copy?.[field] ?? [])).toEqual(Array.from(asset[field]));
      }
    }
    // A clone (what workerData is) shares the memory: a write through one view is read through the other.
    (first.assets[1]?.volume as Float64Array)[7] = 123;
    expect(second.assets[1]?.volume[7]).toBe(123);
    expect(() => marketFromShared({ ...shared, names: ["AAA"] })).toThrow(RangeError);
  });

  test("a window is a view on the bars", () => {
    const market = marketFromData(align(generateMarket({ seed: 5, bars: 30, symbols: 2, venues: ["V1"] }).series));
    const window = marketWindow(market, 10, 25);
    expect(window.length).toBe(15);
    expect(window.t[0]).toBe(market.t[10]);
    expect(window.assets[0]?.close.buffer).toBe(market.assets[0]?.close.buffer);
    expect(() => marketWindow(market, 20, 31)).toThrow(RangeError);
  });
});
