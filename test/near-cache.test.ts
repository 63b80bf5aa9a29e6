/**
 * The SDK's near-cache against real shards: loaded from snapshots and the log,
 * current after writes, read-your-writes through its own client, every mode.
 */
import { connect } from "@nats-io/transport-node";
import { type NearCache, NotFoundError, type StrategyInput, StratregClient } from "@stratreg/client";
import { type ServiceProcess, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { graphLeading, startGraph } from "./support/graph.js";
import { FAST_MEMBERSHIP, startRegistry, supersedeOnce, type TestRegistry } from "./support/registry.js";

const PARTITIONS = 16;
let registry: TestRegistry;
let graph: ServiceProcess;
const caches: NearCache[] = [];

const strategy = (id: string, extra: Partial<StrategyInput> = {}): StrategyInput => ({
  id,
  name: `Near ${id}`,
  owner: "quant-near",
  ...extra,
});

async function open(options: Parameters<StratregClient["nearCache"]>[0], client = registry.client) {
  const cache = await client.nearCache(options);
  caches.push(cache);
  return cache;
}

beforeAll(async () => {
  const cluster = uniqueClusterName("near");
  registry = await startRegistry(inject("natsUrl"), cluster, ["shard-a", "shard-b"], {
    partitions: PARTITIONS,
    // Small snapshots, so that loading a cache reads snapshots and the log after them.
    env: { ...FAST_MEMBERSHIP, STRATREG_SNAPSHOT_MIN_BYTES: "4096" },
  });
  const strategies = Array.from({ length: 400 }, (_, i) =>
    strategy(`nc-${i}`, { family: i % 4 === 0 ? "fam-a" : "fam-b", tags: [`t${i % 3}`] }),
  );
  await registry.client.registerMany(strategies);
  await supersedeOnce(
    registry,
    cluster,
    strategies.map((s) => s.id),
  );
  // Dependencies are edges the graph service adds.
  graph = startGraph(inject("natsUrl"), cluster, "near-graph");
  await graphLeading(graph);
});
afterAll(async () => {
  await graph?.kill("SIGKILL").catch(() => undefined);
  await Promise.all(caches.map((c) => c.close()));
  await registry?.close();
});

describe("a near-cache of everything", () => {
  it("holds every strategy, answering lookups locally with the version the shards hold", async () => {
    const cache = await open({ all: true });
    expect(cache.stats().strategies).toBe(400);
    for (let i = 0; i < 400; i += 37) {
      const local = cache.lookup(`nc-${i}`);
      const remote = await registry.client.get(`nc-${i}`);
      expect(local).toEqual(remote);
      expect(Object.isFrozen(local)).toBe(true);
    }
    expect(cache.lookup("nc-none")).toBeUndefined();
    expect(cache.lag().ms).toBeLessThan(1000);
  });

  it("never answers an older version after a write through its own client", async () => {
    const cache = await open({ all: true });
    for (let i = 0; i < 20; i++) {
      const id = `nc-${i * 7}`;
      const current = await registry.client.get(id);
      const updated = await registry.client.update(id, current.version, { description: `edit ${i}` });
      const local = cache.lookup(id);
      if (local !== undefined) expect(local.version).toBeGreaterThanOrEqual(updated.version);
      expect((await cache.get(id)).version).toBeGreaterThanOrEqual(updated.version);
    }
    // And the log brings the new versions in.
    await waitFor(() => cache.lookup("nc-133")?.description === "edit 19");
  });

  it("after a batch through its own client, waits for the strategies it registered, not for those it refused", async () => {
    const cache = await open({ all: true });
    const kept = "nc-5";
    const p = registry.client.partitionOf(kept);
    let fresh = "nc-batch-0";
    for (let i = 1; registry.client.partitionOf(fresh) !== p; i++) fresh = `nc-batch-${i}`;
    await waitFor(() => cache.lookup(kept) !== undefined);
    const reply = await registry.client.registerBatch([strategy(fresh), strategy(kept)]);
    expect(reply.registered).toBe(1);
    expect(reply.rejected.map((r) => r.id)).toEqual([kept]);
    // Nothing is owed for the refused one: it answers at once, as before the batch.
    expect(cache.lookup(kept)?.id).toBe(kept);
    // The registered one is owed until the log brings it: never "not there" once it answers.
    await waitFor(() => cache.lookup(fresh) !== undefined, { timeoutMs: 2000 });
    expect(cache.lookup(fresh)).toMatchObject({ id: fresh, version: 1 });
  });

  it("sees writes of other clients within the lag bound", async () => {
    const cache = await open({ all: true });
    const nc = await connect({ servers: inject("natsUrl") });
    const other = await StratregClient.connect(nc, { cluster: registry.client.config.cluster });
    await other.register(strategy("nc-other"));
    await waitFor(() => cache.lookup("nc-other") !== undefined, { timeoutMs: 2000 });
    await nc.close();
  });
});

describe("what a near-cache cannot answer", () => {
  it("goes to the shards, counts hits and misses, and answers nothing once closed", async () => {
    const cache = await open({ ids: ["nc-1"] });
    expect(cache.lookup("nc-1")?.id).toBe("nc-1");
    expect(cache.lookup("nc-2")).toBeUndefined();
    // Not kept here: the shards answer, and a strategy nobody has is NOT_FOUND from them.
    expect((await cache.get("nc-2")).id).toBe("nc-2");
    await expect(cache.get("nc-none")).rejects.toBeInstanceOf(NotFoundError);
    // A write of a strategy this cache does not keep leaves nothing owed: the kept one still answers.
    const other = await registry.client.get("nc-2");
    await registry.client.update("nc-2", other.version, { description: "not cached here" });
    expect(cache.lookup("nc-1")?.id).toBe("nc-1");
    const stats = cache.stats();
    expect(stats).toMatchObject({ strategies: 1, refused: 0, evicted: 0 });
    expect(stats.hits).toBeGreaterThanOrEqual(2);
    expect(stats.misses).toBeGreaterThanOrEqual(3);
    expect(stats.bytes).toBeGreaterThan(0);
    await cache.close();
    expect(cache.lookup("nc-1")).toBeUndefined();
  });

  it("refuses strategies past maxBytes, and a family cache owes nothing for non-members", async () => {
    const small = await open({ all: true, maxBytes: 20_000 });
    expect(small.stats().refused).toBeGreaterThan(0);
    expect(small.stats().bytes).toBeLessThanOrEqual(20_000);
    const family = await open({ families: ["fam-a"] });
    const outsider = await registry.client.get("nc-3");
    await registry.client.update("nc-3", outsider.version, { description: "outside the family" });
    expect(family.lookup("nc-4")?.family).toBe("fam-a");
    expect(family.lookup("nc-3")).toBeUndefined();
  });
});

describe("selective near-caches", () => {
  it("keeps only the partitions, families or ids asked for", async () => {
    const byPartition = await open({ partitions: [registry.client.partitionOf("nc-1")] });
    expect(byPartition.lookup("nc-1")?.id).toBe("nc-1");
    const other = Array.from({ length: 400 }, (_, i) => `nc-${i}`).find(
      (id) => registry.client.partitionOf(id) !== registry.client.partitionOf("nc-1"),
    ) as string;
    expect(byPartition.lookup(other)).toBeUndefined();

    const byFamily = await open({ families: ["fam-a"] });
    expect(byFamily.stats().strategies).toBe(100);
    expect(byFamily.lookup("nc-4")?.family).toBe("fam-a");
    expect(byFamily.lookup("nc-5")).toBeUndefined();

    const byIds = await open({ ids: ["nc-10", "nc-11"] });
    expect(byIds.stats().strategies).toBe(2);
    expect(byIds.lookup("nc-11")?.id).toBe("nc-11");
  });

  it("follows a strategy into and out of a family", async () => {
    const cache = await open({ families: ["fam-a"] });
    const moved = await registry.client.get("nc-9");
    await registry.client.update("nc-9", moved.version, { family: "fam-a" });
    await waitFor(() => cache.lookup("nc-9")?.family === "fam-a");
    const back = await registry.client.get("nc-9");
    await registry.client.update("nc-9", back.version, { family: "fam-b" });
    await waitFor(() => cache.lookup("nc-9") === undefined);
  });

  it("refuses to open with no mode or with two", async () => {
    await expect(registry.client.nearCache({})).rejects.toThrow(/exactly one/);
    await expect(registry.client.nearCache({ all: true, hot: true })).rejects.toThrow(/exactly one/);
  });
});

describe("a hot near-cache", () => {
  it("fetches on first use, then answers locally and follows later writes", async () => {
    const cache = await open({ hot: true, prefetch: { family: false } });
    expect(cache.lookup("nc-20")).toBeUndefined();
    expect((await cache.get("nc-20")).id).toBe("nc-20");
    expect(cache.lookup("nc-20")?.id).toBe("nc-20");
    const current = await registry.client.get("nc-20");
    await registry.client.update("nc-20", current.version, { description: "hot edit" });
    await waitFor(() => cache.lookup("nc-20")?.description === "hot edit");
  });

  it("prefetches dependencies and evicts past maxBytes", async () => {
    await registry.client.register(strategy("nc-deps"));
    await registry.client.link("nc-deps", ["nc-30", "nc-31"], { by: "quant-1" });
    const cache = await open({ hot: true, prefetch: { family: false }, maxBytes: 64 * 1024 });
    await cache.get("nc-deps");
    await waitFor(() => cache.lookup("nc-30") !== undefined && cache.lookup("nc-31") !== undefined);
    for (let i = 100; i < 300; i++) await cache.get(`nc-${i}`);
    const stats = cache.stats();
    expect(stats.bytes).toBeLessThanOrEqual(64 * 1024);
    expect(stats.evicted).toBeGreaterThan(0);
  });
});
