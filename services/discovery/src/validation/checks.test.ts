import { describe, expect, test } from "vitest";
import { finiteOrNull, judged, regimesCheck } from "./checks.js";
import { stabilityCheck } from "./stability.js";
import { DEFAULT_VALIDATION_THRESHOLDS, resolveThresholds } from "./thresholds.js";

describe("judged", () => {
  test("compares as the registry's gates do: a figure a rounding error off its threshold sits on it", () => {
    expect(judged("walkForward", 0.6 - 1e-16, ">=", 0.6).passed).toBe(true);
    expect(judged("testSharpe", 0, ">", 0).passed).toBe(false);
    expect(judged("capacity", null, ">=", 0)).toEqual({
      name: "capacity",
      value: null,
      threshold: 0,
      comparison: ">=",
      passed: false,
    });
    expect(judged("testPValue", 0.01, "<=", 0.05, "why").note).toBe("why");
  });

  test("finiteOrNull turns undefined figures into null and −0 into 0", () => {
    expect(finiteOrNull(Number.NaN)).toBeNull();
    expect(finiteOrNull(Number.POSITIVE_INFINITY)).toBeNull();
    expect(Object.is(finiteOrNull(-0), 0)).toBe(true);
  });
});

test("the regimes check needs one profitable regime long enough to judge, not all of them", () => {
  const check = regimesCheck(
    [
      { regime: "calm-trending", periods: 900, sharpe: 1.2 },
      { regime: "calm-ranging", periods: 800, sharpe: -0.4 },
      { regime: "volatile-ranging", periods: 20, sharpe: null },
    ],
    60,
  );
  expect(check).toMatchObject({ name: "regimes", value: 1.2, threshold: 0, passed: true });
  expect(check.note).toMatch(/best of 2 regime\(s\) with 60\+ periods: calm-trending/);
  expect(regimesCheck([{ regime: "calm", periods: 5, sharpe: null }], 60)).toMatchObject({
    value: null,
    passed: false,
  });
});

test("the stability check passes an expression with nothing to perturb and fails one with nothing to keep", () => {
  expect(stabilityCheck([], 1.5, 0.5)).toMatchObject({
    value: null,
    passed: true,
    note: "no numeric parameter to perturb",
  });
  const result = { param: "gt#1.c", from: 1, to: 1.1, change: 0.1, expression: "…", sharpe: 0.9, ratio: 0.6 };
  expect(stabilityCheck([result], 1.5, 0.5)).toMatchObject({ value: 0.6, passed: true });
  expect(stabilityCheck([{ ...result, ratio: null }], -0.2, 0.5)).toMatchObject({ value: null, passed: false });
});

test("thresholds: defaults with overrides, and a RangeError naming a field out of range", () => {
  expect(resolveThresholds()).toEqual(DEFAULT_VALIDATION_THRESHOLDS);
  expect(resolveThresholds({ folds: 4 })).toEqual({ ...DEFAULT_VALIDATION_THRESHOLDS, folds: 4 });
  expect(() => resolveThresholds({ folds: 2.5 })).toThrow(/folds/);
  expect(() => resolveThresholds({ minPositiveFolds: 1.5 })).toThrow(/minPositiveFolds/);
  expect(() => resolveThresholds({ minCapacity: Number.NaN })).toThrow(/minCapacity/);
});
