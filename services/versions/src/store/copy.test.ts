/**
 * The copy against a real nats-server: log entries become one message per
 * version on the strategy's subject; entries that left the log before the copy
 * read them are a gap; a restart reads on from the saved position and copies
 * nothing twice; a position a copy of the former history stream saved is read
 * from a margin before it.
 */
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { encode, encodeLogEntry, LogOps, newStrategy, type Strategy } from "@stratreg/protocol";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { VersionCopy } from "./copy.js";
import { ensureVersionsStream, VersionsStore } from "./records.js";

let nc: NatsConnection;
let cluster: string;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  cluster = uniqueClusterName("copy");
  const jsm = await jetstreamManager(nc);
  await jsm.streams.add({ name: `${cluster}-log`, subjects: [`${cluster}.log.*`], storage: StorageType.File });
  await ensureVersionsStream(jsm, cluster, 1);
});
afterAll(async () => {
  await nc?.close();
});

/** Appends a log entry holding `strategy` to `partition`'s log; returns its sequence. */
async function logEntry(strategy: Strategy, op: string = LogOps.Update, partition = 3): Promise<number> {
  const layout = encodeLogEntry(
    { v: 1, op: op as never, at: strategy.updatedAt, member: "shard-a", epoch: 1 },
    [strategy.id],
    [encode(strategy)],
  );
  return (await jetstream(nc).publish(`${cluster}.log.${partition}`, layout.bytes)).seq;
}

async function startCopy(warnings: string[]) {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const state = await new Kvm(js).create(`${cluster}-versions-state`, { history: 1 });
  let pending = Number.POSITIVE_INFINITY;
  const copy = new VersionCopy(js, jsm, state, {
    logStream: `${cluster}-log`,
    versionsStream: `${cluster}-versions`,
    cluster,
    checkpointMs: 10,
    warn: (_fields, message) => warnings.push(message),
    onProgress: (left) => {
      pending = left;
    },
  });
  await copy.start();
  return { copy, caughtUp: () => pending === 0 };
}

describe("the copy from the partition logs", () => {
  it("writes each version once, counts a gap in the log sequences, and reads on after a restart", async () => {
    const v1 = newStrategy({ id: "copy.s:1", name: "one", owner: "desk" }, 1000);
    const v2 = { ...v1, name: "two", version: 2, updatedAt: 2000 };
    const v3 = { ...v1, name: "three", version: 3, updatedAt: 3000 };
    await logEntry(v1, LogOps.Register);
    await logEntry(v2);
    // Entries 3 and 4, of another partition, left its log before the copy read them.
    const other = newStrategy({ id: "copy.other", name: "other", owner: "desk" }, 1000);
    await logEntry(other, LogOps.Register, 5);
    const fourth = await logEntry({ ...other, version: 2 }, LogOps.Update, 5);
    const jsm = await jetstreamManager(nc);
    await jsm.streams.purge(`${cluster}-log`, { filter: `${cluster}.log.5`, seq: fourth + 1 });
    await logEntry(v3);

    const warnings: string[] = [];
    const first = await startCopy(warnings);
    await waitFor(() => first.caughtUp() && first.copy.progress.written === 3, {
      timeoutMs: 10_000,
      message: "caught up",
    });
    expect(first.copy.progress.gaps).toBe(1);
    expect(warnings).toEqual([
      "log entries left the partition logs before the copy read them: their versions are not kept",
    ]);
    const store = new VersionsStore(jetstream(nc), await jetstreamManager(nc), cluster);
    const kept = await store.read("copy.s:1");
    expect(kept.map((v) => [v.version, v.op, v.at, v.strategy.name])).toEqual([
      [1, "register", 1000, "one"],
      [2, "update", 2000, "two"],
      [3, "update", 3000, "three"],
    ]);
    await first.copy.stop();

    // Started again: nothing copied twice, and what came meanwhile is copied.
    const v4 = { ...v1, name: "four", version: 4, updatedAt: 4000 };
    await logEntry(v4);
    const second = await startCopy([]);
    await waitFor(() => second.caughtUp() && second.copy.progress.written === 1, {
      timeoutMs: 10_000,
      message: "caught up again",
    });
    expect(second.copy.progress.gaps).toBe(0);
    await store.note({ id: "copy.s:1", version: 4, op: "rollback", by: "alice", note: "to 1" });
    expect((await store.read("copy.s:1")).map((v) => [v.version, v.op, v.by ?? null])).toEqual([
      [1, "register", null],
      [2, "update", null],
      [3, "update", null],
      [4, "rollback", "alice"],
    ]);
    await second.copy.stop();

    // A position saved by a copy that read a separate history stream: its `seq` was that
    // stream's, its `origin` the log's, possibly past versions whose publish failed. The copy
    // reads again from a margin before `origin` (the server drops what it already holds).
    const state = await new Kvm(jetstream(nc)).open(`${cluster}-versions-state`);
    await state.put("cursor", encode({ seq: 2, origin: second.copy.progress.seq }));
    await logEntry({ ...v1, name: "five", version: 5, updatedAt: 5000 });
    const third = await startCopy([]);
    await waitFor(() => third.caughtUp() && third.copy.progress.seq === second.copy.progress.seq + 1, {
      timeoutMs: 10_000,
      message: "caught up from before the saved origin",
    });
    // Every entry the log holds again (all are within the margin): versions 1 to 4, then 5; the
    // entries purged among them are met, and counted, again.
    expect(third.copy.progress).toMatchObject({ written: 5, gaps: 1 });
    expect((await store.read("copy.s:1")).map((v) => v.version)).toEqual([1, 2, 3, 4, 5]);
    await third.copy.stop();
  });
});
