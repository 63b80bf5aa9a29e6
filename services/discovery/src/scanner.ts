/**
 * The market scanner: what the market looks like before anything is mined.
 * - Regimes, fitted without labels: a two-state Gaussian hidden Markov model
 *   on the returns of every series jointly (calm / volatile), crossed with a
 *   trend state (trending when the 60-bar mean return of the series is, on
 *   average, more than one standard error from zero). Each bar gets one of
 *   libs/market's regime names; validation reports results per regime, and the
 *   current regime of each series is published for the ranker and reports.
 * - Anomalies in returns, volume and spreads (robust z-scores).
 * - Lead-lag between series: correlations of one series' return with
 *   another's 1…5 bars later, significant (by a t-statistic robust to changing
 *   volatility) after a Bonferroni correction over every pair and lag.
 * - Weekday effects, and hour-of-day effects on intraday bars: a weekday or
 *   hour whose mean return is significant after a Bonferroni correction over
 *   every series and bucket.
 * - Co-movement: pairs of series whose returns move together, their recent
 *   correlation, and where the spread of their log prices stands now.
 */
import {
  anomalies,
  calendarProfile,
  DAY_MS,
  fitRegimes,
  leadLag,
  type MarketData,
  REGIME_NAMES,
  Regimes,
  rollingCorrelation,
  spreadZScore,
} from "@stratreg/market";
import { correlation, normalQuantile } from "@stratreg/quant";

/** What a scan found. */
export interface ScanReport {
  at: number;
  bars: number;
  /** Regime names, indexed by the codes in `labels`. */
  regimeNames: readonly string[];
  /** The regime of each bar of the aligned market. */
  labels: Int8Array;
  /** The current (last bar's) regime and the share of bars spent in each regime. */
  regimes: { current: string; shares: Record<string, number> };
  anomalies: Array<{ series: string; field: string; t: number; score: number }>;
  leadLag: Array<{ leader: string; follower: string; lag: number; correlation: number }>;
  calendar: Array<{ series: string; weekday: number; meanReturn: number; t: number }>;
  /** Hours of the day whose mean return is significant (intraday bars only). */
  hours: Array<{ series: string; hour: number; meanReturn: number; t: number }>;
  /**
   * Co-movement of each pair of series: the correlation of their returns over all the bars and
   * over the last 60, and how far the spread of their log prices stands now from its last 60 bars
   * (z-score). Pairs whose returns correlate by |ρ| ≥ 0.3, strongest first.
   */
  comovement: Array<{ a: string; b: string; correlation: number; recent: number | null; spreadZ: number | null }>;
}

/** Bars the trend state averages over. */
const TREND_WINDOW = 60;
/** Significance level of the lead-lag and calendar findings, before the Bonferroni correction. */
const ALPHA = 0.01;
/** Lags the lead-lag scan measures. */
const MAX_LAG = 5;
/** Most anomalies reported (the latest). */
const ANOMALIES_KEPT = 20;

function returnsOf(close: Float64Array): Float64Array {
  const out = new Float64Array(close.length);
  for (let i = 1; i < close.length; i++) out[i] = (close[i] as number) / (close[i - 1] as number) - 1;
  return out;
}

/** Per bar: whether the series' recent mean return is, on average over the series, far from zero. */
function trendFlags(returns: readonly Float64Array[], n: number): Uint8Array {
  const flags = new Uint8Array(n);
  const strength = new Float64Array(n);
  for (const r of returns) {
    let sum = 0;
    let squares = 0;
    for (let i = 1; i < n; i++) {
      const x = r[i] as number;
      sum += x;
      squares += x * x;
      if (i > TREND_WINDOW) {
        const old = r[i - TREND_WINDOW] as number;
        sum -= old;
        squares -= old * old;
      }
      const k = Math.min(i, TREND_WINDOW);
      if (k < TREND_WINDOW) continue;
      const mean = sum / k;
      const variance = Math.max(squares / k - mean * mean, 1e-18);
      strength[i] = (strength[i] as number) + Math.abs(mean) / Math.sqrt(variance / k);
    }
  }
  for (let i = 0; i < n; i++) flags[i] = (strength[i] as number) / Math.max(1, returns.length) > 1 ? 1 : 0;
  return flags;
}

/** Scans aligned market data (at least 30 bars). */
export function scanMarket(data: MarketData, now = Date.now()): ScanReport {
  const n = data.t.length;
  if (n < 30) throw new RangeError(`a scan needs at least 30 aligned bars, got ${n}`);
  const returns = data.series.map((s) => returnsOf(s.close));
  const fit = fitRegimes(
    returns.map((r) => r.subarray(1)),
    { states: 2, restarts: 2 },
  );
  const trending = trendFlags(returns, n);
  const labels = new Int8Array(n);
  for (let i = 0; i < n; i++) {
    const volatile = (fit.labels[Math.max(0, i - 1)] as number) === 1;
    const trend = trending[i] === 1;
    labels[i] = volatile
      ? trend
        ? Regimes.volatileTrending
        : Regimes.volatileRanging
      : trend
        ? Regimes.calmTrending
        : Regimes.calmRanging;
  }
  const shares: Record<string, number> = {};
  for (const name of REGIME_NAMES) shares[name] = 0;
  for (let i = 0; i < n; i++) {
    const name = REGIME_NAMES[labels[i] as number] as string;
    shares[name] = (shares[name] as number) + 1 / n;
  }
  return {
    at: now,
    bars: n,
    regimeNames: REGIME_NAMES,
    labels,
    regimes: { current: REGIME_NAMES[labels[n - 1] as number] as string, shares },
    anomalies: latestAnomalies(data),
    leadLag: leadLagFindings(data, returns),
    calendar: calendarFindings(data, "weekday").map(({ bucket, ...f }) => ({ ...f, weekday: bucket })),
    hours: intraday(data) ? calendarFindings(data, "hour").map(({ bucket, ...f }) => ({ ...f, hour: bucket })) : [],
    comovement: comovementOf(data, returns),
  };
}

function latestAnomalies(data: MarketData): ScanReport["anomalies"] {
  const found: ScanReport["anomalies"] = [];
  data.series.forEach((series, j) => {
    for (const a of anomalies(series))
      found.push({ series: data.keys[j] as string, field: a.field, t: a.t, score: a.score });
  });
  return found.sort((a, b) => b.t - a.t || Math.abs(b.score) - Math.abs(a.score)).slice(0, ANOMALIES_KEPT);
}

/**
 * t-statistic of corr(a_t, b_{t+lag}) that stays honest when volatility changes over time (and
 * together across series, as regimes make it): Σxy / √Σ(xy)² on demeaned returns, the
 * heteroskedasticity-robust (White) form. Under constant volatility it is ρ·√n; under shared
 * volatility regimes the plain ρ·√n is too wide by about a third, which would report lead-lag on
 * random walks.
 */
function robustT(a: Float64Array, b: Float64Array, lag: number): number {
  // Returns start at index 1 (index 0 has none).
  const n = a.length - 1 - lag;
  if (n < 3) return Number.NaN;
  let meanA = 0;
  let meanB = 0;
  for (let t = 1; t <= n; t++) {
    meanA += a[t] as number;
    meanB += b[t + lag] as number;
  }
  meanA /= n;
  meanB /= n;
  let sum = 0;
  let squares = 0;
  for (let t = 1; t <= n; t++) {
    const p = ((a[t] as number) - meanA) * ((b[t + lag] as number) - meanB);
    sum += p;
    squares += p * p;
  }
  return squares > 0 ? sum / Math.sqrt(squares) : Number.NaN;
}

function leadLagFindings(data: MarketData, returns: readonly Float64Array[]): ScanReport["leadLag"] {
  const m = data.series.length;
  const tests = Math.max(1, m * (m - 1) * MAX_LAG);
  const z = normalQuantile(1 - ALPHA / (2 * tests));
  const found: ScanReport["leadLag"] = [];
  for (let a = 0; a < m; a++) {
    for (let b = 0; b < m; b++) {
      if (a === b) continue;
      const result = leadLag((returns[a] as Float64Array).subarray(1), (returns[b] as Float64Array).subarray(1), {
        maxLag: MAX_LAG,
      });
      for (let k = 0; k < result.lags.length; k++) {
        const lag = result.lags[k] as number;
        const rho = result.correlations[k] as number;
        if (lag < 1 || !Number.isFinite(rho)) continue;
        if (Math.abs(robustT(returns[a] as Float64Array, returns[b] as Float64Array, lag)) > z) {
          found.push({ leader: data.keys[a] as string, follower: data.keys[b] as string, lag, correlation: rho });
        }
      }
    }
  }
  return found.sort((x, y) => Math.abs(y.correlation) - Math.abs(x.correlation));
}

/** Whether the bars are intraday (two bars opening the same UTC day). */
function intraday(data: MarketData): boolean {
  for (let i = 1; i < data.t.length; i++) {
    if (Math.floor((data.t[i] as number) / DAY_MS) === Math.floor((data.t[i - 1] as number) / DAY_MS)) return true;
  }
  return false;
}

/** Weekdays or hours whose mean return is significant, Bonferroni-corrected over every series and bucket. */
function calendarFindings(
  data: MarketData,
  by: "weekday" | "hour",
): Array<{ series: string; bucket: number; meanReturn: number; t: number }> {
  const buckets = by === "weekday" ? 5 : 24;
  const tests = Math.max(1, data.series.length * buckets);
  const z = normalQuantile(1 - ALPHA / (2 * tests));
  const found: Array<{ series: string; bucket: number; meanReturn: number; t: number }> = [];
  data.series.forEach((series, j) => {
    const profile = calendarProfile(series, by);
    for (let k = 0; k < profile.count.length; k++) {
      const t = profile.tStat[k] as number;
      if ((profile.count[k] as number) < 30 || !Number.isFinite(t)) continue;
      if (Math.abs(t) > z) {
        found.push({ series: data.keys[j] as string, bucket: k, meanReturn: profile.mean[k] as number, t });
      }
    }
  });
  return found;
}

/** Bars the recent co-movement and the spread's z-score look back over. */
const RECENT = 60;

function comovementOf(data: MarketData, returns: readonly Float64Array[]): ScanReport["comovement"] {
  const found: ScanReport["comovement"] = [];
  const n = data.t.length;
  if (n <= RECENT) return found;
  for (let a = 0; a < data.series.length; a++) {
    for (let b = a + 1; b < data.series.length; b++) {
      const ra = (returns[a] as Float64Array).subarray(1);
      const rb = (returns[b] as Float64Array).subarray(1);
      const rho = correlation(ra, rb);
      if (!(Math.abs(rho) >= 0.3)) continue;
      const recent = rollingCorrelation(ra, rb, RECENT)[ra.length - 1] as number;
      const spread = spreadZScore(data.closes[a] as Float64Array, data.closes[b] as Float64Array, RECENT)[
        n - 1
      ] as number;
      found.push({
        a: data.keys[a] as string,
        b: data.keys[b] as string,
        correlation: rho,
        recent: Number.isFinite(recent) ? recent : null,
        spreadZ: Number.isFinite(spread) ? spread : null,
      });
    }
  }
  return found.sort((x, y) => Math.abs(y.correlation) - Math.abs(x.correlation));
}
