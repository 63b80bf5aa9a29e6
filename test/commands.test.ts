/**
 * Exactly-once commands and backpressure, with real shard processes: a command
 * id is scoped to its partition; a retry is recognised after thousands of other
 * commands and after a restart, and answered with the first reply; a partition
 * flooded far past its queue bound answers OVERLOADED and keeps serving.
 */
import { DeliverPolicy, jetstream } from "@nats-io/jetstream";
import { clusterStatus } from "@stratreg/client";
import { decode, encode, PROTOCOL_VERSION, type Reply, readLogEntry, type Strategy } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { startRegistry, type TestRegistry, waitForServing } from "./support/registry.js";

const PARTITIONS = 8;
const MEMBERS = ["c-1", "c-2"];
const QUEUE_MAX = 16;
let registry: TestRegistry;
let cluster: string;

beforeAll(async () => {
  cluster = uniqueClusterName("cmd");
  registry = await startRegistry(inject("natsUrl"), cluster, MEMBERS, {
    partitions: PARTITIONS,
    env: { STRATREG_QUEUE_MAX: String(QUEUE_MAX) },
  });
});
afterAll(async () => {
  await registry?.close();
});

/** An id of `partition` not used before, from `prefix`. */
function idIn(partition: number, prefix: string, skip = 0): string {
  let found = 0;
  for (let i = 0; ; i++) {
    const id = `${prefix}-${i}`;
    if (registry.client.partitionOf(id) === partition && found++ === skip) return id;
  }
}

/** How many log entries of each partition carry `cid`. */
async function entriesWithCid(cid: string): Promise<Map<number, number>> {
  const consumer = await jetstream(registry.nc).consumers.get(`${cluster}-log`, { deliver_policy: DeliverPolicy.All });
  let remaining = (await consumer.info()).num_pending;
  const counts = new Map<number, number>();
  while (remaining > 0) {
    const batch = await consumer.fetch({ max_messages: Math.min(remaining, 500), expires: 5000 });
    for await (const msg of batch) {
      remaining--;
      if (readLogEntry(Buffer.from(msg.data)).cid !== cid) continue;
      const p = Number(msg.subject.slice(msg.subject.lastIndexOf(".") + 1));
      counts.set(p, (counts.get(p) ?? 0) + 1);
    }
  }
  return counts;
}

test("the same command id in two partitions is two commands: both strategies are stored", async () => {
  const x = idIn(1, "scope-x");
  const y = idIn(2, "scope-y");
  const first = await registry.client.register({ id: x, name: "X", owner: "o" }, { cid: "shared-cid" });
  const second = await registry.client.register({ id: y, name: "Y", owner: "o" }, { cid: "shared-cid" });
  expect(first).toMatchObject({ id: x, name: "X", version: 1 });
  expect(second).toMatchObject({ id: y, name: "Y", version: 1 });
  expect(await registry.client.get(y)).toMatchObject({ id: y, name: "Y" });
  const updated = await registry.client.update(x, 1, { name: "X2" }, { cid: "shared-update" });
  const other = await registry.client.update(y, 1, { name: "Y2" }, { cid: "shared-update" });
  expect([updated.name, other.name]).toEqual(["X2", "Y2"]);
  expect(await entriesWithCid("shared-cid")).toEqual(
    new Map([
      [1, 1],
      [2, 1],
    ]),
  );
});

test("a retry after 5,000 other commands and after a restart of every shard is answered with the first reply, applied once", async () => {
  const id = idIn(3, "retry");
  const registered = await registry.client.register({ id, name: "R", owner: "o" }, { cid: "retry-register" });
  const updated = await registry.client.update(id, 1, { name: "R2" }, { cid: "retry-update" });
  expect(updated.version).toBe(2);

  // 5,000 other commands, many of them in the same partition.
  const others = Array.from({ length: 5000 }, (_, i) => `other-${i}`);
  let next = 0;
  await Promise.all(
    Array.from({ length: 64 }, async () => {
      while (next < others.length) {
        const other = others[next++] as string;
        await registry.client.register({ id: other, name: other, owner: "o" });
      }
    }),
  );
  const again = await registry.client.update(id, 1, { name: "R2" }, { cid: "retry-update" });
  expect(again).toEqual(updated);

  // Every shard restarts: the command window comes back from the log and snapshots.
  await Promise.all([...registry.shards.values()].map((s) => s.kill("SIGKILL")));
  for (const member of MEMBERS) registry.startShard(member);
  await waitForServing(registry.nc, cluster, PARTITIONS, MEMBERS);
  expect(await registry.client.register({ id, name: "R", owner: "o" }, { cid: "retry-register" })).toEqual(registered);
  expect(await registry.client.update(id, 1, { name: "R2" }, { cid: "retry-update" })).toEqual(updated);
  expect(await registry.client.get(id)).toMatchObject({ version: 2, name: "R2" });
  expect(await entriesWithCid("retry-update")).toEqual(new Map([[3, 1]]));
});

test("a write first issued longer ago than the command window is refused, not applied; one from the future too", async () => {
  const id = idIn(4, "expired");
  const send = async (issued: number, cid: string) =>
    decode(
      (
        await registry.nc.request(
          registry.client.subjects.partition(4, "register"),
          encode({ v: PROTOCOL_VERSION, cid, issued, body: { strategy: { id, name: id, owner: "o" } } }),
          { timeout: 5000 },
        )
      ).data,
    ) as Reply<unknown>;
  expect(await send(Date.now() - 7 * 3_600_000, "too-old")).toMatchObject({
    ok: false,
    error: { code: "COMMAND_EXPIRED", retryable: false },
  });
  expect(await send(Date.now() + 3_600_000, "too-new")).toMatchObject({
    ok: false,
    error: { code: "INVALID_FIELD", field: "issued" },
  });
  await expect(registry.client.get(id)).rejects.toMatchObject({ code: "NOT_FOUND" });
  // The client's own retry of a failed batch keeps its first cid and issued, and is answered once.
  const first = await registry.client.register(
    { id, name: id, owner: "o" },
    { cid: "kept", issued: Date.now() - 1000 },
  );
  expect(
    await registry.client.register({ id, name: id, owner: "o" }, { cid: "kept", issued: Date.now() - 1000 }),
  ).toEqual(first);
});

test("a partition flooded far past its queue bound answers OVERLOADED at once, stays small, and serves on", async () => {
  const partition = 5;
  const before = (await clusterStatus(registry.nc, cluster, PARTITIONS, 300)).shards;
  const rssBefore = Math.max(...before.map((s) => s.rss));
  const subject = registry.client.subjects.partition(partition, "register");
  const flood = Array.from({ length: 2000 }, (_, i) => {
    const id = idIn(partition, "flood", i);
    const payload = encode({
      v: PROTOCOL_VERSION,
      cid: `flood-${i}`,
      issued: Date.now(),
      body: { strategy: { id, name: id, owner: "o" } },
    });
    return registry.nc
      .request(subject, payload, { timeout: 60_000 })
      .then((msg) => decode(msg.data) as Reply<{ strategy: Strategy }>);
  });
  const replies = await Promise.all(flood);
  const codes = new Map<string, number>();
  for (const reply of replies) {
    const code = reply.ok ? "OK" : reply.error.code;
    codes.set(code, (codes.get(code) ?? 0) + 1);
  }
  expect(codes.get("OVERLOADED") ?? 0).toBeGreaterThan(1000);
  expect(codes.get("OK") ?? 0).toBeGreaterThanOrEqual(QUEUE_MAX);
  expect([...codes.keys()].sort()).toEqual(["OK", "OVERLOADED"]);
  const overloaded = replies.find((r) => !r.ok);
  expect(overloaded).toMatchObject({
    ok: false,
    error: { retryable: true, details: { retryAfterMs: expect.any(Number) } },
  });

  const after = await clusterStatus(registry.nc, cluster, PARTITIONS, 300);
  expect(after.shards.map((s) => s.member).sort()).toEqual(MEMBERS);
  expect(Math.max(...after.shards.map((s) => s.rss))).toBeLessThan(rssBefore + 200 * 1024 * 1024);
  expect(after.shards.reduce((n, s) => n + (s.overloaded ?? 0), 0)).toBe(codes.get("OVERLOADED"));
  // Serves on: the client's retries (honouring the suggested delay) get every refused one in.
  const refused = replies.flatMap((r, i) => (r.ok ? [] : [idIn(partition, "flood", i)]));
  const result = await registry.client.registerMany(
    refused.map((id) => ({ id, name: id, owner: "o" })),
    {
      batchSize: 1,
      concurrency: 64,
      timeoutMs: 60_000,
    },
  );
  expect(result.failed).toEqual([]);
  expect(result.registered).toBe(refused.length);
});
