/**
 * A Gaussian hidden Markov model with diagonal covariances: the forward–backward pass scaled
 * per step (Rabiner 1989), one Baum–Welch re-estimation, and Viterbi decoding. regimes.ts fits
 * it to returns; this file knows nothing about markets.
 *
 * Observations are n rows of d values, row-major (`Observations`). Emission densities are taken
 * in logs and shifted by their per-row maximum before exponentiating, so a row that is unlikely
 * under every state (a crash in a calm model) scales instead of underflowing to 0 everywhere.
 */

/** n rows of d values, row-major: row t is values[t·d … t·d + d − 1]. */
export interface Observations {
  values: Float64Array;
  n: number;
  d: number;
}

/** The parameters of a K-state Gaussian HMM on d-dimensional observations with diagonal covariances. */
export interface HmmParameters {
  /** K. */
  states: number;
  /** d. */
  dimensions: number;
  /** Probability of each state at the first observation (K). */
  initial: Float64Array;
  /** P(next = k | now = j) at j·K + k; rows sum to 1 (K × K). */
  transition: Float64Array;
  /** Mean of dimension i in state k at k·d + i (K × d). */
  means: Float64Array;
  /** Variance of dimension i in state k at k·d + i (K × d), > 0. */
  variances: Float64Array;
}

/** One series, or several equally long ones as dimensions, as `Observations`; a RangeError for a non-finite value or unequal lengths. */
export function toObservations(data: ArrayLike<number> | readonly ArrayLike<number>[]): Observations {
  const columns: readonly ArrayLike<number>[] = isColumns(data) ? data : [data];
  const d = columns.length;
  const n = d === 0 ? 0 : (columns[0] as ArrayLike<number>).length;
  if (d === 0) throw new RangeError("no observations");
  const values = new Float64Array(n * d);
  for (let i = 0; i < d; i++) {
    const column = columns[i] as ArrayLike<number>;
    if (column.length !== n) throw new RangeError(`dimension ${i} has ${column.length} values, dimension 0 has ${n}`);
    for (let t = 0; t < n; t++) {
      const x = column[t] as number;
      if (!Number.isFinite(x)) throw new RangeError(`observation ${t} of dimension ${i} is not finite`);
      values[t * d + i] = x;
    }
  }
  return { values, n, d };
}

function isColumns(data: ArrayLike<number> | readonly ArrayLike<number>[]): data is readonly ArrayLike<number>[] {
  return data.length > 0 && typeof data[0] !== "number";
}

const LOG_2PI = Math.log(2 * Math.PI);

/** log N(x_t; μ_k, diag v_k) at t·K + k. */
function logEmissions(obs: Observations, p: HmmParameters): Float64Array {
  const { n, d, values } = obs;
  const K = p.states;
  const out = new Float64Array(n * K);
  const constant = new Float64Array(K);
  for (let k = 0; k < K; k++) {
    let c = -0.5 * d * LOG_2PI;
    for (let i = 0; i < d; i++) c -= 0.5 * Math.log(p.variances[k * d + i] as number);
    constant[k] = c;
  }
  for (let t = 0; t < n; t++) {
    for (let k = 0; k < K; k++) {
      let q = 0;
      for (let i = 0; i < d; i++) {
        const z = (values[t * d + i] as number) - (p.means[k * d + i] as number);
        q += (z * z) / (p.variances[k * d + i] as number);
      }
      out[t * K + k] = (constant[k] as number) - 0.5 * q;
    }
  }
  return out;
}

/** Emissions divided by their row maximum (in place: log → scaled density), returning the maxima. */
function scaleRows(logB: Float64Array, n: number, K: number): Float64Array {
  const shift = new Float64Array(n);
  for (let t = 0; t < n; t++) {
    let m = Number.NEGATIVE_INFINITY;
    for (let k = 0; k < K; k++) m = Math.max(m, logB[t * K + k] as number);
    shift[t] = m;
    for (let k = 0; k < K; k++) logB[t * K + k] = Math.exp((logB[t * K + k] as number) - m);
  }
  return shift;
}

interface Forward {
  /** Scaled forward variables α̂ (n × K): each row sums to 1. */
  alpha: Float64Array;
  /** Scaled emissions (n × K). */
  b: Float64Array;
  /** Per-row scale factors. */
  scale: Float64Array;
  logLikelihood: number;
}

function forward(obs: Observations, p: HmmParameters): Forward {
  const { n } = obs;
  const K = p.states;
  const b = logEmissions(obs, p);
  const shift = scaleRows(b, n, K);
  const alpha = new Float64Array(n * K);
  const scale = new Float64Array(n);
  let logLikelihood = 0;
  for (let t = 0; t < n; t++) {
    let c = 0;
    for (let k = 0; k < K; k++) {
      let a: number;
      if (t === 0) a = p.initial[k] as number;
      else {
        a = 0;
        for (let j = 0; j < K; j++) a += (alpha[(t - 1) * K + j] as number) * (p.transition[j * K + k] as number);
      }
      a *= b[t * K + k] as number;
      alpha[t * K + k] = a;
      c += a;
    }
    // c = 0 only if the model gives this row no chance at all (a zero transition into the only fitting state).
    if (!(c > 0)) return { alpha, b, scale, logLikelihood: Number.NEGATIVE_INFINITY };
    for (let k = 0; k < K; k++) alpha[t * K + k] = (alpha[t * K + k] as number) / c;
    scale[t] = c;
    logLikelihood += Math.log(c) + (shift[t] as number);
  }
  return { alpha, b, scale, logLikelihood };
}

/** The log-likelihood of the observations under `p` (the forward algorithm). */
export function hmmLogLikelihood(obs: Observations, p: HmmParameters): number {
  return forward(obs, p).logLikelihood;
}

/** State posteriors P(state_t = k | all observations) at t·K + k, and the log-likelihood. */
export function hmmPosterior(obs: Observations, p: HmmParameters): { posterior: Float64Array; logLikelihood: number } {
  return expectation(obs, p);
}

interface Expectation {
  posterior: Float64Array;
  /** Expected transitions j → k summed over t, at j·K + k. */
  transitions: Float64Array;
  logLikelihood: number;
}

function expectation(obs: Observations, p: HmmParameters): Expectation {
  const { n } = obs;
  const K = p.states;
  const { alpha, b, scale, logLikelihood } = forward(obs, p);
  const posterior = new Float64Array(n * K);
  const transitions = new Float64Array(K * K);
  if (!Number.isFinite(logLikelihood)) return { posterior: posterior.fill(Number.NaN), transitions, logLikelihood };
  // β̂ for row t + 1 and row t; β̂_{n−1} = 1.
  let next = new Float64Array(K).fill(1);
  let current = new Float64Array(K);
  for (let k = 0; k < K; k++) posterior[(n - 1) * K + k] = alpha[(n - 1) * K + k] as number;
  for (let t = n - 2; t >= 0; t--) {
    const c = scale[t + 1] as number;
    for (let j = 0; j < K; j++) {
      let sum = 0;
      for (let k = 0; k < K; k++) {
        const w = ((p.transition[j * K + k] as number) * (b[(t + 1) * K + k] as number) * (next[k] as number)) / c;
        sum += w;
        transitions[j * K + k] = (transitions[j * K + k] as number) + (alpha[t * K + j] as number) * w;
      }
      current[j] = sum;
    }
    for (let k = 0; k < K; k++) posterior[t * K + k] = (alpha[t * K + k] as number) * (current[k] as number);
    [next, current] = [current, next];
  }
  return { posterior, transitions, logLikelihood };
}

/**
 * One Baum–Welch step: the expectation under `p`, then the parameters that maximise it, each
 * variance floored at `varianceFloor[i]` (dimension i) so a state cannot collapse onto a few
 * equal values. Returns the new parameters and the log-likelihood of the old ones.
 */
export function baumWelchStep(
  obs: Observations,
  p: HmmParameters,
  varianceFloor: Float64Array,
): { parameters: HmmParameters; logLikelihood: number } {
  const { n, d, values } = obs;
  const K = p.states;
  const { posterior, transitions, logLikelihood } = expectation(obs, p);
  if (!Number.isFinite(logLikelihood)) return { parameters: p, logLikelihood };
  const initial = posterior.slice(0, K);
  const transition = new Float64Array(K * K);
  for (let j = 0; j < K; j++) {
    let row = 0;
    for (let k = 0; k < K; k++) row += transitions[j * K + k] as number;
    for (let k = 0; k < K; k++) transition[j * K + k] = row > 0 ? (transitions[j * K + k] as number) / row : 1 / K;
  }
  const weight = new Float64Array(K);
  const means = new Float64Array(K * d);
  for (let t = 0; t < n; t++) {
    for (let k = 0; k < K; k++) {
      const g = posterior[t * K + k] as number;
      weight[k] = (weight[k] as number) + g;
      for (let i = 0; i < d; i++) means[k * d + i] = (means[k * d + i] as number) + g * (values[t * d + i] as number);
    }
  }
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < d; i++) {
      // A state nobody visits keeps its mean rather than becoming 0/0.
      means[k * d + i] =
        (weight[k] as number) > 0
          ? (means[k * d + i] as number) / (weight[k] as number)
          : (p.means[k * d + i] as number);
    }
  }
  const variances = new Float64Array(K * d);
  for (let t = 0; t < n; t++) {
    for (let k = 0; k < K; k++) {
      const g = posterior[t * K + k] as number;
      for (let i = 0; i < d; i++) {
        const z = (values[t * d + i] as number) - (means[k * d + i] as number);
        variances[k * d + i] = (variances[k * d + i] as number) + g * z * z;
      }
    }
  }
  for (let k = 0; k < K; k++) {
    for (let i = 0; i < d; i++) {
      const v = (weight[k] as number) > 0 ? (variances[k * d + i] as number) / (weight[k] as number) : 0;
      variances[k * d + i] = Math.max(v, varianceFloor[i] as number);
    }
  }
  return { parameters: { states: K, dimensions: d, initial, transition, means, variances }, logLikelihood };
}

/** The most likely state path under `p` (Viterbi, in logs). */
export function viterbi(obs: Observations, p: HmmParameters): Int8Array {
  const { n } = obs;
  const K = p.states;
  const logB = logEmissions(obs, p);
  const logA = p.transition.map(Math.log);
  const back = new Int8Array(n * K);
  let previous = new Float64Array(K);
  let current = new Float64Array(K);
  for (let k = 0; k < K; k++) previous[k] = Math.log(p.initial[k] as number) + (logB[k] as number);
  for (let t = 1; t < n; t++) {
    for (let k = 0; k < K; k++) {
      let best = Number.NEGATIVE_INFINITY;
      let from = 0;
      for (let j = 0; j < K; j++) {
        const score = (previous[j] as number) + (logA[j * K + k] as number);
        if (score > best) {
          best = score;
          from = j;
        }
      }
      current[k] = best + (logB[t * K + k] as number);
      back[t * K + k] = from;
    }
    [previous, current] = [current, previous];
  }
  const path = new Int8Array(n);
  let state = 0;
  for (let k = 1; k < K; k++) if ((previous[k] as number) > (previous[state] as number)) state = k;
  for (let t = n - 1; t >= 0; t--) {
    path[t] = state;
    state = back[t * K + state] as number;
  }
  return path;
}
