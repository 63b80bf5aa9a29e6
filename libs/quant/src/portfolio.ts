/**
 * Risk across strategies, for the risk guard: covariance and shrunk correlation of aligned
 * return series, clusters and the most correlated pairs, historical and normal value at risk
 * and expected shortfall, and a portfolio's VaR split into what each strategy contributes.
 *
 * Series are per-period returns, aligned (index t is the same period in every series); weights
 * are currency exposures, so a portfolio's P&L, VaR and ES are in currency. VaR and ES are
 * losses written as positive numbers. Data (series, P&L, weights, matrices) with a non-finite
 * value, or of mismatched lengths, is refused with a RangeError; an undefined result is NaN.
 */

import { normalQuantile } from "./normal.js";
import { linearPercentile } from "./quantile.js";
import { addCompensated, compensatedSum, compensatedValue } from "./sums.js";

const ONE_OVER_SQRT_2PI = 0.3989422804014327;

function checkFinite(values: ArrayLike<number>, what: string): void {
  for (let i = 0; i < values.length; i++) {
    if (!Number.isFinite(values[i])) throw new RangeError(`${what}: non-finite value ${values[i]} at index ${i}`);
  }
}

/** The common length of k series; throws when they differ or hold a non-finite value. */
function alignedLength(series: readonly ArrayLike<number>[], what: string): number {
  const n = series[0]?.length ?? 0;
  for (let i = 0; i < series.length; i++) {
    const s = series[i] as ArrayLike<number>;
    if (s.length !== n) throw new RangeError(`${what}: series ${i} has ${s.length} values, series 0 has ${n}`);
    checkFinite(s, `${what}: series ${i}`);
  }
  return n;
}

// Thrown rather than NaN: a NaN VaR compares false with every limit, so a mistyped level would
// silently pass every check the guard makes.
function checkLevel(level: number): void {
  if (!(level > 0 && level < 1)) throw new RangeError(`a confidence level must lie in (0, 1), got ${level}`);
}

/** Throws unless k is a size and the row-major matrix has k² finite entries. */
function checkMatrix(matrix: ArrayLike<number>, k: number, what: string): void {
  if (!(Number.isInteger(k) && k >= 0)) throw new RangeError(`${what}: k must be a non-negative integer, got ${k}`);
  if (matrix.length !== k * k)
    throw new RangeError(`${what}: a ${k} × ${k} matrix has ${k * k} entries, got ${matrix.length}`);
  checkFinite(matrix, what);
}

/**
 * Each series centred: deviations from its mean (row-major, k rows of n) and their sums of
 * cross products. Two passes as in batch.ts: the mean of x − x₀ by a compensated sum, then
 * deviations, whose own small sum e (what rounding left of the mean) is taken back out of the
 * cross products (Chan, Golub & LeVeque). A constant series gets exact zeros, not the spurious
 * spread a rounded mean can leave.
 *
 * The deviations of each series are scaled by a power of two (exactly) so that the largest is
 * near 1: their squares and products then neither underflow nor overflow, and a series of
 * returns around 1e-160 correlates as it would at 1e-2. `exponents` undo the scaling.
 */
interface Centred {
  /** d[i·n + t], the scaled deviation of series i in period t, with e_i already subtracted. */
  deviations: Float64Array;
  /** Σ_t d_it·d_jt of the scaled deviations, row-major k × k. */
  products: Float64Array;
  /** Series i's deviations were multiplied by 2^−exponents[i]. */
  exponents: Int32Array;
  /** Whether series i takes more than one value. */
  varies: boolean[];
}

/** x·2^e, exact unless the result over- or underflows; in two steps so that 2^e itself cannot. */
function timesPowerOfTwo(x: number, e: number): number {
  const half = Math.trunc(e / 2);
  return x * 2 ** half * 2 ** (e - half);
}

function centre(series: readonly ArrayLike<number>[], n: number): Centred {
  const k = series.length;
  const deviations = new Float64Array(k * n);
  const residual = new Float64Array(k);
  const exponents = new Int32Array(k);
  const varies: boolean[] = [];
  const sum = new Float64Array(2);
  for (let i = 0; i < k; i++) {
    const s = series[i] as ArrayLike<number>;
    const shift = s[0] as number;
    let differs = false;
    for (let t = 0; t < n; t++) differs ||= s[t] !== shift;
    varies.push(differs);
    if (!differs) continue;
    const shiftedMean = compensatedSum(s, (x) => x - shift) / n;
    let largest = 0;
    for (let t = 0; t < n; t++) {
      const d = (s[t] as number) - shift - shiftedMean;
      deviations[i * n + t] = d;
      largest = Math.max(largest, Math.abs(d));
    }
    // Values that differ leave a deviation that is not 0, so largest > 0.
    const exponent = Math.floor(Math.log2(largest));
    exponents[i] = exponent;
    sum.fill(0);
    for (let t = 0; t < n; t++) {
      const d = timesPowerOfTwo(deviations[i * n + t] as number, -exponent);
      deviations[i * n + t] = d;
      addCompensated(sum, 0, d);
    }
    residual[i] = compensatedValue(sum, 0) / n;
  }
  const products = new Float64Array(k * k);
  const slots = new Float64Array(2);
  for (let i = 0; i < k; i++) {
    if (!varies[i]) continue;
    for (let j = i; j < k; j++) {
      if (!varies[j]) continue;
      slots.fill(0);
      for (let t = 0; t < n; t++) {
        addCompensated(slots, 0, (deviations[i * n + t] as number) * (deviations[j * n + t] as number));
      }
      const value = compensatedValue(slots, 0) - n * (residual[i] as number) * (residual[j] as number);
      products[i * k + j] = value;
      products[j * k + i] = value;
    }
  }
  for (let i = 0; i < k; i++) {
    const e = residual[i] as number;
    for (let t = 0; t < n; t++) deviations[i * n + t] = (deviations[i * n + t] as number) - e;
  }
  return { deviations, products, exponents, varies };
}

/**
 * Sample covariance matrix (ddof = 1) of k aligned series of n values each, row-major k × k:
 * C_ij = Σ_t (x_it − x̄_i)(x_jt − x̄_j)/(n − 1). Every entry is NaN when n < 2; a constant series
 * has exactly 0 in its row and column. RangeError for series of different lengths or a
 * non-finite value.
 */
export function covarianceMatrix(series: readonly ArrayLike<number>[]): Float64Array {
  const k = series.length;
  const n = alignedLength(series, "covarianceMatrix");
  if (n < 2) return new Float64Array(k * k).fill(Number.NaN);
  const { products, exponents } = centre(series, n);
  return products.map((p, at) => {
    const scaled = timesPowerOfTwo(p, exponents[Math.floor(at / k)] as number);
    return timesPowerOfTwo(scaled, exponents[at % k] as number) / (n - 1);
  });
}

/** A correlation matrix shrunk towards the identity, with how much it was shrunk. */
export interface ShrunkCorrelation {
  /** Row-major k × k, unit diagonal, symmetric, positive semidefinite (definite when shrinkage > 0). */
  matrix: Float64Array;
  /** The Ledoit–Wolf intensity δ ∈ [0, 1]: 0 keeps the sample correlations, 1 is the identity. */
  shrinkage: number;
  /** The number of periods n the series had. */
  periods: number;
}

/**
 * Correlation matrix of k aligned return series with Ledoit–Wolf shrinkage (Ledoit & Wolf 2004,
 * "A well-conditioned estimator for large-dimensional covariance matrices"), computed on the
 * standardized series so the target is the identity: (1 − δ)·R + δ·I with R the Pearson
 * correlations. With z_t the p varying series of period t standardized by their population
 * (ddof = 0) standard deviations, so R = (1/n)·Σ_t z_t z_tᵀ:
 *
 *   d² = Σ_{i≠j} R_ij² / p,  b̄² = Σ_t ‖z_t z_tᵀ − R‖²_F / (n²·p),  δ = min(b̄², d²) / d²,
 *
 * which is sklearn.covariance.ledoit_wolf's intensity on the standardized data (the same
 * population moments; sklearn uses the expanded form Σ_t ‖z_t‖⁴/n − ‖R‖²_F of b̄²·n·p).
 *
 * δ = 1 (the identity) when there is nothing to estimate: n < 3, fewer than two varying series,
 * or every sample correlation exactly 0 (d² = 0, where δ → 1 is the limit; sklearn reports 0
 * there and for one series). n = 2 counts as degenerate because there every correlation is ±1
 * and each period's outer product equals their mean, so b̄² = 0 and the formula would keep the
 * ±1s untouched (δ = 0) from two observations.
 *
 * A constant series has no correlation with anything: its off-diagonal entries are 0 and it is
 * left out of d², b̄² and p. RangeError for series of different lengths or a non-finite value.
 */
export function shrunkCorrelation(series: readonly ArrayLike<number>[]): ShrunkCorrelation {
  const k = series.length;
  const n = alignedLength(series, "shrunkCorrelation");
  const matrix = new Float64Array(k * k);
  for (let i = 0; i < k; i++) matrix[i * k + i] = 1;
  if (n < 3) return { matrix, shrinkage: 1, periods: n };
  const { deviations, products, varies } = centre(series, n);
  const used: number[] = [];
  for (let i = 0; i < k; i++) if (varies[i]) used.push(i);
  const p = used.length;
  if (p < 2) return { matrix, shrinkage: 1, periods: n };

  // z-scores and R of the varying series only, indexed 0..p − 1.
  const z = new Float64Array(p * n);
  const r = new Float64Array(p * p);
  for (let a = 0; a < p; a++) {
    const i = used[a] as number;
    const scale = Math.sqrt(n / (products[i * k + i] as number));
    for (let t = 0; t < n; t++) z[a * n + t] = (deviations[i * n + t] as number) * scale;
    r[a * p + a] = 1;
    for (let b = a + 1; b < p; b++) {
      const j = used[b] as number;
      const rho =
        (products[i * k + j] as number) / Math.sqrt((products[i * k + i] as number) * (products[j * k + j] as number));
      const clamped = Math.max(-1, Math.min(1, rho));
      r[a * p + b] = clamped;
      r[b * p + a] = clamped;
    }
  }
  let offDiagonal = 0;
  for (let a = 0; a < p; a++) for (let b = a + 1; b < p; b++) offDiagonal += 2 * (r[a * p + b] as number) ** 2;
  const d2 = offDiagonal / p;
  if (!(d2 > 0)) return { matrix, shrinkage: 1, periods: n };

  // b̄² as a sum of squares rather than sklearn's difference of two sums: it cannot come out
  // negative, and it does not lose digits when the two sums are close.
  const dispersion = new Float64Array(2);
  for (let t = 0; t < n; t++) {
    let s = 0;
    for (let a = 0; a < p; a++) {
      const za = z[a * n + t] as number;
      s += (za * za - 1) ** 2;
      for (let b = a + 1; b < p; b++) s += 2 * (za * (z[b * n + t] as number) - (r[a * p + b] as number)) ** 2;
    }
    addCompensated(dispersion, 0, s);
  }
  const b2 = compensatedValue(dispersion, 0) / (n * n * p);
  const shrinkage = Math.min(b2, d2) / d2;
  for (let a = 0; a < p; a++) {
    const i = used[a] as number;
    for (let b = a + 1; b < p; b++) {
      const j = used[b] as number;
      const value = (1 - shrinkage) * (r[a * p + b] as number);
      matrix[i * k + j] = value;
      matrix[j * k + i] = value;
    }
  }
  return { matrix, shrinkage, periods: n };
}

/**
 * Clusters of strategies by correlation: i and j are in one cluster when a chain of pairs links
 * them, each with correlation strictly above `threshold` (single linkage: the connected
 * components of that graph, found by union-find). Returns a label per strategy, 0…m − 1 with m
 * the number of clusters, numbered in the order of their first member; a strategy linked to no
 * other is a cluster of its own. `matrix` is row-major k × k and taken as symmetric: only the
 * entries above the diagonal are read. RangeError when the matrix does not have k² finite
 * entries or the threshold is NaN.
 */
export function correlationClusters(matrix: ArrayLike<number>, k: number, threshold: number): number[] {
  checkMatrix(matrix, k, "correlationClusters");
  if (Number.isNaN(threshold)) throw new RangeError("correlationClusters: the threshold is NaN");
  const parent = Int32Array.from({ length: k }, (_, i) => i);
  const size = new Int32Array(k).fill(1);
  const find = (x: number): number => {
    let at = x;
    while (parent[at] !== at) {
      // Path halving keeps the trees shallow without recursion.
      const up = parent[parent[at] as number] as number;
      parent[at] = up;
      at = up;
    }
    return at;
  };
  for (let i = 0; i < k; i++) {
    for (let j = i + 1; j < k; j++) {
      if (!((matrix[i * k + j] as number) > threshold)) continue;
      let a = find(i);
      let b = find(j);
      if (a === b) continue;
      if ((size[a] as number) < (size[b] as number)) [a, b] = [b, a];
      parent[b] = a;
      size[a] = (size[a] as number) + (size[b] as number);
    }
  }
  const labelOfRoot = new Int32Array(k).fill(-1);
  const labels: number[] = [];
  let next = 0;
  for (let i = 0; i < k; i++) {
    const root = find(i);
    if (labelOfRoot[root] === -1) labelOfRoot[root] = next++;
    labels.push(labelOfRoot[root] as number);
  }
  return labels;
}

/** A pair of strategies i < j and their correlation. */
export interface CorrelatedPair {
  i: number;
  j: number;
  rho: number;
}

/**
 * The `count` most correlated pairs i < j of a row-major k × k correlation matrix (read above
 * the diagonal), highest signed ρ first, ties by i then j; all k(k − 1)/2 pairs when count is
 * larger. Signed, not |ρ|: a strongly negative pair hedges, it does not concentrate risk.
 * RangeError when the matrix does not have k² finite entries or count is not a non-negative
 * integer.
 */
export function mostCorrelatedPairs(matrix: ArrayLike<number>, k: number, count: number): CorrelatedPair[] {
  checkMatrix(matrix, k, "mostCorrelatedPairs");
  if (!(Number.isInteger(count) && count >= 0)) {
    throw new RangeError(`mostCorrelatedPairs: count must be a non-negative integer, got ${count}`);
  }
  const pairs: CorrelatedPair[] = [];
  for (let i = 0; i < k; i++) for (let j = i + 1; j < k; j++) pairs.push({ i, j, rho: matrix[i * k + j] as number });
  pairs.sort((x, y) => y.rho - x.rho || x.i - y.i || x.j - y.j);
  return pairs.slice(0, count);
}

function sortedPnl(pnl: ArrayLike<number>, what: string): Float64Array {
  checkFinite(pnl, what);
  return Float64Array.from(pnl).sort();
}

/**
 * Historical value at risk at confidence `level` (0.95, 0.99, …), as a positive loss:
 * VaR = −Q_{1−level}(pnl), Q being numpy's default linear-interpolation quantile
 * (`-np.quantile(pnl, 1 - level)`). Negative when even that quantile is a gain. NaN for no
 * P&L; RangeError for a non-finite value or a level outside (0, 1).
 */
export function historicalVaR(pnl: ArrayLike<number>, level: number): number {
  checkLevel(level);
  const sorted = sortedPnl(pnl, "historicalVaR");
  if (sorted.length === 0) return Number.NaN;
  return -linearPercentile(sorted, 1 - level);
}

/**
 * Historical expected shortfall at confidence `level`, as a positive loss: minus the mean of
 * every P&L value at or below the quantile that defines the VaR, i.e. of {x : x ≤ −VaR}
 * (`-pnl[pnl <= np.quantile(pnl, 1 - level)].mean()`). The set is never empty (it holds the
 * smallest value), and ES ≥ VaR. With interpolation the quantile lies between two values, so
 * this is the mean of the ⌊(n − 1)(1 − level)⌋ + 1 smallest values (more with ties), not a
 * weighted tail average. NaN for no P&L; RangeError for a non-finite value or a level outside (0, 1).
 */
export function historicalES(pnl: ArrayLike<number>, level: number): number {
  checkLevel(level);
  const sorted = sortedPnl(pnl, "historicalES");
  if (sorted.length === 0) return Number.NaN;
  const cut = linearPercentile(sorted, 1 - level);
  let m = 0;
  while (m < sorted.length && (sorted[m] as number) <= cut) m++;
  return -compensatedSum(sorted.subarray(0, m)) / m;
}

// Estimates in, not data: an undefined one (NaN, e.g. the volatility of one return) gives NaN
// as it does in the inference functions; an infinite one or a negative sd is an error.
function checkEstimate(mean: number, sd: number, what: string): boolean {
  if (Number.isNaN(mean) || Number.isNaN(sd)) return false;
  if (!(Number.isFinite(mean) && Number.isFinite(sd) && sd >= 0)) {
    throw new RangeError(`${what}: needs a finite mean and a finite sd ≥ 0, got ${mean} and ${sd}`);
  }
  return true;
}

/**
 * Normal value at risk of P&L with this mean and standard deviation, as a positive loss:
 * z·sd − mean with z = Φ⁻¹(level). NaN when mean or sd is NaN; RangeError when either is
 * infinite, sd < 0, or the level lies outside (0, 1).
 */
export function parametricVaR(mean: number, sd: number, level: number): number {
  checkLevel(level);
  if (!checkEstimate(mean, sd, "parametricVaR")) return Number.NaN;
  return normalQuantile(level) * sd - mean;
}

/**
 * Normal expected shortfall of P&L with this mean and standard deviation, as a positive loss:
 * sd·φ(z)/(1 − level) − mean with z = Φ⁻¹(level), φ the standard normal density: the mean loss
 * beyond the normal VaR. NaN and RangeError as {@link parametricVaR}.
 */
export function parametricES(mean: number, sd: number, level: number): number {
  checkLevel(level);
  if (!checkEstimate(mean, sd, "parametricES")) return Number.NaN;
  return sd * esFactor(level) - mean;
}

/** φ(Φ⁻¹(level))/(1 − level): ES per unit of sd. */
function esFactor(level: number): number {
  const z = normalQuantile(level);
  return (ONE_OVER_SQRT_2PI * Math.exp(-0.5 * z * z)) / (1 - level);
}

/** A portfolio's normal risk and its Euler decomposition by strategy, all in currency per period. */
export interface PortfolioRisk {
  /** σ_p = √(wᵀΣw). */
  sd: number;
  /** μ_p = wᵀμ (0 without means). */
  mean: number;
  /** Normal VaR z·σ_p − μ_p, a positive loss. */
  var: number;
  /** Normal ES σ_p·φ(z)/(1 − level) − μ_p, a positive loss. */
  es: number;
  /** ∂VaR/∂w_i = z·(Σw)_i/σ_p − μ_i: VaR added per unit of exposure to strategy i. NaN when σ_p = 0. */
  marginal: Float64Array;
  /** w_i·marginal_i: strategy i's share of the VaR; they sum to `var`. NaN when σ_p = 0. */
  component: Float64Array;
}

/**
 * Normal VaR and ES of a portfolio with currency exposures `weights` to k strategies whose
 * per-period returns have covariance `covariance` (row-major k × k, symmetric, positive
 * semidefinite) and means `means` (zero when undefined), at confidence `level`, with the VaR
 * split by Euler's theorem: VaR is homogeneous of degree one in w, so Σ_i w_i·∂VaR/∂w_i = VaR,
 * and the components say which strategy the loss comes from (a hedge has a negative one).
 * When σ_p = 0 (no exposure, or a riskless combination) VaR = ES = −μ_p and the marginal and
 * component VaRs are NaN, as σ_p has no derivative there. RangeError for mismatched lengths, a
 * non-finite value, a level outside (0, 1), or a covariance with wᵀΣw clearly below 0.
 */
export function portfolioRisk(
  weights: ArrayLike<number>,
  covariance: ArrayLike<number>,
  means: ArrayLike<number> | undefined,
  level: number,
): PortfolioRisk {
  checkLevel(level);
  const k = weights.length;
  checkFinite(weights, "portfolioRisk: weights");
  checkMatrix(covariance, k, "portfolioRisk: covariance");
  if (means !== undefined) {
    if (means.length !== k) throw new RangeError(`portfolioRisk: ${k} weights but ${means.length} means`);
    checkFinite(means, "portfolioRisk: means");
  }
  const mu = (i: number): number => (means === undefined ? 0 : (means[i] as number));
  const sigmaW = new Float64Array(k);
  const slots = new Float64Array(2);
  let scale = 0;
  for (let i = 0; i < k; i++) {
    slots.fill(0);
    let absolute = 0;
    for (let j = 0; j < k; j++) {
      const term = (covariance[i * k + j] as number) * (weights[j] as number);
      addCompensated(slots, 0, term);
      absolute += Math.abs(term);
    }
    sigmaW[i] = compensatedValue(slots, 0);
    scale += Math.abs(weights[i] as number) * absolute;
  }
  const variance = dot(weights, sigmaW);
  // Rounding can leave a hedged portfolio's variance a hair below 0; beyond the error bound of
  // the sums the covariance itself is not positive semidefinite.
  if (variance < -4 * (k + 1) * Number.EPSILON * scale) {
    throw new RangeError(`portfolioRisk: wᵀΣw = ${variance} < 0, the covariance is not positive semidefinite`);
  }
  const sd = Math.sqrt(Math.max(0, variance));
  const mean = means === undefined ? 0 : dot(weights, means);
  const z = normalQuantile(level);
  const marginal = new Float64Array(k);
  const component = new Float64Array(k);
  for (let i = 0; i < k; i++) {
    marginal[i] = sd > 0 ? (z * (sigmaW[i] as number)) / sd - mu(i) : Number.NaN;
    component[i] = (weights[i] as number) * (marginal[i] as number);
  }
  return { sd, mean, var: z * sd - mean, es: sd * esFactor(level) - mean, marginal, component };
}

function dot(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const slots = new Float64Array(2);
  for (let i = 0; i < a.length; i++) addCompensated(slots, 0, (a[i] as number) * (b[i] as number));
  return compensatedValue(slots, 0);
}

/**
 * The portfolio's P&L per period, Σ_i w_i·r_it, for currency exposures `weights` to k strategies
 * and their k aligned return series (each sum compensated). RangeError when there are not as
 * many weights as series, the series differ in length, or a value is not finite.
 */
export function portfolioPnl(weights: ArrayLike<number>, series: readonly ArrayLike<number>[]): Float64Array {
  if (weights.length !== series.length) {
    throw new RangeError(`portfolioPnl: ${weights.length} weights for ${series.length} series`);
  }
  checkFinite(weights, "portfolioPnl: weights");
  const n = alignedLength(series, "portfolioPnl");
  const pnl = new Float64Array(n);
  const slots = new Float64Array(2);
  for (let t = 0; t < n; t++) {
    slots.fill(0);
    for (let i = 0; i < series.length; i++) {
      addCompensated(slots, 0, (weights[i] as number) * ((series[i] as ArrayLike<number>)[t] as number));
    }
    pnl[t] = compensatedValue(slots, 0);
  }
  return pnl;
}
