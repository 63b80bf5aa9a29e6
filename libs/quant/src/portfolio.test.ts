import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { mean, volatility } from "./batch.js";
import { correlation } from "./correlation.js";
import { normalQuantile } from "./normal.js";
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

/** A seeded uniform generator (mulberry32) and standard normals from it (Box–Muller). */
function normals(seed: number): () => number {
  let state = seed >>> 0;
  const uniform = (): number => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return () => Math.sqrt(-2 * Math.log(1 - uniform())) * Math.cos(2 * Math.PI * uniform());
}

/** k series of n returns: a common factor with the given loadings plus independent noise. */
function factorSeries(seed: number, n: number, loadings: readonly number[]): number[][] {
  const next = normals(seed);
  const factor = Array.from({ length: n }, next);
  return loadings.map((b) => factor.map((f) => 0.0003 + 0.01 * (b * f + next())));
}

function expectNear(actual: ArrayLike<number>, expected: ArrayLike<number>, digits: number): void {
  expect(actual).toHaveLength(expected.length);
  for (let i = 0; i < expected.length; i++) expect(actual[i]).toBeCloseTo(expected[i] as number, digits);
}

/**
 * Pivots of the Cholesky factorisation of a symmetric k × k matrix, semidefinite variant: a pivot
 * within 1e-12 of 0 zeroes its column instead of dividing by it. A negative pivot beyond that
 * means the matrix is not positive semidefinite.
 */
function choleskyPivots(matrix: ArrayLike<number>, k: number): number[] {
  const l = new Float64Array(k * k);
  const pivots: number[] = [];
  for (let j = 0; j < k; j++) {
    let d = matrix[j * k + j] as number;
    for (let m = 0; m < j; m++) d -= (l[j * k + m] as number) ** 2;
    pivots.push(d);
    if (d <= 1e-12) continue;
    const root = Math.sqrt(d);
    l[j * k + j] = root;
    for (let i = j + 1; i < k; i++) {
      let s = matrix[i * k + j] as number;
      for (let m = 0; m < j; m++) s -= (l[i * k + m] as number) * (l[j * k + m] as number);
      l[i * k + j] = s / root;
    }
  }
  return pivots;
}

/** A return: a multiple of 1e-7 in [−0.1, 0.1] (fc.double would also give subnormal ones). */
const returnArbitrary = fc.integer({ min: -1_000_000, max: 1_000_000 }).map((x) => x / 1e7);

/** Aligned series, some constant, some with few distinct values (ties, exact zero correlations). */
const seriesArbitrary = fc.integer({ min: 1, max: 6 }).chain((k) =>
  fc.integer({ min: 0, max: 40 }).chain((n) => {
    const varying = fc.oneof(
      fc.array(returnArbitrary, { minLength: n, maxLength: n }),
      fc.array(fc.integer({ min: -2, max: 2 }), { minLength: n, maxLength: n }).map((xs) => xs.map((x) => x / 100)),
      returnArbitrary.map((x) => new Array<number>(n).fill(x)),
    );
    return fc.array(varying, { minLength: k, maxLength: k });
  }),
);

/** A symmetric k × k matrix with unit diagonal and entries in [−1, 1], some repeated. */
const matrixArbitrary = fc.integer({ min: 0, max: 10 }).chain((k) =>
  fc
    .array(fc.oneof(fc.double({ min: -1, max: 1, noNaN: true }), fc.constantFrom(-0.5, 0, 0.3, 0.5, 0.9)), {
      minLength: (k * (k - 1)) / 2,
      maxLength: (k * (k - 1)) / 2,
    })
    .map((upper) => {
      const matrix = new Float64Array(k * k);
      let at = 0;
      for (let i = 0; i < k; i++) {
        matrix[i * k + i] = 1;
        for (let j = i + 1; j < k; j++) {
          const v = upper[at++] as number;
          matrix[i * k + j] = v;
          matrix[j * k + i] = v;
        }
      }
      return { matrix, k };
    }),
);

describe("covariance matrix", () => {
  test("a hand example, and the diagonal is the squared per-period volatility", () => {
    const a = [0.01, -0.02, 0.03, 0.0];
    const b = [0.02, -0.01, 0.01, -0.02];
    const c = covarianceMatrix([a, b]);
    // Deviations of a: 0.005, −0.025, 0.025, −0.005; of b: 0.02, −0.01, 0.01, −0.02.
    expect(c[0]).toBeCloseTo(0.0013 / 3, 15);
    expect(c[1]).toBeCloseTo(0.0007 / 3, 15);
    expect(c[2]).toBe(c[1]);
    expect(c[3]).toBeCloseTo(0.001 / 3, 15);
    expect(Math.sqrt(c[0] as number)).toBeCloseTo(volatility(a, { periodsPerYear: 1 }), 15);
  });

  test("a constant series has exactly 0 in its row and column; n < 2 is NaN throughout", () => {
    const c = covarianceMatrix([
      [0.1, 0.2, 0.4],
      [0.3, 0.3, 0.3],
    ]);
    expect([c[1], c[2], c[3]]).toEqual([0, 0, 0]);
    expect(Array.from(covarianceMatrix([[1], [2]])).every(Number.isNaN)).toBe(true);
    expect(covarianceMatrix([])).toEqual(new Float64Array(0));
  });

  test("unequal lengths and non-finite values are refused", () => {
    expect(() =>
      covarianceMatrix([
        [1, 2, 3],
        [1, 2],
      ]),
    ).toThrow(RangeError);
    expect(() => covarianceMatrix([[1, 2, Number.NaN]])).toThrow(RangeError);
    expect(() => covarianceMatrix([[1, Number.POSITIVE_INFINITY]])).toThrow(RangeError);
  });

  test("symmetric, and agrees with correlation() off the diagonal", () => {
    fc.assert(
      fc.property(seriesArbitrary, (series) => {
        const k = series.length;
        const n = series[0]?.length ?? 0;
        const c = covarianceMatrix(series);
        if (n < 2) return;
        for (let i = 0; i < k; i++) {
          expect(c[i * k + i]).toBeGreaterThanOrEqual(0);
          for (let j = 0; j < k; j++) {
            expect(c[i * k + j]).toBe(c[j * k + i]);
            const rho = correlation(series[i] as number[], series[j] as number[]);
            const cii = c[i * k + i] as number;
            const cjj = c[j * k + j] as number;
            if (i !== j && cii > 0 && cjj > 0 && !Number.isNaN(rho)) {
              expect((c[i * k + j] as number) / Math.sqrt(cii * cjj)).toBeCloseTo(rho, 9);
            }
          }
        }
      }),
    );
  });
});

describe("Ledoit–Wolf shrunk correlation", () => {
  test("shrinkage in [0, 1], unit diagonal, entries (1 − δ)·ρ, positive semidefinite", () => {
    fc.assert(
      fc.property(seriesArbitrary, (series) => {
        const k = series.length;
        const { matrix, shrinkage, periods } = shrunkCorrelation(series);
        expect(periods).toBe(series[0]?.length ?? 0);
        expect(shrinkage).toBeGreaterThanOrEqual(0);
        expect(shrinkage).toBeLessThanOrEqual(1);
        for (let i = 0; i < k; i++) {
          expect(matrix[i * k + i]).toBe(1);
          for (let j = i + 1; j < k; j++) {
            expect(matrix[i * k + j]).toBe(matrix[j * k + i]);
            const rho = periods >= 3 ? correlation(series[i] as number[], series[j] as number[]) : 0;
            // A constant series: NaN from correlation(), 0 here.
            const expected = (1 - shrinkage) * (Number.isNaN(rho) ? 0 : rho);
            expect(Math.abs((matrix[i * k + j] as number) - expected)).toBeLessThanOrEqual(1e-12);
          }
        }
        // The smallest eigenvalue is at least δ, so every Cholesky pivot is.
        for (const pivot of choleskyPivots(matrix, k)) expect(pivot).toBeGreaterThanOrEqual(shrinkage - 1e-9);
      }),
    );
  });

  test("unchanged when a series is rescaled or shifted", () => {
    fc.assert(
      fc.property(
        seriesArbitrary,
        fc.double({ min: 0.01, max: 100, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        (series, scale, shift) => {
          const before = shrunkCorrelation(series);
          const after = shrunkCorrelation(series.map((s, i) => (i === 0 ? s.map((x) => x * scale + shift) : s)));
          // A shift can make a constant series' values round differently, and so not constant.
          if (!series[0]?.every((x) => x === series[0]?.[0])) {
            expect(after.shrinkage).toBeCloseTo(before.shrinkage, 9);
            expectNear(after.matrix, before.matrix, 9);
          }
        },
      ),
    );
  });

  test("the same at any magnitude: no squares underflow at 1e-160 or overflow at 1e200", () => {
    const series = factorSeries(3, 50, [1, 0.6, -0.3]);
    const reference = shrunkCorrelation(series);
    for (const scale of [1e-160, 1e-300, 1e200]) {
      const scaled = shrunkCorrelation(series.map((s) => s.map((x) => x * scale)));
      expect(scaled.shrinkage).toBeCloseTo(reference.shrinkage, 12);
      expectNear(scaled.matrix, reference.matrix, 12);
    }
    const covariance = covarianceMatrix(series);
    const tiny = covarianceMatrix(series.map((s) => s.map((x) => x * 1e-100)));
    expectNear(
      tiny.map((v, at) => v / 1e-200 / (covariance[at] as number)),
      new Float64Array(tiny.length).fill(1),
      12,
    );
  });

  test("nothing to estimate gives the identity with δ = 1", () => {
    const identity2 = new Float64Array([1, 0, 0, 1]);
    for (const series of [
      [[0.01], [0.02]], // n < 2
      [
        [0.01, 0.03],
        [0.02, 0.05],
      ], // n = 2: every sample correlation is ±1
      [
        [0.01, 0.02, 0.04],
        [0.5, 0.5, 0.5],
      ], // one varying series
      [
        [1, -1, 1, -1],
        [1, 1, -1, -1],
      ], // exactly uncorrelated (d² = 0)
    ]) {
      expect(shrunkCorrelation(series)).toEqual({ matrix: identity2, shrinkage: 1, periods: series[0]?.length });
    }
    expect(shrunkCorrelation([[0.01, 0.02, -0.01]])).toEqual({
      matrix: new Float64Array([1]),
      shrinkage: 1,
      periods: 3,
    });
    expect(shrunkCorrelation([])).toEqual({ matrix: new Float64Array(0), shrinkage: 1, periods: 0 });
  });

  test("a constant series is uncorrelated with the rest, which are shrunk among themselves", () => {
    const [a, b, c] = factorSeries(7, 60, [1, 1, 0.5]) as [number[], number[], number[]];
    const withFlat = shrunkCorrelation([a, new Array<number>(60).fill(0.001), b, c]);
    const without = shrunkCorrelation([a, b, c]);
    expect(withFlat.shrinkage).toBe(without.shrinkage);
    expect(withFlat.matrix.slice(4, 8)).toEqual(new Float64Array([0, 1, 0, 0]));
    expect(withFlat.matrix[2]).toBe(without.matrix[1]);
    expect(withFlat.matrix[3]).toBe(without.matrix[2]);
  });

  test("short histories are shrunk more than long ones", () => {
    const loadings = [1, 0.8, 0.5, 0, 0.3];
    const average = (n: number): number => {
      let sum = 0;
      for (let seed = 1; seed <= 20; seed++)
        sum += shrunkCorrelation(factorSeries(seed * 31 + n, n, loadings)).shrinkage;
      return sum / 20;
    };
    const short = average(20);
    const medium = average(120);
    const long = average(1000);
    expect(short).toBeGreaterThan(medium);
    expect(medium).toBeGreaterThan(long);
    expect(short).toBeGreaterThan(0.2);
    expect(long).toBeLessThan(0.05);
  });

  test("unequal lengths and non-finite values are refused", () => {
    expect(() =>
      shrunkCorrelation([
        [1, 2, 3],
        [1, 2],
      ]),
    ).toThrow(RangeError);
    expect(() =>
      shrunkCorrelation([
        [1, 2, 3],
        [1, 2, Number.NaN],
      ]),
    ).toThrow(RangeError);
  });
});

describe("correlation clusters", () => {
  test("chains link transitively; labels follow the first member", () => {
    // 0–2 and 2–3 are linked, 0–3 is not: still one cluster. 1 and 4 stand alone.
    const k = 5;
    const m = new Float64Array(k * k).fill(0);
    const set = (i: number, j: number, v: number) => {
      m[i * k + j] = v;
      m[j * k + i] = v;
    };
    for (let i = 0; i < k; i++) set(i, i, 1);
    set(0, 2, 0.8);
    set(2, 3, 0.75);
    set(0, 3, 0.1);
    set(1, 4, 0.5);
    expect(correlationClusters(m, k, 0.7)).toEqual([0, 1, 0, 0, 2]);
    expect(correlationClusters(m, k, 0.5)).toEqual([0, 1, 0, 0, 2]); // strictly above
    expect(correlationClusters(m, k, 0.4)).toEqual([0, 1, 0, 0, 1]);
    expect(correlationClusters(m, k, 0.8)).toEqual([0, 1, 2, 3, 4]);
    expect(correlationClusters(m, k, -2)).toEqual([0, 0, 0, 0, 0]);
    expect(correlationClusters(new Float64Array(0), 0, 0.5)).toEqual([]);
  });

  test("the clusters are the connected components of ρ > threshold, finer as it rises", () => {
    fc.assert(
      fc.property(
        matrixArbitrary,
        fc.double({ min: -1, max: 1, noNaN: true }),
        fc.double({ min: -1, max: 1, noNaN: true }),
        ({ matrix, k }, t1, t2) => {
          const [low, high] = t1 <= t2 ? [t1, t2] : [t2, t1];
          // Reachability by Warshall's algorithm, independent of union-find.
          const reach = (t: number): Uint8Array => {
            const r = new Uint8Array(k * k);
            for (let i = 0; i < k; i++) {
              for (let j = 0; j < k; j++)
                r[i * k + j] = Number(i === j || (matrix[Math.min(i, j) * k + Math.max(i, j)] as number) > t);
            }
            for (let via = 0; via < k; via++) {
              for (let i = 0; i < k; i++)
                for (let j = 0; j < k; j++) r[i * k + j] ||= Number(r[i * k + via] && r[via * k + j]);
            }
            return r;
          };
          const lowLabels = correlationClusters(matrix, k, low);
          const highLabels = correlationClusters(matrix, k, high);
          for (const [labels, t] of [
            [lowLabels, low],
            [highLabels, high],
          ] as const) {
            const r = reach(t);
            let seen = -1;
            for (let i = 0; i < k; i++) {
              // Labels are 0…m − 1, numbered in order of first member.
              expect(labels[i]).toBeLessThanOrEqual(seen + 1);
              seen = Math.max(seen, labels[i] as number);
              for (let j = 0; j < k; j++) expect(labels[i] === labels[j]).toBe(r[i * k + j] === 1);
            }
          }
          // Raising the threshold only splits clusters.
          for (let i = 0; i < k; i++)
            for (let j = 0; j < k; j++) if (highLabels[i] === highLabels[j]) expect(lowLabels[i]).toBe(lowLabels[j]);
          expect(new Set(highLabels).size).toBeGreaterThanOrEqual(new Set(lowLabels).size);
        },
      ),
    );
  });

  test("a malformed matrix or a NaN threshold is refused", () => {
    expect(() => correlationClusters([1, 0, 0], 2, 0.5)).toThrow(RangeError);
    expect(() => correlationClusters([1, Number.NaN, Number.NaN, 1], 2, 0.5)).toThrow(RangeError);
    expect(() => correlationClusters([1, 0, 0, 1], 2, Number.NaN)).toThrow(RangeError);
    expect(() => correlationClusters([1], 1.5, 0.5)).toThrow(RangeError);
  });
});

describe("most correlated pairs", () => {
  test("highest ρ first, ties by i then j, at most all pairs", () => {
    const m = [1, 0.5, 0.9, -0.2, 0.5, 1, 0.5, 0.9, 0.9, 0.5, 1, 0.1, -0.2, 0.9, 0.1, 1];
    expect(mostCorrelatedPairs(m, 4, 4)).toEqual([
      { i: 0, j: 2, rho: 0.9 },
      { i: 1, j: 3, rho: 0.9 },
      { i: 0, j: 1, rho: 0.5 },
      { i: 1, j: 2, rho: 0.5 },
    ]);
    expect(mostCorrelatedPairs(m, 4, 100)).toHaveLength(6);
    expect(mostCorrelatedPairs(m, 4, 100).at(-1)).toEqual({ i: 0, j: 3, rho: -0.2 });
    expect(mostCorrelatedPairs(m, 4, 0)).toEqual([]);
    expect(() => mostCorrelatedPairs(m, 4, -1)).toThrow(RangeError);
    expect(() => mostCorrelatedPairs(m, 4, 1.5)).toThrow(RangeError);
    expect(() => mostCorrelatedPairs(m, 3, 1)).toThrow(RangeError);
  });

  test("every pair once, in order", () => {
    fc.assert(
      fc.property(matrixArbitrary, fc.nat(60), ({ matrix, k }, count) => {
        const pairs = mostCorrelatedPairs(matrix, k, count);
        expect(pairs).toHaveLength(Math.min(count, (k * (k - 1)) / 2));
        for (let at = 1; at < pairs.length; at++) {
          const [a, b] = [pairs[at - 1], pairs[at]] as [{ i: number; j: number; rho: number }, (typeof pairs)[0]];
          expect(a.rho > b.rho || (a.rho === b.rho && (a.i < b.i || (a.i === b.i && a.j < b.j)))).toBe(true);
        }
        for (const { i, j, rho } of pairs) {
          expect(i).toBeLessThan(j);
          expect(rho).toBe(matrix[i * k + j]);
        }
        // Nothing left out ranks above the last pair taken.
        const last = pairs.at(-1);
        if (last !== undefined && pairs.length < (k * (k - 1)) / 2) {
          const all = mostCorrelatedPairs(matrix, k, (k * (k - 1)) / 2);
          expect(all.slice(0, pairs.length)).toEqual(pairs);
        }
      }),
    );
  });
});

describe("historical VaR and ES", () => {
  const pnl = [3, -6, 0, 5, -10, 1, 2, -3, 4, 6];

  test("a hand example: linear interpolation between order statistics", () => {
    // Sorted: −10, −6, −3, 0, 1, … At 90%: index 9·0.1 = 0.9, Q = −10 + 0.9·4 = −6.4.
    expect(historicalVaR(pnl, 0.9)).toBeCloseTo(6.4, 12);
    expect(historicalES(pnl, 0.9)).toBe(10);
    // At 80%: index 1.8, Q = −6 + 0.8·3 = −3.6; the tail is {−10, −6}.
    expect(historicalVaR(pnl, 0.8)).toBeCloseTo(3.6, 12);
    expect(historicalES(pnl, 0.8)).toBe(8);
    // Only gains: the VaR is negative.
    expect(historicalVaR([1, 2, 3], 0.5)).toBe(-2);
    expect(historicalVaR([-7], 0.99)).toBe(7);
    expect(historicalES([-7], 0.99)).toBe(7);
  });

  test("no P&L is NaN; a non-finite value or a level outside (0, 1) is refused", () => {
    expect(historicalVaR([], 0.95)).toBeNaN();
    expect(historicalES([], 0.95)).toBeNaN();
    for (const level of [0, 1, -0.5, 1.5, Number.NaN]) {
      expect(() => historicalVaR(pnl, level)).toThrow(RangeError);
      expect(() => historicalES(pnl, level)).toThrow(RangeError);
    }
    expect(() => historicalVaR([1, Number.NaN], 0.95)).toThrow(RangeError);
    expect(() => historicalES([1, Number.NEGATIVE_INFINITY], 0.95)).toThrow(RangeError);
  });

  test("ES ≥ VaR, both rise with the level, scale with the P&L and move against a shift", () => {
    const level = fc.double({ min: 0.5, max: 0.999, noNaN: true });
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: -1e4, max: 1e4, noNaN: true }), { minLength: 1, maxLength: 300 }),
        level,
        level,
        fc.double({ min: 0.001, max: 1000, noNaN: true }),
        (values, l1, l2, scale) => {
          const [low, high] = l1 <= l2 ? [l1, l2] : [l2, l1];
          const tol = 1e-9 * Math.max(1, ...values.map(Math.abs));
          const v = historicalVaR(values, low);
          expect(historicalES(values, low)).toBeGreaterThanOrEqual(v - tol);
          expect(historicalVaR(values, high)).toBeGreaterThanOrEqual(v - tol);
          expect(historicalES(values, high)).toBeGreaterThanOrEqual(historicalES(values, low) - tol);
          expect(historicalVaR([...values].reverse(), low)).toBe(v);
          expect(
            historicalVaR(
              values.map((x) => x * scale),
              low,
            ),
          ).toBeCloseTo(v * scale, 6);
          expect(
            Math.abs(
              historicalVaR(
                values.map((x) => x + 5),
                low,
              ) -
                (v - 5),
            ),
          ).toBeLessThanOrEqual(tol);
        },
      ),
    );
  });

  test("on a large normal sample they approach the normal VaR and ES", () => {
    const next = normals(2024);
    const sample = Array.from({ length: 200_000 }, () => 10 + 200 * next());
    for (const level of [0.95, 0.99]) {
      expect(historicalVaR(sample, level) / parametricVaR(10, 200, level)).toBeCloseTo(1, 1);
      expect(historicalES(sample, level) / parametricES(10, 200, level)).toBeCloseTo(1, 1);
    }
  });
});

describe("normal VaR and ES", () => {
  test("standard values", () => {
    expect(parametricVaR(0, 1, 0.95)).toBeCloseTo(1.6448536269514722, 14);
    expect(parametricVaR(0, 1, 0.99)).toBeCloseTo(2.3263478740408408, 14);
    expect(parametricES(0, 1, 0.975)).toBeCloseTo(2.3378027922013, 12);
    expect(parametricVaR(0.001, 0.02, 0.99)).toBeCloseTo(0.02 * 2.3263478740408408 - 0.001, 15);
    // No spread: the loss is minus the mean, at every level.
    expect(parametricVaR(5, 0, 0.99)).toBe(-5);
    expect(parametricES(5, 0, 0.99)).toBe(-5);
  });

  test("ES exceeds VaR whenever there is spread", () => {
    fc.assert(
      fc.property(
        fc.double({ min: -1e3, max: 1e3, noNaN: true }),
        fc.double({ min: 1e-6, max: 1e3, noNaN: true }),
        fc.double({ min: 0.5, max: 0.9999, noNaN: true }),
        (m, sd, level) => {
          expect(parametricES(m, sd, level)).toBeGreaterThan(parametricVaR(m, sd, level));
        },
      ),
    );
  });

  test("an undefined estimate gives NaN; an infinite one, a negative sd or a bad level is refused", () => {
    expect(parametricVaR(Number.NaN, 1, 0.95)).toBeNaN();
    expect(parametricES(0, Number.NaN, 0.95)).toBeNaN();
    expect(() => parametricVaR(0, -1, 0.95)).toThrow(RangeError);
    expect(() => parametricES(Number.POSITIVE_INFINITY, 1, 0.95)).toThrow(RangeError);
    expect(() => parametricVaR(0, 1, 1)).toThrow(RangeError);
    expect(() => parametricES(0, 1, 0)).toThrow(RangeError);
  });
});

/** k strategies: a random positive semidefinite covariance BᵀB/k, exposures and means. */
const portfolioArbitrary = fc.integer({ min: 1, max: 6 }).chain((k) =>
  fc.record({
    k: fc.constant(k),
    b: fc.array(
      returnArbitrary.map((x) => x / 5),
      { minLength: k * k, maxLength: k * k },
    ),
    weights: fc.array(fc.integer({ min: -100_000, max: 100_000 }), { minLength: k, maxLength: k }),
    means: fc.array(
      returnArbitrary.map((x) => x / 50),
      { minLength: k, maxLength: k },
    ),
    level: fc.constantFrom(0.9, 0.95, 0.975, 0.99),
  }),
);

function gram(b: readonly number[], k: number): Float64Array {
  const c = new Float64Array(k * k);
  for (let i = 0; i < k; i++)
    for (let j = 0; j < k; j++) {
      let s = 0;
      for (let m = 0; m < k; m++) s += (b[m * k + i] as number) * (b[m * k + j] as number);
      c[i * k + j] = s / k;
    }
  return c;
}

describe("portfolio risk", () => {
  test("components sum to the VaR; marginals are its derivatives; VaR is homogeneous", () => {
    fc.assert(
      fc.property(portfolioArbitrary, fc.double({ min: 0.01, max: 100, noNaN: true }), (p, lambda) => {
        const covariance = gram(p.b, p.k);
        const risk = portfolioRisk(p.weights, covariance, p.means, p.level);
        if (!(risk.sd > 0)) return;
        // Scale of the terms whose sums make the VaR: cancellation is measured against it.
        const scale = p.weights.reduce((s, w, i) => s + Math.abs(w * (risk.marginal[i] as number)), 0);
        const sum = risk.component.reduce((s, x) => s + x, 0);
        expect(Math.abs(sum - risk.var)).toBeLessThanOrEqual(1e-12 * Math.max(scale, Math.abs(risk.var)));
        expect(risk.es).toBeGreaterThan(risk.var);
        const scaled = portfolioRisk(
          p.weights.map((w) => w * lambda),
          covariance,
          p.means,
          p.level,
        );
        expect(scaled.var).toBeCloseTo(risk.var * lambda, 6);
        // A central difference in each exposure, where σ_p is not so near its kink at 0 that
        // the step crosses it.
        const spread = p.weights.reduce((s, w, i) => s + Math.abs(w) * Math.sqrt(covariance[i * p.k + i] as number), 0);
        if (!(risk.sd > 1e-3 * spread)) return;
        for (let i = 0; i < p.k; i++) {
          // A step small against σ_p in that exposure's own units: a larger one lets h²·Σᵢᵢ outgrow
          // σ_p² when the portfolio barely holds strategy i's risk, and the difference measures that.
          const own = Math.sqrt(covariance[i * p.k + i] as number);
          const h = 1e-4 * Math.min(Math.max(1, Math.abs(p.weights[i] as number)), own > 0 ? risk.sd / own : 1);
          const bump = (dw: number) =>
            portfolioRisk(
              p.weights.map((w, at) => (at === i ? w + dw : w)),
              covariance,
              p.means,
              p.level,
            ).var;
          const slope = (bump(h) - bump(-h)) / (2 * h);
          expect(Math.abs(slope - (risk.marginal[i] as number))).toBeLessThanOrEqual(
            1e-5 * Math.max(1e-3, Math.abs(risk.marginal[i] as number)),
          );
        }
      }),
    );
  });

  test("agrees with the P&L series it describes and with the single-strategy formulas", () => {
    const series = factorSeries(11, 250, [1, 0.7, -0.4, 0]);
    const weights = [1e5, 5e4, 2e4, -3e4];
    const pnl = portfolioPnl(weights, series);
    const risk = portfolioRisk(weights, covarianceMatrix(series), series.map(mean), 0.99);
    expect(risk.sd).toBeCloseTo(volatility(pnl, { periodsPerYear: 1 }), 8);
    expect(risk.mean).toBeCloseTo(mean(pnl), 10);
    expect(risk.var).toBeCloseTo(parametricVaR(mean(pnl), volatility(pnl, { periodsPerYear: 1 }), 0.99), 8);
    expect(risk.es).toBeCloseTo(parametricES(risk.mean, risk.sd, 0.99), 8);
    // One strategy: exposure times its own parametric VaR.
    const one = portfolioRisk([2], [0.0004], [0.001], 0.95);
    expect(one.var).toBeCloseTo(parametricVaR(0.002, 0.04, 0.95), 15);
    expect(one.component[0]).toBeCloseTo(one.var, 15);
    expect(one.marginal[0]).toBeCloseTo(normalQuantile(0.95) * 0.02 - 0.001, 15);
  });

  test("a hedge has a negative component", () => {
    // Two strategies correlated 0.8; a short position in the second offsets the first.
    const cov = [0.0001, 0.00008, 0.00008, 0.0001];
    const risk = portfolioRisk([100, -30], cov, undefined, 0.99);
    expect(risk.component[0]).toBeGreaterThan(0);
    expect(risk.component[1]).toBeLessThan(0);
    expect(risk.mean).toBe(0);
  });

  test("no risk: VaR = ES = −mean and the decomposition is NaN", () => {
    const zero = portfolioRisk([0, 0], [1e-4, 0, 0, 1e-4], [0.001, 0.002], 0.95);
    expect([zero.sd, zero.var, zero.es]).toEqual([0, 0, 0]);
    expect(Array.from(zero.marginal).every(Number.isNaN)).toBe(true);
    // Perfectly correlated and exactly offsetting: riskless, earning the spread in means.
    const riskless = portfolioRisk([1, -1], [1e-4, 1e-4, 1e-4, 1e-4], [0.003, 0.001], 0.99);
    expect(riskless.sd).toBe(0);
    expect(riskless.var).toBeCloseTo(-0.002, 15);
    expect(Number.isNaN(riskless.component[0])).toBe(true);
    const empty = portfolioRisk([], [], undefined, 0.95);
    expect([empty.sd, empty.var, empty.es]).toEqual([0, 0, 0]);
  });

  test("mismatched lengths, non-finite values, a bad level or an indefinite covariance are refused", () => {
    const cov = [1e-4, 0, 0, 1e-4];
    expect(() => portfolioRisk([1, 2], [1e-4], undefined, 0.95)).toThrow(RangeError);
    expect(() => portfolioRisk([1, 2], cov, [0.1], 0.95)).toThrow(RangeError);
    expect(() => portfolioRisk([1, Number.NaN], cov, undefined, 0.95)).toThrow(RangeError);
    expect(() => portfolioRisk([1, 2], [1e-4, Number.NaN, 0, 1e-4], undefined, 0.95)).toThrow(RangeError);
    expect(() => portfolioRisk([1, 2], cov, [0, Number.POSITIVE_INFINITY], 0.95)).toThrow(RangeError);
    expect(() => portfolioRisk([1, 2], cov, undefined, 1)).toThrow(RangeError);
    // Correlation 2: wᵀΣw = 1 − 4 + 1 < 0 along (1, −1).
    expect(() => portfolioRisk([1, -1], [1, 2, 2, 1], undefined, 0.95)).toThrow(/not positive semidefinite/);
  });
});

describe("portfolio P&L", () => {
  test("Σ w_i·r_it per period", () => {
    const pnl = portfolioPnl(
      [100, -50],
      [
        [0.01, -0.02, 0.03],
        [0.02, 0.01, -0.01],
      ],
    );
    expect(Array.from(pnl).map((x) => Math.round(x * 1e9) / 1e9)).toEqual([0, -2.5, 3.5]);
    expect(portfolioPnl([], [])).toEqual(new Float64Array(0));
  });

  test("mismatched weights or lengths and non-finite values are refused", () => {
    expect(() => portfolioPnl([1], [[0.01], [0.02]])).toThrow(RangeError);
    expect(() => portfolioPnl([1, 1], [[0.01, 0.02], [0.02]])).toThrow(RangeError);
    expect(() => portfolioPnl([1, Number.NaN], [[0.01], [0.02]])).toThrow(RangeError);
    expect(() => portfolioPnl([1, 1], [[0.01], [Number.POSITIVE_INFINITY]])).toThrow(RangeError);
  });
});
