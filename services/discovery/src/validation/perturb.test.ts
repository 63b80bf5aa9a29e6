import { check, parse, print } from "@stratreg/alpha";
import { describe, expect, test } from "vitest";
import { perturbations } from "./perturb.js";

describe("perturbations", () => {
  test("a threshold moves by ±10 % of itself", () => {
    const found = perturbations(parse("signal(gt(zscore(close(AAA), 10), 1.5))"));
    const thresholds = found.filter((p) => p.param === "gt#1.c");
    expect(thresholds.map((p) => [p.from, p.to, p.change])).toEqual([
      [1.5, 1.35, -0.1],
      [1.5, 1.5 * 1.1, 0.1],
    ]);
    expect(thresholds.map((p) => print(p.expr))).toEqual([
      "signal(gt(zscore(close(AAA), 10), 1.35))",
      `signal(gt(zscore(close(AAA), 10), ${1.5 * 1.1}))`,
    ]);
    expect(thresholds.every((p) => p.note === undefined)).toBe(true);
  });

  test("a window whose ±10 % is not allowed moves to the neighbouring allowed window, and says so", () => {
    const found = perturbations(parse("signal(gt(zscore(close(AAA), 20), 1.5))")).filter(
      (p) => p.param === "zscore#2.k",
    );
    expect(found.map((p) => [p.from, p.to, p.change])).toEqual([
      [20, 10, -0.5],
      [20, 50, 1.5],
    ]);
    expect(found[0]?.note).toMatch(/window 20 → 10: 18 is not an allowed window/);
    for (const p of found) expect(() => check(p.expr, "position")).not.toThrow();
  });

  test("at either end of the allowed set one direction has no neighbour and is left out", () => {
    const lags = perturbations(parse("signal(gt(lag(close(AAA), 1), 100))")).filter((p) => p.param === "lag#2.k");
    expect(lags.map((p) => p.to)).toEqual([2]);
    const windows = perturbations(parse("signal(gt(sma(close(AAA), 100), 100))")).filter((p) => p.param === "sma#2.k");
    expect(windows.map((p) => p.to)).toEqual([50]);
  });

  test("a threshold of 0 moves by ±10 % of the series' scale, when there is one", () => {
    const expr = parse("long_short(gt(returns(AAA), 0), lt(returns(AAA), 0))");
    expect(perturbations(expr)).toEqual([]);
    const found = perturbations(expr, 0.1, () => 0.02);
    expect(found.map((p) => [p.param, p.to])).toEqual([
      ["gt#1.c", -0.002],
      ["gt#1.c", 0.002],
      ["lt#3.c", -0.002],
      ["lt#3.c", 0.002],
    ]);
    expect(found[0]?.note).toMatch(/−10 % of the series' standard deviation/);
    expect(perturbations(expr, 0.1, () => Number.NaN)).toEqual([]);
  });

  test("an expression without numbers has nothing to perturb; the size must be a fraction", () => {
    expect(perturbations(parse("signal(above(close(AAA), open(AAA)))"))).toEqual([]);
    expect(() => perturbations(parse("signal(gt(close(AAA), 1))"), 1)).toThrow(RangeError);
  });
});
