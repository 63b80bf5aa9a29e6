import { PerformanceObserver } from "node:perf_hooks";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ReturnAccumulator } from "./accumulator.js";
import { metricsOf } from "./batch.js";
import type { Conventions } from "./conventions.js";
import type { PerformanceMetrics } from "./performance.js";

const DESIGN_RETURNS = [0.01, -0.02, 0.015, -0.005, 0.02, -0.01, 0.03, -0.015, 0.005, 0.01];

function online(returns: readonly number[], conventions?: Partial<Conventions>): ReturnAccumulator {
  const accumulator = new ReturnAccumulator(conventions);
  for (const r of returns) accumulator.add(r);
  return accumulator;
}

/** |a − b| ≤ tolerance·max(|a|, |b|, floor), NaN equal to NaN and an infinity to itself. */
function close(a: number, b: number, tolerance: number, floor = 0): boolean {
  if (Number.isNaN(a) || Number.isNaN(b)) return Number.isNaN(a) && Number.isNaN(b);
  if (a === b) return true;
  return Math.abs(a - b) <= tolerance * Math.max(Math.abs(a), Math.abs(b), floor);
}

// Two metrics can be far smaller than the terms they are computed from: skewness, a cancelling
// sum of cubes (near 0 its relative condition number is Σ|d|³/|Σd³|), and the PSR deep in the
// tail (Φ's relative condition number there is z²). Neither form can be accurate to 1e-12 of
// such values in double precision, so their difference is measured against 1, their natural
// scale (a probability; a skewness of order one). Every other metric is compared relative to itself.
const FLOOR: Partial<Record<keyof PerformanceMetrics, number>> = { skewness: 1, psr: 1 };

function disagreements(a: PerformanceMetrics, b: PerformanceMetrics, tolerance: number): string[] {
  return (Object.keys(a) as (keyof PerformanceMetrics)[])
    .filter((key) => !close(a[key], b[key], tolerance, FLOOR[key]))
    .map((key) => `${key}: ${a[key]} vs ${b[key]}`);
}

// Returns from integers in ±1e9 (no subnormals), at magnitudes from 1e-9 to 5 per period, shaped
// symmetric, heavy-tailed (cubed) or skewed (losses scaled down); losses stop short of −1.
const shapes = {
  symmetric: (u: number) => u,
  heavyTailed: (u: number) => u * u * u,
  skewed: (u: number) => (u < 0 ? u / 10 : u),
} as const;
function returnsOf(length: fc.ArrayConstraints): fc.Arbitrary<number[]> {
  return fc
    .record({
      units: fc.array(fc.integer({ min: -1e9, max: 1e9 }), length),
      scale: fc.constantFrom(1e-9, 1e-6, 1e-4, 0.01, 0.05, 0.3, 1, 5),
      shape: fc.constantFrom(...(Object.keys(shapes) as (keyof typeof shapes)[])),
    })
    .map(({ units, scale, shape }) =>
      units.map((unit) => {
        const u = shapes[shape](unit / 1e9);
        return u < 0 ? u * Math.min(scale, 0.95) : u * scale;
      }),
    );
}
const conventionsArb = fc.record({
  periodsPerYear: fc.constantFrom(252, 52, 12, 365 * 24),
  riskFree: fc.constantFrom(0, 1e-5, 0.0002),
  mar: fc.constantFrom(0, -1e-4, 0.0005),
});

describe("ReturnAccumulator", () => {
  test("the DESIGN.md check vector, online exactly as in batch", () => {
    const metrics = online(DESIGN_RETURNS).metrics();
    expect(metrics.sharpe).toBeCloseTo(3.937981, 6);
    expect(metrics.sortino).toBeCloseTo(7.332121, 6);
    expect(metrics.maxDrawdown).toBeCloseTo(-0.02, 12);
    const batch = metricsOf(DESIGN_RETURNS);
    expect(metrics.sharpe).toBe(batch.sharpe);
    expect(metrics.sortino).toBe(batch.sortino);
    expect(metrics.maxDrawdown).toBe(batch.maxDrawdown);
    expect(disagreements(metrics, batch, 1e-14)).toEqual([]);
  });

  test("online and batch agree to 1e-12 relative on every metric (skewness and PSR: of max(|value|, 1))", () => {
    fc.assert(
      fc.property(returnsOf({ maxLength: 300 }), conventionsArb, (returns, conventions) => {
        expect(disagreements(online(returns, conventions).metrics(), metricsOf(returns, conventions), 1e-12)).toEqual(
          [],
        );
      }),
      { numRuns: 2_000 },
    );
  });

  test("online and batch agree to 1e-12 relative on series of 10,000 returns", () => {
    fc.assert(
      fc.property(returnsOf({ minLength: 10_000, maxLength: 10_000 }), conventionsArb, (returns, conventions) => {
        expect(disagreements(online(returns, conventions).metrics(), metricsOf(returns, conventions), 1e-12)).toEqual(
          [],
        );
      }),
      { numRuns: 15 },
    );
  });

  test("a restored state continues exactly as the original", () => {
    fc.assert(
      fc.property(
        returnsOf({ maxLength: 100 }),
        returnsOf({ maxLength: 100 }),
        conventionsArb,
        (head, tail, conventions) => {
          const original = online(head, conventions);
          const state = original.toState();
          expect(state).toHaveLength(ReturnAccumulator.STATE_LENGTH);
          const restored = ReturnAccumulator.fromState(state);
          expect(restored.conventions).toEqual(original.conventions);
          for (const r of tail) {
            original.add(r);
            restored.add(r);
          }
          expect(restored.toState()).toEqual(original.toState());
          expect(restored.metrics()).toEqual(original.metrics());
        },
      ),
      { numRuns: 200 },
    );
  });

  test("a restored state may change A and rf but not MAR", () => {
    const state = online(DESIGN_RETURNS, { mar: 0.001 }).toState();
    const weekly = ReturnAccumulator.fromState(state, { periodsPerYear: 52, riskFree: 0.0001 });
    expect(weekly.metrics().sharpe).toBeCloseTo(
      metricsOf(DESIGN_RETURNS, { periodsPerYear: 52, riskFree: 0.0001 }).sharpe,
      12,
    );
    expect(weekly.conventions.mar).toBe(0.001);
    expect(() => ReturnAccumulator.fromState(state, { mar: 0 })).toThrow(RangeError);
    expect(() => ReturnAccumulator.fromState(state.subarray(1))).toThrow(RangeError);
    const future = state.slice();
    future[0] = 99;
    expect(() => ReturnAccumulator.fromState(future)).toThrow(/version/);
  });

  test("the state has a fixed length whatever the number of returns", () => {
    const accumulator = new ReturnAccumulator();
    for (let i = 0; i < 50_000; i++) accumulator.add(Math.sin(i) / 100);
    expect(accumulator.count).toBe(50_000);
    expect(accumulator.toState()).toHaveLength(ReturnAccumulator.STATE_LENGTH);
  });

  test("a non-finite return is refused and changes nothing", () => {
    const accumulator = online(DESIGN_RETURNS);
    const before = accumulator.toState();
    for (const bad of [Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY]) {
      expect(() => accumulator.add(bad)).toThrow(RangeError);
    }
    expect(accumulator.toState()).toEqual(before);
  });

  test("add allocates nothing: millions of returns cause no garbage collection", async () => {
    // A double passed to a function that is not inlined travels boxed, a heap number the caller
    // allocates. Returns are taken from an array of tagged elements (the string keeps it from
    // storing raw doubles), so the loop passes existing heap numbers and any allocation is add's.
    const pool: unknown[] = ["tagged"];
    for (let i = 0; i < 1_000; i++) pool.push(((i % 89) - 44) / 4_000);
    const returnAt = (i: number): number => pool[1 + (i % 1_000)] as number;
    const accumulator = new ReturnAccumulator({ mar: 0.0001 });
    // Warm up until the optimising compiler has compiled add with its doubles unboxed.
    for (let i = 0; i < 200_000; i++) accumulator.add(returnAt(i));
    let collections = 0;
    const observer = new PerformanceObserver((list) => {
      collections += list.getEntries().length;
    });
    observer.observe({ entryTypes: ["gc"] });
    // 5 million calls: at even 16 bytes each that is 80 MB, several young-generation collections.
    for (let i = 0; i < 5_000_000; i++) accumulator.add(returnAt(i));
    await new Promise((resolve) => setTimeout(resolve, 50));
    observer.disconnect();
    expect(accumulator.count).toBe(5_200_000);
    expect(collections).toBeLessThanOrEqual(1);
  });
});
