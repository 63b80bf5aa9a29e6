/**
 * Performance and ranking on the wire: the reports trading services send to a
 * strategy's partition, the metrics a partition keeps, the top-k lists it
 * publishes every tick, and the queries the ranker and the partitions answer.
 *
 * A report carries one strategy's results since its previous report: period
 * returns (simple, per period, with the period end times), the market regime
 * in force and the venue, and the PnL of closed trades. Reports are numbered
 * per strategy (`seq` from 1); a partition applies them in that order and
 * tells the sender about repeats, gaps and late arrivals.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Limits, StrategyIdSchema } from "./strategy.js";

/** Size limits of performance reports and queries. */
export const PerformanceLimits = {
  /** Most reports in one `report` request. */
  reportsMax: 1000,
  /** Most returns (and trades) in one report. */
  periodsMax: 10_000,
  /** Largest `k` of a top query. */
  topMax: 1000,
  /** Largest return a period may report (+10,000 %): larger is a unit mistake. */
  returnMax: 100,
  /** Most strategies one `select` considers or returns. */
  selectMax: 100,
  /** Most points a history reply holds. */
  historyPointsMax: 5000,
} as const;

/** The metrics strategies are ranked by; the order is the layout of {@link MetricVector}. */
export const Metrics = {
  Sharpe: "sharpe",
  Sortino: "sortino",
  Calmar: "calmar",
  MaxDrawdown: "maxDrawdown",
  Cagr: "cagr",
  TotalReturn: "totalReturn",
  Volatility: "volatility",
  Psr: "psr",
  WinRate: "winRate",
  ProfitFactor: "profitFactor",
} as const;
export type Metric = (typeof Metrics)[keyof typeof Metrics];

/** Every rank metric, in vector order. */
export const METRICS: readonly Metric[] = Object.values(Metrics);

/** Position of each metric in a {@link MetricVector}. */
export const METRIC_INDEX: Readonly<Record<Metric, number>> = Object.fromEntries(
  METRICS.map((metric, i) => [metric, i]),
) as Record<Metric, number>;

/** Metrics where a lower value is better (every other: higher is better; drawdowns are ≤ 0). */
export const LOWER_IS_BETTER: ReadonlySet<Metric> = new Set<Metric>([Metrics.Volatility]);

/** One value per {@link METRICS} entry; `null` where the metric is not defined yet (too few periods, no losses, …). */
export type MetricVector = Array<number | null>;

const Label = Type.String({ minLength: 1, maxLength: Limits.labelMaxLength });
const Time = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** One strategy's results since its previous report. */
export const PerformanceReportSchema = Type.Object(
  {
    id: StrategyIdSchema,
    /** Per-strategy report number, from 1, one more each report. */
    seq: Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER }),
    /** The market regime in force over these periods, e.g. `high-vol`. */
    regime: Type.Optional(Label),
    /** The venue the results were earned on. */
    venue: Type.Optional(Label),
    /** End time of each period, ms since the Unix epoch, strictly increasing. */
    times: Type.Optional(Type.Array(Time, { maxItems: PerformanceLimits.periodsMax })),
    /** Simple return of each period, as a fraction (0.01 = +1 %), ≥ −1. */
    returns: Type.Optional(
      Type.Array(Type.Number({ minimum: -1, maximum: PerformanceLimits.returnMax }), {
        maxItems: PerformanceLimits.periodsMax,
      }),
    ),
    /** PnL of each trade closed over these periods. */
    trades: Type.Optional(Type.Array(Type.Number(), { maxItems: PerformanceLimits.periodsMax })),
  },
  { additionalProperties: false },
);
export type PerformanceReport = Static<typeof PerformanceReportSchema>;

/** A `history` query: one strategy's periods with end times in [from, to], in at most `points` buckets. */
export const HistoryQuerySchema = Type.Object(
  {
    id: StrategyIdSchema,
    from: Type.Optional(Time),
    to: Type.Optional(Time),
    points: Type.Optional(Type.Integer({ minimum: 1, maximum: PerformanceLimits.historyPointsMax })),
  },
  { additionalProperties: false },
);
export type HistoryQuery = Static<typeof HistoryQuerySchema>;

/** One bucket of a strategy's history: its wealth path (start = 1) and its metrics from `from` to the bucket's end. */
export interface HistoryPoint {
  /** End time of the bucket's last period, ms. */
  t: number;
  open: number;
  high: number;
  low: number;
  close: number;
  /** Periods in the bucket. */
  periods: number;
  /** Regime of the bucket's last period, if reported. */
  regime: string | null;
  sharpe: number | null;
  maxDrawdown: number | null;
}

/** Reply to `history`. */
export interface HistoryReply {
  id: string;
  from: number;
  to: number;
  /** Periods found in the range. */
  periods: number;
  /** Whether several periods were merged into each point. */
  downsampled: boolean;
  /** How long the partition log keeps reports (the history's retention), ms. */
  retentionMs: number;
  points: HistoryPoint[];
}

/** The scope of a ranking: every field given must match (a regime also ranks by the metrics earned in it). */
export const ScopeSchema = Type.Object(
  {
    family: Type.Optional(Label),
    regime: Type.Optional(Label),
    venue: Type.Optional(Label),
    state: Type.Optional(Label),
    tag: Type.Optional(Type.String({ minLength: 1, maxLength: Limits.tagMaxLength })),
  },
  { additionalProperties: false },
);
export type Scope = Static<typeof ScopeSchema>;

/** Which end of a ranking: the best strategies by the metric, or the worst. */
export const RankOrders = { Best: "best", Worst: "worst" } as const;
export type RankOrder = (typeof RankOrders)[keyof typeof RankOrders];

const MetricSchema = Type.Union(METRICS.map((metric) => Type.Literal(metric)));

const rankingQueryFields = {
  metric: MetricSchema,
  k: Type.Integer({ minimum: 1, maximum: PerformanceLimits.topMax }),
  scope: Type.Optional(ScopeSchema),
  /** Only strategies with at least this many closed trades. */
  minTrades: Type.Optional(Type.Integer({ minimum: 0 })),
  /** Only strategies with at least this many reported periods (their track record). */
  minPeriods: Type.Optional(Type.Integer({ minimum: 0 })),
  order: Type.Optional(Type.Union([Type.Literal(RankOrders.Best), Type.Literal(RankOrders.Worst)])),
};

/** A top-k query: what the ranker's `top` takes. */
export const TopQuerySchema = Type.Object(
  {
    ...rankingQueryFields,
    /** Entries carry only `rank`, `id` and `score` (about a fifth of the bytes: for hot paths). */
    compact: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type TopQuery = Static<typeof TopQuerySchema>;

/** A partition's `ranking` query: a top-k, or (with `countBetter`) how many in scope rank above a value. */
export const RankingQuerySchema = Type.Object(
  {
    ...rankingQueryFields,
    k: Type.Integer({ minimum: 0, maximum: PerformanceLimits.topMax }),
    /** Also count the strategies in scope whose metric is strictly better than this value. */
    countBetter: Type.Optional(Type.Number()),
    /** Also give each entry's return moments (what a Sharpe ratio's standard error needs). */
    moments: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type RankingQuery = Static<typeof RankingQuerySchema>;

/** The ranker's `rank`: where one strategy stands among its peers. */
export const RankQuerySchema = Type.Object(
  {
    id: StrategyIdSchema,
    metric: MetricSchema,
    /** The peers: every ranked strategy (default), or those of the strategy's family. */
    among: Type.Optional(Type.Union([Type.Literal("all"), Type.Literal("family")])),
    /** Rank by the metrics earned in this regime, among the strategies that reported in it. */
    regime: Type.Optional(Label),
  },
  { additionalProperties: false },
);
export type RankQuery = Static<typeof RankQuerySchema>;

/** A strategy's place in the rankings, as a shard or the ranker reports it. */
export interface RankEntry {
  id: string;
  /** The ranking metric's value. */
  score: number;
  family: string | null;
  state: string;
  periods: number;
  trades: number;
  /** Every metric (overall, or within the scope's regime). */
  metrics: Record<Metric, number | null>;
  partition: number;
  /** With `moments`: skewness and (non-excess) kurtosis of the returns ranked on. */
  moments?: { skewness: number | null; kurtosis: number | null };
}

/** Where a partition's view stood when it answered: {partition, owner epoch, log sequence}. */
export interface PartitionStamp {
  partition: number;
  epoch: number;
  seq: number;
}

/** A partition's reply to `ranking`. */
export interface RankingReply {
  stamp: PartitionStamp;
  entries: RankEntry[];
  /** Strategies in scope with the metric defined that pass minTrades and minPeriods. */
  size: number;
  /** With `countBetter`: strategies in scope (after the filters) strictly better than it, and how many were compared. */
  better?: number;
  compared?: number;
}

/**
 * A strategy as a partition publishes it in its top-k lists:
 * `[id, family, state, tags, venues, periods, trades, since, lastAt, metrics, regimes]`,
 * where `metrics` is the overall {@link MetricVector} and `regimes` one vector per regime it reported in.
 */
export type PublishedEntry = [
  id: string,
  family: string | null,
  state: string,
  tags: string[],
  venues: string[],
  periods: number,
  trades: number,
  since: number,
  lastAt: number,
  metrics: MetricVector,
  regimes: Record<string, MetricVector>,
];

/**
 * What a partition publishes on `<cluster>.topk.<p>` each tick its rankings
 * changed (a delta, numbered `n` within the owner's epoch), and what its `topk`
 * endpoint answers (`full`: the whole published set). A ranker applies a delta
 * only on top of publication `n − 1` of the same epoch, ignores anything from a
 * lower epoch than it holds, and asks for a full one otherwise.
 */
export interface TopKPublication {
  v: number;
  partition: number;
  epoch: number;
  /** Publication number within the epoch: 0 for the owner's first. */
  n: number;
  /** Log sequence the rankings reflect. */
  seq: number;
  /** When the partition computed it (ms since the Unix epoch, the shard's clock). */
  at: number;
  full: boolean;
  /** Strategies new to the published set or changed since publication n − 1 (all of them when full). */
  entries: PublishedEntry[];
  /** Strategies that left the published set. */
  removed: string[];
  /** The top-k ids of each list ({@link listKey}), best first: the changed lists (all of them when full). */
  lists: Record<string, string[]>;
  /** Lists that no longer exist. */
  droppedLists: string[];
  /** Members of each list's scope with the metric defined (a list is complete when it holds them all). */
  sizes: Record<string, number>;
}

/**
 * The key of a published list: the metric, and at most one base scope
 * (`family=…`, `state=…` or `regime=…`). A regime list ranks by the metrics
 * earned in that regime.
 */
export function listKey(metric: Metric, base?: { kind: "family" | "state" | "regime"; value: string }): string {
  return base === undefined ? metric : `${metric}|${base.kind}=${base.value}`;
}

/** The published list a query starts from: its regime's, else its family's, else its state's, else the metric's. */
export function baseListKey(metric: Metric, scope: Scope | undefined): string {
  if (scope?.regime !== undefined) return listKey(metric, { kind: "regime", value: scope.regime });
  if (scope?.family !== undefined) return listKey(metric, { kind: "family", value: scope.family });
  if (scope?.state !== undefined) return listKey(metric, { kind: "state", value: scope.state });
  return listKey(metric);
}

/** Whether `a` ranks before `b` for `metric` in `order` (ties broken by id, ascending). */
export function ranksBefore(metric: Metric, order: RankOrder, a: number, aId: string, b: number, bId: string): boolean {
  if (a !== b) {
    const higherFirst = LOWER_IS_BETTER.has(metric) ? order === RankOrders.Worst : order === RankOrders.Best;
    return higherFirst ? a > b : a < b;
  }
  return aId < bId;
}

/** A comparator for sorting by {@link ranksBefore}. */
export function rankComparator(
  metric: Metric,
  order: RankOrder,
): (a: { score: number; id: string }, b: { score: number; id: string }) => number {
  return (a, b) => {
    if (a.score === b.score) return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
    return ranksBefore(metric, order, a.score, a.id, b.score, b.id) ? -1 : 1;
  };
}

/** `vector` as a record by metric name. */
export function metricRecord(vector: MetricVector): Record<Metric, number | null> {
  const out = {} as Record<Metric, number | null>;
  METRICS.forEach((metric, i) => {
    out[metric] = vector[i] ?? null;
  });
  return out;
}

/** Whether a published entry (or a partition's own strategy) belongs to `scope` (its regime aside). */
export function inScope(
  scope: Scope | undefined,
  item: { family: string | null; state: string; tags: readonly string[]; venues: readonly string[] },
): boolean {
  if (scope === undefined) return true;
  if (scope.family !== undefined && item.family !== scope.family) return false;
  if (scope.state !== undefined && item.state !== scope.state) return false;
  if (scope.tag !== undefined && !item.tags.includes(scope.tag)) return false;
  if (scope.venue !== undefined && !item.venues.includes(scope.venue)) return false;
  return true;
}

/** How fresh a ranker answer is, in every ranker reply. */
export interface Freshness {
  /** Oldest time any partition's view was computed at (ms since the Unix epoch), null when none is held. */
  asOf: number | null;
  /** Age of the oldest partition view when the answer was made, ms. */
  ageMs: number | null;
  /** Partitions whose view the ranker does not hold or has not heard from in time: the answer may miss their strategies. */
  missing: number[];
  /** Partitions asked directly for this answer (their pushed lists were not deep enough). */
  gathered: number;
}

/** The ranker's `top` reply (with `compact`, entries hold only `rank`, `id` and `score`). */
export interface TopReply {
  entries: Array<RankEntry & { rank: number }>;
  freshness: Freshness;
}

/** The ranker's `rank` reply. */
export interface RankReply {
  id: string;
  metric: Metric;
  among: "all" | "family";
  regime: string | null;
  score: number | null;
  /** 1 = best; null when the metric is not defined for the strategy. */
  rank: number | null;
  /** Peers compared (the strategy included). */
  of: number;
  /** Share of peers it ranks at or above, 0–100. */
  percentile: number | null;
  freshness: Freshness;
}

/** Reply to `report`. */
export interface ReportReply {
  /** Reports applied. */
  accepted: number;
  /** Periods and trades applied. */
  periods: number;
  trades: number;
  /** Reports already applied (a resend): ignored. */
  duplicates: Array<{ id: string; seq: number }>;
  /** Reports that skipped numbers: applied; the missing ones will count as late if they come. */
  gaps: Array<{ id: string; expected: number; got: number }>;
  /** Reports older than one already applied that filled a gap: not applied (metrics depend on order). */
  late: Array<{ id: string; seq: number; last: number }>;
  /** Reports not applied, by index: unknown or retired strategy, or times not after the last reported. */
  rejected: Array<{ index: number; id: string; error: { code: string; message: string; retryable: boolean } }>;
}

/** Per-period moments of a strategy's returns: what a Sharpe ratio's standard error depends on. */
export interface Moments {
  mean: number | null;
  skewness: number | null;
  /** Non-excess (a normal distribution's is 3). */
  kurtosis: number | null;
}

/** The ranker's `forecast`: next-period Sharpe and return of one strategy, with an interval. */
export const ForecastQuerySchema = Type.Object(
  {
    id: StrategyIdSchema,
    /** Forecast for this market regime, from the strategy's and its peers' records in it. */
    regime: Type.Optional(Label),
    /** Probability mass of the interval (default 0.9). */
    confidence: Type.Optional(Type.Number({ minimum: 0.5, maximum: 0.999 })),
  },
  { additionalProperties: false },
);
export type ForecastQuery = Static<typeof ForecastQuerySchema>;

/** The ranker's `forecast` reply. */
export interface ForecastReply {
  id: string;
  regime: string | null;
  /** The peers the forecast shrinks toward: the strategy's family, or every ranked strategy. */
  peers: { among: "family" | "all"; count: number };
  /** Annualised Sharpe: the forecast, its interval, the strategy's own (raw) and the peers' mean (prior). */
  sharpe: { forecast: number; low: number; high: number; raw: number; prior: number | null };
  /** Expected next-period return at the forecast Sharpe and at the interval's ends. */
  nextReturn: { forecast: number; low: number; high: number };
  confidence: number;
  /** Weight of the peers' mean in the forecast (0–1). */
  shrinkage: number;
  periods: number;
  freshness: Freshness;
}

/** The ranker's `select`: the best k strategies that are not near-duplicates of each other. */
export const SelectQuerySchema = Type.Object(
  {
    k: Type.Integer({ minimum: 1, maximum: PerformanceLimits.selectMax }),
    metric: Type.Optional(MetricSchema),
    regime: Type.Optional(Label),
    family: Type.Optional(Label),
    /** Largest return correlation allowed between two selected strategies (default 0.7). */
    maxCorrelation: Type.Optional(Type.Number({ minimum: -1, maximum: 1 })),
    /** Smallest probabilistic Sharpe ratio a selected strategy may have (default 0). */
    minPsr: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    /** How many of the best are considered (default 5k, at most 100). */
    candidates: Type.Optional(Type.Integer({ minimum: 1, maximum: PerformanceLimits.selectMax })),
    /** Correlations use the last this-many periods both strategies reported (default 252). */
    lookback: Type.Optional(Type.Integer({ minimum: 10, maximum: PerformanceLimits.historyPointsMax })),
  },
  { additionalProperties: false },
);
export type SelectQuery = Static<typeof SelectQuerySchema>;

/** The ranker's `select` reply: what was picked and what was passed over, with the figures that decided it. */
export interface SelectReply {
  metric: Metric;
  selected: Array<{
    id: string;
    score: number;
    psr: number | null;
    /** Correlation with each strategy selected before it (null: too few common periods to tell). */
    correlations: Record<string, number | null>;
  }>;
  skipped: Array<{
    id: string;
    score: number;
    reason: "psr" | "correlation";
    psr: number | null;
    /** The selected strategy it was too close to, and how close. */
    with?: string;
    correlation?: number;
  }>;
  freshness: Freshness;
}

/** Reply to `perf`: one strategy's performance as its partition holds it. */
export interface PerformanceReply {
  id: string;
  /** Last report applied. */
  seq: number;
  /** Report numbers skipped so far and not received (most recent 32). */
  missing: number[];
  conventions: { periodsPerYear: number; riskFree: number; mar: number };
  periods: number;
  trades: number;
  since: number | null;
  lastAt: number | null;
  metrics: Record<Metric, number | null>;
  /** Per-period moments (skewness, non-excess kurtosis) of the returns: what a Sharpe ratio's error depends on. */
  moments: Moments;
  regimes: Record<string, { periods: number; metrics: Record<Metric, number | null>; moments: Moments }>;
  family: string | null;
  state: string;
  stamp: PartitionStamp;
}
