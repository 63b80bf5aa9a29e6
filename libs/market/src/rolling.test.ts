/** Property tests: the windowed statistics against the same statistics computed naively, window by window. */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { rollingMeanSd, rollingPearson, SortedWindow } from "./rolling.js";

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  const mid = s.length >>> 1;
  return s.length % 2 === 1 ? (s[mid] as number) : ((s[mid - 1] as number) + (s[mid] as number)) / 2;
}

/** Values on a coarse grid, so that ties (and windows with a zero MAD) are common. */
const values = fc.array(
  fc.integer({ min: -20, max: 20 }).map((k) => k / 4),
  { minLength: 1, maxLength: 200 },
);

describe("SortedWindow", () => {
  test("median and MAD of a sliding window equal the naive ones", () => {
    fc.assert(
      fc.property(values, fc.integer({ min: 1, max: 30 }), (xs, width) => {
        const window = new SortedWindow(2);
        for (let i = 0; i < xs.length; i++) {
          window.insert(xs[i] as number);
          if (i >= width) window.remove(xs[i - width] as number);
          const held = xs.slice(Math.max(0, i - width + 1), i + 1);
          const m = median(held);
          expect(window.size).toBe(held.length);
          expect(window.median()).toBe(m);
          expect(window.medianAbsoluteDeviation(m)).toBe(median(held.map((x) => Math.abs(x - m))));
          // Around any centre, not only the median.
          const c = (xs[0] as number) + 0.1;
          expect(window.medianAbsoluteDeviation(c)).toBeCloseTo(median(held.map((x) => Math.abs(x - c))), 12);
        }
      }),
    );
  });

  test("empty, and removing what is not there", () => {
    const window = new SortedWindow();
    expect(window.median()).toBeNaN();
    expect(window.medianAbsoluteDeviation(0)).toBeNaN();
    expect(window.meanAbsoluteDeviation(0)).toBeNaN();
    window.insert(1);
    expect(() => window.remove(2)).toThrow(RangeError);
  });
});

describe("rolling mean, standard deviation and correlation", () => {
  const series = fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2, maxLength: 300 });

  test("equal the naive ones window by window, however long the series", () => {
    fc.assert(
      fc.property(series, series, fc.integer({ min: 2, max: 40 }), (a0, b0, window) => {
        const n = Math.min(a0.length, b0.length);
        const a = a0.slice(0, n).map((x) => 100 + x); // an offset, as prices have
        const b = b0.slice(0, n);
        const { mean, sd } = rollingMeanSd(a, window);
        const correlation = rollingPearson(a, b, window);
        for (let i = 0; i < n; i++) {
          if (i < window - 1) {
            expect(mean[i]).toBeNaN();
            expect(correlation[i]).toBeNaN();
            continue;
          }
          // The reference sums a's window about its first value: differences of doubles near 100
          // are exact, while a mean rounded at 100 would be off by 1e-14, which is 1% of a
          // spread of 1e-12, and the reference would be the less accurate of the two.
          const base = a[i - window + 1] as number;
          const wa = a.slice(i - window + 1, i + 1).map((x) => x - base);
          const wb = b.slice(i - window + 1, i + 1);
          const ma = wa.reduce((s, x) => s + x, 0) / window;
          const mb = wb.reduce((s, x) => s + x, 0) / window;
          const va = wa.reduce((s, x) => s + (x - ma) ** 2, 0);
          const vb = wb.reduce((s, x) => s + (x - mb) ** 2, 0);
          const cov = wa.reduce((s, x, k) => s + (x - ma) * ((wb[k] as number) - mb), 0);
          const s = Math.sqrt(va / (window - 1));
          expect(Math.abs((mean[i] as number) - (base + ma))).toBeLessThan(1e-12);
          // Relative to the window's own spread, however narrow next to what it just dropped.
          expect(Math.abs((sd[i] as number) - s)).toBeLessThanOrEqual(1e-8 * s + 1e-13);
          if (va > 1e-24 && vb > 1e-24)
            expect(Math.abs((correlation[i] as number) - cov / Math.sqrt(va * vb))).toBeLessThan(1e-7);
        }
      }),
      { numRuns: Number(process.env.ROLLING_RUNS ?? 300) },
    );
  });

  test("refuse a window below 2 and series of unequal length", () => {
    expect(() => rollingMeanSd([1, 2], 1)).toThrow(RangeError);
    expect(() => rollingPearson([1, 2], [1], 2)).toThrow(RangeError);
  });
});
