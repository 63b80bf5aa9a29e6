/**
 * Search end to end: real shards, a real search process following their logs,
 * queried through the SDK as a trading service or an operator would.
 */

import { fileURLToPath } from "node:url";
import {
  NotFoundError,
  type StrategyInput,
  StratregClient,
  type StratregError,
  ValidationError,
} from "@stratreg/client";
import { decode, ErrorCodes, encode, PROTOCOL_VERSION, type Reply } from "@stratreg/protocol";
import { type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FAST_MEMBERSHIP, startRegistry, supersedeOnce, type TestRegistry } from "./support/registry.js";

const SEARCH_MAIN = fileURLToPath(new URL("../services/search/dist/main.js", import.meta.url));
const PARTITIONS = 16;
let registry: TestRegistry;
let cluster: string;
let search: ServiceProcess;

const topics: Array<[string, string, string[]]> = [
  ["Momentum breakout", "Buys twelve-month winners after a breakout above the channel", ["momentum", "trend"]],
  [
    "Mean reversion on pairs",
    "Trades the spread of cointegrated pairs back to its mean",
    ["mean-reversion", "stat-arb"],
  ],
  ["Volatility carry", "Sells implied volatility against realised, delta hedged", ["volatility", "carry"]],
  ["Funding basis", "Captures perpetual funding against the spot basis on crypto venues", ["crypto", "carry"]],
];

function startSearch(member: string): ServiceProcess {
  return spawnService({
    entry: SEARCH_MAIN,
    name: member,
    env: {
      NATS_URL: inject("natsUrl"),
      STRATREG_CLUSTER: cluster,
      STRATREG_SEARCH_ID: member,
      STRATREG_SEARCH_PROBE_MS: "20",
      LOG_LEVEL: "info",
    },
  });
}

beforeAll(async () => {
  cluster = uniqueClusterName("search");
  registry = await startRegistry(inject("natsUrl"), cluster, ["shard-a", "shard-b"], {
    partitions: PARTITIONS,
    env: { ...FAST_MEMBERSHIP, STRATREG_SNAPSHOT_MIN_BYTES: "4096" },
  });
  const strategies: StrategyInput[] = Array.from({ length: 200 }, (_, i) => {
    const [name, description, tags] = topics[i % topics.length] as [string, string, string[]];
    return {
      id: `s-${String(i).padStart(3, "0")}`,
      name: `${name} ${i}`,
      description,
      tags,
      owner: i % 2 === 0 ? "desk-a" : "desk-b",
      family: `fam-${i % 5}`,
      template: { id: "band", params: { lookback: 10 + (i % 30), threshold: (i % 7) / 2 } },
    };
  });
  await registry.client.registerMany(strategies);
  // Every partition snapshots; search loads from the snapshots and the log after them.
  await supersedeOnce(
    registry,
    cluster,
    strategies.map((s) => s.id),
  );
  search = startSearch("search-1");
  await search.waitForLog((_line, json) => json?.msg === "search loaded every partition", 30_000);
});
afterAll(async () => {
  // Nothing the logs carried was refused by the index.
  expect(search.logs().filter((line) => line.includes("could not be applied"))).toEqual([]);
  await search?.kill("SIGTERM").catch(() => undefined);
  await registry?.close();
});

describe("filters", () => {
  it("answers the filter language across every shard, in id order, with each result's version", async () => {
    const reply = await registry.client.search({
      filter: "(family = 'fam-1' OR family = 'fam-2') AND NOT owner = 'desk-a' AND param.lookback >= 20",
      limit: 1000,
    });
    const expected = Array.from({ length: 200 }, (_, i) => i)
      .filter((i) => (i % 5 === 1 || i % 5 === 2) && i % 2 === 1 && 10 + (i % 30) >= 20)
      .map((i) => `s-${String(i).padStart(3, "0")}`);
    expect(reply.hits.map((h) => h.id)).toEqual(expected);
    expect(reply.total).toBe(expected.length);
    expect(reply.hits.every((h) => h.version === 2)).toBe(true);
    expect(reply.member).toBe("search-1");
    expect(reply.lag.ms).not.toBeNull();
  });

  it("pages through matches with offset and next, and orders by a field", async () => {
    const filter = "tags IN ('carry') ORDER BY name DESC";
    const first = await registry.client.search({ filter, limit: 30 });
    expect(first.total).toBe(100);
    expect(first.next).toBe(30);
    const pages = [first];
    while (pages.at(-1)?.next != null) {
      pages.push(await registry.client.search({ filter, limit: 30, offset: pages.at(-1)?.next as number }));
    }
    const ids = pages.flatMap((p) => p.hits.map((h) => h.id));
    expect(new Set(ids).size).toBe(100);
    const all = await registry.client.search({ filter, limit: 1000, strategies: true });
    expect(all.hits.map((h) => h.id)).toEqual(ids);
    const names = all.hits.map((h) => (h.strategy as { name: string }).name);
    expect(names).toEqual([...names].sort().reverse());
  });

  it("points at the position of a filter that does not parse, and keeps serving", async () => {
    const err = await registry.client.search({ filter: "sharpe > 'high'" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ValidationError);
    expect((err as StratregError).code).toBe(ErrorCodes.InvalidQuery);
    expect((err as StratregError).details).toMatchObject({ position: 9, line: 1, column: 10 });
    const unknown = await registry.client.search({ filter: "colour = 'red'" }).catch((e: unknown) => e);
    expect((unknown as StratregError).code).toBe(ErrorCodes.InvalidQuery);
    expect((await registry.client.search({ filter: "id = 's-001'" })).hits.map((h) => h.id)).toEqual(["s-001"]);
  });

  it("refuses bad requests with stable codes", async () => {
    const ask = async (body: unknown) => {
      const msg = await registry.nc.request(`${cluster}.search.query`, encode({ v: PROTOCOL_VERSION, body }), {
        timeout: 5000,
      });
      return decode(msg.data) as Reply<unknown>;
    };
    expect(await ask({ colour: "red" })).toMatchObject({ ok: false, error: { code: ErrorCodes.UnknownField } });
    expect(await ask({ limit: 0 })).toMatchObject({ ok: false, error: { code: ErrorCodes.InvalidField } });
    const bytes = await registry.nc.request(`${cluster}.search.query`, new Uint8Array([0xc1]), { timeout: 5000 });
    expect(decode(bytes.data)).toMatchObject({ ok: false, error: { code: ErrorCodes.Malformed } });
  });
});

describe("full text and similarity", () => {
  it("finds strategies by words with typos, by relevance", async () => {
    const reply = await registry.client.search({ text: "cointegrated spred", limit: 5, strategies: true });
    expect(reply.hits.length).toBe(5);
    for (const hit of reply.hits) expect((hit.strategy as { name: string }).name).toMatch(/^Mean reversion/);
    const scores = reply.hits.map((h) => h.score as number);
    expect(scores).toEqual([...scores].sort((a, b) => b - a));
    // Funding strategies are every fourth, all on desk-b.
    expect((await registry.client.search({ text: "funding", limit: 100 })).total).toBe(50);
    expect((await registry.client.search({ text: "funding", filter: "owner = 'desk-b'" })).total).toBe(50);
    expect((await registry.client.search({ text: "funding", filter: "owner = 'desk-a'" })).total).toBe(0);
  });

  it("finds strategies like one by content", async () => {
    const reply = await registry.client.similar({ id: "s-002", k: 5 });
    expect(reply.by).toBe("content");
    expect(reply.hits.map((h) => h.id)).not.toContain("s-002");
    for (const hit of reply.hits) expect(Number(hit.id.slice(2)) % 4).toBe(2);
    await expect(registry.client.similar({ id: "no-such" })).rejects.toBeInstanceOf(NotFoundError);
  });

  it("finds strategies that move together by returns", async () => {
    const times = Array.from({ length: 40 }, (_, i) => 1_700_000_000_000 + i * 86_400_000);
    const base = times.map((_, i) => Math.sin(i * 1.7) / 100);
    const noise = times.map((_, i) => Math.cos(i * 2.3) / 100);
    await registry.client.report([
      { id: "s-010", seq: 1, times, returns: base },
      { id: "s-011", seq: 1, times, returns: base.map((r, i) => r * 0.9 + (noise[i] as number) * 0.1) },
      { id: "s-012", seq: 1, times, returns: noise },
    ]);
    await waitFor(async () => (await registry.client.searchStatus()).withReturns >= 3);
    const reply = await registry.client.similar({ id: "s-010", by: "returns", k: 2 });
    expect(reply.hits[0]).toMatchObject({ id: "s-011", overlap: 40 });
    expect(reply.hits[0]?.score).toBeGreaterThan(0.9);
    // And the metrics the reports made are filterable.
    const sharpe = await registry.client.search({ filter: "sharpe IS NOT NULL ORDER BY sharpe DESC" });
    expect(sharpe.hits.map((h) => h.id).sort()).toEqual(["s-010", "s-011", "s-012"]);
  });
});

describe("following the logs", () => {
  it("sees writes within its lag, and a second process answers the same", async () => {
    const current = await registry.client.get("s-100");
    await registry.client.update("s-100", current.version, { family: "fam-new", tags: ["renamed"] });
    await waitFor(async () => (await registry.client.search({ filter: "family = 'fam-new'" })).total === 1, {
      message: `search to see the update${search.logs().slice(-20).join("\n")}`,
    });
    const hit = (await registry.client.search({ filter: "tags = 'renamed'" })).hits[0];
    expect(hit).toMatchObject({ id: "s-100", version: current.version + 1 });

    const second = startSearch("search-2");
    try {
      await second.waitForLog((_line, json) => json?.msg === "search loaded every partition", 30_000);
      // NATS hands each attempt to a queue member at random, the paused one included, and an
      // attempt there waits out its timeout: short attempts make the retries reach search-2 (with
      // the default 2 s attempts, 15 s gave seven tries, all to the paused member about once in 128 runs).
      const patient = await StratregClient.connect(registry.nc, {
        cluster,
        partitions: PARTITIONS,
        timeoutMs: 15_000,
        retry: { attemptTimeoutMs: 250, maxBackoffMs: 50 },
      });
      search.pause();
      const reply = await patient.search({ filter: "family = 'fam-new'" });
      expect(reply).toMatchObject({ member: "search-2", total: 1 });
    } finally {
      search.resume();
      await second.kill("SIGTERM");
    }
  });
});

describe("a family's members", () => {
  it("lists them by the family's exact name, quotes and backslashes included", async () => {
    const family = "desk's \\ odd family";
    await registry.client.registerMany([
      { id: "fam-odd-1", name: "odd 1", owner: "desk-a", family },
      { id: "fam-odd-2", name: "odd 2", owner: "desk-a", family },
      { id: "fam-odd-3", name: "odd 3", owner: "desk-a", family: "desk's" },
    ]);
    await waitFor(async () => (await registry.client.familyMembers(family)).length === 2, {
      message: "search to see the family",
    });
    expect((await registry.client.familyMembers(family)).sort()).toEqual(["fam-odd-1", "fam-odd-2"]);
    expect(await registry.client.familyMembers("desk's")).toEqual(["fam-odd-3"]);
    expect(await registry.client.familyMembers("nobody's")).toEqual([]);
  });
});
