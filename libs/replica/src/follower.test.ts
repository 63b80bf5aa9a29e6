/**
 * The log follower against a real nats-server: a snapshot, then the log;
 * entries compacted under it while it lagged; kinds it does not know.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ChunkedSnapshots, ensureStream } from "@stratreg/fencing";
import {
  type ClusterSubjects,
  clusterSubjects,
  encode,
  encodeLogEntry,
  LOG_FORMAT_VERSION,
  type LogEntryLayout,
  LogOps,
  recordAt,
} from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { LogFollower, type ReplicaTarget } from "./follower.js";

const PARTITIONS = 4;
let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
});
afterAll(async () => {
  await nc?.close();
});

/** A replica that keeps each partition's strategies as `id → description`. */
class Replica implements ReplicaTarget {
  readonly partitions = Array.from({ length: PARTITIONS }, () => new Map<string, string>());
  restores = 0;
  skipped: string[] = [];
  restore(partition: number, snapshot: LogEntryLayout | undefined): void {
    this.restores++;
    const state = new Map<string, string>();
    snapshot?.ids.forEach((id, i) => {
      state.set(id, JSON.stringify(recordAt(snapshot, i).toString("hex")));
    });
    this.partitions[partition] = state;
  }
  apply(partition: number, entry: LogEntryLayout): void {
    if (entry.records.length === 0) this.skipped.push(entry.op);
    entry.ids.forEach((id, i) => {
      (this.partitions[partition] as Map<string, string>).set(id, JSON.stringify(recordAt(entry, i).toString("hex")));
    });
  }
}

/** A cluster's log stream and snapshot bucket, written as an owner writes them. */
async function cluster() {
  const subjects: ClusterSubjects = clusterSubjects(uniqueClusterName("follow"));
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureStream(jsm, { name: subjects.logStream, subjects: [subjects.logAll], allow_direct: true });
  const snapshots = await ChunkedSnapshots.open<{ strategies: number }>(js, subjects.snapshotBucket, 1);
  const last = new Array<number>(PARTITIONS).fill(0);
  const state = Array.from({ length: PARTITIONS }, () => new Map<string, string>());
  const append = async (partition: number, id: string, description: string, op: string = LogOps.Update) => {
    const rec = encode({ id, description });
    const entry = encodeLogEntry(
      { v: LOG_FORMAT_VERSION, op: op as never, at: Date.now(), member: "t", epoch: 1 },
      [id],
      [rec],
    );
    const ack = await js.publish(subjects.log(partition), entry.bytes, {
      expect: { lastSubjectSequence: last[partition] },
    });
    last[partition] = ack.seq;
    if (op !== "someday")
      (state[partition] as Map<string, string>).set(id, JSON.stringify(Buffer.from(rec).toString("hex")));
    return ack.seq;
  };
  const snapshot = async (partition: number, compact = true) => {
    const s = state[partition] as Map<string, string>;
    const ids = [...s.keys()];
    const recs = ids.map((id) => Buffer.from(JSON.parse(s.get(id) as string) as string, "hex"));
    const seq = last[partition] as number;
    const entry = encodeLogEntry(
      { v: LOG_FORMAT_VERSION, op: LogOps.Snapshot, at: Date.now(), member: "t", epoch: 1, seq },
      ids,
      recs,
    );
    await snapshots.save(`p${partition}`, { seq, strategies: ids.length, epoch: 1, at: Date.now() }, entry.bytes);
    // As an owner compacts (when the history's retention lets it): everything before the covered entry goes.
    if (compact) await jsm.streams.purge(subjects.logStream, { filter: subjects.log(partition), seq });
  };
  const follower = (replica: Replica, options: Partial<ConstructorParameters<typeof LogFollower>[5]> = {}) =>
    new LogFollower(nc, js, jsm, subjects, replica, { partitionCount: PARTITIONS, probeMs: 20, ...options });
  /** Appends three entries to `partition` and deletes the middle one, as if compacted; returns its sequence. */
  const gap = async (partition: number, prefix: string) => {
    await append(partition, `${prefix}-1`, "first");
    const deleted = await append(partition, `${prefix}-2`, "deleted before the replica read it");
    await append(partition, `${prefix}-3`, "after the gap");
    await jsm.streams.deleteMessage(subjects.logStream, deleted, false);
    return deleted;
  };
  return { append, snapshot, gap, state, follower, subjects, jsm };
}

it("loads each partition's snapshot, then applies the log after it, and says it is fresh", async () => {
  const c = await cluster();
  for (let i = 0; i < 6; i++) await c.append(i % PARTITIONS, `s-${i}`, `first ${i}`);
  await c.snapshot(0);
  await c.snapshot(1);
  await c.append(0, "s-0", "after the snapshot");
  const replica = new Replica();
  const follower = c.follower(replica);
  await follower.start();
  await c.append(2, "s-2", "while following");
  await expect.poll(() => replica.partitions).toEqual(c.state);
  expect(follower.lag().ms).toBeLessThan(1000);
  expect(follower.lag().entries).toBe(0);
  await follower.stop();
});

it("reads each partition's entries after its snapshot on that partition alone, not the history snapshots cover", async () => {
  const c = await cluster();
  // Partition 0's history, covered by its snapshot and kept in the log; partition 1 has no snapshot.
  for (let i = 0; i < 60; i++) await c.append(0, `h-${i % 5}`, `edit ${i}`);
  await c.snapshot(0, false);
  await c.append(0, "h-0", "after the snapshot");
  await c.append(1, "n-1", "never snapshotted");
  const replica = new Replica();
  const follower = c.follower(replica);
  await follower.start();
  expect(replica.partitions).toEqual(c.state);
  // The live consumer starts where the stream stood: the server delivered none of the history to it.
  const live = async () => {
    for await (const info of await c.jsm.consumers.list(c.subjects.logStream)) {
      if (info.config.filter_subject === c.subjects.logAll) return info;
    }
    return undefined;
  };
  expect((await live())?.delivered.consumer_seq).toBe(0);
  await c.append(2, "n-2", "while following");
  await expect.poll(() => replica.partitions).toEqual(c.state);
  expect((await live())?.delivered.consumer_seq).toBe(1);
  await follower.stop();
});

it("loads a partition again when its entries were compacted before it read them", async () => {
  const c = await cluster();
  for (let i = 0; i < 4; i++) await c.append(0, `g-${i}`, `first ${i}`);
  await c.snapshot(0);
  const replica = new Replica();
  const follower = c.follower(replica, {
    partitions: [0, 1],
    // Between reading the snapshot and following the log, the owner writes, snapshots and compacts.
    onLoaded: async () => {
      for (let i = 0; i < 5; i++) await c.append(0, `g-${i}`, `second ${i}`);
      await c.snapshot(0);
      await c.append(0, "g-9", "after the second snapshot");
    },
  });
  await follower.start();
  await expect.poll(() => replica.partitions[0]).toEqual(c.state[0]);
  expect(replica.restores).toBeGreaterThanOrEqual(3); // both partitions at start, then partition 0 again
  await follower.stop();
});

it("skips entries of kinds it does not know, and follows only the partitions asked for", async () => {
  const c = await cluster();
  await c.append(3, "u-1", "known");
  const replica = new Replica();
  const follower = c.follower(replica, { partitions: [3], snapshots: false });
  await follower.start();
  await c.append(3, "u-2", "from a newer writer", "someday");
  await c.append(2, "u-3", "another partition");
  await c.append(3, "u-4", "later");
  await expect.poll(() => replica.partitions[3]?.has("u-4")).toBe(true);
  expect(replica.partitions[3]?.has("u-1")).toBe(false); // before it started following
  expect(replica.partitions[2]?.size).toBe(0);
  expect(replica.partitions[3]?.has("u-2")).toBe(false);
  expect(replica.skipped).toEqual(["someday"]);
  expect(follower.partitions).toEqual([3]);
  await follower.stop();
});

it("when entries it had not read were deleted and no snapshot covers them, says so and applies on from there", async () => {
  const c = await cluster();
  await c.append(1, "d-0", "before the snapshot");
  await c.snapshot(1, false);
  const warnings: string[] = [];
  const replica = new Replica();
  let deleted = 0;
  const follower = c.follower(replica, {
    partitions: [1],
    warn: (_fields, message) => warnings.push(message),
    // Before following starts, the owner writes three entries and the middle one is deleted.
    onLoaded: async () => {
      deleted = await c.gap(1, "d");
    },
  });
  await follower.start();
  await c.append(1, "d-4", "later");
  await expect.poll(() => replica.partitions[1]?.has("d-4")).toBe(true);
  expect(replica.partitions[1]?.has("d-3")).toBe(true);
  expect(replica.partitions[1]?.has("d-2")).toBe(false);
  expect(warnings).toContain("entries of a partition were compacted before the replica read them: loading it again");
  expect(warnings).toContain("no snapshot covers the missing entries");
  expect(follower.appliedSeq(1)).toBeGreaterThan(deleted);
  await follower.stop();
});

it("without snapshots, a gap empties the partition's replica and it applies on from there", async () => {
  const c = await cluster();
  const warnings: string[] = [];
  const replica = new Replica();
  const follower = c.follower(replica, {
    partitions: [2],
    snapshots: false,
    warn: (_fields, message) => warnings.push(message),
    onLoaded: async () => {
      await c.gap(2, "n");
    },
  });
  const restoresBefore = replica.restores;
  await follower.start();
  await expect.poll(() => replica.partitions[2]?.has("n-3")).toBe(true);
  // What came before the gap is dropped with it: the replica holds only what followed.
  expect([...(replica.partitions[2]?.keys() ?? [])]).toEqual(["n-3"]);
  expect(replica.restores).toBe(restoresBefore + 1);
  expect(warnings).toContain("entries of a partition were compacted before the replica read them: loading it again");
  await follower.stop();
});
