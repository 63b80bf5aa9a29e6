import { describe, expect, test } from "vitest";
import { align } from "./align.js";
import { BarSeries } from "./bars.js";

function series(symbol: string, times: number[], closes: number[]): BarSeries {
  return BarSeries.fromBars(
    times.map((t, i) => {
      const c = closes[i] as number;
      return { symbol, venue: "V", t, open: c, high: c, low: c, close: c, volume: 10, spread: 0.001 * (i + 1) };
    }),
  );
}

describe("align", () => {
  const a = series("A", [1, 2, 3, 5, 6], [10, 11, 12, 13, 14]);
  const b = series("B", [0, 2, 3, 4, 6, 7], [20, 21, 22, 23, 24, 25]);

  test("drop keeps the times every series has", () => {
    const data = align([a, b]);
    expect(Array.from(data.t)).toEqual([2, 3, 6]);
    expect(data.keys).toEqual(["A@V", "B@V"]);
    expect(Array.from(data.closes[0] as Float64Array)).toEqual([11, 12, 14]);
    expect(Array.from(data.closes[1] as Float64Array)).toEqual([21, 22, 24]);
    expect(data.series[1]?.t).toBe(data.t);
    expect(data.filled.every((mask) => mask.every((x) => x === 0))).toBe(true);
  });

  test("forward-fill starts once every series has, and carries the last close with no volume", () => {
    const data = align([a, b], { policy: "forward-fill" });
    expect(Array.from(data.t)).toEqual([1, 2, 3, 4, 5, 6, 7]);
    // B had a bar at 0 and none at 1: the first row is filled from it.
    expect(Array.from(data.closes[1] as Float64Array)).toEqual([20, 21, 22, 23, 23, 24, 25]);
    expect(Array.from(data.filled[1] as Uint8Array)).toEqual([1, 0, 0, 0, 1, 0, 0]);
    expect(Array.from(data.closes[0] as Float64Array)).toEqual([10, 11, 12, 12, 13, 14, 14]);
    expect(Array.from(data.filled[0] as Uint8Array)).toEqual([0, 0, 0, 1, 0, 0, 1]);
    const filledA = data.series[0] as BarSeries;
    expect([filledA.open[3], filledA.high[3], filledA.low[3], filledA.volume[3]]).toEqual([12, 12, 12, 0]);
    expect(filledA.spread[3]).toBe(a.spread[2]);
  });

  test("no series, an empty series, two series with one key", () => {
    expect(align([]).t.length).toBe(0);
    const none = new Float64Array(0);
    const empty = new BarSeries("E", "V", { t: none, open: none, high: none, low: none, close: none, volume: none });
    expect(align([a, empty]).t.length).toBe(0);
    expect(align([a, empty], { policy: "forward-fill" }).t.length).toBe(0);
    expect(() => align([a, a])).toThrow(/distinct/);
  });
});
