/**
 * Figures of ownership: recovery of one shard's partitions from snapshots and
 * logs (with no history, and after every strategy was updated many times), and
 * what clients see while a shard joins (each partition's longest wait, and the
 * throughput beside the steady state).
 */
import { performance } from "node:perf_hooks";
import { jetstreamManager } from "@nats-io/jetstream";
import { connect, nuid } from "@nats-io/transport-node";
import { clusterStatus, StratregClient } from "@stratreg/client";
import { decode, encode, PartitionOps, PROTOCOL_VERSION, type Reply } from "@stratreg/protocol";
import { encodedBatches } from "./batches.js";
import { idsOf, PARTITIONS, register, type Server, settled, supervisor } from "./cluster.js";

export interface RecoveryFigures {
  strategies: number;
  updatesEach: number;
  joinGraceMs: number;
  /** Process start to every partition served, no update ever made (s). */
  freshSeconds: number;
  /** The same after `updatesEach` updates of every strategy (s). */
  updatedSeconds: number;
  updatesPerSecond: number;
  /** Log entries of the cluster written, and still in the stream (the command window keeps recent ones). */
  logEntriesWritten: number;
  logEntriesKept: number;
}

/** One shard with `strategies`: recovery time before and after `updatesEach` updates of each. */
export async function recoveryFigures(
  server: Server,
  strategies: number,
  updatesEach: number,
  say: (line: string) => void,
): Promise<RecoveryFigures> {
  const cluster = "bench-recovery";
  const joinGraceMs = 100;
  const env = { STRATREG_JOIN_GRACE_MS: String(joinGraceMs) };
  let shards = supervisor(server, cluster, say, env);
  shards.start("recovery-1");
  const nc = await connect({ servers: server.url, name: "bench-recovery" });
  try {
    const client = await StratregClient.connect(nc, { cluster, timeoutMs: 30_000 });
    await settled(nc, cluster, 1);
    const batches = encodedBatches("rec", PARTITIONS, Math.ceil(strategies / 1000), 1000, false);
    await register(nc, client, batches);
    const restart = async () => {
      await shards.stopAll();
      const began = performance.now();
      shards = supervisor(server, cluster, say, env);
      shards.start("recovery-1");
      return ((await settled(nc, cluster, 1)) - began) / 1000;
    };
    say(`recovery: one shard, ${strategies.toLocaleString("en-US")} strategies, no updates…`);
    const freshSeconds = await restart();

    say(`recovery: ${updatesEach} updates of each strategy…`);
    const ids = idsOf(batches);
    let next = 0;
    const began = performance.now();
    await Promise.all(
      Array.from({ length: 128 }, async () => {
        while (next < ids.length) {
          const id = ids[next++] as string;
          const subject = client.subjects.partition(client.partitionOf(id), PartitionOps.Update);
          for (let k = 1; k <= updatesEach; k++) {
            const payload = encode({
              v: PROTOCOL_VERSION,
              cid: nuid.next(),
              issued: Date.now(),
              body: { id, expectedVersion: k, patch: { description: `revision ${k + 1}` } },
            });
            const reply = decode((await nc.request(subject, payload, { timeout: 60_000 })).data) as Reply<unknown>;
            if (!reply.ok) throw new Error(`update failed: ${reply.error.code} ${reply.error.message}`);
          }
        }
      }),
    );
    const updatesPerSecond = (ids.length * updatesEach) / ((performance.now() - began) / 1000);
    say(`recovery: restarting after ${(ids.length * updatesEach).toLocaleString("en-US")} updates…`);
    const updatedSeconds = await restart();
    const sample = await client.getMany(ids.slice(0, 1000), { timeoutMs: 30_000 });
    if (sample.strategies.some((s) => s.version !== updatesEach + 1)) throw new Error("updates missing after recovery");
    const info = await (await jetstreamManager(nc)).streams.info(`${cluster}-log`);
    return {
      strategies: ids.length,
      updatesEach,
      joinGraceMs,
      freshSeconds,
      updatedSeconds,
      updatesPerSecond,
      logEntriesWritten: info.state.last_seq,
      logEntriesKept: info.state.messages,
    };
  } finally {
    await nc.close().catch(() => undefined);
    await shards.stopAll();
  }
}

export interface JoinFigures {
  movedPartitions: number;
  /** Longest wait of a get, per moved partition, while the shard joined (ms). */
  unavailabilityP50Ms: number;
  unavailabilityP99Ms: number;
  unavailabilityMaxMs: number;
  steadyPerSecond: number;
  joiningPerSecond: number;
  /** From starting the fourth shard until every partition was served again (s). */
  joinSeconds: number;
}

/** Three shards under a get load, then a fourth joins: each partition's longest wait, and throughput. */
export async function joinFigures(
  server: Server,
  say: (line: string) => void,
  steadySeconds: number,
): Promise<JoinFigures> {
  const cluster = "bench-join";
  const shards = supervisor(server, cluster, say);
  for (let i = 1; i <= 3; i++) shards.start(`join-${i}`);
  const nc = await connect({ servers: server.url, name: "bench-join" });
  try {
    const client = await StratregClient.connect(nc, { cluster, timeoutMs: 30_000 });
    await settled(nc, cluster, 3);
    const batches = encodedBatches("join", PARTITIONS, 50, 1000, false);
    await register(nc, client, batches);
    // One id per partition, so every partition is probed all the time (NOT_FOUND is an answer too).
    const probe = new Map<number, string>();
    for (const id of idsOf(batches)) if (!probe.has(client.partitionOf(id))) probe.set(client.partitionOf(id), id);
    for (let i = 0; probe.size < PARTITIONS; i++) {
      const p = client.partitionOf(`probe-${i}`);
      if (!probe.has(p)) probe.set(p, `probe-${i}`);
    }
    const owners = async () => {
      const map = new Map<number, string>();
      for (const s of (await clusterStatus(nc, cluster, PARTITIONS, 200)).shards)
        for (const p of s.serving) map.set(p, s.member);
      return map;
    };
    const before = await owners();
    let running = true;
    const calls: Array<{ partition: number; start: number; ms: number }> = [];
    const loops = [...probe].map(async ([partition, id]) => {
      while (running) {
        const start = performance.now();
        await client.get(id, { timeoutMs: 30_000 }).catch((err: unknown) => {
          if ((err as { code?: string }).code !== "NOT_FOUND") throw err;
        });
        calls.push({ partition, start, ms: performance.now() - start });
      }
    });
    await new Promise((r) => setTimeout(r, 1000));
    const steadyFrom = performance.now();
    await new Promise((r) => setTimeout(r, steadySeconds * 1000));
    const joinFrom = performance.now();
    say("a fourth shard joins under load…");
    shards.start("join-4");
    const joinedAt = await settled(nc, cluster, 4);
    const joinUntil = Math.max(joinedAt + 500, joinFrom + steadySeconds * 1000);
    await new Promise((r) => setTimeout(r, Math.max(0, joinUntil - performance.now())));
    running = false;
    await Promise.all(loops);
    const after = await owners();
    const moved = [...after].filter(([p, m]) => before.get(p) !== m).map(([p]) => p);
    const worst = new Map<number, number>();
    for (const c of calls) {
      if (c.start < joinFrom || c.start > joinUntil) continue;
      worst.set(c.partition, Math.max(worst.get(c.partition) ?? 0, c.ms));
    }
    const waits = moved.map((p) => worst.get(p) ?? 0).sort((a, b) => a - b);
    const q = (f: number) => waits[Math.min(waits.length - 1, Math.floor(f * waits.length))] ?? 0;
    const rate = (from: number, to: number) =>
      calls.filter((c) => c.start + c.ms >= from && c.start + c.ms < to).length / ((to - from) / 1000);
    return {
      movedPartitions: moved.length,
      unavailabilityP50Ms: q(0.5),
      unavailabilityP99Ms: q(0.99),
      unavailabilityMaxMs: waits[waits.length - 1] ?? 0,
      steadyPerSecond: rate(steadyFrom, joinFrom),
      joiningPerSecond: rate(joinFrom, joinUntil),
      joinSeconds: (joinedAt - joinFrom) / 1000,
    };
  } finally {
    await nc.close().catch(() => undefined);
    await shards.stopAll();
  }
}
