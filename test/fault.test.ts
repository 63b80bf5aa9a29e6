/**
 * Fault tests with real processes: a shard is killed with SIGKILL in the middle
 * of a registration burst and restarted; then every shard is killed at once and
 * restarted. Every strategy whose registration was acknowledged is still there,
 * each applied exactly once.
 */
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import type { StrategyInput } from "@stratreg/client";
import { decodeLogEntry } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry, waitForServing } from "./support/registry.js";

const PARTITIONS = 16;
let registry: TestRegistry;
let cluster: string;

beforeAll(async () => {
  cluster = uniqueClusterName("fault");
  registry = await startRegistry(inject("natsUrl"), cluster, ["shard-1", "shard-2"], { partitions: PARTITIONS });
});
afterAll(async () => {
  await registry?.close();
});

const strategy = (id: string): StrategyInput => ({ id, name: `Burst ${id}`, owner: "fault-test", tags: ["burst"] });

/** Registers strategies from `workers` concurrent writers until `stop()`; records what was acknowledged. */
function burst(prefix: string, workers: number) {
  const acknowledged = new Set<string>();
  const failures: unknown[] = [];
  let running = true;
  let n = 0;
  const writer = async (w: number) => {
    while (running) {
      const i = n++;
      try {
        if (w % 2 === 0) {
          const id = `${prefix}-${i}`;
          await registry.client.register(strategy(id), { timeoutMs: 20_000 });
          acknowledged.add(id);
        } else {
          // A batch of one partition: ids chosen to share the first one's partition.
          const first = `${prefix}-${i}-0`;
          const p = registry.client.partitionOf(first);
          const ids = [first];
          for (let k = 1; ids.length < 20; k++)
            if (registry.client.partitionOf(`${prefix}-${i}-${k}`) === p) ids.push(`${prefix}-${i}-${k}`);
          const reply = await registry.client.registerBatch(ids.map(strategy), { timeoutMs: 20_000 });
          if (reply.rejected.length > 0) failures.push(reply.rejected);
          for (const id of ids) acknowledged.add(id);
        }
      } catch (err) {
        failures.push(err);
      }
    }
  };
  const done = Promise.all(Array.from({ length: workers }, (_, w) => writer(w)));
  return {
    acknowledged,
    failures,
    stop: async () => {
      running = false;
      await done;
    },
  };
}

/** How many times each id was written into the log by a registration. */
async function registrationsInLog(): Promise<Map<string, number>> {
  const js = jetstream(registry.nc);
  const consumer = await js.consumers.get(`${cluster}-log`, { deliver_policy: DeliverPolicy.All });
  const info = await consumer.info();
  const counts = new Map<string, number>();
  let remaining = info.num_pending;
  while (remaining > 0) {
    const batch = await consumer.fetch({ max_messages: Math.min(remaining, 200), expires: 5000 });
    for await (const msg of batch) {
      remaining--;
      const entry = decodeLogEntry(msg.data);
      if (entry.op === "register" || entry.op === "register-batch") {
        for (const id of entry.ids) counts.set(id, (counts.get(id) ?? 0) + 1);
      }
    }
  }
  return counts;
}

async function expectAllPresent(ids: Set<string>): Promise<void> {
  const { strategies, missing } = await registry.client.getMany([...ids], { timeoutMs: 20_000 });
  expect(missing).toEqual([]);
  expect(strategies).toHaveLength(ids.size);
  for (const s of strategies) expect(s).toMatchObject({ version: 1, state: "candidate", name: `Burst ${s.id}` });
}

it("keeps every acknowledged registration when a shard is SIGKILLed mid-burst and restarted", async () => {
  const load = burst("k1", 12);
  await new Promise((r) => setTimeout(r, 700));
  const before = load.acknowledged.size;
  await registry.shards.get("shard-1")?.kill("SIGKILL");
  // The survivor notices the silence, takes the partitions, and the burst goes on.
  await waitForServing(registry.nc, cluster, PARTITIONS, ["shard-2"]);
  await new Promise((r) => setTimeout(r, 500));
  registry.startShard("shard-1");
  await waitForServing(registry.nc, cluster, PARTITIONS, ["shard-1", "shard-2"]);
  await new Promise((r) => setTimeout(r, 500));
  await load.stop();

  expect(before).toBeGreaterThan(0);
  expect(load.acknowledged.size).toBeGreaterThan(before);
  // Retries during the hand-over carried the same command ids: nobody was told ALREADY_EXISTS for their own write.
  expect(load.failures).toEqual([]);
  await expectAllPresent(load.acknowledged);
  const written = await registrationsInLog();
  for (const id of load.acknowledged) expect(written.get(id), id).toBe(1);
});

it("recovers everything from the logs when every shard is SIGKILLed at once", async () => {
  const load = burst("k2", 8);
  await new Promise((r) => setTimeout(r, 500));
  await load.stop();
  const all = new Set(load.acknowledged);
  expect(all.size).toBeGreaterThan(0);
  await Promise.all([...registry.shards.values()].map((s) => s.kill("SIGKILL")));
  registry.startShard("shard-1");
  registry.startShard("shard-2");
  await waitForServing(registry.nc, cluster, PARTITIONS, ["shard-1", "shard-2"]);
  await expectAllPresent(all);
  // Writes work after recovery and are fenced on the recovered log heads.
  expect((await registry.client.register(strategy("after-recovery"))).version).toBe(1);
});
