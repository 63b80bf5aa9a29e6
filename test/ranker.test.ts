/**
 * The ranker end to end: two shard processes rank the strategies of their
 * partitions from the reports a trading service sends and publish their top-k
 * lists; one ranker runs in this process, another as its own process; what the
 * client SDK gets from `top` and `rank` equals a ranking computed here, with
 * libs/quant, from the very returns that were sent.
 */
import { fileURLToPath } from "node:url";
import type { StrategyInput } from "@stratreg/client";
import type { Metric, PerformanceReport, TopQuery, TopReply } from "@stratreg/protocol";
import { metricsOf } from "@stratreg/quant";
import { Ranker, type RankerStatus } from "@stratreg/ranker";
import { type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";

const RANKER_ENTRY = fileURLToPath(new URL("../services/ranker/dist/main.js", import.meta.url));
const PARTITIONS = 8;
const FAMILIES = ["momentum", "reversion", "carry"];
const STRATEGIES = 36;

let registry: TestRegistry;
let cluster: string;
let ranker: Ranker;
let rankerProcess: ServiceProcess;

interface Sent {
  id: string;
  family: string;
  tags: string[];
  returns: number[];
  regimeReturns: Record<string, number[]>;
}
const sent: Sent[] = [];

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

/** The ranking a ranker should give, computed from the returns sent. */
function expected(query: TopQuery): Array<{ id: string; score: number }> {
  const scope = query.scope ?? {};
  const pool: Array<{ id: string; score: number }> = [];
  for (const s of sent) {
    if (scope.family !== undefined && s.family !== scope.family) continue;
    if (scope.tag !== undefined && !s.tags.includes(scope.tag)) continue;
    const returns = scope.regime === undefined ? s.returns : s.regimeReturns[scope.regime];
    if (returns === undefined || s.returns.length < (query.minPeriods ?? 0)) continue;
    const score = metricsOf(returns)[query.metric as "sharpe" | "volatility" | "totalReturn"];
    if (Number.isNaN(score)) continue;
    pool.push({ id: s.id, score });
  }
  const lowerFirst = (query.metric === "volatility") === ((query.order ?? "best") === "best");
  pool.sort((a, b) =>
    a.score === b.score ? (a.id < b.id ? -1 : 1) : lowerFirst ? a.score - b.score : b.score - a.score,
  );
  return pool.slice(0, query.k);
}

const idsOf = (reply: TopReply) => reply.entries.map((e) => e.id);

beforeAll(async () => {
  cluster = uniqueClusterName("rank");
  // Shallow published lists (2 per key), so that deeper queries must ask partitions directly.
  registry = await startRegistry(inject("natsUrl"), cluster, ["shard-a", "shard-b"], {
    partitions: PARTITIONS,
    env: { STRATREG_TOPK_DEPTH: "2" },
  });
  const next = random(42);
  const inputs: StrategyInput[] = [];
  const reports: PerformanceReport[] = [];
  for (let i = 0; i < STRATEGIES; i++) {
    const id = `strat-${String(i).padStart(2, "0")}`;
    const family = FAMILIES[i % FAMILIES.length] as string;
    const tags = i % 4 === 0 ? ["fx"] : ["equity"];
    inputs.push({ id, name: `Strategy ${i}`, owner: "desk", family, tags });
    const drift = (next() - 0.45) * 0.004;
    const periods = 5 + Math.floor(next() * 30);
    const returns = Array.from({ length: periods }, () => drift + (next() - 0.5) * 0.02);
    const half = Math.floor(periods / 2);
    const regimeReturns = { calm: returns.slice(0, half), stress: returns.slice(half) };
    const start = 1_700_000_000_000;
    const times = returns.map((_, t) => start + t * 86_400_000);
    reports.push(
      { id, seq: 1, regime: "calm", returns: regimeReturns.calm, times: times.slice(0, half) },
      { id, seq: 2, regime: "stress", returns: regimeReturns.stress, times: times.slice(half) },
    );
    sent.push({ id, family, tags, returns, regimeReturns });
  }
  const registered = await registry.client.registerMany(inputs);
  expect(registered.registered).toBe(STRATEGIES);
  const reported = await registry.client.report(reports);
  expect(reported).toMatchObject({ accepted: reports.length, rejected: [], gaps: [], late: [] });

  const natsUrl = inject("natsUrl");
  ranker = await Ranker.start(
    {
      natsUrl,
      natsUser: undefined,
      natsPassword: undefined,
      cluster,
      member: "ranker-1",
      staleMs: 3000,
      requestTimeoutMs: 2000,
      maxScatters: 32,
      concurrency: 8,
      startTimeoutMs: 10_000,
      logLevel: "silent",
    },
    pino({ level: "silent" }),
  );
  rankerProcess = spawnService({
    entry: RANKER_ENTRY,
    name: "ranker-2",
    env: { NATS_URL: natsUrl, STRATREG_CLUSTER: cluster, STRATREG_RANKER_ID: "ranker-2", LOG_LEVEL: "info" },
  });
  await rankerProcess.waitForLog((_line, json) => json?.msg === "ranker started", 15_000);
  // Both rankers hold every partition once the reports' rankings are published.
  for (const member of ["ranker-1", "ranker-2"]) {
    await waitFor(
      async () => {
        const reply = await registry.client.askRanker<TopReply>(
          "top",
          { metric: "sharpe", k: 1000 },
          { ranker: member },
        );
        return reply.freshness.missing.length === 0 && reply.entries.length === STRATEGIES;
      },
      { timeoutMs: 15_000, message: `${member} to hold every partition` },
    );
  }
}, 120_000);

afterAll(async () => {
  await ranker?.stop();
  await rankerProcess?.stop();
  await registry?.close();
});

describe("the ranker over real shards", () => {
  const queries: TopQuery[] = [
    { metric: "sharpe", k: 3 },
    { metric: "sharpe", k: 10 },
    { metric: "sharpe", k: 5, order: "worst" },
    { metric: "volatility", k: 4 },
    { metric: "totalReturn", k: 6, scope: { family: "momentum" } },
    { metric: "sharpe", k: 4, scope: { tag: "fx" } },
    { metric: "sharpe", k: 5, scope: { regime: "stress" } },
    { metric: "sharpe", k: 5, minPeriods: 20 },
  ];

  it.each(queries)("top %j equals the ranking computed from the returns sent", async (query) => {
    const reply = await registry.client.top(query);
    const want = expected(query);
    expect(idsOf(reply)).toEqual(want.map((w) => w.id));
    reply.entries.forEach((entry, i) => {
      expect(entry.rank).toBe(i + 1);
      expect(entry.score).toBeCloseTo(want[i]?.score as number, 9);
      expect(entry.partition).toBe(registry.client.partitionOf(entry.id));
    });
    expect(reply.freshness.missing).toEqual([]);
    expect(reply.freshness.asOf).toBeGreaterThan(0);
    expect(reply.freshness.ageMs).toBeGreaterThanOrEqual(0);
  });

  it("answers from the published lists when they are deep enough, and asks partitions when not", async () => {
    const shallow = await registry.client.top({ metric: "sortino", k: 1 });
    expect(shallow.freshness.gathered).toBe(0);
    const deep = await registry.client.top({ metric: "sortino", k: 20 });
    expect(deep.freshness.gathered).toBeGreaterThan(0);
    expect(deep.entries).toHaveLength(20);
  });

  it("two rankers side by side answer the same", async () => {
    for (const query of queries) {
      const [one, two] = await Promise.all(
        ["ranker-1", "ranker-2"].map((member) =>
          registry.client.askRanker<TopReply>("top", { ...query }, { ranker: member }),
        ),
      );
      expect(two?.entries).toEqual(one?.entries);
    }
  });

  it("rank is one plus how many rank better, among all or the strategy's family, overall or in a regime", async () => {
    const target = sent[7] as Sent;
    for (const [among, regime] of [
      ["all", undefined],
      ["family", undefined],
      ["all", "calm"],
    ] as const) {
      const scope = { ...(among === "family" ? { family: target.family } : {}), ...(regime ? { regime } : {}) };
      const ranking = expected({ metric: "sharpe" as Metric, k: 1000, scope });
      const reply = await registry.client.rank({
        id: target.id,
        metric: "sharpe",
        among,
        ...(regime ? { regime } : {}),
      });
      const at = ranking.findIndex((r) => r.id === target.id);
      expect(reply).toMatchObject({ id: target.id, among, regime: regime ?? null, rank: at + 1, of: ranking.length });
      expect(reply.score).toBeCloseTo(ranking[at]?.score as number, 9);
      expect(reply.percentile).toBeCloseTo((100 * (ranking.length - at)) / ranking.length, 9);
      expect(reply.freshness.missing).toEqual([]);
    }
    await expect(registry.client.rank({ id: "no-such-strategy", metric: "sharpe" })).rejects.toMatchObject({
      code: "NOT_FOUND",
    });
  });

  it("new reports reach the rankings", async () => {
    const worst = expected({ metric: "sharpe", k: 1, order: "worst" })[0] as { id: string };
    const s = sent.find((x) => x.id === worst.id) as Sent;
    const more = Array.from({ length: 200 }, (_, t) => 0.01 + (t % 2) * 0.001);
    await registry.client.report([
      { id: s.id, seq: 3, returns: more, times: more.map((_, t) => 1_800_000_000_000 + t * 86_400_000) },
    ]);
    s.returns.push(...more);
    await waitFor(async () => idsOf(await registry.client.top({ metric: "sharpe", k: 1 }))[0] === s.id, {
      timeoutMs: 10_000,
    });
  });

  it("keeps answering the same while a shard hands its partitions over (new epochs supersede old ones)", async () => {
    const before = await registry.client.askRanker<RankerStatus>("status", {}, { ranker: "ranker-1" });
    const query: TopQuery = { metric: "sharpe", k: 10 };
    const want = expected(query).map((w) => w.id);
    await registry.shards.get("shard-b")?.stop();
    await waitFor(
      async () => {
        const status = await registry.client.askRanker<RankerStatus>("status", {}, { ranker: "ranker-1" });
        const moved = status.views.some((v) => v.epoch > (before.views[v.partition]?.epoch ?? 0));
        return moved && status.missing.length === 0;
      },
      { timeoutMs: 20_000, message: "the moved partitions' new owners to be heard" },
    );
    for (const member of ["ranker-1", "ranker-2"]) {
      const reply = await registry.client.askRanker<TopReply>("top", { ...query }, { ranker: member });
      expect(idsOf(reply)).toEqual(want);
    }
  });
});
