/**
 * The ranker's merge against brute force: partitions publish top-k lists of a
 * random state (random depths, ownership moves, a stale owner still publishing,
 * dropped deltas forcing resyncs, late resync replies), and the merged top-k of
 * a random query equals a ranking computed over every partition's true state.
 */
import {
  baseListKey,
  ErrorCodes,
  inScope,
  listKey,
  METRIC_INDEX,
  METRICS,
  type Metric,
  type MetricVector,
  metricRecord,
  type PerformanceReply,
  type PublishedEntry,
  type RankEntry,
  type RankingQuery,
  type RankingReply,
  RankOrders,
  rankComparator,
  type Scope,
  type TopKPublication,
  type TopQuery,
} from "@stratreg/protocol";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { localCandidates, type PartitionAsker, qualify, RankingQueries } from "./query.js";
import { Scatter } from "./scatter.js";
import { PartitionViews } from "./view.js";

interface Strategy {
  id: string;
  partition: number;
  family: string | null;
  state: string;
  tags: string[];
  venues: string[];
  periods: number;
  trades: number;
  metrics: MetricVector;
  regimes: Record<string, MetricVector>;
}

const published = (s: Strategy): PublishedEntry => [
  s.id,
  s.family,
  s.state,
  s.tags,
  s.venues,
  s.periods,
  s.trades,
  0,
  0,
  s.metrics,
  s.regimes,
];

/** The partition's top-k lists as a shard computes them: every metric, alone and per family, state and regime. */
function listsOf(strategies: Strategy[], depth: number): { lists: Map<string, string[]>; sizes: Map<string, number> } {
  const bases = new Map<string, Array<{ id: string; score: number }>>();
  const add = (key: string, id: string, score: number | null | undefined) => {
    if (score === null || score === undefined) return;
    let members = bases.get(key);
    if (members === undefined) {
      members = [];
      bases.set(key, members);
    }
    members.push({ id, score });
  };
  for (const s of strategies) {
    for (const metric of METRICS) {
      const overall = s.metrics[METRIC_INDEX[metric]];
      add(listKey(metric), s.id, overall);
      if (s.family !== null) add(listKey(metric, { kind: "family", value: s.family }), s.id, overall);
      add(listKey(metric, { kind: "state", value: s.state }), s.id, overall);
      for (const [regime, vector] of Object.entries(s.regimes)) {
        add(listKey(metric, { kind: "regime", value: regime }), s.id, vector[METRIC_INDEX[metric]]);
      }
    }
  }
  const lists = new Map<string, string[]>();
  const sizes = new Map<string, number>();
  for (const [key, members] of bases) {
    const metric = key.split("|")[0] as Metric;
    members.sort(rankComparator(metric, RankOrders.Best));
    lists.set(
      key,
      members.slice(0, depth).map((m) => m.id),
    );
    sizes.set(key, members.length);
  }
  return { lists, sizes };
}

/** A canonical text of what a view holds. */
function holding(lists: Map<string, string[]>, sizes: Map<string, number>, entries: Iterable<PublishedEntry>): string {
  const sorted = <T>(m: Iterable<[string, T]>) => [...m].sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify([
    sorted(lists),
    sorted(sizes),
    sorted([...entries].map((e): [string, PublishedEntry] => [e[0], e])),
  ]);
}

/** One owner of one partition: publishes its lists each tick as deltas over its previous publication. */
class Owner {
  n = -1;
  /** What each publication of this owner left a faithful reader holding, by n. */
  readonly history = new Map<number, string>();
  private entries = new Map<string, string>();
  private last: { lists: Map<string, string[]>; sizes: Map<string, number>; at: number; chosen: Strategy[] } = {
    lists: new Map(),
    sizes: new Map(),
    at: 0,
    chosen: [],
  };

  constructor(
    readonly partition: number,
    readonly epoch: number,
    private readonly depth: number,
  ) {}

  /** The next publication (full when it is this owner's first). */
  publish(strategies: Strategy[], at: number): TopKPublication {
    const { lists, sizes } = listsOf(strategies, this.depth);
    const inLists = new Set([...lists.values()].flat());
    const chosen = strategies.filter((s) => inLists.has(s.id));
    const full = this.n < 0;
    this.n++;
    const entries: PublishedEntry[] = [];
    const now = new Map<string, string>();
    for (const s of chosen) {
      const text = JSON.stringify(published(s));
      now.set(s.id, text);
      if (full || this.entries.get(s.id) !== text) entries.push(published(s));
    }
    const removed = full ? [] : [...this.entries.keys()].filter((id) => !now.has(id));
    const changedLists: Record<string, string[]> = {};
    for (const [key, ids] of lists) {
      if (full || JSON.stringify(this.last.lists.get(key)) !== JSON.stringify(ids)) changedLists[key] = ids;
    }
    const changedSizes: Record<string, number> = {};
    for (const [key, size] of sizes) if (full || this.last.sizes.get(key) !== size) changedSizes[key] = size;
    const droppedLists = full ? [] : [...this.last.lists.keys()].filter((key) => !lists.has(key));
    this.entries = now;
    this.last = { lists, sizes, at, chosen };
    this.history.set(this.n, holding(lists, sizes, chosen.map(published)));
    return {
      v: 1,
      partition: this.partition,
      epoch: this.epoch,
      n: this.n,
      seq: this.n,
      at,
      full,
      entries,
      removed,
      lists: changedLists,
      droppedLists,
      sizes: changedSizes,
    };
  }

  /** What the `topk` op answers: the last publication, as a full one. */
  current(): TopKPublication {
    return {
      v: 1,
      partition: this.partition,
      epoch: this.epoch,
      n: this.n,
      seq: this.n,
      at: this.last.at,
      full: true,
      entries: this.last.chosen.map(published),
      removed: [],
      lists: Object.fromEntries(this.last.lists),
      droppedLists: [],
      sizes: Object.fromEntries(this.last.sizes),
    };
  }
}

/** What a partition's `ranking` op answers, computed from its true state. */
function bruteRanking(strategies: Strategy[], query: TopQuery | RankingQuery): RankEntry[] {
  const entries: RankEntry[] = [];
  for (const s of strategies) {
    const ranked = qualify(published(s), query, s.partition);
    if (ranked !== undefined) entries.push(ranked);
  }
  return entries.sort(rankComparator(query.metric, query.order ?? RankOrders.Best));
}

/** The global top-k over every strategy, written out without the ranker's helpers. */
function bruteTop(strategies: Strategy[], query: TopQuery) {
  const scope = query.scope;
  const pool: Array<RankEntry> = [];
  for (const s of strategies) {
    const vector = scope?.regime === undefined ? s.metrics : s.regimes[scope.regime];
    const score = vector?.[METRIC_INDEX[query.metric]];
    if (vector === undefined || score === null || score === undefined) continue;
    if (!inScope(scope, s)) continue;
    if (s.trades < (query.minTrades ?? 0) || s.periods < (query.minPeriods ?? 0)) continue;
    pool.push({
      id: s.id,
      score,
      family: s.family,
      state: s.state,
      periods: s.periods,
      trades: s.trades,
      metrics: metricRecord(vector),
      partition: s.partition,
    });
  }
  pool.sort(rankComparator(query.metric, query.order ?? RankOrders.Best));
  return pool.slice(0, query.k).map((entry, i) => ({ ...entry, rank: i + 1 }));
}

type Value<A> = A extends fc.Arbitrary<infer T> ? T : never;

const FAMILIES = ["mom", "rev", "carry"];
const REGIMES = ["hi", "lo"];
const score = fc.oneof(fc.constant(null), fc.integer({ min: -3, max: 3 }), fc.double({ min: -5, max: 5, noNaN: true }));
const vector = fc.array(score, { minLength: METRICS.length, maxLength: METRICS.length });
const strategyData = fc.record({
  family: fc.constantFrom(null, ...FAMILIES),
  state: fc.constantFrom("draft", "live"),
  tags: fc.subarray(["x", "y"]),
  venues: fc.subarray(["v1", "v2"]),
  periods: fc.integer({ min: 0, max: 40 }),
  trades: fc.integer({ min: 0, max: 20 }),
  metrics: vector,
  regimes: fc.dictionary(fc.constantFrom(...REGIMES), vector, { maxKeys: 2 }),
});
const scope: fc.Arbitrary<Scope> = fc.record(
  {
    family: fc.constantFrom(...FAMILIES),
    regime: fc.constantFrom(...REGIMES),
    state: fc.constantFrom("draft", "live"),
    tag: fc.constantFrom("x", "y"),
    venue: fc.constantFrom("v1", "v2"),
  },
  { requiredKeys: [] },
);
const topQuery: fc.Arbitrary<TopQuery> = fc.record(
  {
    metric: fc.constantFrom(...METRICS),
    k: fc.integer({ min: 1, max: 12 }),
    scope,
    minTrades: fc.integer({ min: 0, max: 10 }),
    minPeriods: fc.integer({ min: 0, max: 20 }),
    order: fc.constantFrom(RankOrders.Best, RankOrders.Worst),
  },
  { requiredKeys: ["metric", "k"] },
);
const step = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant("change" as const), which: fc.nat(), data: strategyData }), weight: 4 },
  {
    arbitrary: fc.record({ kind: fc.constant("publish" as const), partition: fc.nat(), dropped: fc.boolean() }),
    weight: 4,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("move" as const), partition: fc.nat(), dropped: fc.boolean() }),
    weight: 1,
  },
  {
    arbitrary: fc.record({ kind: fc.constant("stale-owner" as const), which: fc.nat(), data: strategyData }),
    weight: 1,
  },
  { arbitrary: fc.record({ kind: fc.constant("answer-resyncs" as const) }), weight: 1 },
);

/** Applies what `views` says needs a resync: the owner's `topk` answer, now or later. */
function runScenario(
  partitions: number,
  initial: Array<{ partition: number; data: Value<typeof strategyData> }>,
  steps: Array<Value<typeof step>>,
  depths: number[],
): { views: PartitionViews; strategies: Strategy[] } {
  const views = new PartitionViews(partitions, 3000, () => 0);
  const strategies: Strategy[] = initial.map(({ partition, data }, i) => ({
    id: `s${String(i).padStart(3, "0")}`,
    partition: partition % partitions,
    ...data,
  }));
  const of = (p: number) => strategies.filter((s) => s.partition === p);
  const owners = Array.from({ length: partitions }, (_, p) => new Owner(p, 1, depths[p % depths.length] ?? 3));
  const stale: Array<{ owner: Owner; strategies: Strategy[] }> = [];
  const everyOwner = new Map<string, Owner>(owners.map((o) => [`${o.partition}:${o.epoch}`, o]));
  const latest = new Map<number, [number, number]>();
  // After every step: each view is exactly what its owner published at (epoch, n), and never goes back.
  const check = () => {
    for (let p = 0; p < partitions; p++) {
      const view = views.get(p);
      if (view === undefined) continue;
      const owner = everyOwner.get(`${p}:${view.epoch}`);
      expect(holding(view.lists, view.sizes, view.entries.values())).toBe(owner?.history.get(view.n));
      const [epoch, n] = latest.get(p) ?? [0, -1];
      expect(view.epoch > epoch || (view.epoch === epoch && view.n >= n)).toBe(true);
      latest.set(p, [view.epoch, view.n]);
    }
  };
  let resyncs: TopKPublication[] = [];
  let clock = 1;
  const deliver = (publication: TopKPublication) => {
    if (views.apply(publication) === "resync") {
      resyncs.push(owners[publication.partition]?.current() as TopKPublication);
    }
  };
  for (const p of owners) deliver(p.publish(of(p.partition), clock++));
  for (const s of steps) {
    if (s.kind === "change" && strategies.length > 0) {
      const target = strategies[s.which % strategies.length] as Strategy;
      Object.assign(target, s.data);
    } else if (s.kind === "publish") {
      const owner = owners[s.partition % partitions] as Owner;
      const publication = owner.publish(of(owner.partition), clock++);
      if (!s.dropped) deliver(publication);
    } else if (s.kind === "move") {
      const p = s.partition % partitions;
      const old = owners[p] as Owner;
      stale.push({ owner: old, strategies: structuredClone(of(p)) });
      const next = new Owner(p, old.epoch + 1, depths[(p + old.epoch) % depths.length] ?? 3);
      owners[p] = next;
      everyOwner.set(`${p}:${next.epoch}`, next);
      const publication = next.publish(of(p), clock++);
      if (!s.dropped) deliver(publication);
    } else if (s.kind === "stale-owner" && stale.length > 0) {
      // An owner that lost its partition and does not know it yet publishes what it still holds.
      const zombie = stale[s.which % stale.length] as { owner: Owner; strategies: Strategy[] };
      const target = zombie.strategies[s.which % Math.max(1, zombie.strategies.length)];
      if (target !== undefined) Object.assign(target, s.data);
      views.apply(zombie.owner.publish(zombie.strategies, clock++));
    } else if (s.kind === "answer-resyncs") {
      const answers = resyncs;
      resyncs = [];
      for (const answer of answers) deliver(answer);
    }
    check();
  }
  // The last tick reaches the ranker; what it still lacks, resyncs bring.
  for (const owner of owners) deliver(owner.publish(of(owner.partition), clock++));
  for (let round = 0; resyncs.length > 0 && round < 5; round++) {
    const answers = resyncs;
    resyncs = [];
    for (const answer of answers) deliver(answer);
  }
  check();
  return { views, strategies };
}

function askerOver(strategies: Strategy[], asked: number[] = []): PartitionAsker {
  return {
    ranking: async (partition, query): Promise<RankingReply> => {
      asked.push(partition);
      const all = bruteRanking(
        strategies.filter((s) => s.partition === partition),
        query,
      );
      return { stamp: { partition, epoch: 1, seq: 0 }, entries: all.slice(0, query.k), size: all.length };
    },
    perf: async () => {
      throw new Error("not used");
    },
  };
}

describe("top", () => {
  test("property: the merged top-k equals brute force over the partitions' true state", async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 1, max: 4 }),
        fc.array(fc.record({ partition: fc.nat(), data: strategyData }), { maxLength: 40 }),
        fc.array(step, { maxLength: 40 }),
        fc.array(fc.integer({ min: 1, max: 6 }), { minLength: 1, maxLength: 4 }),
        fc.array(topQuery, { minLength: 1, maxLength: 5 }),
        async (partitions, initial, steps, depths, queries) => {
          const { views, strategies } = runScenario(partitions, initial, steps, depths);
          expect(views.missing()).toEqual([]);
          const queriesOver = new RankingQueries(views, askerOver(strategies));
          for (const query of queries) {
            const reply = await queriesOver.top(query);
            expect(reply.entries).toEqual(bruteTop(strategies, query));
            expect(reply.freshness.missing).toEqual([]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });

  test("a deep enough list answers from the view; a shallow one asks the partition; answers are cached until a view changes", async () => {
    const strategies: Strategy[] = Array.from({ length: 6 }, (_, i) => ({
      id: `s${i}`,
      partition: i % 2,
      family: i < 3 ? "mom" : "rev",
      state: "live",
      tags: [],
      venues: [],
      periods: 10,
      trades: i,
      metrics: METRICS.map(() => i),
      regimes: {},
    }));
    const views = new PartitionViews(2, 3000, () => 0);
    for (const p of [0, 1]) {
      views.apply(
        new Owner(p, 1, 2).publish(
          strategies.filter((s) => s.partition === p),
          10 + p,
        ),
      );
    }
    const asked: number[] = [];
    const queries = new RankingQueries(views, askerOver(strategies, asked));
    const two = await queries.top({ metric: "sharpe", k: 2 });
    expect(two.entries.map((e) => [e.id, e.rank])).toEqual([
      ["s5", 1],
      ["s4", 2],
    ]);
    expect(two.freshness).toMatchObject({ gathered: 0, missing: [], asOf: 10 });
    expect(asked).toEqual([]);
    const five = await queries.top({ metric: "sharpe", k: 5 });
    expect(five.entries.map((e) => e.id)).toEqual(["s5", "s4", "s3", "s2", "s1"]);
    expect(five.freshness.gathered).toBe(2);
    expect(asked).toEqual([0, 1]);
    await queries.top({ metric: "sharpe", k: 5 });
    expect(asked).toEqual([0, 1]);
    // "worst" needs the whole scope: a complete list suffices, a partial one does not.
    const worst = await queries.top({ metric: "sharpe", k: 1, order: "worst", scope: { family: "rev" } });
    expect(worst.entries.map((e) => e.id)).toEqual(["s3"]);
  });

  test("a partition that does not answer is named missing, and what its view holds is still used", async () => {
    const views = new PartitionViews(2, 3000, () => 0);
    const s: Strategy = {
      id: "a",
      partition: 0,
      family: null,
      state: "live",
      tags: [],
      venues: [],
      periods: 1,
      trades: 1,
      metrics: METRICS.map(() => 1),
      regimes: {},
    };
    views.apply(new Owner(0, 1, 1).publish([s, { ...s, id: "b" }], 5));
    const queries = new RankingQueries(views, {
      ranking: () => Promise.reject(new Error("no responders")),
      perf: () => Promise.reject(new Error("no responders")),
    });
    const reply = await queries.top({ metric: "sharpe", k: 3 });
    expect(reply.entries.map((e) => e.id)).toEqual(["a"]);
    expect(reply.freshness).toMatchObject({ missing: [0, 1], gathered: 1 });
  });

  test("past the limit of scatter queries in flight the answer is OVERLOADED with a retry hint", async () => {
    const views = new PartitionViews(1, 3000, () => 0);
    views.apply({
      v: 1,
      partition: 0,
      epoch: 1,
      n: 0,
      seq: 0,
      at: 0,
      full: true,
      entries: [],
      removed: [],
      lists: {},
      droppedLists: [],
      // Members in every scope asked about, but no list published: the partition must be asked.
      sizes: { sharpe: 5, sortino: 5 },
    });
    let release: () => void = () => undefined;
    const blocked = new Promise<void>((resolve) => {
      release = resolve;
    });
    const queries = new RankingQueries(
      views,
      {
        ranking: async (partition) => {
          await blocked;
          return { stamp: { partition, epoch: 1, seq: 0 }, entries: [], size: 0 };
        },
        perf: () => Promise.reject(new Error("unused")),
      },
      new Scatter({ maxQueries: 1, concurrency: 4, retryAfterMs: 50 }),
    );
    const first = queries.top({ metric: "sharpe", k: 1 });
    await expect(queries.top({ metric: "sortino", k: 1 })).rejects.toMatchObject({
      code: ErrorCodes.Overloaded,
      retryable: true,
      details: { retryAfterMs: 50 },
    });
    release();
    await expect(first).resolves.toMatchObject({ entries: [], freshness: { gathered: 1 } });
  });

  test("localCandidates: a scope the partition's sizes do not name has no members there; a named one without its list is asked", () => {
    const views = new PartitionViews(1, 3000, () => 0);
    views.apply(new Owner(0, 1, 3).publish([], 0));
    const view = views.get(0);
    if (view === undefined) throw new Error("no view");
    expect(localCandidates(view, { metric: "sharpe", k: 1, scope: { family: "nope" } })).toEqual({
      entries: [],
      sufficient: true,
    });
    view.sizes.set(listKey("sharpe", { kind: "family", value: "some" }), 4);
    expect(localCandidates(view, { metric: "sharpe", k: 1, scope: { family: "some" } })).toEqual({
      entries: [],
      sufficient: false,
    });
    expect(baseListKey("sharpe", { family: "nope", regime: "hi" })).toBe("sharpe|regime=hi");
  });
});

describe("rank", () => {
  function perfOf(id: string, family: string | null, sharpe: number | null): PerformanceReply {
    const metrics = metricRecord(METRICS.map(() => sharpe));
    return {
      id,
      seq: 1,
      missing: [],
      conventions: { periodsPerYear: 252, riskFree: 0, mar: 0 },
      periods: 10,
      trades: 1,
      since: 0,
      lastAt: 0,
      metrics,
      moments: { mean: null, skewness: null, kurtosis: null },
      regimes: {
        hi: {
          periods: 3,
          metrics: metricRecord(METRICS.map(() => 7)),
          moments: { mean: null, skewness: null, kurtosis: null },
        },
      },
      family,
      state: "live",
      stamp: { partition: 0, epoch: 1, seq: 1 },
    };
  }

  test("sums how many rank better over every partition, in the strategy's family and regime when asked", async () => {
    const seen: RankingQuery[] = [];
    const queries = new RankingQueries(new PartitionViews(3, 3000, () => 0), {
      perf: async (id) => perfOf(id, "mom", 2),
      ranking: async (partition, query) => {
        seen.push(query);
        if (partition === 2) throw new Error("no responders");
        return { stamp: { partition, epoch: 1, seq: 0 }, entries: [], size: 5, better: partition + 1, compared: 5 };
      },
    });
    const reply = await queries.rank({ id: "a", metric: "sharpe", among: "family", regime: "hi" });
    expect(reply).toMatchObject({ id: "a", among: "family", regime: "hi", score: 7, rank: 4, of: 10, percentile: 70 });
    expect(reply.freshness).toMatchObject({ missing: [2], gathered: 3 });
    expect(seen[0]).toEqual({ metric: "sharpe", k: 0, scope: { family: "mom", regime: "hi" }, countBetter: 7 });
  });

  test("a strategy without the metric has no rank; among family needs a family", async () => {
    const queries = new RankingQueries(new PartitionViews(1, 3000, () => 0), {
      perf: async (id) => perfOf(id, null, null),
      ranking: async (partition) => ({ stamp: { partition, epoch: 1, seq: 0 }, entries: [], size: 4 }),
    });
    expect(await queries.rank({ id: "a", metric: "sharpe" })).toMatchObject({
      score: null,
      rank: null,
      of: 4,
      percentile: null,
      among: "all",
      regime: null,
    });
    await expect(queries.rank({ id: "a", metric: "sharpe", among: "family" })).rejects.toMatchObject({
      code: ErrorCodes.InvalidField,
    });
  });
});
