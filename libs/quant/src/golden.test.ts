/**
 * Golden vectors: every metric against values golden/golden.py computed independently with
 * numpy and scipy from the definitions in DESIGN.md. Tolerance 1e-10 relative for the metrics
 * (the Python side compounds wealth as a product and takes V^(A/n) − 1, so it rounds
 * differently); 1e-14 relative for Φ and Φ⁻¹, whose scipy values are themselves about that good.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import { ReturnAccumulator } from "./accumulator.js";
import { metricsOf } from "./batch.js";
import type { Conventions } from "./conventions.js";
import { expectedMaxSharpe } from "./inference.js";
import { normalCdf, normalQuantile } from "./normal.js";
import type { PerformanceMetrics } from "./performance.js";
import { deflatedSharpe, minTrackRecordLength, probabilisticSharpe } from "./sharpe-inference.js";

interface GoldenCase {
  name: string;
  conventions: Conventions;
  returns: number[];
  /** null where the value is undefined (NaN). */
  metrics: Record<string, number | null>;
  inference: {
    srStar: number;
    psrAtSrStar: number;
    trials: number;
    sharpeVariance: number;
    expectedMaxSharpe: number;
    deflatedSharpe: number;
    confidence: number;
    minTrackRecordLength: number | null;
  };
}
interface Golden {
  cases: GoldenCase[];
  expectedMaxSharpe: { trials: number; variance: number; value: number }[];
  normalCdf: { x: number; value: number }[];
  normalQuantile: { p: number; value: number }[];
}

const golden = JSON.parse(readFileSync(new URL("../golden/golden.json", import.meta.url), "utf8")) as Golden;

function expectClose(actual: number, expected: number | null, tolerance: number, what: string): void {
  if (expected === null) {
    expect(actual, what).toBeNaN();
    return;
  }
  const scale = Math.max(Math.abs(expected), Number.MIN_VALUE);
  expect(Math.abs(actual - expected) / scale, `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(tolerance);
}

describe("golden vectors (numpy/scipy)", () => {
  test("there is a case of each kind", () => {
    expect(golden.cases.map((c) => c.name)).toEqual(["normal", "skewed", "long-drawdown", "all-positive", "tiny"]);
  });

  for (const c of golden.cases) {
    test(`${c.name}: every metric, batch and online`, () => {
      const accumulator = new ReturnAccumulator(c.conventions);
      for (const r of c.returns) accumulator.add(r);
      for (const [form, metrics] of [
        ["batch", metricsOf(c.returns, c.conventions)],
        ["online", accumulator.metrics()],
      ] as const) {
        for (const [key, expected] of Object.entries(c.metrics)) {
          expectClose(metrics[key as keyof PerformanceMetrics], expected, 1e-10, `${form} ${key}`);
        }
      }
    });

    test(`${c.name}: PSR, DSR and MinTRL from the returns and from the metrics`, () => {
      const g = c.inference;
      for (const input of [c.returns, metricsOf(c.returns, c.conventions)]) {
        expectClose(probabilisticSharpe(input, g.srStar, c.conventions), g.psrAtSrStar, 1e-10, "psr");
        expectClose(deflatedSharpe(input, g.trials, g.sharpeVariance, c.conventions), g.deflatedSharpe, 1e-10, "dsr");
        const minTrl = minTrackRecordLength(input, 0, g.confidence, c.conventions);
        if (g.minTrackRecordLength === null) expect(minTrl).toBe(Number.POSITIVE_INFINITY);
        else expectClose(minTrl, g.minTrackRecordLength, 1e-10, "minTRL");
      }
      expectClose(expectedMaxSharpe(g.trials, g.sharpeVariance), g.expectedMaxSharpe, 1e-12, "E[max]");
    });
  }

  test("expected maximum Sharpe ratio", () => {
    for (const g of golden.expectedMaxSharpe) {
      expectClose(expectedMaxSharpe(g.trials, g.variance), g.value, 1e-12, `E[max](${g.trials}, ${g.variance})`);
    }
  });

  test("normal distribution function and quantile", () => {
    for (const g of golden.normalCdf) expectClose(normalCdf(g.x), g.value, 1e-14, `Φ(${g.x})`);
    for (const g of golden.normalQuantile) expectClose(normalQuantile(g.p), g.value, 1e-14, `Φ⁻¹(${g.p})`);
  });
});
