/**
 * Forecast of a strategy's Sharpe ratio (and so of its next-period expected return) by
 * empirical Bayes: the strategy's own noisy estimate is shrunk toward the mean of its peers, as
 * far as its standard error is large against the real spread of Sharpe ratios among the peers.
 */
import { normalQuantile } from "./normal.js";
import { type SharpeEstimate, sharpeStandardError } from "./sharpe-inference.js";

/** A forecast of the annualised Sharpe ratio with a central credible interval. */
export interface Forecast {
  /** Posterior mean of the annualised Sharpe ratio. */
  sharpe: number;
  /** Lower end of the central interval. */
  low: number;
  /** Upper end of the central interval. */
  high: number;
  /** Probability mass of the interval (0.9 by default). */
  confidence: number;
  /** Weight of the prior in the posterior mean, in [0, 1] (0 without peers). */
  shrinkage: number;
  /** Prior mean: the peers' mean Sharpe ratio (NaN with fewer than two usable peers). */
  prior: number;
  /** Prior variance τ² of true Sharpe ratios among the peers (NaN with fewer than two usable peers). */
  priorVariance: number;
  /** The strategy's own annualised Sharpe ratio, unshrunk. */
  raw: number;
  /** Posterior standard deviation (the interval is sharpe ± z·standardError). */
  standardError: number;
  /** Expected next-period return at the forecast Sharpe ratio (per period). */
  returnMean: number;
  /** Expected next-period return at the low end of the interval. */
  returnLow: number;
  /** Expected next-period return at the high end of the interval. */
  returnHigh: number;
}

/** Options of {@link forecastSharpe}. */
export interface ForecastOptions {
  /** Annualisation factor A of every estimate given. */
  periodsPerYear: number;
  /** Probability mass of the interval, in (0, 1); 0.9 by default. */
  confidence?: number;
  /**
   * The strategy's Sharpe ratio measured in the current market regime, from returns that do
   * not overlap the own estimate's: a further independent measurement of the same true Sharpe.
   */
  regime?: SharpeEstimate;
}

/** The strategy's own track record, with what turns a Sharpe ratio back into a return. */
export type OwnEstimate = SharpeEstimate & {
  /** Mean return per period of the track record. */
  meanReturn: number;
  /** Annualised volatility of the track record. */
  volatility: number;
};

interface Measurement {
  value: number;
  precision: number;
}

function measure(e: SharpeEstimate | undefined, periodsPerYear: number): Measurement {
  if (e === undefined) return { value: 0, precision: 0 };
  const se = sharpeStandardError(e, periodsPerYear);
  return Number.isFinite(e.sharpe) && se > 0
    ? { value: e.sharpe, precision: 1 / (se * se) }
    : { value: 0, precision: 0 };
}

interface Prior {
  mean: number;
  variance: number;
  /** Variance of the prior mean itself, estimated from k peers. */
  meanVariance: number;
}

/** Method of moments: τ² = max(0, var(peer Sharpe) − mean(peer SE²)). */
function priorOf(peers: readonly SharpeEstimate[], periodsPerYear: number): Prior | undefined {
  // Each peer is read once: callers pass thousands, often of differing shapes.
  const sharpes = new Float64Array(peers.length);
  let k = 0;
  let sum = 0;
  let sumSe2 = 0;
  for (const peer of peers) {
    const sharpe = peer.sharpe;
    const se = sharpeStandardError(peer, periodsPerYear);
    if (!(Number.isFinite(sharpe) && Number.isFinite(se))) continue;
    sharpes[k++] = sharpe;
    sum += sharpe;
    sumSe2 += se * se;
  }
  if (k < 2) return undefined;
  const mean = sum / k;
  let squares = 0;
  for (let i = 0; i < k; i++) squares += ((sharpes[i] as number) - mean) ** 2;
  const spread = squares / (k - 1);
  return { mean, variance: Math.max(0, spread - sumSe2 / k), meanVariance: spread / k };
}

/**
 * Empirical-Bayes forecast of a strategy's annualised Sharpe ratio.
 *
 * Prior N(μ, τ²) from the peers: μ their mean Sharpe ratio, τ² = max(0, var(peer Sharpe) −
 * mean(peer SE²)). Each measurement (the own estimate, and the regime estimate if given) counts
 * with its precision 1/SE² ({@link sharpeStandardError}); the posterior mean is the
 * precision-weighted mean of measurements and prior, its variance 1/(sum of precisions) plus
 * shrinkage²·var(μ̂) for the prior mean being itself estimated from k peers (var(peer Sharpe)/k).
 * The interval is posterior mean ± z·√variance with z = Φ⁻¹((1 + confidence)/2).
 *
 * The return forecast is the Sharpe forecast times volatility / A plus the risk-free rate the own
 * Sharpe ratio was measured against (meanReturn − raw·volatility/A): the expected return of the
 * next period, not an interval for its realised value.
 *
 * With fewer than two usable peers there is no prior (shrinkage 0); with no usable measurement
 * the forecast is the prior; with neither, every number is NaN.
 */
export function forecastSharpe(own: OwnEstimate, peers: readonly SharpeEstimate[], options: ForecastOptions): Forecast {
  const a = options.periodsPerYear;
  if (!(Number.isFinite(a) && a > 0)) throw new RangeError(`periodsPerYear must be a positive number, got ${a}`);
  const confidence = options.confidence ?? 0.9;
  if (!(confidence > 0 && confidence < 1)) throw new RangeError(`confidence must be in (0, 1), got ${confidence}`);
  const z = normalQuantile((1 + confidence) / 2);

  const mine = measure(own, a);
  const regime = measure(options.regime, a);
  const prior = priorOf(peers, a);
  const dataPrecision = mine.precision + regime.precision;
  const dataSum = mine.value * mine.precision + regime.value * regime.precision;

  let sharpe = Number.NaN;
  let variance = Number.NaN;
  let shrinkage = Number.NaN;
  if (prior !== undefined && prior.variance === 0) {
    // The peers' spread is all noise: every true Sharpe ratio is taken to be the prior mean.
    sharpe = prior.mean;
    shrinkage = 1;
    variance = prior.meanVariance;
  } else if (prior !== undefined) {
    const priorPrecision = 1 / prior.variance;
    const total = dataPrecision + priorPrecision;
    sharpe = (dataSum + prior.mean * priorPrecision) / total;
    shrinkage = priorPrecision / total;
    variance = 1 / total + shrinkage * shrinkage * prior.meanVariance;
  } else if (dataPrecision > 0) {
    sharpe = dataSum / dataPrecision;
    shrinkage = 0;
    variance = 1 / dataPrecision;
  }
  const standardError = Math.sqrt(variance);
  const low = sharpe - z * standardError;
  const high = sharpe + z * standardError;

  const perSharpe = own.volatility / a;
  const riskFree =
    Number.isFinite(own.sharpe) && Number.isFinite(own.meanReturn) ? own.meanReturn - own.sharpe * perSharpe : 0;
  return {
    sharpe,
    low,
    high,
    confidence,
    shrinkage,
    prior: prior?.mean ?? Number.NaN,
    priorVariance: prior?.variance ?? Number.NaN,
    raw: own.sharpe,
    standardError,
    returnMean: riskFree + sharpe * perSharpe,
    returnLow: riskFree + low * perSharpe,
    returnHigh: riskFree + high * perSharpe,
  };
}
