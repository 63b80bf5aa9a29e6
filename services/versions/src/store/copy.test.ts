/**
 * The copy against a real nats-server: history entries (as the server's
 * sourcing leaves them, with `Nats-Stream-Source`) become one message per
 * version on the strategy's subject; a jump in the log sequences is a gap; a
 * restart reads on from the saved position and copies nothing twice.
 */
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
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
  await jsm.streams.add({ name: `${cluster}-history`, subjects: [`${cluster}.log.*`], storage: StorageType.File });
  await ensureVersionsStream(jsm, cluster, 1);
});
afterAll(async () => {
  await nc?.close();
});

/** Puts a history entry holding `strategy` on partition 3's subject, as sourced from log sequence `origin`. */
async function historyEntry(origin: number, strategy: Strategy, op: string = LogOps.Update): Promise<void> {
  const layout = encodeLogEntry(
    { v: 1, op: op as never, at: strategy.updatedAt, member: "shard-a", epoch: 1 },
    [strategy.id],
    [encode(strategy)],
  );
  const h = headers();
  h.set("Nats-Stream-Source", `${cluster}-log ${origin} ${cluster}.log.* >`);
  await jetstream(nc).publish(`${cluster}.log.3`, layout.bytes, { headers: h });
}

async function startCopy(warnings: string[]) {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const state = await new Kvm(js).create(`${cluster}-versions-state`, { history: 1 });
  let pending = Number.POSITIVE_INFINITY;
  const copy = new VersionCopy(js, jsm, state, {
    historyStream: `${cluster}-history`,
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

describe("the copy from the history", () => {
  it("writes each version once, counts a gap in the log sequences, and reads on after a restart", async () => {
    const v1 = newStrategy({ id: "copy.s:1", name: "one", owner: "desk" }, 1000);
    const v2 = { ...v1, name: "two", version: 2, updatedAt: 2000 };
    const v3 = { ...v1, name: "three", version: 3, updatedAt: 3000 };
    await historyEntry(1, v1, LogOps.Register);
    await historyEntry(2, v2);
    // Log sequences 3 and 4 never reached the history.
    await historyEntry(5, v3);

    const warnings: string[] = [];
    const first = await startCopy(warnings);
    await waitFor(() => first.caughtUp() && first.copy.progress.written === 3, {
      timeoutMs: 10_000,
      message: "caught up",
    });
    expect(first.copy.progress.gaps).toBe(1);
    expect(warnings).toEqual([
      "log entries left the partition logs before the history copied them: their versions are not kept",
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
    await historyEntry(6, v4);
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
  });
});
