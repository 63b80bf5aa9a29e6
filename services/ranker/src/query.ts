/**
 * The ranker's answers. `top` merges the partitions' published lists: a
 * partition whose list is complete, or deep enough to hold k strategies that
 * pass the query's filters, is answered from its view; any other is asked
 * directly (its `ranking` op) in one bounded scatter-gather. `rank` asks the
 * strategy's partition for its score, then every partition how many of its
 * peers rank strictly better. Answers to `top` are cached per query until a
 * view changes.
 */
import {
  baseListKey,
  ErrorCodes,
  encode,
  type Freshness,
  inScope,
  METRIC_INDEX,
  type MetricVector,
  metricRecord,
  type PerformanceReply,
  type PublishedEntry,
  type RankEntry,
  type RankingQuery,
  type RankingReply,
  type RankOrder,
  RankOrders,
  type RankQuery,
  type RankReply,
  RawMsgpack,
  rankComparator,
  type Scope,
  type TopQuery,
  type TopReply,
  ValidationError,
} from "@stratreg/protocol";
import { Scatter } from "./scatter.js";
import type { PartitionView, PartitionViews } from "./view.js";

/** How the ranker asks a partition's owner directly (the client SDK in the service, a fake in tests). */
export interface PartitionAsker {
  /** The partition's `ranking` op. */
  ranking(partition: number, query: RankingQuery, timeoutMs: number): Promise<RankingReply>;
  /** The `perf` op of the partition `id` belongs to. */
  perf(id: string, timeoutMs: number): Promise<PerformanceReply>;
}

/** Settings of {@link RankingQueries}. */
export interface QuerySettings {
  /** Longest wait for one partition's direct answer, ms. */
  requestTimeoutMs: number;
  /** Most answers cached (the cache is emptied whenever any view changes anyway). */
  cacheMax: number;
}

export const DEFAULT_QUERY_SETTINGS: QuerySettings = { requestTimeoutMs: 1000, cacheMax: 512 };

/** A partition's candidates from its view, and whether they are enough to answer without asking it. */
export interface LocalCandidates {
  entries: RankEntry[];
  sufficient: boolean;
}

/** The vector a scope ranks by: the regime's when the scope names one, else the overall one. */
function vectorFor(entry: PublishedEntry, scope: Scope | undefined): MetricVector | undefined {
  return scope?.regime === undefined ? entry[9] : entry[10][scope.regime];
}

/** A published entry as a ranking entry for `query`, or undefined when it does not qualify. */
export function qualify(
  entry: PublishedEntry,
  query: Pick<TopQuery, "metric" | "scope" | "minTrades" | "minPeriods">,
  partition: number,
): RankEntry | undefined {
  const [id, family, state, tags, venues, periods, trades] = entry;
  const vector = vectorFor(entry, query.scope);
  const score = vector?.[METRIC_INDEX[query.metric]];
  if (vector === undefined || score === undefined || score === null) return undefined;
  if (!inScope(query.scope, { family, state, tags, venues })) return undefined;
  if (trades < (query.minTrades ?? 0) || periods < (query.minPeriods ?? 0)) return undefined;
  return { id, score, family, state, periods, trades, metrics: metricRecord(vector), partition };
}

/**
 * The candidates one view offers for `query`. Enough when the list the query
 * starts from is complete (it holds its whole scope), or, for the best end, when
 * at least k of its strategies pass the filters: the list is the scope's top,
 * best first, so the top k of those that pass are the partition's top k.
 */
export function localCandidates(view: PartitionView, query: TopQuery): LocalCandidates {
  const order: RankOrder = query.order ?? RankOrders.Best;
  const key = baseListKey(query.metric, query.scope);
  const ids = view.lists.get(key);
  const size = view.sizes.get(key);
  // A publication's sizes name every non-empty scope: a key the view lacks has no members there.
  if (ids === undefined) return { entries: [], sufficient: size === undefined || size === 0 };
  const entries: RankEntry[] = [];
  let intact = true;
  for (const id of ids) {
    const entry = view.entries.get(id);
    if (entry === undefined) {
      // A list naming a strategy the view lacks: do not trust this view for the query.
      intact = false;
      continue;
    }
    const ranked = qualify(entry, query, view.partition);
    if (ranked !== undefined) entries.push(ranked);
  }
  entries.sort(rankComparator(query.metric, order));
  const complete = size !== undefined && ids.length >= size;
  const sufficient = intact && (complete || (order === RankOrders.Best && entries.length >= query.k));
  return { entries: sufficient ? entries.slice(0, query.k) : entries, sufficient };
}

/** The best `k` (by the query's order) of every partition's entries, numbered from 1. */
export function mergeTop(query: TopQuery, parts: readonly RankEntry[][]): TopReply["entries"] {
  const all = parts.flat();
  all.sort(rankComparator(query.metric, query.order ?? RankOrders.Best));
  return all.slice(0, query.k).map((entry, i) => ({ ...entry, rank: i + 1 }));
}

/** A canonical text of a query, the key of its cached answer. */
export function queryKey(query: TopQuery): string {
  const scope = query.scope ?? {};
  return JSON.stringify([
    query.metric,
    query.k,
    query.order ?? RankOrders.Best,
    query.minTrades ?? 0,
    query.minPeriods ?? 0,
    scope.family ?? null,
    scope.regime ?? null,
    scope.venue ?? null,
    scope.state ?? null,
    scope.tag ?? null,
  ]);
}

interface TopAnswer {
  entries: TopReply["entries"];
  gathered: number;
  /** Partitions asked directly that did not answer. */
  unanswered: number[];
  /** The entries as msgpack, whole and compact, encoded once for every reply that repeats them. */
  encoded?: { whole?: RawMsgpack; compact?: RawMsgpack };
}

/** The ranker's queries over its views. */
export class RankingQueries {
  private readonly cache = new Map<string, { version: number; missing: string; answer: Promise<TopAnswer> }>();
  private readonly settings: QuerySettings;

  constructor(
    private readonly views: PartitionViews,
    private readonly asker: PartitionAsker,
    readonly scatter: Scatter = new Scatter(),
    settings: Partial<QuerySettings> = {},
    private readonly wallClock: () => number = Date.now,
    private readonly monotonic: () => number = () => performance.now(),
  ) {
    this.settings = { ...DEFAULT_QUERY_SETTINGS, ...settings };
  }

  /** The best (or worst) k strategies by a metric in a scope; `timeoutMs` bounds the partitions asked directly. */
  async top(query: TopQuery, timeoutMs = this.settings.requestTimeoutMs): Promise<TopReply> {
    const { answer, freshness } = await this.cachedTop(query, timeoutMs);
    return { entries: answer.entries, freshness };
  }

  /**
   * {@link top} as it goes on the wire: the entries already encoded (compact
   * ones when the query asks), encoded once per answer, however often it is asked.
   */
  async topForWire(
    query: TopQuery,
    timeoutMs = this.settings.requestTimeoutMs,
  ): Promise<{ entries: RawMsgpack; freshness: Freshness }> {
    const { answer, freshness } = await this.cachedTop(query, timeoutMs);
    answer.encoded ??= {};
    const compact = query.compact === true;
    let entries = compact ? answer.encoded.compact : answer.encoded.whole;
    if (entries === undefined) {
      const values = compact ? answer.entries.map(({ rank, id, score }) => ({ rank, id, score })) : answer.entries;
      entries = new RawMsgpack(encode(values));
      if (compact) answer.encoded.compact = entries;
      else answer.encoded.whole = entries;
    }
    return { entries, freshness };
  }

  private async cachedTop(query: TopQuery, timeoutMs: number): Promise<{ answer: TopAnswer; freshness: Freshness }> {
    const missing = this.views.missing();
    const key = queryKey(query);
    const missingKey = missing.join(",");
    const version = this.views.version;
    let cached = this.cache.get(key);
    if (cached === undefined || cached.version !== version || cached.missing !== missingKey) {
      if (this.cache.size >= this.settings.cacheMax) this.cache.clear();
      const answer = this.answerTop(query, timeoutMs);
      cached = { version, missing: missingKey, answer };
      this.cache.set(key, cached);
      const entry = cached;
      // Failed or partial answers are not kept: the next query asks again.
      answer.then(
        (done) => {
          if (done.unanswered.length > 0 && this.cache.get(key) === entry) this.cache.delete(key);
        },
        () => {
          if (this.cache.get(key) === entry) this.cache.delete(key);
        },
      );
    }
    const answer = await cached.answer;
    return { answer, freshness: this.freshness(missing, answer.unanswered, answer.gathered) };
  }

  /** Where one strategy stands among its peers (every ranked strategy, or its family's; optionally within a regime). */
  async rank(query: RankQuery, timeoutMs = this.settings.requestTimeoutMs): Promise<RankReply> {
    const deadline = this.monotonic() + timeoutMs;
    const asOf = this.wallClock();
    const among = query.among ?? "all";
    const regime = query.regime ?? null;
    const perf = await this.asker.perf(query.id, this.requestTimeout(deadline));
    const metrics = regime === null ? perf.metrics : perf.regimes[regime]?.metrics;
    const score = metrics?.[query.metric] ?? null;
    const scope: Scope = {};
    if (among === "family") {
      if (perf.family === null) {
        throw new ValidationError(ErrorCodes.InvalidField, `among is invalid: strategy ${query.id} has no family`, {
          field: "body.among",
        });
      }
      scope.family = perf.family;
    }
    if (regime !== null) scope.regime = regime;
    const ranking: RankingQuery = { metric: query.metric, k: 0 };
    if (Object.keys(scope).length > 0) ranking.scope = scope;
    if (score !== null) ranking.countBetter = score;
    const partitions = Array.from({ length: this.views.partitions }, (_, p) => p);
    const replies = await this.scatter.run(partitions, (p) =>
      this.asker.ranking(p, ranking, this.requestTimeout(deadline)),
    );
    let better = 0;
    let of = 0;
    const unanswered: number[] = [];
    for (const reply of replies) {
      if (!reply.ok) {
        unanswered.push(reply.item);
        continue;
      }
      better += reply.value.better ?? 0;
      of += reply.value.compared ?? reply.value.size;
    }
    const rank = score === null ? null : 1 + better;
    const percentile = score === null || of === 0 ? null : (100 * (of - better)) / of;
    return {
      id: query.id,
      metric: query.metric,
      among,
      regime,
      score,
      rank,
      of,
      percentile,
      freshness: {
        asOf,
        ageMs: Math.max(0, this.wallClock() - asOf),
        missing: unanswered,
        gathered: partitions.length,
      },
    };
  }

  private requestTimeout(deadline: number): number {
    return Math.max(1, Math.min(this.settings.requestTimeoutMs, deadline - this.monotonic()));
  }

  private async answerTop(query: TopQuery, timeoutMs: number): Promise<TopAnswer> {
    const parts: RankEntry[][] = [];
    const toAsk: Array<{ partition: number; local: LocalCandidates }> = [];
    for (let p = 0; p < this.views.partitions; p++) {
      const view = this.views.get(p);
      if (view === undefined) continue;
      const local = localCandidates(view, query);
      if (local.sufficient) parts.push(local.entries);
      else toAsk.push({ partition: p, local });
    }
    const unanswered: number[] = [];
    if (toAsk.length > 0) {
      const deadline = this.monotonic() + timeoutMs;
      const { compact: _compact, ...ranking }: RankingQuery & { compact?: boolean } = query;
      const replies = await this.scatter.run(toAsk, ({ partition }) =>
        this.asker.ranking(partition, ranking, this.requestTimeout(deadline)),
      );
      for (const reply of replies) {
        if (reply.ok) {
          parts.push(reply.value.entries.map((entry) => ({ ...entry, partition: reply.item.partition })));
        } else {
          // Better what the view holds than nothing; the reply names the partition as missing.
          parts.push(reply.item.local.entries);
          unanswered.push(reply.item.partition);
        }
      }
    }
    return { entries: mergeTop(query, parts), gathered: toAsk.length, unanswered };
  }

  private freshness(missing: number[], unanswered: number[], gathered: number): Freshness {
    const asOf = this.views.oldestAt();
    const all = unanswered.length === 0 ? missing : [...new Set([...missing, ...unanswered])].sort((a, b) => a - b);
    return {
      asOf,
      ageMs: asOf === null ? null : Math.max(0, this.wallClock() - asOf),
      missing: all,
      gathered,
    };
  }
}
