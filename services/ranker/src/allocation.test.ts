import { correlation } from "@stratreg/quant";
import { describe, expect, test } from "vitest";
import { commonCorrelation, MIN_COMMON_PERIODS } from "./allocation.js";

const series = (entries: Array<[number, number]>) => new Map(entries);

describe("commonCorrelation", () => {
  test("correlates only the periods both strategies reported", () => {
    const a = series(Array.from({ length: 20 }, (_, t) => [t, Math.sin(t)]));
    const b = series(Array.from({ length: 20 }, (_, t) => [t + 5, Math.sin(t + 5) * 2 + (t % 3) * 0.1]));
    const shared = Array.from({ length: 15 }, (_, i) => i + 5);
    expect(commonCorrelation(a, b)).toBeCloseTo(
      correlation(
        shared.map((t) => a.get(t) as number),
        shared.map((t) => b.get(t) as number),
      ),
      12,
    );
  });

  test(`says nothing (null) with fewer than ${MIN_COMMON_PERIODS} common periods, or no variance`, () => {
    const a = series(Array.from({ length: 30 }, (_, t) => [t, t % 2]));
    const late = series(Array.from({ length: 30 }, (_, t) => [t + 25, t % 2]));
    expect(commonCorrelation(a, late)).toBeNull();
    const flat = series(Array.from({ length: 30 }, (_, t) => [t, 0.01]));
    expect(commonCorrelation(a, flat)).toBeNull();
  });
});
