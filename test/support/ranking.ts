/**
 * Test support for the rankings at scale: a ledger of every report a test's
 * market had acknowledged, per strategy, and the rankings computed from it by
 * brute force with libs/quant — what the ranker's `top` and `rank` must answer.
 * Also a ranker as a real process, and a wait for the ranker to settle.
 */
import { fileURLToPath } from "node:url";
import type { StratregClient } from "@stratreg/client";
import { gaussian, uniform } from "@stratreg/launcher";
import {
  LOWER_IS_BETTER,
  METRICS,
  type Metric,
  type PerformanceReport,
  RankOrders,
  type RankReply,
  type Scope,
  type StrategyInput,
  type TopQuery,
  type TopReply,
} from "@stratreg/protocol";
import { metricsOf, profitFactor, winRate } from "@stratreg/quant";
import { type ServiceProcess, spawnService, waitFor } from "@stratreg/testkit";

export const RANKER_ENTRY = fileURLToPath(new URL("../../services/ranker/dist/main.js", import.meta.url));

/** Starts a ranker process and resolves once it says it started. */
export async function startRanker(natsUrl: string, cluster: string, member: string): Promise<ServiceProcess> {
  const ranker = spawnService({
    entry: RANKER_ENTRY,
    name: member,
    env: {
      NATS_URL: natsUrl,
      STRATREG_CLUSTER: cluster,
      STRATREG_RANKER_ID: member,
      // Queries that ask every partition directly wait longer on a loaded 2-core machine than the 1 s default.
      STRATREG_RANKER_REQUEST_TIMEOUT_MS: "10000",
      LOG_LEVEL: "info",
    },
  });
  await ranker.waitForLog((_line, json) => json?.msg === "ranker started", 30_000);
  return ranker;
}

export const FAMILIES = ["momentum", "reversion", "carry", "market-making"] as const;
export const REGIMES = ["calm", "high-vol", "crisis"] as const;
export const TAGS = ["fx", "equity", "rates", "crypto"] as const;
export const VENUES = ["EBS", "CME", "LSE"] as const;

const DAY_MS = 86_400_000;
const HOUR_MS = 3_600_000;

/** What was sent for one strategy, and acknowledged. */
export interface Track {
  id: string;
  family: string | null;
  tags: string[];
  venues: string[];
  retired: boolean;
  /** Last report number handed out (a stream retries each batch until it is acknowledged). */
  seq: number;
  /** Whether any report was applied: only then is the strategy ranked at all. */
  reported: boolean;
  returns: number[];
  regimes: Map<string, number[]>;
  trades: number[];
  /** Its true mean return per period and its volatility, for the market. */
  drift: number;
  vol: number;
  /** Chance that it reports on a given day. */
  activity: number;
}

/** How busy a {@link RankingLedger}'s market is. */
export interface MarketOptions {
  /** Share of the strategies that are active (default 1). */
  active?: number;
  /** Chance that an active strategy reports on a given day (default 0.5). */
  busy?: number;
  /** Chance that any other strategy does (default 0.04). */
  quiet?: number;
}

/** One strategy's metric vectors, as a partition computes them (NaN where undefined). */
interface Scores {
  overall: Float64Array;
  regimes: Map<string, Float64Array>;
}

function vectorOf(returns: number[], trades: number[]): Float64Array {
  const m = metricsOf(returns);
  const v = new Float64Array(METRICS.length);
  METRICS.forEach((metric, i) => {
    let value: number;
    // Trade statistics are the strategy's, whatever the regime ranked on.
    if (metric === "winRate") value = trades.length === 0 ? Number.NaN : winRate(trades);
    else if (metric === "profitFactor") value = trades.length === 0 ? Number.NaN : profitFactor(trades);
    else value = m[metric];
    v[i] = Number.isFinite(value) ? value : Number.NaN;
  });
  return v;
}

/** An entry of a brute-force ranking. */
export interface Ranked {
  id: string;
  score: number;
}

/**
 * A market of many strategies and the ledger of what it reported: each
 * simulated day, a random subset of the strategies reports 1–3 returns in the
 * day's regime and maybe a few trades. Deterministic for a seed.
 */
export class RankingLedger {
  readonly tracks: Track[] = [];
  private readonly byId = new Map<string, Track>();
  private readonly next: () => number;
  private readonly normal: () => number;
  private day = 0;
  private scores: Map<string, Scores> | undefined;
  private readonly sorted = new Map<string, Ranked[]>();

  constructor(
    readonly prefix: string,
    count: number,
    seed: number,
    market: MarketOptions = {},
    private readonly start = Date.UTC(2026, 0, 1),
  ) {
    const { active = 1, busy = 0.5, quiet = 0.04 } = market;
    this.next = uniform(seed);
    this.normal = gaussian(this.next);
    const width = String(count - 1).length;
    for (let i = 0; i < count; i++) {
      const id = `${prefix}-${String(i).padStart(width, "0")}`;
      // One in twenty has no family; tags and venues are 0–2 of each.
      const family = this.next() < 0.05 ? null : (FAMILIES[Math.floor(this.next() * FAMILIES.length)] as string);
      const tags = TAGS.filter(() => this.next() < 0.3);
      const venues = VENUES.filter(() => this.next() < 0.35);
      const track: Track = {
        id,
        family,
        tags,
        venues,
        retired: false,
        seq: 0,
        reported: false,
        returns: [],
        regimes: new Map(),
        trades: [],
        drift: this.normal() * 0.0006,
        vol: 0.004 + this.next() * 0.016,
        activity: this.next() < active ? busy : quiet,
      };
      this.tracks.push(track);
      this.byId.set(id, track);
    }
  }

  get(id: string): Track {
    const track = this.byId.get(id);
    if (track === undefined) throw new Error(`no strategy ${id} in the ledger`);
    return track;
  }

  /** The strategies to register. */
  inputs(): StrategyInput[] {
    return this.tracks.map((t) => ({
      id: t.id,
      name: `Strategy ${t.id}`,
      owner: "quant-desk",
      tags: t.tags,
      venues: t.venues.map((venue) => ({ venue, symbols: [`${venue}-1`] })),
      ...(t.family === null ? {} : { family: t.family }),
    }));
  }

  /**
   * The next simulated day's reports (not yet acknowledged: {@link acknowledge}
   * them once the registry did): each live strategy reports by its activity.
   */
  nextDay(): PerformanceReport[] {
    const day = this.day++;
    const regime = REGIMES[Math.floor(this.next() * REGIMES.length)] as string;
    const reports: PerformanceReport[] = [];
    for (const t of this.tracks) {
      if (t.retired || this.next() >= t.activity) continue;
      const periods = 1 + Math.floor(this.next() * 3);
      const returns: number[] = [];
      const times: number[] = [];
      for (let j = 0; j < periods; j++) {
        const scale = regime === "crisis" ? 2.5 : regime === "high-vol" ? 1.6 : 1;
        returns.push(Math.max(-0.99, t.drift + t.vol * scale * this.normal()));
        times.push(this.start + day * DAY_MS + (j + 1) * HOUR_MS);
      }
      t.seq++;
      const report: PerformanceReport = { id: t.id, seq: t.seq, regime, returns, times };
      // Some close trades (now and then at exactly break-even), some never do.
      if (t.drift > -0.0009 && this.next() < 0.6) {
        const n = Math.floor(this.next() * 4);
        report.trades = Array.from({ length: n }, () =>
          this.next() < 0.05 ? 0 : Math.round((t.drift + t.vol * this.normal()) * 1e6) / 100,
        );
      }
      reports.push(report);
    }
    return reports;
  }

  /** Records that the registry applied `reports` (an acknowledged `report` call). */
  acknowledge(reports: PerformanceReport[]): void {
    for (const r of reports) {
      const t = this.get(r.id);
      t.reported = true;
      if (r.returns !== undefined) {
        t.returns.push(...r.returns);
        if (r.regime !== undefined && r.returns.length > 0) {
          let inRegime = t.regimes.get(r.regime);
          if (inRegime === undefined) {
            inRegime = [];
            t.regimes.set(r.regime, inRegime);
          }
          inRegime.push(...r.returns);
        }
      }
      if (r.trades !== undefined) t.trades.push(...r.trades);
    }
    this.scores = undefined;
    this.sorted.clear();
  }

  /** Marks strategies retired (after the registry acknowledged it). */
  retired(ids: string[]): void {
    for (const id of ids) this.get(id).retired = true;
    this.sorted.clear();
  }

  private scoresOf(): Map<string, Scores> {
    if (this.scores === undefined) {
      this.scores = new Map();
      for (const t of this.tracks) {
        if (!t.reported) continue;
        const regimes = new Map<string, Float64Array>();
        for (const [regime, returns] of t.regimes) regimes.set(regime, vectorOf(returns, t.trades));
        this.scores.set(t.id, { overall: vectorOf(t.returns, t.trades), regimes });
      }
    }
    return this.scores;
  }

  /** A strategy's score by `metric` overall or in `regime`: NaN when undefined or not ranked (retired, never reported). */
  scoreOf(id: string, metric: Metric, regime?: string): number {
    const track = this.get(id);
    const scores = this.scoresOf().get(id);
    if (track.retired || scores === undefined) return Number.NaN;
    const vector = regime === undefined ? scores.overall : scores.regimes.get(regime);
    return vector === undefined ? Number.NaN : (vector[METRICS.indexOf(metric)] as number);
  }

  /** Every ranked strategy with `metric` defined overall or in `regime`, best first (ties by id). */
  private ranking(metric: Metric, regime: string | undefined): Ranked[] {
    const key = `${metric}|${regime ?? ""}`;
    let ranked = this.sorted.get(key);
    if (ranked === undefined) {
      ranked = [];
      for (const t of this.tracks) {
        const score = this.scoreOf(t.id, metric, regime);
        if (!Number.isNaN(score)) ranked.push({ id: t.id, score });
      }
      const lowerFirst = LOWER_IS_BETTER.has(metric);
      ranked.sort((a, b) =>
        a.score === b.score ? (a.id < b.id ? -1 : 1) : lowerFirst ? a.score - b.score : b.score - a.score,
      );
      this.sorted.set(key, ranked);
    }
    return ranked;
  }

  /** Whether a strategy is in `scope` (every field given must match). */
  inScope(id: string, scope: Scope | undefined): boolean {
    const t = this.get(id);
    if (scope === undefined) return true;
    if (scope.family !== undefined && t.family !== scope.family) return false;
    if (scope.state !== undefined && (t.retired ? "retired" : "candidate") !== scope.state) return false;
    if (scope.tag !== undefined && !t.tags.includes(scope.tag)) return false;
    if (scope.venue !== undefined && !t.venues.includes(scope.venue)) return false;
    return true;
  }

  /** The whole ranking a top query is the head of, computed from the ledger. */
  expectedRanking(query: Omit<TopQuery, "k">): Ranked[] {
    const all = this.ranking(query.metric, query.scope?.regime);
    const ordered = (query.order ?? RankOrders.Best) === RankOrders.Worst ? worstFirst(all) : all;
    return ordered.filter((r) => {
      if (!this.inScope(r.id, query.scope)) return false;
      const t = this.get(r.id);
      return t.trades.length >= (query.minTrades ?? 0) && t.returns.length >= (query.minPeriods ?? 0);
    });
  }

  /** What `rank` should answer: one plus how many peers rank strictly better, among how many. */
  expectedRank(id: string, metric: Metric, among: "all" | "family", regime?: string): ExpectedRank {
    const score = this.scoreOf(id, metric, regime);
    const family = this.get(id).family;
    const scope: Scope = {};
    if (among === "family" && family !== null) scope.family = family;
    if (regime !== undefined) scope.regime = regime;
    const peers = this.expectedRanking({ metric, scope });
    const lowerFirst = LOWER_IS_BETTER.has(metric);
    let better = 0;
    let near = 0;
    for (const p of peers) {
      if (p.score === score) continue;
      if (closeEnough(p.score, score)) near++;
      else if (lowerFirst ? p.score < score : p.score > score) better++;
    }
    return {
      score: Number.isNaN(score) ? null : score,
      rank: Number.isNaN(score) ? null : 1 + better,
      of: peers.length,
      near,
    };
  }
}

/** What `rank` should answer, and how many peers are within rounding of the strategy's score. */
export interface ExpectedRank {
  score: number | null;
  rank: number | null;
  of: number;
  near: number;
}

/** The same strategies worst first; ties still by id ascending (ranksBefore). */
function worstFirst(best: Ranked[]): Ranked[] {
  const out = [...best].reverse();
  // Reversal put equal scores in descending id order: put each run of ties back in ascending order.
  let i = 0;
  while (i < out.length) {
    let j = i + 1;
    while (j < out.length && (out[j] as Ranked).score === (out[i] as Ranked).score) j++;
    if (j - i > 1) out.splice(i, j - i, ...out.slice(i, j).reverse());
    i = j;
  }
  return out;
}

/** Relative tolerance of a score against its brute-force value (online accumulators vs two-pass sums). */
export const SCORE_TOLERANCE = 1e-9;

export function closeEnough(a: number, b: number): boolean {
  return a === b || Math.abs(a - b) <= SCORE_TOLERANCE * Math.max(Math.abs(a), Math.abs(b));
}

/**
 * Differences between a ranker's top reply and the brute-force ranking, as
 * readable lines (empty when they agree). Ids must come in the brute-force
 * order; a swap is allowed only between strategies whose brute-force scores
 * agree to {@link SCORE_TOLERANCE} without being equal (their order is then
 * decided by rounding), and only when the reply is itself ordered by its
 * scores, ties by id. Returns how many such swaps there were too.
 */
export function topDifferences(
  ledger: RankingLedger,
  query: TopQuery,
  reply: TopReply,
): { problems: string[]; swaps: number } {
  const want = ledger.expectedRanking(query);
  const head = want.slice(0, query.k);
  const problems: string[] = [];
  let swaps = 0;
  const got = reply.entries;
  if (got.length !== head.length) problems.push(`${got.length} entries, expected ${head.length}`);
  const seen = new Set<string>();
  const regime = query.scope?.regime;
  const lowerFirst = LOWER_IS_BETTER.has(query.metric) === ((query.order ?? RankOrders.Best) === RankOrders.Best);
  got.forEach((entry, i) => {
    const expected = head[i];
    if (entry.rank !== i + 1) problems.push(`#${i + 1}: rank ${entry.rank}`);
    if (seen.has(entry.id)) problems.push(`#${i + 1}: ${entry.id} twice`);
    seen.add(entry.id);
    const brute = ledger.scoreOf(entry.id, query.metric, regime);
    if (!ledger.inScope(entry.id, query.scope) || Number.isNaN(brute)) {
      problems.push(`#${i + 1}: ${entry.id} (score ${entry.score}) should not be ranked in this scope`);
      return;
    }
    if (!closeEnough(entry.score, brute))
      problems.push(`#${i + 1}: ${entry.id} score ${entry.score}, expected ${brute}`);
    if (expected === undefined || entry.id === expected.id) return;
    if (closeEnough(brute, expected.score) && brute !== expected.score) {
      swaps++;
      return;
    }
    problems.push(
      `#${i + 1}: ${entry.id} (score ${entry.score}, brute force ${brute}), expected ${expected.id} (${expected.score})`,
    );
  });
  // The reply's own order: by its scores, ties by id.
  for (let i = 1; i < got.length; i++) {
    const a = got[i - 1] as TopReply["entries"][number];
    const b = got[i] as TopReply["entries"][number];
    const inOrder = a.score === b.score ? a.id < b.id : lowerFirst ? a.score < b.score : a.score > b.score;
    if (!inOrder) problems.push(`#${i} ${a.id} (${a.score}) before #${i + 1} ${b.id} (${b.score})`);
  }
  return { problems, swaps };
}

/** Differences between a ranker's rank reply and the brute-force one, as readable lines. */
export function rankDifferences(want: ExpectedRank, reply: RankReply): string[] {
  const problems: string[] = [];
  if (want.score === null || reply.score === null) {
    if (want.score !== reply.score) problems.push(`score ${reply.score}, expected ${want.score}`);
    if (reply.rank !== null) problems.push(`rank ${reply.rank}, expected null`);
  } else {
    if (!closeEnough(reply.score, want.score)) problems.push(`score ${reply.score}, expected ${want.score}`);
    // Peers within rounding of the score may count as better or not.
    if (reply.rank === null || reply.rank < (want.rank as number) || reply.rank > (want.rank as number) + want.near) {
      problems.push(`rank ${reply.rank}, expected ${want.rank}${want.near > 0 ? ` (+ up to ${want.near})` : ""}`);
    }
  }
  if (reply.of !== want.of) problems.push(`of ${reply.of}, expected ${want.of}`);
  return problems;
}

/**
 * Waits until the ranker holds every partition, its view is newer than
 * `after` (wall clock ms), and two successive answers to `probe` agree: then
 * everything acknowledged before `after` is in its rankings.
 */
export async function waitForQuiescence(
  client: StratregClient,
  after: number,
  options: { ranker?: string; timeoutMs?: number; probe?: TopQuery } = {},
): Promise<void> {
  const probe = options.probe ?? { metric: "sharpe", k: 100 };
  let previous: string | undefined;
  await waitFor(
    async () => {
      const reply = await client.askRanker<TopReply>(
        "top",
        { ...probe },
        { ranker: options.ranker, timeoutMs: 10_000 },
      );
      const fresh = reply.freshness.missing.length === 0 && (reply.freshness.asOf ?? 0) > after;
      const answer = JSON.stringify(reply.entries.map((e) => [e.id, e.score]));
      const settled = fresh && answer === previous;
      previous = fresh ? answer : undefined;
      return settled;
    },
    {
      timeoutMs: options.timeoutMs ?? 60_000,
      intervalMs: 300,
      message: `ranker ${options.ranker ?? "(any)"} to settle after ${new Date(after).toISOString()}`,
    },
  );
}
