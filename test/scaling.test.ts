/**
 * Elastic scaling under load: two shards join and one is drained while 8
 * clients write and read. Only the partitions rendezvous hashing gives the
 * newcomers move (the others keep their owner and epoch), every move is a
 * graceful hand-off, and the clients see no error at all.
 */
import { clusterStatus } from "@stratreg/client";
import { assignPartitions, decode, encode, PROTOCOL_VERSION, type Reply } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, expect, inject, test } from "vitest";
import { startRegistry, type TestRegistry, waitForServing } from "./support/registry.js";
import { startWorkload } from "./support/workload.js";

const PARTITIONS = 32;
let registry: TestRegistry | undefined;

afterAll(async () => {
  await registry?.close();
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Owner and epoch of every partition. */
async function placement(r: TestRegistry, cluster: string): Promise<Map<number, { member: string; epoch: number }>> {
  const out = new Map<number, { member: string; epoch: number }>();
  for (const shard of (await clusterStatus(r.nc, cluster, PARTITIONS, 300)).shards) {
    for (const p of shard.partitions ?? []) {
      if (p.state === "serving") out.set(p.partition, { member: shard.member, epoch: p.epoch });
    }
  }
  return out;
}

/** Partitions whose owner or epoch changed between two placements. */
function moved(
  before: Map<number, { member: string; epoch: number }>,
  after: Map<number, { member: string; epoch: number }>,
) {
  const out: number[] = [];
  for (const [p, now] of after) {
    const then = before.get(p);
    if (then?.member !== now.member || then.epoch !== now.epoch) out.push(p);
  }
  return out.sort((a, b) => a - b);
}

/** Partitions whose rendezvous owner differs between two member sets. */
function expectedMoves(from: string[], to: string[]): number[] {
  const a = assignPartitions(PARTITIONS, from);
  const b = assignPartitions(PARTITIONS, to);
  return a.flatMap((owner, p) => (owner === b[p] ? [] : [p]));
}

test("two shards join and one is drained under load: only the rendezvous moves happen, clients see no error", async () => {
  const cluster = uniqueClusterName("scale");
  registry = await startRegistry(inject("natsUrl"), cluster, ["g-1", "g-2"], { partitions: PARTITIONS });
  const r = registry;
  const workload = startWorkload(r.client, { workers: 8, idsPerWorker: 8, prefix: "e" });
  await sleep(800);

  const initial = await placement(r, cluster);
  r.startShard("g-3");
  r.startShard("g-4");
  const four = ["g-1", "g-2", "g-3", "g-4"];
  await waitForServing(r.nc, cluster, PARTITIONS, four);
  const grown = await placement(r, cluster);
  expect(moved(initial, grown)).toEqual(expectedMoves(["g-1", "g-2"], four));
  for (const [p, { member }] of grown) expect(member).toBe(assignPartitions(PARTITIONS, four)[p]);
  await sleep(800);

  // A drain request that is not a versioned envelope is refused, and drains nothing.
  const refused = decode(
    (await r.nc.request(`${cluster}.control.drain.g-3`, encode({ v: 9 }), { timeout: 5000 })).data,
  );
  expect(refused).toMatchObject({ ok: false, error: { code: "UNSUPPORTED_VERSION" } });
  expect(r.shards.get("g-3")?.running).toBe(true);

  // An operator drains g-3: it hands everything off and exits.
  const drained = r.shards.get("g-3");
  const reply = decode(
    (await r.nc.request(`${cluster}.control.drain.g-3`, encode({ v: PROTOCOL_VERSION, body: {} }), { timeout: 5000 }))
      .data,
  ) as Reply<{ member: string; partitions: number }>;
  expect(reply).toMatchObject({ ok: true, body: { member: "g-3" } });
  expect((await drained?.exited)?.code).toBe(0);
  const three = ["g-1", "g-2", "g-4"];
  await waitForServing(r.nc, cluster, PARTITIONS, three);
  const shrunk = await placement(r, cluster);
  expect(moved(grown, shrunk)).toEqual(expectedMoves(four, three));
  await sleep(800);

  await workload.stop();
  const report = await workload.history.check(
    async (ids) => (await r.client.getMany(ids, { timeoutMs: 30_000 })).strategies,
  );
  expect(report.ok, report.summary()).toBe(true);
  const { byKind } = report.stats;
  // Not one error reached a client: every call succeeded within its deadline.
  for (const kind of ["register", "update", "read"] as const) {
    expect({ kind, fail: byKind[kind].fail, unknown: byKind[kind].unknown }).toEqual({ kind, fail: 0, unknown: 0 });
  }
  expect(byKind.update.ok).toBeGreaterThan(100);
});
