/**
 * The meaning of every operator, on small hand-computed cases, for both the compiler and the
 * reference interpreter (the property tests only show that the two agree with each other).
 */
import { describe, expect, test } from "vitest";
import { compile } from "./compile.js";
import { interpret } from "./interpret.js";
import type { Market } from "./market.js";
import { parse } from "./text.js";

const NA = Number.NaN;

/** A one-asset market "X" whose every price column is `close` (volume too), hourly from 2024-03-15. */
function market(close: readonly number[], t?: readonly number[]): Market {
  const column = Float64Array.from(close);
  const start = Date.UTC(2024, 2, 15);
  const times = Float64Array.from(t ?? close.map((_, i) => start + i * 3_600_000));
  return {
    length: close.length,
    t: times,
    assets: [{ name: "X", open: column, high: column, low: column, close: column, volume: column }],
  };
}

const engines = [
  ["compiled", (text: string, m: Market) => compile(parse(text))(m)],
  ["interpreted", (text: string, m: Market) => interpret(parse(text), m)],
] as const;

describe.each(engines)("semantics (%s)", (_, run) => {
  const values = (text: string, close: readonly number[], t?: readonly number[]): number[] =>
    Array.from(run(text, market(close, t)));

  test("fields and returns: close-to-close, undefined at the first bar and around a gap", () => {
    expect(values("close(X)", [1, NA, 3])).toEqual([1, NA, 3]);
    expect(values("returns(X)", [100, 110, 55, NA, 60])).toEqual([NA, 110 / 100 - 1, 55 / 110 - 1, NA, NA]);
  });

  test("calendar terms read t as UTC milliseconds, before 1970 too", () => {
    const friday = Date.UTC(2024, 2, 15, 13, 45);
    const newYearsEve1969 = Date.UTC(1969, 11, 31, 23, 0);
    const t = [friday, newYearsEve1969, 0, Date.UTC(2024, 2, 17, 0, 0)];
    expect(values("hour()", [1, 1, 1, 1], t)).toEqual([13, 23, 0, 0]);
    expect(values("weekday()", [1, 1, 1, 1], t)).toEqual([5, 3, 4, 0]); // 0 = Sunday, as Date.getUTCDay
  });

  test("arithmetic is protected: a result that is not finite is undefined", () => {
    expect(values("div(close(X), sub(close(X), close(X)))", [1, 2])).toEqual([NA, NA]);
    expect(values("mul(close(X), close(X))", [3, 1e200])).toEqual([9, NA]);
    expect(values("add(close(X), lag(close(X), 1))", [1, 2, 4])).toEqual([NA, 3, 6]);
  });

  test("lag and ret look back k bars and are undefined before", () => {
    expect(values("lag(close(X), 2)", [1, 2, 3, 4])).toEqual([NA, NA, 1, 2]);
    expect(values("ret(close(X), 2)", [1, 2, 3, 4])).toEqual([NA, NA, 2, 1]);
  });

  test("sma and max/min need a whole window of defined values", () => {
    expect(values("sma(close(X), 2)", [1, 2, 3, 4, 5])).toEqual([NA, 1.5, 2.5, 3.5, 4.5]);
    expect(values("sma(close(X), 2)", [1, 2, NA, 4, 5])).toEqual([NA, 1.5, NA, NA, 4.5]);
    expect(values("max(close(X), 3)", [3, 1, 2, 5, 4, 4])).toEqual([NA, NA, 3, 5, 5, 5]);
    expect(values("min(close(X), 3)", [3, 1, 2, 5, 4, 4])).toEqual([NA, NA, 1, 1, 2, 4]);
  });

  test("std is the sample deviation (ddof = 1); zscore the last value against the window", () => {
    const std = values("std(close(X), 3)", [1, 2, 3, 5]);
    expect(std.slice(0, 3)).toEqual([NA, NA, 1]);
    expect(std[3]).toBeCloseTo(Math.sqrt(7 / 3), 14);
    expect(values("zscore(close(X), 3)", [1, 2, 3, 1])).toEqual([NA, NA, 1, (1 - 2) / 1]);
  });

  test("a flat window has its value as mean, no spread and no z-score, exactly", () => {
    // (0.1 + 0.1 + 0.1)/3 is 0.10000000000000002: a flat market must not look like a move.
    const close = [3, 0.1, 0.1, 0.1, 0.1];
    expect(values("sma(close(X), 3)", close)[3]).toBe(0.1);
    expect(values("std(close(X), 3)", close).slice(3)).toEqual([0, 0]);
    expect(values("zscore(close(X), 3)", close).slice(3)).toEqual([NA, NA]);
    expect(values("ema(close(X), 3)", [0.1, 0.1, 0.1, 0.1])).toEqual([NA, NA, 0.1, 0.1]);
  });

  test("ema starts at the mean of its first k values, then moves by 2/(k + 1)", () => {
    expect(values("ema(close(X), 2)", [1, 2, 3, 4])).toEqual([NA, 1.5, 1.5 + (2 / 3) * 1.5, 2.5 + (2 / 3) * 1.5]);
    // A gap restarts it.
    expect(values("ema(close(X), 2)", [1, 2, NA, 4, 6])).toEqual([NA, 1.5, NA, NA, 5]);
  });

  test("rsi is Wilder's: k changes averaged, then smoothed by (k − 1)/k; 50 when nothing moves", () => {
    expect(values("rsi(close(X), 2)", [1, 2, 3, 2, 4])).toEqual([NA, NA, 100, 50, (100 * 1.25) / 1.5]);
    expect(values("rsi(close(X), 2)", [1, 1, 1])).toEqual([NA, NA, 50]);
  });

  test("conditions are 1, 0 or undefined; undefined in gives undefined out", () => {
    expect(values("gt(close(X), 2)", [1, NA, 3])).toEqual([0, NA, 1]);
    expect(values("lt(close(X), 2)", [1, NA, 3])).toEqual([1, NA, 0]);
    expect(values("above(close(X), lag(close(X), 1))", [1, 2, 2, 1])).toEqual([NA, 1, 0, 0]);
    expect(values("below(close(X), lag(close(X), 1))", [1, 2, 2, 1])).toEqual([NA, 0, 0, 1]);
    expect(values("not(gt(close(X), 2))", [1, NA, 3])).toEqual([1, NA, 0]);
    expect(values("and(gt(close(X), 2), lt(close(X), 4))", [1, 3, 5, NA])).toEqual([0, 1, 0, NA]);
    expect(values("or(gt(close(X), 2), lt(close(X), 0))", [1, 3, -1, NA])).toEqual([0, 1, 1, NA]);
  });

  test("crosses: above now and not above the bar before (and the mirror image)", () => {
    const x = [1, 2, 3, 1, 3];
    // y is 2 throughout: close(X) against a constant built from it.
    expect(values("crosses_above(close(X), div(add(close(X), close(X)), close(X)))", x)).toEqual([NA, 0, 1, 0, 1]);
    expect(values("crosses_below(close(X), div(add(close(X), close(X)), close(X)))", x)).toEqual([NA, 0, 0, 1, 0]);
  });

  test("positions: +1 / −1 on a true condition, 0 otherwise, during warm-ups and on conflicts", () => {
    expect(values("signal(gt(sma(close(X), 3), 0))", [1, 2, 3, 4])).toEqual([0, 0, 1, 1]);
    expect(values("signal(not(gt(sma(close(X), 3), 100)))", [1, 2, 3, 4])).toEqual([0, 0, 1, 1]);
    expect(values("short(gt(close(X), 2))", [1, NA, 3])).toEqual([0, 0, -1]);
    expect(values("long_short(gt(close(X), 2), lt(close(X), 4))", [1, 3, 5, NA])).toEqual([-1, 0, 1, 0]);
  });
});
