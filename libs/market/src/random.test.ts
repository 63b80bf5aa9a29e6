import { describe, expect, test } from "vitest";
import { seededNormal, seededUniform } from "./random.js";

describe("seeded random numbers", () => {
  test("mulberry32: the launcher's stream for the same seed, in [0, 1)", () => {
    // The first draws of seed 1, as libs/launcher's `uniform(1)` gives them.
    const next = seededUniform(1);
    expect([next(), next(), next()]).toEqual([0.6270739405881613, 0.002735721180215478, 0.5274470399599522]);
    const draws = Array.from({ length: 10_000 }, seededUniform(42));
    expect(Math.min(...draws)).toBeGreaterThanOrEqual(0);
    expect(Math.max(...draws)).toBeLessThan(1);
    expect(Array.from({ length: 5 }, seededUniform(42))).toEqual(draws.slice(0, 5));
  });

  test("Box–Muller draws have mean 0 and variance 1", () => {
    const normal = seededNormal(seededUniform(9));
    const n = 100_000;
    let sum = 0;
    let squares = 0;
    for (let i = 0; i < n; i++) {
      const x = normal();
      sum += x;
      squares += x * x;
    }
    expect(Math.abs(sum / n)).toBeLessThan(4 / Math.sqrt(n));
    expect(Math.abs(squares / n - 1)).toBeLessThan(4 * Math.sqrt(2 / n));
  });
});
