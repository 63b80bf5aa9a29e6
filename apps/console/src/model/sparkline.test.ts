import { describe, expect, it } from "vitest";
import { sparklinePath, trendOf, wealthSeries } from "./sparkline.js";

const point = (t: number, close: number) => ({
  t,
  open: 1,
  high: close,
  low: close,
  close,
  periods: 1,
  regime: null,
  sharpe: null,
  maxDrawdown: null,
});

describe("sparklines", () => {
  it("take the wealth path's closes in seconds, skipping buckets without one", () => {
    const series = wealthSeries({ points: [point(1000, 1.01), point(2000, Number.NaN), point(3000, 0.99)] });
    expect(series).toEqual({ x: [1, 3], y: [1.01, 0.99] });
    expect(trendOf(series)).toBe("down");
    expect(trendOf({ x: [], y: [] })).toBe("flat");
    expect(trendOf({ x: [1, 2], y: [1, 1.2] })).toBe("up");
  });

  it("draw the lowest value at the bottom and the highest at the top of the box", () => {
    expect(sparklinePath([1, 3, 2], 100, 20)).toBe("M0 20 L50 0 L100 10");
    expect(sparklinePath([5], 100, 20)).toBe("M0 10");
    expect(sparklinePath([2, 2], 10, 20)).toBe("M0 10 L10 10");
    expect(sparklinePath([], 10, 10)).toBe("");
  });
});
