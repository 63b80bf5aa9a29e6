/**
 * A history-checked near-cache: writers update strategies while shards are
 * killed (SIGKILL), restarted and joined (hand-offs), snapshots are taken; two
 * near-caches answer lookups throughout. Every lookup
 * is recorded and checked:
 * - reads never go back in version;
 * - read-your-writes: the cache of the writing client never answers an older
 *   version than one that client had acknowledged;
 * - the lag bound: no answer is older than a write acknowledged more than
 *   `maxLagMs` before the lookup.
 */
import { connect } from "@nats-io/transport-node";
import { ConflictError, type NearCache, StratregClient } from "@stratreg/client";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { FAST_MEMBERSHIP, startRegistry, type TestRegistry, waitForServing } from "./support/registry.js";

const PARTITIONS = 16;
const STRATEGIES = 120;
const MAX_LAG_MS = 500;
let registry: TestRegistry;
let cluster: string;

beforeAll(async () => {
  cluster = uniqueClusterName("nchist");
  registry = await startRegistry(inject("natsUrl"), cluster, ["shard-a", "shard-b", "shard-c"], {
    partitions: PARTITIONS,
    env: { ...FAST_MEMBERSHIP, STRATREG_SNAPSHOT_MIN_BYTES: "2048" },
  });
  await registry.client.registerMany(
    Array.from({ length: STRATEGIES }, (_, i) => ({ id: `h-${i}`, name: `History ${i}`, owner: "quant-h" })),
  );
});
afterAll(async () => {
  await registry?.close();
});

interface Ack {
  id: string;
  version: number;
  at: number;
  own: boolean;
}
interface Read {
  cache: "own" | "other";
  id: string;
  version: number;
  at: number;
}

it("never goes back, reads its own writes and keeps to its lag bound through kills and hand-offs", async () => {
  const ids = Array.from({ length: STRATEGIES }, (_, i) => `h-${i}`);
  const nc = await connect({ servers: inject("natsUrl"), maxReconnectAttempts: -1 });
  const otherClient = await StratregClient.connect(nc, { cluster, timeoutMs: 15_000 });
  const own = await registry.client.nearCache({ all: true, maxLagMs: MAX_LAG_MS });
  const other = await otherClient.nearCache({ all: true, maxLagMs: MAX_LAG_MS });
  const caches: Record<Read["cache"], NearCache> = { own, other };
  const acks: Ack[] = [];
  const reads: Read[] = [];
  let running = true;
  const pick = () => ids[Math.floor(Math.random() * ids.length)] as string;

  const writer = async (client: StratregClient, isOwn: boolean) => {
    while (running) {
      const id = pick();
      try {
        const current = await client.get(id);
        const updated = await client.update(id, current.version, { description: `v${current.version + 1}` });
        const at = performance.now();
        acks.push({ id, version: updated.version, at, own: isOwn });
        if (isOwn) {
          // The read a trading service makes right after its own write.
          const found = own.lookup(id);
          if (found !== undefined) reads.push({ cache: "own", id, version: found.version, at: performance.now() });
        }
      } catch (err) {
        if (!(err instanceof ConflictError) && running) await new Promise((r) => setTimeout(r, 20));
      }
    }
  };
  const reader = async () => {
    while (running) {
      for (const name of ["own", "other"] as const) {
        const id = pick();
        const at = performance.now();
        const found = caches[name].lookup(id);
        if (found !== undefined) reads.push({ cache: name, id, version: found.version, at });
      }
      await new Promise((r) => setImmediate(r));
    }
  };
  const work = Promise.all([
    writer(registry.client, true),
    writer(registry.client, true),
    writer(otherClient, false),
    writer(otherClient, false),
    reader(),
  ]);

  await new Promise((r) => setTimeout(r, 1500));
  await registry.shards.get("shard-b")?.kill("SIGKILL");
  await new Promise((r) => setTimeout(r, 1500));
  registry.startShard("shard-d");
  await new Promise((r) => setTimeout(r, 1500));
  registry.startShard("shard-b");
  await waitForServing(registry.nc, cluster, PARTITIONS, ["shard-a", "shard-b", "shard-c", "shard-d"]);
  await new Promise((r) => setTimeout(r, 1000));
  running = false;
  await work;

  // Enough happened for the checks to mean something.
  expect(acks.length).toBeGreaterThan(100);
  expect(reads.filter((r) => r.cache === "own").length).toBeGreaterThan(1000);
  expect(reads.filter((r) => r.cache === "other").length).toBeGreaterThan(1000);

  const problems: string[] = [];
  // Reads never go back in version, per cache and strategy.
  const last = new Map<string, number>();
  for (const read of reads) {
    const key = `${read.cache}/${read.id}`;
    if (read.version < (last.get(key) ?? 0)) problems.push(`${key} went back to ${read.version}`);
    last.set(key, Math.max(read.version, last.get(key) ?? 0));
  }
  // Read-your-writes and the lag bound, against every acknowledged write.
  const byId = new Map<string, Ack[]>();
  for (const ack of acks) byId.set(ack.id, [...(byId.get(ack.id) ?? []), ack]);
  for (const read of reads) {
    for (const ack of byId.get(read.id) ?? []) {
      if (ack.version <= read.version) continue;
      if (read.cache === "own" && ack.own && ack.at <= read.at) {
        problems.push(`own cache read ${read.id} v${read.version} after its client had v${ack.version}`);
      } else if (ack.at < read.at - MAX_LAG_MS) {
        problems.push(
          `${read.cache} cache read ${read.id} v${read.version} ${Math.round(read.at - ack.at)} ms after v${ack.version}`,
        );
      }
    }
  }
  expect(problems.slice(0, 10)).toEqual([]);

  // Once quiet, both caches hold exactly what the shards hold.
  for (const cache of [own, other]) {
    await waitFor(async () => {
      for (const id of ids) {
        if (cache.lookup(id)?.version !== (await registry.client.get(id)).version) return false;
      }
      return true;
    });
  }
  await own.close();
  await other.close();
  await nc.close();
}, 60_000);
