/**
 * Golden vectors for the risk functions: values golden/risk.py computed independently with
 * numpy, scipy (and sklearn's ledoit_wolf, when it was importable) from the same data. 1e-10
 * relative, measured against the natural scale of each value where it can be near 0 through
 * cancellation: √(C_ii·C_jj) for a covariance, Σ|w_i·r_it| for a period's P&L, and the largest
 * P&L for a quantile of P&L.
 */
import { readFileSync } from "node:fs";
import { describe, expect, test } from "vitest";
import {
  correlationClusters,
  covarianceMatrix,
  historicalES,
  historicalVaR,
  mostCorrelatedPairs,
  parametricES,
  parametricVaR,
  portfolioPnl,
  portfolioRisk,
  shrunkCorrelation,
} from "./portfolio.js";

interface GoldenPortfolio {
  level: number;
  sd: number;
  mean: number;
  var: number;
  es: number;
  marginal: number[];
  component: number[];
}
interface GoldenCase {
  name: string;
  series: number[][];
  weights: number[];
  covariance: number[];
  shrinkage: number;
  shrunk: number[];
  clusters: { threshold: number; labels: number[] }[];
  pairs: { i: number; j: number; rho: number }[];
  pnl: number[];
  historical: { level: number; var: number; es: number }[];
  portfolio: GoldenPortfolio[];
  portfolioNoMeans: GoldenPortfolio;
}
interface Golden {
  cases: GoldenCase[];
  parametric: { mean: number; sd: number; level: number; var: number; es: number }[];
}

const golden = JSON.parse(readFileSync(new URL("../golden/risk.json", import.meta.url), "utf8")) as Golden;
const TOLERANCE = 1e-10;

function expectClose(actual: number, expected: number, what: string, scale = Math.abs(expected)): void {
  const error = Math.abs(actual - expected) / Math.max(scale, Number.MIN_VALUE);
  expect(error, `${what}: ${actual} vs ${expected}`).toBeLessThanOrEqual(TOLERANCE);
}

function expectAllClose(actual: ArrayLike<number>, expected: number[], what: string, scale?: (i: number) => number) {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) {
    expectClose(actual[i] as number, expected[i] as number, `${what}[${i}]`, scale?.(i));
  }
}

function meanOf(row: number[]): number {
  return row.reduce((s, x) => s + x, 0) / row.length;
}

describe("risk golden vectors (numpy/scipy)", () => {
  test("there is a case of each kind", () => {
    expect(golden.cases.map((c) => c.name)).toEqual(["correlated", "short", "tiny", "with-constant"]);
  });

  for (const c of golden.cases) {
    const k = c.series.length;

    test(`${c.name}: covariance and shrunk correlation`, () => {
      const covariance = covarianceMatrix(c.series);
      const diagonal = (i: number): number => c.covariance[i * k + i] as number;
      expectAllClose(covariance, c.covariance, "covariance", (at) =>
        Math.sqrt(diagonal(Math.floor(at / k)) * diagonal(at % k)),
      );
      const shrunk = shrunkCorrelation(c.series);
      expect(shrunk.periods).toBe(c.series[0]?.length);
      expectClose(shrunk.shrinkage, c.shrinkage, "shrinkage");
      // Entries are correlations, at most 1 in size: the error is measured against 1.
      expectAllClose(shrunk.matrix, c.shrunk, "shrunk", () => 1);
    });

    test(`${c.name}: clusters and most correlated pairs`, () => {
      const { matrix } = shrunkCorrelation(c.series);
      for (const g of c.clusters)
        expect(correlationClusters(matrix, k, g.threshold), `${g.threshold}`).toEqual(g.labels);
      const pairs = mostCorrelatedPairs(matrix, k, c.pairs.length);
      expect(pairs.map(({ i, j }) => [i, j])).toEqual(c.pairs.map(({ i, j }) => [i, j]));
      expectAllClose(
        pairs.map((pair) => pair.rho),
        c.pairs.map((pair) => pair.rho),
        "rho",
        () => 1,
      );
    });

    test(`${c.name}: portfolio P&L, historical VaR and ES`, () => {
      const pnl = portfolioPnl(c.weights, c.series);
      expectAllClose(pnl, c.pnl, "pnl", (t) =>
        c.weights.reduce((s, w, i) => s + Math.abs(w * (c.series[i]?.[t] ?? 0)), 0),
      );
      const scale = Math.max(...c.pnl.map(Math.abs));
      for (const g of c.historical) {
        expectClose(historicalVaR(pnl, g.level), g.var, `VaR ${g.level}`, scale);
        expectClose(historicalES(pnl, g.level), g.es, `ES ${g.level}`, scale);
      }
    });

    test(`${c.name}: portfolio risk and its decomposition`, () => {
      const covariance = covarianceMatrix(c.series);
      const means = c.series.map(meanOf);
      const check = (risk: ReturnType<typeof portfolioRisk>, g: GoldenPortfolio): void => {
        for (const key of ["sd", "var", "es"] as const) expectClose(risk[key], g[key], `${key} ${g.level}`);
        expectClose(risk.mean, g.mean, `mean ${g.level}`, g.sd);
        expectAllClose(risk.marginal, g.marginal, `marginal ${g.level}`, () => Math.max(...g.marginal.map(Math.abs)));
        expectAllClose(risk.component, g.component, `component ${g.level}`, () => g.var);
      };
      for (const g of c.portfolio) check(portfolioRisk(c.weights, covariance, means, g.level), g);
      check(portfolioRisk(c.weights, covariance, undefined, 0.99), c.portfolioNoMeans);
    });
  }

  test("normal VaR and ES", () => {
    for (const g of golden.parametric) {
      const what = `(${g.mean}, ${g.sd}, ${g.level})`;
      expectClose(parametricVaR(g.mean, g.sd, g.level), g.var, `VaR ${what}`);
      expectClose(parametricES(g.mean, g.sd, g.level), g.es, `ES ${what}`);
    }
  });
});
