import { describe, expect, test } from "vitest";
import { anomalies, anomalyValues, robustZScores } from "./anomalies.js";
import { BarSeries } from "./bars.js";
import { HOUR_MS } from "./calendar.js";
import { generateMarket } from "./generator.js";

/** A calm hourly random walk (no volatile spells), copied so spikes can be planted in it. */
function calmSeries(): BarSeries {
  const market = generateMarket({ seed: 8, bars: 5000, barMs: HOUR_MS, durations: { calm: 1e12, volatile: 1 } });
  const s = market.series[0] as BarSeries;
  return new BarSeries(s.symbol, s.venue, {
    t: s.t,
    open: s.open.slice(),
    high: s.high.slice(),
    low: s.low.slice(),
    close: s.close.slice(),
    volume: s.volume.slice(),
    spread: s.spread.slice(),
  });
}

describe("anomalies", () => {
  test("a calm random walk has none", () => {
    expect(anomalies(calmSeries())).toEqual([]);
  });

  test("planted spikes in return, volume and spread are found, and nothing else", () => {
    const s = calmSeries();
    // A 4% gap up (about 10 bar volatilities) from bar 1200 on: one return spike, not two.
    for (let i = 1200; i < s.length; i++) s.close[i] = (s.close[i] as number) * 1.04;
    s.volume[2500] = (s.volume[2500] as number) * 20;
    s.volume[3100] = 0; // a halt
    s.spread[4000] = (s.spread[4000] as number) * 10;
    const found = anomalies(s);
    expect(found.map(({ index, field }) => ({ index, field }))).toEqual([
      { index: 1200, field: "return" },
      { index: 2500, field: "volume" },
      { index: 3100, field: "volume" },
      { index: 4000, field: "spread" },
    ]);
    const [jump, busy, halt, wide] = found;
    expect(jump?.score).toBeGreaterThan(8);
    expect(busy?.score).toBeGreaterThan(6);
    expect(halt?.score).toBeLessThan(-20);
    expect(wide?.score).toBeGreaterThan(8);
    expect(jump?.t).toBe(s.t[1200]);
    expect(anomalies(s, { fields: ["spread"] }).map((a) => a.index)).toEqual([4000]);
    expect(anomalies(s, { threshold: 1e6 })).toEqual([]);
  });

  test("volatile spells flag a few returns where they start, few against the bars", () => {
    const market = generateMarket({ seed: 1 });
    for (const s of market.series) {
      const flagged = anomalies(s);
      expect(flagged.length).toBeLessThan(s.length * 0.005);
    }
  });
});

describe("robustZScores", () => {
  test("measures each value against the median and MAD of those before it, within the window", () => {
    // Before index 5: 1, 2, 3, 4, 5: median 3, MAD 1.
    const z = robustZScores([1, 2, 3, 4, 5, 9], { minHistory: 5 });
    expect(Array.from(z.subarray(0, 5)).every(Number.isNaN)).toBe(true);
    expect(z[5]).toBeCloseTo(6 / 1.482602218505602, 12);
    // A window of 3 before index 5 holds 3, 4, 5: median 4, MAD 1.
    expect(robustZScores([1, 2, 3, 4, 5, 9], { minHistory: 3, window: 3 })[5]).toBeCloseTo(5 / 1.482602218505602, 12);
  });

  test("non-finite values are skipped, a flat window with no spread gives NaN, bad windows are refused", () => {
    const z = robustZScores([1, Number.NaN, 2, 3, Number.POSITIVE_INFINITY, 10], { minHistory: 3 });
    expect(z[1]).toBeNaN();
    expect(z[4]).toBeNaN();
    expect(z[5]).toBeCloseTo(8 / 1.482602218505602, 12);
    expect(robustZScores([5, 5, 5, 5, 7], { minHistory: 4 })[4]).toBeNaN();
    expect(() => robustZScores([1], { window: 0 })).toThrow(RangeError);
    expect(() => robustZScores([1], { window: 2.5 })).toThrow(RangeError);
  });

  test("fields are read as returns, log(1 + volume) and log(spread)", () => {
    const close = Float64Array.of(100, 110);
    const s = new BarSeries("A", "V", {
      t: Float64Array.of(0, 1),
      open: close,
      high: close,
      low: close,
      close,
      volume: Float64Array.of(0, 99),
      spread: Float64Array.of(0, 0.001),
    });
    expect(Array.from(anomalyValues(s, "return"))).toEqual([Number.NaN, 110 / 100 - 1]);
    expect(Array.from(anomalyValues(s, "volume"))).toEqual([0, Math.log(100)]);
    expect(Array.from(anomalyValues(s, "spread"))).toEqual([Number.NaN, Math.log(0.001)]);
  });
});
