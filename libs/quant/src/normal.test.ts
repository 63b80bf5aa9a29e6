import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { normalCdf, normalQuantile } from "./normal.js";

// Reference values from mpmath at 40 digits (golden/golden.json has more, from golden.py).
describe("normalCdf", () => {
  test("known values", () => {
    expect(normalCdf(0)).toBe(0.5);
    expect(normalCdf(1.959963984540054)).toBeCloseTo(0.975, 15);
    expect(normalCdf(-8) / 6.220960574271784e-16 - 1).toBeLessThan(1e-15);
    expect(normalCdf(-40)).toBe(0);
    expect(normalCdf(9)).toBe(1);
    expect(normalCdf(Number.NEGATIVE_INFINITY)).toBe(0);
    expect(normalCdf(Number.POSITIVE_INFINITY)).toBe(1);
    expect(normalCdf(Number.NaN)).toBeNaN();
  });

  test("is symmetric and increasing", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -8, max: 8, noNaN: true }),
        fc.double({ min: 0, max: 1, noNaN: true }),
        (x, step) => {
          expect(Math.abs(normalCdf(x) + normalCdf(-x) - 1)).toBeLessThanOrEqual(2.3e-16);
          expect(normalCdf(x + step)).toBeGreaterThanOrEqual(normalCdf(x));
        },
      ),
    );
  });
});

describe("normalQuantile", () => {
  test("known values and the ends", () => {
    expect(normalQuantile(0.5)).toBe(0);
    expect(normalQuantile(0.975)).toBeCloseTo(1.959963984540054, 15);
    expect(normalQuantile(0.05)).toBeCloseTo(-1.6448536269514729, 15);
    expect(normalQuantile(0)).toBe(Number.NEGATIVE_INFINITY);
    expect(normalQuantile(1)).toBe(Number.POSITIVE_INFINITY);
    for (const p of [-0.1, 1.1, Number.NaN]) expect(normalQuantile(p)).toBeNaN();
  });

  test("inverts normalCdf to about 1e-15 relative", () => {
    fc.assert(
      fc.property(fc.double({ min: -37, max: 8, noNaN: true }), (x) => {
        const p = normalCdf(x);
        fc.pre(p > 0 && p < 1);
        // A rounded p pins x down only to ulp(p)/φ(x): that is all of it near 0 and near p = 1.
        const slack = (Number.EPSILON * p) / (Math.exp((-x * x) / 2) / Math.sqrt(2 * Math.PI));
        expect(Math.abs(normalQuantile(p) - x)).toBeLessThanOrEqual(4e-15 * Math.abs(x) + slack);
      }),
      { numRuns: 2_000 },
    );
  });
});
