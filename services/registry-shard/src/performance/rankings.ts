/**
 * A partition's rankings: for every metric, its strategies ordered best first
 * in a B+ tree (sorted-btree), overall and within each regime, kept up to date
 * with each tick's changes. From them come the top-k lists the partition
 * publishes (overall, per family, per lifecycle state, per regime) and the
 * answers to direct ranking queries.
 *
 * Publications are deltas against the previous one: strategies that entered
 * the published set or changed, those that left, and the lists that changed.
 */
import {
  inScope,
  LifecycleStates,
  LOWER_IS_BETTER,
  listKey,
  METRIC_INDEX,
  METRICS,
  type Metric,
  metricRecord,
  type PublishedEntry,
  type RankEntry,
  type RankingQuery,
  RankOrders,
  rankComparator,
  ranksBefore,
  type TopKPublication,
} from "@stratreg/protocol";
import type { PerformanceBook, ScopeAttributes, StrategyPerformance } from "@stratreg/replica";
import BTreeModule from "sorted-btree";
import { bulkLoad } from "sorted-btree/extended/bulkLoad.js";
import { TopKPublications } from "./publication.js";

// sorted-btree is CommonJS: under Node its class is the module's `default` property.
const BTree =
  (BTreeModule as unknown as { default?: typeof BTreeModule.default }).default ??
  (BTreeModule as unknown as typeof BTreeModule.default);
type Tree = InstanceType<typeof BTree<RankKey, undefined>>;

/**
 * A strategy's place in one metric's tree: `k` is the score made ascending-is-better
 * (negated where higher is better), so that every tree shares one comparator.
 */
interface RankKey {
  k: number;
  id: string;
}

/** Sign that turns metric `m`'s score into a key (−1 where higher is better), and back. */
const SIGN: readonly number[] = METRICS.map((metric) => (LOWER_IS_BETTER.has(metric) ? 1 : -1));

/**
 * The one comparator of every tree: best first, ties by id. One function for all
 * trees keeps the B+ tree's call to it monomorphic, so the engine inlines it.
 */
function compareKeys(a: RankKey, b: RankKey): number {
  if (a.k !== b.k) return a.k < b.k ? -1 : 1;
  return a.id < b.id ? -1 : a.id > b.id ? 1 : 0;
}

/** How many strategies a refresh re-ranks between looks at the clock. */
const REFRESH_CHECK_EVERY = 32;
/**
 * Past this share of its ranked strategies changed at once, a partition rebuilds
 * the trees of the bases they touched (sort, then an O(n) bulk load) instead of
 * moving each score: at full churn that is several times cheaper.
 */
const REBUILD_SHARE = 0.25;
/** Fewest changes that make a rebuild worth it. */
const REBUILD_MIN = 64;

/** The base a tree ranks within: overall (`""`) or one regime's metrics. */
type Base = string;
const OVERALL: Base = "";
/** Branching factor of the trees (sorted-btree's default). */
const TREE_NODE_SIZE = 32;

/** Where a strategy was placed, so it can be taken out again exactly. */
interface Placement {
  attributes: ScopeAttributes;
  /** Per base, per metric index, the key it was inserted with. */
  keys: Map<Base, Array<RankKey | undefined>>;
}

/** A tree of one metric's scores, best first (the order {@link ranksBefore} gives), ties by id. */
function newTree(): Tree {
  return new BTree<RankKey, undefined>(undefined, compareKeys);
}

/**
 * Adds `by` to a count. A count that falls to zero stays in the map (as zero):
 * a strategy re-ranked each tick leaves and re-enters its scopes, and deleting
 * and re-adding Map entries that often costs far more than keeping them.
 */
function bump(counts: Map<string, number>, key: string, by: number): void {
  counts.set(key, (counts.get(key) ?? 0) + by);
}

/** The entries of `counts` that are not zero. */
function nonZero(counts: Map<string, number>): Array<[string, number]> {
  return [...counts].filter(([, n]) => n !== 0);
}

/** The list keys a strategy counts toward in `base` for `metric`. */
function listKeysOf(metric: Metric, base: Base, attributes: ScopeAttributes): string[] {
  if (base !== OVERALL) return [listKey(metric, { kind: "regime", value: base })];
  const keys = [listKey(metric), listKey(metric, { kind: "state", value: attributes.state })];
  if (attributes.family !== null) keys.push(listKey(metric, { kind: "family", value: attributes.family }));
  return keys;
}

export class PartitionRankings {
  private readonly trees = new Map<Base, Tree[]>();
  private readonly placements = new Map<string, Placement>();
  /** Members of each list's scope (the metric defined). */
  private readonly sizes = new Map<string, number>();
  /** How many ranked strategies each family and state has. */
  private readonly families = new Map<string, number>();
  private readonly states = new Map<string, number>();
  /** While a refresh rebuilds trees: the bases whose trees it will rebuild at its end. */
  private rebuilding: Set<Base> | undefined;
  /** Strategies changed but not yet re-ranked (a refresh that ran out of time leaves them here). */
  private readonly pending = new Set<string>();
  /** Bases whose trees changed since their lists were last computed, and those lists. */
  private readonly dirty = new Set<Base>();
  private readonly listsByBase = new Map<Base, Map<string, string[]>>();
  /** Strategies refreshed since the last publication. */
  private readonly unpublished = new Set<string>();
  private readonly publications: TopKPublications;

  constructor(
    /** The partition whose strategies these are. */
    readonly partition: number,
    private readonly book: PerformanceBook,
    /** How many strategies each published list holds. */
    private readonly depth: number,
    /** Fewest changes at once that rebuild the trees instead of moving each score. */
    private readonly rebuildMin = REBUILD_MIN,
  ) {
    this.publications = new TopKPublications(partition);
  }

  /**
   * Re-ranks every strategy whose performance or scope changed: a strategy whose
   * family or state changed is taken out and placed again; otherwise only the
   * scores that moved are moved in their trees.
   */
  refresh(deadline = Number.POSITIVE_INFINITY): void {
    for (const id of this.book.takeChanged()) this.pending.add(id);
    if (this.pending.size >= this.rebuildMin && this.pending.size >= this.placements.size * REBUILD_SHARE) {
      this.rebuilding = new Set();
    }
    let done = 0;
    for (const id of this.pending) {
      // A flood of reports must not hold the event loop: past the deadline the rest waits for the next tick.
      if (this.rebuilding === undefined && ++done % REFRESH_CHECK_EVERY === 0 && performance.now() > deadline) return;
      this.pending.delete(id);
      this.unpublished.add(id);
      const perf = this.book.get(id);
      const attributes = perf === undefined ? undefined : this.book.attributes(id, perf);
      const ranked = perf !== undefined && attributes !== undefined && attributes.state !== LifecycleStates.Retired;
      const placement = this.placements.get(id);
      if (placement !== undefined) {
        const same =
          ranked &&
          placement.attributes.family === attributes.family &&
          placement.attributes.state === attributes.state;
        if (!same) this.remove(id);
        else {
          placement.attributes = attributes;
          this.move(id, perf, placement);
          continue;
        }
      }
      if (ranked) this.place(id, perf);
    }
    if (this.rebuilding !== undefined) {
      for (const base of this.rebuilding) this.rebuildTrees(base);
      this.rebuilding = undefined;
    }
  }

  /** Builds `base`'s trees anew from every placement's keys: a sort and a bulk load per metric. */
  private rebuildTrees(base: Base): void {
    const columns: RankKey[][] = METRICS.map(() => []);
    for (const placement of this.placements.values()) {
      placement.keys.get(base)?.forEach((key, m) => {
        if (key !== undefined) (columns[m] as RankKey[]).push(key);
      });
    }
    this.trees.set(
      base,
      columns.map((keys) => {
        keys.sort(compareKeys);
        return bulkLoad<RankKey, undefined>(keys, new Array(keys.length).fill(undefined), TREE_NODE_SIZE, compareKeys);
      }),
    );
    this.dirty.add(base);
  }

  /** Takes a key out of a tree, unless the tree is being rebuilt anyway. */
  private untree(base: Base, m: number, key: RankKey): void {
    if (this.rebuilding !== undefined) this.rebuilding.add(base);
    else (this.trees_(base)[m] as Tree).delete(key);
  }

  /** Puts a key in a tree, unless the tree is being rebuilt anyway. */
  private entree(base: Base, m: number, key: RankKey): void {
    if (this.rebuilding !== undefined) this.rebuilding.add(base);
    else (this.trees_(base)[m] as Tree).set(key, undefined);
  }

  /** Moves the scores of a placed strategy that changed, in every base it has scores in. */
  private move(id: string, perf: StrategyPerformance, placement: Placement): void {
    const vectors = perf.metricVectors();
    const bases: Array<[Base, Array<number | null>]> = [[OVERALL, vectors.overall], ...Object.entries(vectors.regimes)];
    for (const [base, vector] of bases) {
      let keys = placement.keys.get(base);
      if (keys === undefined) {
        keys = [];
        placement.keys.set(base, keys);
      }
      for (let m = 0; m < METRICS.length; m++) {
        const s = vector[m] ?? null;
        const k = s === null ? null : s * (SIGN[m] as number);
        const old = keys[m];
        // Unchanged: the same score, or still undefined.
        if (old === undefined ? k === null : old.k === k) continue;
        if (old !== undefined) this.untree(base, m, old);
        if (k === null) {
          keys[m] = undefined;
          for (const list of listKeysOf(METRICS[m] as Metric, base, placement.attributes)) bump(this.sizes, list, -1);
        } else {
          // The key just taken out is reused: one object per strategy and tree, however often it moves.
          const key = old ?? { k, id };
          key.k = k;
          this.entree(base, m, key);
          keys[m] = key;
          if (old === undefined) {
            for (const list of listKeysOf(METRICS[m] as Metric, base, placement.attributes)) bump(this.sizes, list, 1);
          }
        }
        this.dirty.add(base);
      }
    }
  }

  private trees_(base: Base): Tree[] {
    let trees = this.trees.get(base);
    if (trees === undefined) {
      trees = METRICS.map(newTree);
      this.trees.set(base, trees);
    }
    return trees;
  }

  private place(id: string, perf: StrategyPerformance): void {
    const attributes = this.book.attributes(id, perf);
    const vectors = perf.metricVectors();
    const placement: Placement = { attributes, keys: new Map() };
    const bases: Array<[Base, Array<number | null>]> = [[OVERALL, vectors.overall], ...Object.entries(vectors.regimes)];
    for (const [base, vector] of bases) {
      const keys: Array<RankKey | undefined> = [];
      this.dirty.add(base);
      METRICS.forEach((metric, m) => {
        const s = vector[m];
        if (s === null || s === undefined) return;
        const key = { k: s * (SIGN[m] as number), id };
        this.entree(base, m, key);
        keys[m] = key;
        for (const list of listKeysOf(metric, base, attributes)) bump(this.sizes, list, 1);
      });
      placement.keys.set(base, keys);
    }
    this.placements.set(id, placement);
    if (attributes.family !== null) bump(this.families, attributes.family, 1);
    bump(this.states, attributes.state, 1);
  }

  private remove(id: string): void {
    const placement = this.placements.get(id);
    if (placement === undefined) return;
    this.placements.delete(id);
    for (const [base, keys] of placement.keys) {
      this.dirty.add(base);
      keys.forEach((key, m) => {
        if (key === undefined) return;
        this.untree(base, m, key);
        for (const list of listKeysOf(METRICS[m] as Metric, base, placement.attributes)) bump(this.sizes, list, -1);
      });
    }
    const { family, state } = placement.attributes;
    if (family !== null) bump(this.families, family, -1);
    bump(this.states, state, -1);
  }

  /** Every published list, recomputed: per metric overall, per family, per state, and per regime. */
  private lists(): Map<string, string[]> {
    for (const base of this.dirty) this.listsByBase.set(base, this.listsOf(base, this.trees_(base)));
    this.dirty.clear();
    const lists = new Map<string, string[]>();
    for (const byKey of this.listsByBase.values()) for (const [key, ids] of byKey) lists.set(key, ids);
    return lists;
  }

  /** The lists of one base: per metric the best overall, per family and per state (regime bases: one per metric). */
  private listsOf(base: Base, trees: Tree[]): Map<string, string[]> {
    const lists = new Map<string, string[]>();
    METRICS.forEach((metric, m) => {
      const tree = trees[m] as Tree;
      if (tree.size === 0) return;
      if (base !== OVERALL) {
        const ids: string[] = [];
        for (const [key] of tree.entries()) {
          if (ids.length === this.depth) break;
          ids.push(key.id);
        }
        lists.set(listKey(metric, { kind: "regime", value: base }), ids);
        return;
      }
      // Every list this metric has, with how long it must get: min(depth, its scope's size).
      const want = (key: string) => Math.min(this.depth, this.sizes.get(key) ?? 0);
      const overall = { key: listKey(metric), ids: [] as string[], want: want(listKey(metric)) };
      const byFamily = new Map<string, { key: string; ids: string[]; want: number }>();
      const byState = new Map<string, { key: string; ids: string[]; want: number }>();
      for (const [family, n] of this.families) {
        const key = listKey(metric, { kind: "family", value: family });
        if (n > 0 && want(key) > 0) byFamily.set(family, { key, ids: [], want: want(key) });
      }
      for (const [state, n] of this.states) {
        const key = listKey(metric, { kind: "state", value: state });
        if (n > 0 && want(key) > 0) byState.set(state, { key, ids: [], want: want(key) });
      }
      // The walk stops once every list is as long as it can be.
      let open = (overall.want > 0 ? 1 : 0) + byFamily.size + byState.size;
      const add = (list: { ids: string[]; want: number } | undefined, id: string) => {
        if (list === undefined || list.ids.length >= list.want) return;
        list.ids.push(id);
        if (list.ids.length === list.want) open--;
      };
      for (const [key] of tree.entries()) {
        if (open <= 0) break;
        const { family, state } = (this.placements.get(key.id) as Placement).attributes;
        add(overall, key.id);
        if (family !== null) add(byFamily.get(family), key.id);
        add(byState.get(state), key.id);
      }
      for (const list of [overall, ...byFamily.values(), ...byState.values()]) {
        if (list.ids.length > 0) lists.set(list.key, list.ids);
      }
    });
    return lists;
  }

  private entryOf(id: string): PublishedEntry {
    const perf = this.book.get(id) as StrategyPerformance;
    const { attributes } = this.placements.get(id) as Placement;
    const vectors = perf.metricVectors();
    return [
      id,
      attributes.family,
      attributes.state,
      attributes.tags,
      attributes.venues,
      perf.returns.count,
      perf.trades.count,
      Number.isNaN(perf.since) ? 0 : perf.since,
      Number.isNaN(perf.lastAt) ? 0 : perf.lastAt,
      vectors.overall,
      vectors.regimes,
    ];
  }

  /**
   * The next publication of the owner at `epoch` (see {@link TopKPublications}),
   * after re-ranking what changed until `deadline`; undefined if nothing changed
   * and no heartbeat is due. An owner's first publication is full.
   */
  publish(
    epoch: number,
    seq: number,
    heartbeat: boolean,
    deadline = Number.POSITIVE_INFINITY,
  ): TopKPublication | undefined {
    this.refresh(deadline);
    if (epoch === this.publications.epoch && this.unpublished.size === 0 && !heartbeat) return undefined;
    const publication = this.publications.next(epoch, seq, heartbeat, {
      lists: this.lists(),
      sizes: Object.fromEntries(nonZero(this.sizes)),
      changed: this.unpublished,
      entryOf: (id) => this.entryOf(id),
    });
    this.unpublished.clear();
    return publication;
  }

  /** The last publication as a whole, or undefined before the first. */
  current(): TopKPublication | undefined {
    return this.publications.current();
  }

  /**
   * Answers a ranking query from the trees as they are now: the top `k` in scope
   * (best or worst first), the scope's size, and with `countBetter` how many rank above it.
   */
  query(q: RankingQuery): { entries: RankEntry[]; size: number; better?: number; compared?: number } {
    this.refresh();
    const m = METRIC_INDEX[q.metric];
    const base = q.scope?.regime ?? OVERALL;
    const tree = this.trees.get(base)?.[m];
    const out: RankEntry[] = [];
    let size = 0;
    let better = 0;
    const order = q.order ?? RankOrders.Best;
    if (tree !== undefined) {
      const walk = order === RankOrders.Best ? tree.entries() : tree.entriesReversed();
      const sign = SIGN[m] as number;
      for (const [key] of walk) {
        const score = key.k * sign;
        const { attributes } = this.placements.get(key.id) as Placement;
        if (!inScope(q.scope, attributes)) continue;
        const perf = this.book.get(key.id) as StrategyPerformance;
        if (perf.trades.count < (q.minTrades ?? 0) || perf.returns.count < (q.minPeriods ?? 0)) continue;
        size++;
        if (q.countBetter !== undefined && ranksBefore(q.metric, RankOrders.Best, score, "", q.countBetter, ""))
          better++;
        // Walking worst first, equal scores come in descending id order: keep taking them, sort after.
        const tied =
          order === RankOrders.Worst && out.length >= q.k && out.length > 0 && out[out.length - 1]?.score === score;
        if (out.length < q.k || tied) {
          const vectors = perf.metricVectors();
          const vector = base === OVERALL ? vectors.overall : (vectors.regimes[base] ?? vectors.overall);
          const accumulator = base === OVERALL ? perf.returns : (perf.regimes.get(base) ?? perf.returns);
          const entry: RankEntry = {
            id: key.id,
            score,
            family: attributes.family,
            state: attributes.state,
            periods: perf.returns.count,
            trades: perf.trades.count,
            metrics: metricRecord(vector),
            partition: this.partition,
          };
          if (q.moments === true) {
            const { skewness, kurtosis } = accumulator.metrics();
            entry.moments = {
              skewness: Number.isFinite(skewness) ? skewness : null,
              kurtosis: Number.isFinite(kurtosis) ? kurtosis : null,
            };
          }
          out.push(entry);
        }
      }
    }
    if (order === RankOrders.Worst) out.sort(rankComparator(q.metric, order));
    const reply: { entries: RankEntry[]; size: number; better?: number; compared?: number } = {
      entries: out.slice(0, q.k),
      size,
    };
    if (q.countBetter !== undefined) {
      reply.better = better;
      reply.compared = size;
    }
    return reply;
  }
}
