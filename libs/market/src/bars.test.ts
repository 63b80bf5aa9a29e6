import { describe, expect, test } from "vitest";
import { type Bar, BarSeries, seriesFromBars, seriesKey } from "./bars.js";

const HOUR = 3_600_000;
const T0 = Date.UTC(2024, 0, 2, 14);

function bars(symbol: string, venue: string, closes: number[], spread?: number): Bar[] {
  return closes.map((close, i) => {
    const bar: Bar = {
      symbol,
      venue,
      t: T0 + i * HOUR,
      open: close,
      high: close + 1,
      low: close - 1,
      close,
      volume: 100 + i,
    };
    if (spread !== undefined) bar.spread = spread;
    return bar;
  });
}

describe("BarSeries", () => {
  test("columns from bars, returns close to close, bars back as objects", () => {
    const series = BarSeries.fromBars(bars("AAA", "V1", [100, 110, 99, 99], 0.0004));
    expect(series.key).toBe("AAA@V1");
    expect(series.length).toBe(4);
    expect(Array.from(series.close)).toEqual([100, 110, 99, 99]);
    expect(Array.from(series.volume)).toEqual([100, 101, 102, 103]);
    const r = series.returns();
    expect(r.length).toBe(3);
    expect(r[0]).toBeCloseTo(0.1, 15);
    expect(r[1]).toBeCloseTo(-0.1, 15);
    expect(r[2]).toBe(0);
    expect(series.bar(1)).toEqual({
      symbol: "AAA",
      venue: "V1",
      t: T0 + HOUR,
      open: 110,
      high: 111,
      low: 109,
      close: 110,
      volume: 101,
      spread: 0.0004,
    });
    expect(() => series.bar(4)).toThrow(RangeError);
  });

  test("an unknown spread is NaN in the column and absent from the bar", () => {
    const series = BarSeries.fromBars(bars("AAA", "V1", [1, 2]));
    expect(series.spread[0]).toBeNaN();
    expect("spread" in series.bar(0)).toBe(false);
    expect(BarSeries.fromBars(bars("AAA", "V1", [5])).returns().length).toBe(0);
  });

  test("slices by index (negative from the end) and by time share memory", () => {
    const series = BarSeries.fromBars(bars("AAA", "V1", [1, 2, 3, 4, 5, 6]));
    expect(Array.from(series.slice(1, 3).close)).toEqual([2, 3]);
    expect(Array.from(series.slice(-2).close)).toEqual([5, 6]);
    expect(series.slice(4, 2).length).toBe(0);
    expect(series.slice(2).close.buffer).toBe(series.close.buffer);
    // [from, to): the bar opening at `to` is left out; a `from` between bars starts at the next.
    expect(Array.from(series.between(T0 + HOUR, T0 + 3 * HOUR).close)).toEqual([2, 3]);
    expect(Array.from(series.between(T0 + HOUR / 2, T0 + 10 * HOUR).close)).toEqual([2, 3, 4, 5, 6]);
    expect(series.indexAtOrAfter(T0 - 1)).toBe(0);
    expect(series.indexAtOrAfter(T0 + 5 * HOUR)).toBe(5);
    expect(series.indexAtOrAfter(T0 + 5 * HOUR + 1)).toBe(6);
  });

  test("refuses columns of different lengths, times that do not increase, bars of two series", () => {
    const t = Float64Array.of(1, 2, 3);
    const three = new Float64Array(3);
    expect(
      () =>
        new BarSeries("A", "V", { t, open: three, high: three, low: three, close: new Float64Array(2), volume: three }),
    ).toThrow(/close/);
    expect(
      () =>
        new BarSeries("A", "V", {
          t: Float64Array.of(1, 1, 2),
          open: three,
          high: three,
          low: three,
          close: three,
          volume: three,
        }),
    ).toThrow(/strictly increase/);
    expect(() =>
      BarSeries.fromBars([...bars("AAA", "V1", [1]), ...bars("AAA", "V2", [1]).map((b) => ({ ...b, t: T0 + HOUR }))]),
    ).toThrow(/AAA@V2/);
    expect(() => BarSeries.fromBars([])).toThrow(RangeError);
  });

  test("seriesFromBars groups by symbol and venue, ordered by key", () => {
    const mixed = [...bars("BBB", "V1", [1, 2]), ...bars("AAA", "V2", [3, 4]), ...bars("AAA", "V1", [5])];
    const series = seriesFromBars(mixed);
    expect(series.map((s) => s.key)).toEqual(["AAA@V1", "AAA@V2", "BBB@V1"]);
    expect(Array.from((series[1] as BarSeries).close)).toEqual([3, 4]);
    expect(seriesKey("X", "Y")).toBe("X@Y");
  });
});
