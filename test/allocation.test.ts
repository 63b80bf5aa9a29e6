/**
 * What an allocator asks the ranker, end to end on real shards: `forecast`
 * shrinks a strategy's Sharpe toward its family's by the error of its own
 * record, and `select` picks the best strategies while passing over
 * near-duplicates, saying with which correlation. Expected figures are computed
 * here, with libs/quant, from the very returns that were sent.
 */
import type { PerformanceReport, StrategyInput } from "@stratreg/protocol";
import { correlation, metricsOf } from "@stratreg/quant";
import { Ranker } from "@stratreg/ranker";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";

const DAY = 86_400_000;
const PERIODS = 200;
let registry: TestRegistry;
let ranker: Ranker;
const returnsOf = new Map<string, number[]>();
const familyOf = new Map<string, string>();

/** Deterministic standard normal draws. */
function normals(seed: number): () => number {
  let s = seed >>> 0;
  const uniform = () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return (s + 0.5) / 2 ** 32;
  };
  return () => Math.sqrt(-2 * Math.log(uniform())) * Math.cos(2 * Math.PI * uniform());
}

beforeAll(async () => {
  const cluster = uniqueClusterName("alloc");
  registry = await startRegistry(inject("natsUrl"), cluster, ["shard-a", "shard-b"], { partitions: 8 });
  const z = normals(7);
  const inputs: StrategyInput[] = [];
  const reports: PerformanceReport[] = [];
  const times = Array.from({ length: PERIODS }, (_, t) => 1_767_225_600_000 + (t + 1) * DAY);
  const common = Array.from({ length: PERIODS }, () => z());
  const add = (id: string, family: string, returns: number[]) => {
    inputs.push({ id, name: id, owner: "desk", family });
    returnsOf.set(id, returns);
    familyOf.set(id, family);
    reports.push({ id, seq: 1, regime: "calm", times: times.slice(0, 100), returns: returns.slice(0, 100) });
    reports.push({ id, seq: 2, regime: "stress", times: times.slice(100), returns: returns.slice(100) });
  };
  // Two families of independent strategies with different true Sharpe ratios.
  for (let i = 0; i < 24; i++) {
    const family = i % 2 === 0 ? "steady" : "noisy";
    const trueSharpe = family === "steady" ? 1.5 : 0.2;
    const vol = 0.01;
    const mean = (trueSharpe / Math.sqrt(252)) * vol;
    add(
      `s-${i}`,
      family,
      Array.from({ length: PERIODS }, () => mean + vol * z()),
    );
  }
  // A star and its two near-clones: the best three by Sharpe, almost perfectly correlated.
  const star = Array.from({ length: PERIODS }, (_, t) => 0.003 + 0.01 * (0.9 * (common[t] as number) + 0.1 * z()));
  add("star", "steady", star);
  add(
    "star-clone-1",
    "steady",
    star.map((r) => r * 0.98 + 0.0001 * z()),
  );
  add(
    "star-clone-2",
    "steady",
    star.map((r) => r * 1.01 + 0.0001 * z()),
  );
  expect((await registry.client.registerMany(inputs)).registered).toBe(inputs.length);
  expect(await registry.client.report(reports)).toMatchObject({ accepted: reports.length, rejected: [] });
  ranker = await Ranker.start(
    {
      natsUrl: inject("natsUrl"),
      natsUser: undefined,
      natsPassword: undefined,
      cluster,
      member: "alloc-ranker",
      staleMs: 3000,
      requestTimeoutMs: 5000,
      maxScatters: 32,
      concurrency: 8,
      startTimeoutMs: 10_000,
      logLevel: "silent",
    },
    pino({ level: "silent" }),
  );
  await waitFor(
    async () => {
      const reply = await registry.client.top({ metric: "sharpe", k: 100 });
      return reply.freshness.missing.length === 0 && reply.entries.length === inputs.length;
    },
    { timeoutMs: 15_000, message: "the ranker to hold every partition" },
  );
}, 120_000);

afterAll(async () => {
  await ranker?.stop();
  await registry?.close();
});

describe("forecast", () => {
  it("shrinks a strategy's Sharpe toward its family's mean, with an interval around the forecast", async () => {
    const id = "s-1";
    const reply = await registry.client.forecast({ id });
    const raw = metricsOf(returnsOf.get(id) as number[]).sharpe;
    const peers = [...familyOf].filter(([other, f]) => f === "noisy" && other !== id);
    const prior =
      peers.reduce((sum, [other]) => sum + metricsOf(returnsOf.get(other) as number[]).sharpe, 0) / peers.length;
    expect(reply.peers).toEqual({ among: "family", count: peers.length });
    expect(reply.sharpe.raw).toBeCloseTo(raw, 9);
    expect(reply.sharpe.prior).toBeCloseTo(prior, 9);
    expect(reply.shrinkage).toBeGreaterThan(0);
    expect(reply.shrinkage).toBeLessThanOrEqual(1);
    // The forecast lies between the raw Sharpe and the prior, weighted by the shrinkage.
    expect(reply.sharpe.forecast).toBeCloseTo(raw + reply.shrinkage * (prior - raw), 9);
    expect(reply.sharpe.low).toBeLessThan(reply.sharpe.forecast);
    expect(reply.sharpe.high).toBeGreaterThan(reply.sharpe.forecast);
    expect(reply.nextReturn.low).toBeLessThan(reply.nextReturn.high);
    expect(reply).toMatchObject({ confidence: 0.9, periods: PERIODS, regime: null });
  });

  it("in a regime, uses only the returns earned in it, the strategy's and its peers'", async () => {
    const reply = await registry.client.forecast({ id: "s-2", regime: "stress", confidence: 0.8 });
    expect(reply.sharpe.raw).toBeCloseTo(metricsOf((returnsOf.get("s-2") as number[]).slice(100)).sharpe, 9);
    expect(reply).toMatchObject({ regime: "stress", periods: 100, confidence: 0.8 });
    await expect(registry.client.forecast({ id: "s-2", regime: "euphoria" })).rejects.toMatchObject({
      code: "INVALID_FIELD",
      field: "body.regime",
    });
  });
});

describe("select", () => {
  it("takes the best by Sharpe but passes over near-duplicates, naming the correlation that decided it", async () => {
    const reply = await registry.client.select({ k: 4, metric: "sharpe", maxCorrelation: 0.8, candidates: 20 });
    const ids = reply.selected.map((s) => s.id);
    const clones = ["star", "star-clone-1", "star-clone-2"];
    expect(ids.filter((id) => clones.includes(id))).toHaveLength(1);
    expect(ids).toHaveLength(4);
    const scores = reply.selected.map((s) => s.score);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    const passed = reply.skipped.filter((s) => s.reason === "correlation");
    expect(passed.map((s) => s.id).sort()).toEqual(clones.filter((c) => !ids.includes(c)).sort());
    for (const skip of passed) {
      const expected = correlation(returnsOf.get(skip.id) as number[], returnsOf.get(skip.with as string) as number[]);
      expect(skip.correlation).toBeCloseTo(expected, 9);
      expect(skip.correlation).toBeGreaterThan(0.8);
    }
    for (const chosen of reply.selected) {
      for (const [other, r] of Object.entries(chosen.correlations)) {
        expect(r).toBeCloseTo(correlation(returnsOf.get(chosen.id) as number[], returnsOf.get(other) as number[]), 9);
        expect(r as number).toBeLessThanOrEqual(0.8);
      }
    }
  });

  it("with a cap of 1 keeps the plain top k; a minimum PSR passes over the unproven", async () => {
    const top = await registry.client.top({ metric: "sharpe", k: 3, minPeriods: 2 });
    const loose = await registry.client.select({ k: 3, maxCorrelation: 1 });
    expect(loose.selected.map((s) => s.id)).toEqual(top.entries.map((e) => e.id));
    const strict = await registry.client.select({ k: 3, family: "noisy", minPsr: 0.99 });
    for (const s of strict.selected) expect(s.psr).toBeGreaterThanOrEqual(0.99);
    for (const s of strict.skipped.filter((x) => x.reason === "psr")) expect(s.psr ?? 0).toBeLessThan(0.99);
  });
});
