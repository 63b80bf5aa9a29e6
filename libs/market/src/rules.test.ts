import { sharpe } from "@stratreg/quant";
import { describe, expect, test } from "vitest";
import { BarSeries } from "./bars.js";
import { DAY_MS, dayOfWeek, HOUR_MS, hourOfDay } from "./calendar.js";
import { checkRule, evaluateRule, featureAt, type PatternRule, rulePositions } from "./rules.js";

const T0 = Date.UTC(2024, 0, 1, 14); // a Monday, 14:00 UTC

function series(symbol: string, closes: number[], step = HOUR_MS, spread = 0.001): BarSeries {
  const n = closes.length;
  const close = Float64Array.from(closes);
  return new BarSeries(symbol, "V", {
    t: Float64Array.from({ length: n }, (_, i) => T0 + i * step),
    open: close,
    high: close,
    low: close,
    close,
    volume: new Float64Array(n).fill(1),
    spread: new Float64Array(n).fill(spread),
  });
}

function rule(partial: Partial<PatternRule>): PatternRule {
  return {
    feature: "return",
    source: "A@V",
    target: "A@V",
    window: 1,
    lag: 1,
    threshold: 0,
    sign: 1,
    horizon: 1,
    ...partial,
  };
}

describe("calendar", () => {
  test("hour of day and day of week agree with Date in UTC, before 1970 too", () => {
    for (const t of [T0, T0 + 10 * HOUR_MS + 59_999, Date.UTC(1969, 11, 31, 23, 30), Date.UTC(2024, 1, 29, 0, 0), -1]) {
      expect(hourOfDay(t)).toBe(new Date(t).getUTCHours());
      expect(dayOfWeek(t)).toBe(new Date(t).getUTCDay());
    }
    expect(dayOfWeek(T0 + 5 * DAY_MS)).toBe(6);
  });
});

describe("featureAt", () => {
  const close = Float64Array.of(100, 102, 101, 104, 103, 108);

  test("return and momentum", () => {
    expect(featureAt("return", close, 0, 1)).toBeNaN();
    expect(featureAt("return", close, 1, 1)).toBeCloseTo(0.02, 15);
    expect(featureAt("momentum", close, 2, 3)).toBeNaN();
    expect(featureAt("momentum", close, 5, 3)).toBeCloseTo(108 / 101 - 1, 15);
  });

  test("zscore of the close against its moving average, ddof 1", () => {
    const window = [101, 104, 103, 108];
    const mean = window.reduce((a, b) => a + b) / 4;
    const sd = Math.sqrt(window.reduce((a, b) => a + (b - mean) ** 2, 0) / 3);
    expect(featureAt("zscore", close, 5, 4)).toBeCloseTo((108 - mean) / sd, 14);
    expect(featureAt("zscore", close, 2, 4)).toBeNaN();
    expect(featureAt("zscore", Float64Array.of(5, 5, 5), 2, 3)).toBeNaN();
  });

  test("return-zscore of a bar's return against the returns before it", () => {
    const r = Array.from({ length: 5 }, (_, i) => (close[i + 1] as number) / (close[i] as number) - 1);
    const before = r.slice(1, 4);
    const mean = before.reduce((a, b) => a + b) / 3;
    const sd = Math.sqrt(before.reduce((a, b) => a + (b - mean) ** 2, 0) / 2);
    expect(featureAt("return-zscore", close, 5, 3)).toBeCloseTo(((r[4] as number) - mean) / sd, 13);
    expect(featureAt("return-zscore", close, 3, 3)).toBeNaN();
    expect(featureAt("hour", close, 3, 3)).toBeNaN();
  });
});

describe("rulePositions", () => {
  const closes = [100, 101, 100, 100, 99, 100, 101];
  const a = series("A", closes);

  test("the signal at a bar's close positions the bar lag later, signed by sign", () => {
    // returns: bar1 +, bar2 −, bar3 0, bar4 −, bar5 +, bar6 +
    expect(Array.from(rulePositions(rule({}), a, a))).toEqual([0, 0, 1, -1, 0, -1, 1]);
    expect(Array.from(rulePositions(rule({ lag: 2, sign: -1 }), a, a))).toEqual([0, 0, 0, -1, 1, 0, 1]);
  });

  test("a threshold silences small moves; a horizon holds, and a newer signal replaces the held one", () => {
    expect(Array.from(rulePositions(rule({ threshold: 0.00995 }), a, a))).toEqual([0, 0, 1, 0, 0, -1, 1]);
    expect(Array.from(rulePositions(rule({ horizon: 3 }), a, a))).toEqual([0, 0, 1, -1, -1, -1, 1]);
  });

  test("calendar rules hold the bars opening at their hour or weekday", () => {
    expect(Array.from(rulePositions(rule({ feature: "hour", at: 16, sign: -1 }), a, a))).toEqual([
      0, 0, -1, 0, 0, 0, 0,
    ]);
    const daily = series("A", closes, DAY_MS);
    expect(Array.from(rulePositions(rule({ feature: "weekday", at: 3 }), daily, daily))).toEqual([0, 0, 1, 0, 0, 0, 0]);
  });
});

describe("evaluateRule", () => {
  const a = series("A", [100, 101, 100, 100, 99, 100, 101]);
  const b = series("B", [50, 50.5, 51, 50, 49, 49.5, 50]);

  test("returns are position times the target's return, less costs per unit traded", () => {
    const plain = evaluateRule(rule({ source: "A@V", target: "B@V" }), [a, b], { periodsPerYear: 1764 });
    const r = b.returns();
    const positions = [0, 0, 1, -1, 0, -1, 1];
    expect(Array.from(plain.positions)).toEqual(positions);
    expect(Array.from(plain.returns)).toEqual(positions.slice(1).map((p, j) => p * (r[j] as number)));
    expect(plain.sharpe).toBe(sharpe(plain.returns, { periodsPerYear: 1764 }));
    expect(plain.exposure).toBeCloseTo(4 / 6, 15);
    expect(plain.turnover).toBe(1 + 2 + 1 + 1 + 2);

    const costly = evaluateRule(rule({ source: "A@V", target: "B@V" }), [a, b], {
      costs: { feeBps: 1, slippageBps: 2 },
    });
    const perUnit = 3 / 10_000 + 0.001 / 2;
    const changes = [0, 1, 2, 1, 1, 2];
    costly.returns.forEach((x, j) => {
      expect(x).toBeCloseTo((plain.returns[j] as number) - (changes[j] as number) * perUnit, 15);
    });
  });

  test("refuses unknown series, series on different grids and malformed rules", () => {
    expect(() => evaluateRule(rule({ target: "Z@V" }), [a])).toThrow(/no series Z@V/);
    const shifted = new BarSeries("C", "V", { ...b, t: b.t.map((t) => t + 1) });
    expect(() => evaluateRule(rule({ target: "C@V" }), [a, shifted])).toThrow(/align them first/);
    expect(() => checkRule(rule({ lag: 0 }))).toThrow(/lag/);
    expect(() => checkRule(rule({ horizon: 1.5 }))).toThrow(/horizon/);
    expect(() => checkRule(rule({ threshold: -1 }))).toThrow(/threshold/);
    expect(() => checkRule(rule({ feature: "hour", at: 24 }))).toThrow(/0…23/);
    expect(() => checkRule(rule({ feature: "weekday" }))).toThrow(/0…6/);
    expect(() => checkRule(rule({ sign: 0 as 1 }))).toThrow(/sign/);
    expect(() => checkRule(rule({ feature: "volume" as "return" }))).toThrow(/unknown feature/);
  });
});
