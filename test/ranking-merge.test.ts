/**
 * The merge, as a property over the real pieces: the shards' own performance
 * books and B+ tree rankings publish, the ranker's own views and queries merge,
 * and whatever the report stream, the partition count, the ownership moves
 * mid-stream (a new owner rebuilds the partition from its log and publishes
 * under a higher epoch, while the old one may still publish late) and the
 * deltas lost on the way, the ranker's top-k equals a brute-force ranking of
 * every strategy by the batch formulas over the returns it reported.
 */
import {
  encodeStrategy,
  METRICS,
  type Metric,
  newStrategy,
  partitionOf,
  type RankingQuery,
  RankOrders,
  type TopKPublication,
  type TopQuery,
} from "@stratreg/protocol";
import { metricsOf, profitFactor, winRate } from "@stratreg/quant";
import { PartitionViews, RankingQueries } from "@stratreg/ranker";
import { type LoggedReport, PartitionRankings, PerformanceBook } from "@stratreg/registry-shard";
import fc from "fast-check";
import { expect, test } from "vitest";

const FAMILIES = ["momentum", "carry", null] as const;
const REGIMES = ["calm", "high-vol"] as const;
const DEPTH = 3;

interface Sent {
  family: string | null;
  returns: number[];
  trades: number[];
  byRegime: Record<string, number[]>;
}

/** One partition's log, and the owner currently serving it (rebuilt from the log on every move). */
class SimulatedPartition {
  readonly log: Array<{ ids: string[]; reports: LoggedReport[] }> = [];
  readonly stored = new Map<string, Uint8Array>();
  epoch = 0;
  book!: PerformanceBook;
  rankings!: PartitionRankings;
  /** The previous owner, still publishing until it learns it was fenced. */
  stale: PartitionRankings | undefined;

  constructor(
    readonly id: number,
    /** Fewest changes at once that rebuild the trees (1: always; otherwise never, in these small runs). */
    readonly rebuildMin: number,
  ) {
    this.move();
  }

  /** A new owner: replays the log into a fresh book, under a higher epoch. */
  move(): void {
    this.stale = this.rankings;
    this.epoch++;
    this.book = new PerformanceBook((id) => this.stored.get(id));
    for (const entry of this.log) this.book.applyReports(entry.ids, entry.reports);
    this.rankings = new PartitionRankings(this.id, this.book, DEPTH, this.rebuildMin);
  }

  report(ids: string[], reports: LoggedReport[]): void {
    this.log.push({ ids, reports });
    this.book.applyReports(ids, reports);
  }
}

function brute(query: TopQuery, sent: Map<string, Sent>): Array<{ id: string; score: number }> {
  const pool: Array<{ id: string; score: number }> = [];
  for (const [id, s] of sent) {
    if (query.scope?.family !== undefined && s.family !== query.scope.family) continue;
    const returns = query.scope?.regime === undefined ? s.returns : s.byRegime[query.scope.regime];
    if (returns === undefined || returns.length === 0) continue;
    let score: number;
    if (query.metric === "winRate") score = s.trades.length === 0 ? Number.NaN : winRate(s.trades);
    else if (query.metric === "profitFactor") score = s.trades.length === 0 ? Number.NaN : profitFactor(s.trades);
    else score = metricsOf(returns)[query.metric];
    if (!Number.isFinite(score)) continue;
    pool.push({ id, score });
  }
  const higherFirst =
    query.metric === "volatility" ? query.order === RankOrders.Worst : query.order !== RankOrders.Worst;
  pool.sort((a, b) =>
    a.score === b.score ? (a.id < b.id ? -1 : 1) : higherFirst ? b.score - a.score : a.score - b.score,
  );
  return pool.slice(0, query.k);
}

const step = fc.oneof(
  {
    weight: 6,
    arbitrary: fc.record({
      kind: fc.constant("report" as const),
      who: fc.nat(),
      n: fc.integer({ min: 1, max: 4 }),
      regime: fc.constantFrom(...REGIMES),
      seed: fc.integer(),
    }),
  },
  { weight: 2, arbitrary: fc.record({ kind: fc.constant("tick" as const), lose: fc.boolean() }) },
  { weight: 1, arbitrary: fc.record({ kind: fc.constant("move" as const), partition: fc.nat() }) },
);

test("the ranker's merged top-k equals brute force over every reported strategy, through ownership moves and lost deltas, whether trees move scores or are rebuilt", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.integer({ min: 1, max: 6 }),
      fc.integer({ min: 4, max: 30 }),
      fc.array(step, { minLength: 5, maxLength: 60 }),
      fc.constantFrom(...METRICS),
      fc.integer({ min: 1, max: 8 }),
      fc.constantFrom(undefined, { family: "momentum" }, { regime: "high-vol" }, { family: "carry", regime: "calm" }),
      fc.constantFrom(RankOrders.Best, RankOrders.Worst),
      fc.boolean(),
      (partitions, strategies, steps, metric: Metric, k, scope, order, rebuild) => {
        const parts = Array.from({ length: partitions }, (_, p) => new SimulatedPartition(p, rebuild ? 1 : 1e9));
        const ids = Array.from({ length: strategies }, (_, i) => `s${i}`);
        const sent = new Map<string, Sent>();
        const seq = new Map<string, number>();
        ids.forEach((id, i) => {
          const family = FAMILIES[i % FAMILIES.length] ?? null;
          const p = parts[partitionOf(id, partitions)] as SimulatedPartition;
          p.stored.set(id, encodeStrategy(newStrategy({ id, name: id, owner: "o", family }, 0)));
          sent.set(id, { family, returns: [], trades: [], byRegime: {} });
        });
        const views = new PartitionViews(partitions, 1e12, () => 0);
        const deliver = (publication: TopKPublication | undefined, partition: number) => {
          if (publication === undefined) return;
          publication.partition = partition;
          if (views.apply(publication) === "resync") {
            const owner = parts[partition] as SimulatedPartition;
            const full = owner.rankings.current();
            if (full !== undefined) views.apply({ ...full, partition });
          }
        };
        const tick = (lose: boolean) => {
          for (const p of parts) {
            // A fenced old owner may still publish once, late: it must be ignored.
            if (p.stale !== undefined) deliver(p.stale.publish(p.epoch - 1, 0, true), p.id);
            p.stale = undefined;
            const publication = p.rankings.publish(p.epoch, p.log.length, true);
            if (!lose) deliver(publication, p.id);
          }
        };
        for (const s of steps) {
          if (s.kind === "tick") tick(s.lose);
          else if (s.kind === "move") (parts[s.partition % partitions] as SimulatedPartition).move();
          else {
            const id = ids[s.who % ids.length] as string;
            const next = (seq.get(id) ?? 0) + 1;
            seq.set(id, next);
            const returns = Array.from({ length: s.n }, (_, j) => Math.sin(s.seed + j * 7.3 + next) * 0.02);
            const trades = returns.filter((_, j) => j % 2 === 0).map((r) => r * 1000);
            const record = sent.get(id) as Sent;
            record.returns.push(...returns);
            record.trades.push(...trades);
            record.byRegime[s.regime] = [...(record.byRegime[s.regime] ?? []), ...returns];
            const p = parts[partitionOf(id, partitions)] as SimulatedPartition;
            p.report(
              [id],
              [{ seq: next, regime: s.regime, returns, trades, times: returns.map((_, j) => next * 10 + j) }],
            );
          }
        }
        tick(false);
        const query: TopQuery = { metric, k, order, ...(scope === undefined ? {} : { scope }) };
        const queries = new RankingQueries(views, {
          ranking: (partition: number, q: RankingQuery) => {
            const owner = parts[partition] as SimulatedPartition;
            return Promise.resolve({
              stamp: { partition, epoch: owner.epoch, seq: owner.log.length },
              ...owner.rankings.query(q),
            });
          },
          perf: () => Promise.reject(new Error("not used")),
        });
        return queries.top(query).then((reply) => {
          const expected = brute(query, sent);
          expect(reply.entries.map((e) => e.id)).toEqual(expected.map((e) => e.id));
          reply.entries.forEach((e, i) => {
            const want = (expected[i] as { score: number }).score;
            expect(Math.abs(e.score - want)).toBeLessThanOrEqual(1e-9 * Math.max(1, Math.abs(want)));
          });
          expect(reply.freshness.missing).toEqual([]);
        });
      },
    ),
    { numRuns: 300 },
  );
});
