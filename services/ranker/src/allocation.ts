/**
 * What an allocator asks beyond a ranking: a strategy's forecast (its Sharpe
 * ratio shrunk toward its peers' by the sampling error of its own record, with
 * an interval), and a selection of the best k strategies that are not
 * near-duplicates of each other (greedy by score under a cap on pairwise
 * return correlation).
 */
import {
  ErrorCodes,
  type ForecastQuery,
  type ForecastReply,
  type HistoryReply,
  type Metric,
  type PerformanceReply,
  type RankingQuery,
  type RankingReply,
  type Scope,
  type SelectQuery,
  type SelectReply,
  type TopQuery,
  type TopReply,
  ValidationError,
} from "@stratreg/protocol";
import { correlation, forecastSharpe, type SharpeEstimate } from "@stratreg/quant";
import type { Scatter } from "./scatter.js";

/** Fewest periods two strategies must share for their correlation to count. */
export const MIN_COMMON_PERIODS = 10;

/** How allocation queries reach the partitions and the merged rankings. */
export interface AllocationSources {
  partitions: number;
  scatter: Scatter;
  perf(id: string, timeoutMs: number): Promise<PerformanceReply>;
  ranking(partition: number, query: RankingQuery, timeoutMs: number): Promise<RankingReply>;
  history(id: string, points: number, timeoutMs: number): Promise<HistoryReply>;
  top(query: TopQuery, timeoutMs: number): Promise<TopReply>;
  wallClock(): number;
}

const finiteOr = (x: number | null | undefined, fallback: number) =>
  x === null || x === undefined || !Number.isFinite(x) ? fallback : x;

/** Every ranked peer's Sharpe estimate in `scope`, gathered from every partition (the strategy itself left out). */
async function peersOf(
  sources: AllocationSources,
  id: string,
  scope: Scope,
  timeoutMs: number,
): Promise<{ peers: SharpeEstimate[]; unanswered: number[] }> {
  const query: RankingQuery = { metric: "sharpe", k: 1000, moments: true };
  if (Object.keys(scope).length > 0) query.scope = scope;
  const partitions = Array.from({ length: sources.partitions }, (_, p) => p);
  const replies = await sources.scatter.run(partitions, (p) => sources.ranking(p, query, timeoutMs));
  const peers: SharpeEstimate[] = [];
  const unanswered: number[] = [];
  for (const reply of replies) {
    if (!reply.ok) {
      unanswered.push(reply.item);
      continue;
    }
    for (const e of reply.value.entries) {
      if (e.id === id) continue;
      peers.push({
        sharpe: e.score,
        periods: e.periods,
        skewness: finiteOr(e.moments?.skewness, 0),
        kurtosis: finiteOr(e.moments?.kurtosis, 3),
      });
    }
  }
  return { peers, unanswered };
}

/**
 * The forecast of one strategy: its own record (overall, or in the regime asked
 * for) shrunk toward its family's (or, without a family, every ranked
 * strategy's) records of the same kind. The regime's forecast uses only
 * returns earned in that regime, the strategy's and its peers', so nothing is
 * counted twice.
 */
export async function forecast(
  sources: AllocationSources,
  query: ForecastQuery,
  timeoutMs: number,
): Promise<ForecastReply> {
  const asOf = sources.wallClock();
  const perf = await sources.perf(query.id, timeoutMs);
  const regime = query.regime ?? null;
  const record = regime === null ? perf : perf.regimes[regime];
  if (record === undefined) {
    throw new ValidationError(
      ErrorCodes.InvalidField,
      `strategy ${query.id} has reported nothing in regime ${regime}`,
      {
        field: "body.regime",
      },
    );
  }
  const sharpe = record.metrics.sharpe;
  if (sharpe === null || record.periods < 2) {
    throw new ValidationError(
      ErrorCodes.InvalidField,
      `strategy ${query.id} has too short a record to forecast (${record.periods} periods)`,
      { field: "body.id", details: { periods: record.periods } },
    );
  }
  const scope: Scope = {};
  if (perf.family !== null) scope.family = perf.family;
  if (regime !== null) scope.regime = regime;
  const { peers, unanswered } = await peersOf(sources, query.id, scope, timeoutMs);
  const periodsPerYear = perf.conventions.periodsPerYear;
  const result = forecastSharpe(
    {
      sharpe,
      periods: record.periods,
      skewness: finiteOr(record.moments.skewness, 0),
      kurtosis: finiteOr(record.moments.kurtosis, 3),
      meanReturn: finiteOr(record.moments.mean, 0),
      volatility: finiteOr(record.metrics.volatility, 0),
    },
    peers,
    { periodsPerYear, confidence: query.confidence ?? 0.9 },
  );
  return {
    id: query.id,
    regime,
    peers: { among: perf.family === null ? "all" : "family", count: peers.length },
    sharpe: {
      forecast: result.sharpe,
      low: result.low,
      high: result.high,
      raw: result.raw,
      prior: Number.isFinite(result.prior) ? result.prior : null,
    },
    nextReturn: { forecast: result.returnMean, low: result.returnLow, high: result.returnHigh },
    confidence: result.confidence,
    shrinkage: result.shrinkage,
    periods: record.periods,
    freshness: {
      asOf,
      ageMs: Math.max(0, sources.wallClock() - asOf),
      missing: unanswered,
      gathered: sources.partitions,
    },
  };
}

/** Period returns of a history by period end time (the history must not be downsampled). */
function returnsByTime(history: HistoryReply): Map<number, number> {
  const out = new Map<number, number>();
  for (const point of history.points) out.set(point.t, point.close / point.open - 1);
  return out;
}

/** Correlation of two strategies' returns over the periods both reported, or null with fewer than {@link MIN_COMMON_PERIODS}. */
export function commonCorrelation(a: Map<number, number>, b: Map<number, number>): number | null {
  const xs: number[] = [];
  const ys: number[] = [];
  for (const [t, x] of a) {
    const y = b.get(t);
    if (y === undefined) continue;
    xs.push(x);
    ys.push(y);
  }
  if (xs.length < MIN_COMMON_PERIODS) return null;
  const r = correlation(xs, ys);
  return Number.isFinite(r) ? r : null;
}

/**
 * The best `k` strategies by the metric (in the regime or family asked for)
 * whose pairwise return correlation stays at or below the cap and whose PSR is
 * at least the minimum: greedy, best first, each candidate checked against
 * those already selected. Every decision is returned with its figures.
 */
export async function select(sources: AllocationSources, query: SelectQuery, timeoutMs: number): Promise<SelectReply> {
  const metric: Metric = query.metric ?? "sharpe";
  const scope: Scope = {};
  if (query.regime !== undefined) scope.regime = query.regime;
  if (query.family !== undefined) scope.family = query.family;
  const maxCorrelation = query.maxCorrelation ?? 0.7;
  const minPsr = query.minPsr ?? 0;
  const lookback = query.lookback ?? 252;
  const top = await sources.top(
    { metric, k: Math.min(query.candidates ?? query.k * 5, 100), scope, minPeriods: 2 },
    timeoutMs,
  );
  const selected: SelectReply["selected"] = [];
  const skipped: SelectReply["skipped"] = [];
  const series = new Map<string, Map<number, number>>();
  const seriesOf = async (id: string) => {
    let s = series.get(id);
    if (s === undefined) {
      const history = await sources.history(id, 5000, timeoutMs);
      const all = returnsByTime(history);
      s = new Map([...all].slice(-lookback));
      series.set(id, s);
    }
    return s;
  };
  for (const candidate of top.entries) {
    if (selected.length === query.k) break;
    const psr = candidate.metrics.psr;
    if ((psr ?? 0) < minPsr) {
      skipped.push({ id: candidate.id, score: candidate.score, reason: "psr", psr });
      continue;
    }
    const mine = await seriesOf(candidate.id);
    const correlations: Record<string, number | null> = {};
    let worst: { id: string; r: number } | undefined;
    for (const chosen of selected) {
      const r = commonCorrelation(mine, await seriesOf(chosen.id));
      correlations[chosen.id] = r;
      if (r !== null && r > maxCorrelation && (worst === undefined || r > worst.r)) worst = { id: chosen.id, r };
    }
    if (worst !== undefined) {
      skipped.push({
        id: candidate.id,
        score: candidate.score,
        reason: "correlation",
        psr,
        with: worst.id,
        correlation: worst.r,
      });
      continue;
    }
    selected.push({ id: candidate.id, score: candidate.score, psr, correlations });
  }
  return { metric, selected, skipped, freshness: top.freshness };
}
