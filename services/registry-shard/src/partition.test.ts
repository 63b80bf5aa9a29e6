/**
 * A partition against real JetStream: the epoch marker fences an earlier owner
 * (and a claim under an older epoch than the log's is refused), a write whose
 * reply was lost is recognised by its command id, a snapshot lets the log be
 * compacted and recovery read only what came after, the write queue is bounded
 * and drops work whose caller gave up, and entries of unknown kinds are skipped.
 */
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Lease } from "@stratreg/fencing";
import {
  type ClusterSubjects,
  clusterSubjects,
  decode,
  ErrorCodes,
  encode,
  encodeLogEntry,
  encodeStrategy,
  LOG_FORMAT_VERSION,
  LogOps,
  newStrategy,
  PROTOCOL_VERSION,
  partitionOf,
  type Reply,
  type Strategy,
} from "@stratreg/protocol";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, expect, inject, test, vi } from "vitest";
import { register, retire, update } from "./handlers/writes.js";
import { DroppedError, NotOursError, Partition, type PartitionContext } from "./partition.js";
import { ensureLogStream, PartitionLog } from "./store/log.js";
import { SnapshotStore } from "./store/snapshots.js";

const PARTITIONS = 4;
let nc: NatsConnection;
let subjects: ClusterSubjects;
let context: PartitionContext;
const warnings: unknown[] = [];

/** A partition context over a cluster of its own, with the log stream and snapshot bucket made. */
async function contextOf(
  cluster: ClusterSubjects,
  settings: Partial<PartitionContext["settings"]> = {},
): Promise<PartitionContext> {
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureLogStream(jsm, cluster, 1);
  const logger = pino({ level: "warn" }, { write: (line: string) => warnings.push(JSON.parse(line)) });
  return {
    log: new PartitionLog(js, jsm, cluster),
    snapshots: await SnapshotStore.open(js, cluster, 1),
    member: "m-1",
    partitions: PARTITIONS,
    maxEntryBytes: 1_000_000,
    maxReplyBytes: 1_000_000,
    settings: {
      queueMax: 4,
      commandWindowMs: 3_600_000,
      maxClockSkewMs: 60_000,
      snapshotMinBytes: 1 << 30,
      topkDepth: 10,
      retentionMs: 0,
      ...settings,
    },
    history: () => Promise.reject(new Error("this test keeps no history")),
    logger,
  };
}

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  subjects = clusterSubjects(uniqueClusterName("part"));
  context = await contextOf(subjects);
});
afterAll(async () => {
  await nc?.close();
});

/** A lease that stays fresh for the test (leases themselves are tested in lease.test.ts). */
const leaseOf = (partition: number, epoch: number) => new Lease(partition, epoch, 0, performance.now(), 1e9);

/** Ids of `partition`, in order. */
function idsOf(partition: number, count: number, prefix: string): string[] {
  const out: string[] = [];
  for (let i = 0; out.length < count; i++)
    if (partitionOf(`${prefix}-${i}`, PARTITIONS) === partition) out.push(`${prefix}-${i}`);
  return out;
}

const command = (body: Record<string, unknown>, cid: string) =>
  encode({ v: PROTOCOL_VERSION, cid, issued: Date.now(), body });

async function registered(p: Partition, id: string, cid = `c-${id}`): Promise<Strategy> {
  const reply = decode(await register(p, command({ strategy: { id, name: id, owner: "o" } }, cid))) as Reply<{
    strategy: Strategy;
  }>;
  if (!reply.ok) throw new Error(reply.error.message);
  return reply.body.strategy;
}

function decodeStored(p: Partition, id: string): Strategy {
  return decode(p.store.get(id) as Uint8Array) as Strategy;
}

async function loadedIn(where: PartitionContext, partition: number, epoch: number): Promise<Partition> {
  const p = new Partition(partition, where, leaseOf(partition, epoch));
  await p.load();
  return p;
}

const loaded = (partition: number, epoch: number) => loadedIn(context, partition, epoch);

test("a new owner's epoch marker fences the old owner: its next write steps it down, unanswered", async () => {
  const old = await loaded(0, 1);
  const [a, b] = idsOf(0, 2, "fence");
  await registered(old, a as string);
  let lostReason: string | undefined;
  old.onLost = (reason) => {
    lostReason = reason;
  };
  const next = await loaded(0, 2);
  expect(next.store.has(a as string)).toBe(true);
  expect(next.epoch).toBe(2);
  await expect(registered(old, b as string)).rejects.toBeInstanceOf(NotOursError);
  expect(old.lost).toBe(true);
  expect(old.answering()).toBe(false);
  expect(lostReason).toMatch(/fenced/);
  // The new owner writes on.
  expect((await registered(next, b as string)).version).toBe(1);
});

test("a snapshot lets the log drop what it covers; recovery reads the snapshot and only the entries after it", async () => {
  // A short command window, so that no retry can still need the old entries.
  const shortWindow = { ...context, settings: { ...context.settings, commandWindowMs: 300, maxClockSkewMs: 0 } };
  const owner = new Partition(1, shortWindow, leaseOf(1, 1));
  await owner.load();
  const ids = idsOf(1, 30, "snap");
  for (const id of ids) await registered(owner, id);
  for (let round = 0; round < 3; round++) {
    for (const [i, id] of ids.entries()) {
      const body = { id, expectedVersion: round + 1, patch: { description: `round ${round}` } };
      await update(owner, command(body, `u-${round}-${i}`));
    }
  }
  await new Promise((resolve) => setTimeout(resolve, 400));
  const first = owner.lastSeq;
  await owner.snapshot();
  expect(owner.snapshotSeq).toBe(first);
  const jsm = await jetstreamManager(nc);
  const kept = async () =>
    (await jsm.streams.info(subjects.logStream, { subjects_filter: subjects.log(1) })).state.subjects?.[
      subjects.log(1)
    ];
  // The first snapshot drops nothing: a shard loading may still be reading from before it.
  expect(await kept()).toBe(121);
  for (const [i, id] of ids.slice(0, 5).entries()) {
    await update(owner, command({ id, expectedVersion: 4, patch: { description: "after" } }, `v-${i}`));
  }
  await new Promise((resolve) => setTimeout(resolve, 400));
  const head = owner.lastSeq;
  await owner.snapshot();
  // The second drops what the first covers, keeping the first's own entry (the 5 updates came after it).
  expect(await kept()).toBe(1 + 5);
  expect(owner.snapshotSeq).toBe(head);

  const [tail] = idsOf(1, 1, "tail");
  await registered(owner, tail as string);
  const recovered = await loaded(1, 2);
  expect(recovered.snapshotSeq).toBe(head);
  expect(recovered.store.size).toBe(31);
  for (const id of [...ids, tail as string]) {
    expect(Buffer.from(recovered.store.get(id) as Uint8Array)).toEqual(Buffer.from(owner.store.get(id) as Uint8Array));
  }
  expect(decodeStored(recovered, ids[0] as string).version).toBe(5);
});

test("after a snapshot the log keeps what is younger than the retention, for the history, and lets the rest go", async () => {
  const own = clusterSubjects(uniqueClusterName("retain"));
  const retained = await contextOf(own, { commandWindowMs: 300, maxClockSkewMs: 0, retentionMs: 3000 });
  const owner = new Partition(2, retained, leaseOf(2, 1));
  await owner.load();
  const [old, young] = [idsOf(2, 20, "aged"), idsOf(2, 10, "young")];
  for (const id of old) await registered(owner, id);
  await new Promise((resolve) => setTimeout(resolve, 3500));
  for (const id of young) await registered(owner, id);
  const firstYoung = owner.lastSeq - young.length + 1;
  // Past the command window: no remembered command keeps the young entries; only the retention does.
  await new Promise((resolve) => setTimeout(resolve, 500));
  await owner.snapshot();
  await update(owner, command({ id: young[0], expectedVersion: 1, patch: { description: "after" } }, "after-1"));
  await owner.snapshot();
  const jsm = await jetstreamManager(nc);
  const first = await jsm.direct.getMessage(own.logStream, { next_by_subj: own.log(2), seq: 1 });
  // Everything the first snapshot covers and older than three seconds went; all that is younger stayed.
  expect(first?.seq).toBe(firstYoung);
  const entries = (await jsm.streams.info(own.logStream, { subjects_filter: own.log(2) })).state.subjects;
  expect(entries?.[own.log(2)]).toBe(young.length + 1);
  // When all of the covered log is younger, nothing goes.
  const everything = { ...retained, settings: { ...retained.settings, retentionMs: 3_600_000 } };
  const keeper = new Partition(2, everything, leaseOf(2, 2));
  await keeper.load();
  await update(keeper, command({ id: young[1], expectedVersion: 1, patch: { description: "kept" } }, "kept-1"));
  await keeper.snapshot();
  await update(keeper, command({ id: young[2], expectedVersion: 1, patch: { description: "kept" } }, "kept-2"));
  await keeper.snapshot();
  const still = await jsm.direct.getMessage(own.logStream, { next_by_subj: own.log(2), seq: 1 });
  expect(still?.seq).toBe(firstYoung);
  // A log that cannot say what to keep: the snapshot stands, the log keeps everything, and it is said.
  const unanswering = Object.create(everything.log) as PartitionLog;
  unanswering.firstSince = () => Promise.reject(new Error("no answer"));
  const stuck = new Partition(2, { ...everything, log: unanswering }, leaseOf(2, 3));
  await stuck.load();
  await update(stuck, command({ id: young[3], expectedVersion: 1, patch: { description: "stuck" } }, "stuck-1"));
  await stuck.snapshot();
  await update(stuck, command({ id: young[4], expectedVersion: 1, patch: { description: "stuck" } }, "stuck-2"));
  await stuck.snapshot();
  expect(stuck.snapshotSeq).toBe(stuck.lastSeq);
  expect((await jsm.direct.getMessage(own.logStream, { next_by_subj: own.log(2), seq: 1 }))?.seq).toBe(firstYoung);
  expect(warnings).toContainEqual(
    expect.objectContaining({
      partition: 2,
      msg: "the snapshot stands, but letting the log go behind it failed; the log keeps more until the next",
    }),
  );
});

test("an owner snapshots by itself once half of what recovery would read is superseded, not while it only grows", async () => {
  // Command ids forgotten after 300 ms, and a snapshot may come after 1 KiB of log.
  const own = await contextOf(clusterSubjects(uniqueClusterName("policy")), {
    snapshotMinBytes: 1024,
    commandWindowMs: 300,
    maxClockSkewMs: 0,
  });
  const owner = new Partition(0, own, leaseOf(0, 1));
  await owner.load();
  const ids = idsOf(0, 40, "grow");
  await registered(owner, ids[0] as string, "oldest-cid");
  await new Promise((resolve) => setTimeout(resolve, 1100));
  for (const id of ids.slice(1)) await registered(owner, id);
  // Only new strategies: the log is no longer than the state, and nothing is rewritten.
  expect(owner.unsnapshottedBytes).toBeGreaterThan(8 * 1024);
  expect(owner.snapshotSeq).toBe(0);
  // Between snapshots the window still forgets what expired: a retry that late is a new command.
  expect(owner.commandSeqs("oldest-cid")).toEqual([]);
  expect(owner.commandSeqs(`c-${ids[39]}`)).toHaveLength(1);

  // Updating every strategy supersedes about half of the log: the owner snapshots, without being asked.
  for (const [i, id] of ids.entries()) {
    await update(owner, command({ id, expectedVersion: 1, patch: { description: "once more" } }, `u-${i}`));
  }
  await waitFor(() => owner.snapshotSeq > 0, { timeoutMs: 5000, message: "no snapshot was taken" });
  expect(owner.snapshotSeq).toBeGreaterThan(40);
  const recovered = new Partition(0, own, leaseOf(0, 2));
  await recovered.load();
  expect(recovered.snapshotSeq).toBe(owner.snapshotSeq);
  expect(recovered.store.size).toBe(40);
  for (const id of ids) expect(decodeStored(recovered, id)).toEqual(decodeStored(owner, id));
});

test("between snapshots, thousands of command ids are sealed into hashes, and each still finds its entry", async () => {
  const p = new Partition(3, context);
  const at = Date.now();
  const entry = (i: number) =>
    encodeLogEntry({ v: LOG_FORMAT_VERSION, op: LogOps.Epoch, at, member: "m-1", epoch: 1, cid: `cmd-${i}` }, [], []);
  // The clock stands still while they are applied, however slow the machine.
  vi.useFakeTimers({ toFake: ["Date"], now: at });
  try {
    for (let i = 1; i <= 5000; i++) p.apply(entry(i), i);
    expect(p.recentCommands).toBe(5000);
    // A second later the window is tended again: past 4,096 strings, they become hashes.
    vi.setSystemTime(at + 1050);
    p.apply(entry(5001), 5001);
  } finally {
    vi.useRealTimers();
  }
  expect(p.recentCommands).toBe(0);
  for (const i of [1, 2500, 5001]) expect(p.commandSeqs(`cmd-${i}`)).toContain(i);
  expect(p.commandSeqs("cmd-none")).toEqual([]);
});

test("a snapshot carries the command window: after recovery a retry still gets its first reply", async () => {
  const owner = await loaded(0, 3);
  const [id] = idsOf(0, 1, "window");
  await registered(owner, id as string, "first-cid");
  await update(owner, command({ id, expectedVersion: 1, patch: { name: "renamed" } }, "second-cid"));
  await owner.snapshot();
  const recovered = await loaded(0, 4);
  expect(recovered.commandSeqs("first-cid")).toHaveLength(1);
  // The retry of the registration is answered with the strategy as it was registered, not re-applied.
  const retry = decode(
    await register(recovered, command({ strategy: { id, name: id, owner: "o" } }, "first-cid")),
  ) as Reply<{
    strategy: Strategy;
  }>;
  expect(retry.ok && retry.body.strategy).toMatchObject({ id, version: 1, name: id });
  expect(decodeStored(recovered, id as string)).toMatchObject({ version: 2, name: "renamed" });
});

test("a full write queue answers OVERLOADED at once, with a suggested delay", async () => {
  const p = await loaded(2, 1);
  let release: () => void = () => undefined;
  const gate = new Promise<void>((resolve) => {
    release = resolve;
  });
  const held = Array.from({ length: 4 }, () => p.write(() => gate));
  await expect(p.write(async () => undefined)).rejects.toMatchObject({
    code: ErrorCodes.Overloaded,
    retryable: true,
    details: { queued: 4 },
  });
  release();
  await Promise.all(held);
  expect(p.queued).toBe(0);
  await expect(p.write(async () => "ok")).resolves.toBe("ok");
});

test("a write whose caller has given up by its turn is dropped, not run", async () => {
  const p = await loaded(3, 1);
  let ran = false;
  await expect(
    p.write(async () => {
      ran = true;
    }, performance.now() - 1),
  ).rejects.toBeInstanceOf(DroppedError);
  expect(ran).toBe(false);
});

test("a strategy stored before lifecycles were {value, context} is updated and retired as before, and gains one", async () => {
  const owner = await loaded(2, 2);
  const [id] = idsOf(2, 1, "legacy");
  // Written as the previous build stored strategies: `state` only.
  const { lifecycle: _, ...legacy } = newStrategy({ id: id as string, name: "old", owner: "o" }, 1);
  const entry = encodeLogEntry(
    { v: LOG_FORMAT_VERSION, op: LogOps.Register, at: 1, member: "old-build" },
    [id as string],
    [encodeStrategy({ ...legacy, state: "draft" } as Strategy)],
  );
  await context.log.append(2, entry.bytes, owner.lastSeq);
  const reader = await loaded(2, 3);
  expect(decodeStored(reader, id as string).lifecycle).toBeUndefined();
  await update(reader, command({ id, expectedVersion: 1, patch: { name: "new" } }, "legacy-update"));
  expect(decodeStored(reader, id as string)).toMatchObject({
    version: 2,
    state: "candidate",
    lifecycle: { value: "candidate", context: {} },
  });
  await retire(reader, command({ id, reason: "done" }, "legacy-retire"));
  expect(decodeStored(reader, id as string)).toMatchObject({
    version: 3,
    state: "retired",
    lifecycle: { value: "retired" },
  });
});

test("log entries of a kind this build does not know are skipped with a warning", async () => {
  const owner = await loaded(3, 2);
  const future = encodeLogEntry({ v: LOG_FORMAT_VERSION, op: "promote" as never, at: 1, member: "newer" }, [], []);
  await context.log.append(3, future.bytes, owner.lastSeq);
  const reader = await loaded(3, 3);
  expect(reader.lastSeq).toBeGreaterThan(owner.lastSeq);
  expect(warnings).toContainEqual(
    expect.objectContaining({ op: "promote", msg: "skipping a log entry of an unknown kind" }),
  );
});

test("a claim under an older epoch than the log's is refused: a newer owner has the partition", async () => {
  const own = await contextOf(clusterSubjects(uniqueClusterName("part-claim")));
  await loadedIn(own, 1, 5);
  const stale = new Partition(1, own, leaseOf(1, 4));
  const err = await stale.load().catch((e: unknown) => e);
  expect(err).toMatchObject({ code: ErrorCodes.NotOwner, message: "partition 1 has a newer owner (epoch 5)" });
});

test("a claim whose epoch marker is already the log's last (its acknowledgement lost) completes without another", async () => {
  const own = await contextOf(clusterSubjects(uniqueClusterName("part-reclaim")));
  await loadedIn(own, 2, 7);
  const head = await own.log.lastSeq(2);
  const again = new Partition(2, own, leaseOf(2, 7));
  await again.load();
  expect(again.epoch).toBe(7);
  expect(await own.log.lastSeq(2)).toBe(head);
  const [id] = idsOf(2, 1, "reclaim");
  expect((await registered(again, id as string)).version).toBe(1);
});

test("a write its owner did not know had landed gets the first reply; the owner then reads the log and finds a newer owner", async () => {
  const own = await contextOf(clusterSubjects(uniqueClusterName("part-lost-reply")));
  const owner = await loadedIn(own, 3, 1);
  let lostReason: string | undefined;
  owner.onLost = (reason) => {
    lostReason = reason;
  };
  // The same command, written by an attempt whose reply never reached this owner.
  const twin = new Partition(3, own, leaseOf(3, 1));
  await twin.load();
  const [a, b] = idsOf(3, 2, "lost-reply");
  const first = await registered(twin, a as string, "lost-reply-cid");
  // Sent again: JetStream knows the command id and keeps the first entry; the reply is the first one.
  expect(await registered(owner, a as string, "lost-reply-cid")).toEqual(first);
  // Unsure of the log now, the owner reads it before its next write, and finds a newer owner there.
  await loadedIn(own, 3, 2);
  await expect(registered(owner, b as string)).rejects.toBeInstanceOf(NotOursError);
  expect(lostReason).toBe("epoch 2 in the log");
  expect(owner.answering()).toBe(false);
});
