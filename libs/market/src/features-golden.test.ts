/**
 * Golden vectors: the scanner's features against golden/features.py, which computes each one
 * window by window from its definition with numpy (median, corrcoef, mean, std), none of the
 * sliding updates used here. `python3 libs/market/golden/features.py` rewrites
 * golden/features.json; the tests only read it.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { robustZScores } from "./anomalies.js";
import { BarSeries } from "./bars.js";
import { leadLag, rollingCorrelation, spreadZScore } from "./cross.js";
import { calendarProfile } from "./temporal.js";

type Nullable = Array<number | null>;
interface Profile {
  count: number[];
  mean: Nullable;
  sd: Nullable;
  tStat: Nullable;
}
interface Golden {
  values: Nullable;
  robust: { window: number; minHistory: number; z: Nullable };
  robustExpanding: { minHistory: number; z: Nullable };
  returnsA: number[];
  returnsB: number[];
  leadLag: { maxLag: number; correlations: number[] };
  rollingCorrelation: { window: number; values: Nullable };
  times: number[];
  closeA: number[];
  closeB: number[];
  spreadZ: { window: number; hedgeRatio: number; values: Nullable };
  byHour: Profile;
  byWeekday: Profile;
}

const golden = JSON.parse(readFileSync(new URL("../golden/features.json", import.meta.url), "utf8")) as Golden;

/** Each value within `tolerance` of the golden one, absolutely below 1 and relatively above; null as NaN. */
function expectClose(actual: ArrayLike<number>, expected: Nullable, tolerance: number, what: string): void {
  expect(actual.length, what).toBe(expected.length);
  for (let i = 0; i < expected.length; i++) {
    const e = expected[i];
    const a = actual[i] as number;
    if (e === null || e === undefined) expect(a, `${what}[${i}]`).toBeNaN();
    else
      expect(Math.abs(a - e), `${what}[${i}]: ${a} vs ${e}`).toBeLessThanOrEqual(tolerance * Math.max(1, Math.abs(e)));
  }
}

describe("scanner features against numpy", () => {
  const values = golden.values.map((x) => x ?? Number.NaN);

  test("robust z-scores over a trailing window: a spike, a flat stretch (the mean-deviation fallback), a gap", () => {
    const { window, minHistory, z } = golden.robust;
    expectClose(robustZScores(values, { window, minHistory }), z, 1e-12, "rolling");
    expect(z[150]).toBeGreaterThan(10);
  });

  test("robust z-scores over an expanding window", () => {
    const { minHistory, z } = golden.robustExpanding;
    expectClose(robustZScores(values, { window: Number.POSITIVE_INFINITY, minHistory }), z, 1e-12, "expanding");
  });

  test("lead-lag cross-correlations, and the planted lag found", () => {
    const result = leadLag(golden.returnsA, golden.returnsB, { maxLag: golden.leadLag.maxLag });
    expect(Array.from(result.lags)).toEqual([-4, -3, -2, -1, 0, 1, 2, 3, 4]);
    expectClose(result.correlations, golden.leadLag.correlations, 1e-12, "leadLag");
    expect(result.peakLag).toBe(2);
    expect(result.significant).toBe(true);
  });

  test("rolling correlation", () => {
    const { window, values: expected } = golden.rollingCorrelation;
    expectClose(rollingCorrelation(golden.returnsA, golden.returnsB, window), expected, 1e-10, "rolling correlation");
  });

  test("the spread's z-score", () => {
    const { window, hedgeRatio, values: expected } = golden.spreadZ;
    expectClose(spreadZScore(golden.closeA, golden.closeB, window, { hedgeRatio }), expected, 1e-9, "spread z");
  });

  test("returns by hour and by weekday", () => {
    const close = Float64Array.from(golden.closeB);
    const series = new BarSeries("B", "V", {
      t: Float64Array.from(golden.times),
      open: close,
      high: close,
      low: close,
      close,
      volume: new Float64Array(close.length),
    });
    for (const [by, expected] of [["hour", golden.byHour] as const, ["weekday", golden.byWeekday] as const]) {
      const profile = calendarProfile(series, by);
      expect(Array.from(profile.count), by).toEqual(expected.count);
      expectClose(profile.mean, expected.mean, 1e-12, `${by} mean`);
      expectClose(profile.sd, expected.sd, 1e-12, `${by} sd`);
      expectClose(profile.tStat, expected.tStat, 1e-10, `${by} t`);
    }
  });
});
