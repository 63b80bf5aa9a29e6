/**
 * Market regimes without supervision: a Gaussian HMM (hmm.ts) fitted to returns by Baum–Welch
 * from several starts, its states ordered by volatility so that label 0 is always the calmest.
 */
import { baumWelchStep, type HmmParameters, hmmPosterior, type Observations, toObservations, viterbi } from "./hmm.js";
import { seededUniform } from "./random.js";

/** Options of `fitRegimes`. */
export interface RegimeOptions {
  /** Hidden states, an integer 1…8; default 2 (calm, volatile). */
  states?: number;
  /** Fits from different starts, the best kept; default 4 (the first start is deterministic, the rest seeded). */
  restarts?: number;
  /** Seed of the random starts; default 1. */
  seed?: number;
  /** Stop when an iteration raises the log-likelihood by less than this per observation; default 1e-6 (0.01 over 10,000). */
  tolerance?: number;
  /** Iterations per start at most; default 500. */
  maxIterations?: number;
  /** "viterbi" (default): the most likely path; "posterior": each bar's most likely state. */
  labels?: "viterbi" | "posterior";
}

/** A fitted regime model; states ordered by volatility, 0 the calmest. */
export interface RegimeFit extends HmmParameters {
  /** The state of each observation. */
  labels: Int8Array;
  /** P(state_t = k | all observations) at t·K + k. */
  posterior: Float64Array;
  logLikelihood: number;
  /** Bayesian information criterion, −2·logLikelihood + parameters·ln n, to compare state counts (lower is better). */
  bic: number;
  /** Iterations of the best start. */
  iterations: number;
  /** Whether the best start met the tolerance before maxIterations. */
  converged: boolean;
}

/** Variance floor per dimension, as a fraction of the dimension's overall variance. */
const FLOOR = 1e-3;

/**
 * Fits a Gaussian HMM to `observations`: one series (returns, say) or several equally long ones
 * used jointly as dimensions (returns of several symbols sharing one market regime, or returns
 * and |returns|), with diagonal covariances. Baum–Welch with a scaled forward–backward pass,
 * from `restarts` starts: the first splits the observations into equal-count bands of a
 * smoothed squared deviation (calm to volatile), the others draw the band edges and the
 * persistence at random; the best log-likelihood wins. Variances are floored at 1e-3 of each
 * dimension's overall variance. States are then sorted by their variance (summed over
 * dimensions, each relative to its overall variance), ascending. O(n·K·(K + d)) per iteration.
 * A RangeError for non-finite values, unequal lengths, fewer than 2 observations per state or a
 * bad state count.
 */
export function fitRegimes(
  observations: ArrayLike<number> | readonly ArrayLike<number>[],
  options: RegimeOptions = {},
): RegimeFit {
  const K = options.states ?? 2;
  if (!(Number.isInteger(K) && K >= 1 && K <= 8)) throw new RangeError(`states must be an integer 1…8, got ${K}`);
  const obs = toObservations(observations);
  if (obs.n < 2 * K) throw new RangeError(`${obs.n} observations are too few for ${K} states`);
  const restarts = Math.max(1, options.restarts ?? 4);
  const tolerance = options.tolerance ?? 1e-6;
  const maxIterations = options.maxIterations ?? 500;
  const { mean, variance } = columnMoments(obs);
  const floor = variance.map((v) => Math.max(v * FLOOR, Number.MIN_VALUE));
  const proxy = volatilityProxy(obs, mean, variance);
  const sortedProxy = proxy.slice().sort();
  const next = seededUniform(options.seed ?? 1);

  let best: { parameters: HmmParameters; logLikelihood: number; iterations: number; converged: boolean } | undefined;
  for (let r = 0; r < restarts; r++) {
    let parameters = start(obs, K, proxy, sortedProxy, floor, r === 0 ? undefined : next);
    let logLikelihood = Number.NEGATIVE_INFINITY;
    let iterations = 0;
    let converged = false;
    while (iterations < maxIterations) {
      const step = baumWelchStep(obs, parameters, floor);
      iterations++;
      // step.logLikelihood is that of the parameters going in: stop on them once the gain is small.
      if (step.logLikelihood - logLikelihood < tolerance * obs.n) {
        converged = true;
        logLikelihood = step.logLikelihood;
        break;
      }
      logLikelihood = step.logLikelihood;
      parameters = step.parameters;
    }
    if (best === undefined || logLikelihood > best.logLikelihood)
      best = { parameters, logLikelihood, iterations, converged };
  }
  const fitted = byVolatility((best as NonNullable<typeof best>).parameters, variance);
  const { posterior, logLikelihood } = hmmPosterior(obs, fitted);
  const labels = options.labels === "posterior" ? argmaxRows(posterior, obs.n, K) : viterbi(obs, fitted);
  const free = K * (K - 1) + (K - 1) + 2 * K * obs.d;
  return {
    ...fitted,
    labels,
    posterior,
    logLikelihood,
    bic: -2 * logLikelihood + free * Math.log(obs.n),
    iterations: (best as NonNullable<typeof best>).iterations,
    converged: (best as NonNullable<typeof best>).converged,
  };
}

function columnMoments(obs: Observations): { mean: Float64Array; variance: Float64Array } {
  const { n, d, values } = obs;
  const mean = new Float64Array(d);
  const variance = new Float64Array(d);
  for (let t = 0; t < n; t++)
    for (let i = 0; i < d; i++) mean[i] = (mean[i] as number) + (values[t * d + i] as number) / n;
  for (let t = 0; t < n; t++) {
    for (let i = 0; i < d; i++)
      variance[i] = (variance[i] as number) + ((values[t * d + i] as number) - (mean[i] as number)) ** 2 / n;
  }
  return { mean, variance };
}

/** Squared standardised deviation averaged over dimensions, smoothed by a centred 21-row moving average: high where the market is volatile. */
function volatilityProxy(obs: Observations, mean: Float64Array, variance: Float64Array): Float64Array {
  const { n, d, values } = obs;
  const raw = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let s = 0;
    for (let i = 0; i < d; i++) {
      const v = variance[i] as number;
      if (v > 0) s += ((values[t * d + i] as number) - (mean[i] as number)) ** 2 / v;
    }
    raw[t] = s / d;
  }
  const half = 10;
  const prefix = new Float64Array(n + 1);
  for (let t = 0; t < n; t++) prefix[t + 1] = (prefix[t] as number) + (raw[t] as number);
  const smooth = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    const from = Math.max(0, t - half);
    const to = Math.min(n, t + half + 1);
    smooth[t] = ((prefix[to] as number) - (prefix[from] as number)) / (to - from);
  }
  return smooth;
}

/**
 * Starting parameters: observations banded by the volatility proxy, each band a state (its
 * mean and variance), sticky transitions. Deterministic bands at equal counts without `next`;
 * with it, random band edges (every band at least 5% of rows) and a random persistence.
 */
function start(
  obs: Observations,
  K: number,
  proxy: Float64Array,
  sortedProxy: Float64Array,
  floor: Float64Array,
  next: (() => number) | undefined,
): HmmParameters {
  const { n, d, values } = obs;
  const edges: number[] = [];
  if (next === undefined) for (let k = 1; k < K; k++) edges.push(k / K);
  else {
    const spare = 1 - 0.05 * K;
    const cuts = Array.from({ length: K - 1 }, () => next() * spare).sort((a, b) => a - b);
    for (const [k, c] of cuts.entries()) edges.push(c + 0.05 * (k + 1));
  }
  const thresholds = edges.map((q) => sortedProxy[Math.min(n - 1, Math.floor(q * n))] as number);
  const weight = new Float64Array(K);
  const sums = new Float64Array(K * d);
  const squares = new Float64Array(K * d);
  for (let t = 0; t < n; t++) {
    let k = 0;
    while (k < K - 1 && (proxy[t] as number) >= (thresholds[k] as number)) k++;
    weight[k] = (weight[k] as number) + 1;
    for (let i = 0; i < d; i++) {
      const x = values[t * d + i] as number;
      sums[k * d + i] = (sums[k * d + i] as number) + x;
      squares[k * d + i] = (squares[k * d + i] as number) + x * x;
    }
  }
  const means = new Float64Array(K * d);
  const variances = new Float64Array(K * d);
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < d; i++) {
      const w = Math.max(weight[k] as number, 1);
      const m = (sums[k * d + i] as number) / w;
      means[k * d + i] = m;
      variances[k * d + i] = Math.max((squares[k * d + i] as number) / w - m * m, floor[i] as number);
    }
  }
  const stay = next === undefined ? 0.95 : 0.8 + 0.19 * next();
  const transition = new Float64Array(K * K);
  for (let j = 0; j < K; j++)
    for (let k = 0; k < K; k++) transition[j * K + k] = K === 1 ? 1 : j === k ? stay : (1 - stay) / (K - 1);
  return { states: K, dimensions: d, initial: new Float64Array(K).fill(1 / K), transition, means, variances };
}

/** The same model with its states sorted by relative variance, ascending. */
function byVolatility(p: HmmParameters, overall: Float64Array): HmmParameters {
  const K = p.states;
  const d = p.dimensions;
  const score = (k: number) => {
    let s = 0;
    for (let i = 0; i < d; i++)
      s += (p.variances[k * d + i] as number) / Math.max(overall[i] as number, Number.MIN_VALUE);
    return s;
  };
  const order = Array.from({ length: K }, (_, k) => k).sort((a, b) => score(a) - score(b));
  const initial = new Float64Array(K);
  const transition = new Float64Array(K * K);
  const means = new Float64Array(K * d);
  const variances = new Float64Array(K * d);
  order.forEach((from, to) => {
    initial[to] = p.initial[from] as number;
    order.forEach((from2, to2) => {
      transition[to * K + to2] = p.transition[from * K + from2] as number;
    });
    for (let i = 0; i < d; i++) {
      means[to * d + i] = p.means[from * d + i] as number;
      variances[to * d + i] = p.variances[from * d + i] as number;
    }
  });
  return { states: K, dimensions: d, initial, transition, means, variances };
}

function argmaxRows(posterior: Float64Array, n: number, K: number): Int8Array {
  const labels = new Int8Array(n);
  for (let t = 0; t < n; t++) {
    let best = 0;
    for (let k = 1; k < K; k++) if ((posterior[t * K + k] as number) > (posterior[t * K + best] as number)) best = k;
    labels[t] = best;
  }
  return labels;
}
