/**
 * The version-control operations on a real nats-server and a real shard, with
 * the copy under the test's hand: versions the history no longer holds
 * (NOT_FOUND, with the oldest kept), a version the copy has not reached yet
 * (UNAVAILABLE, retryable) next to the current one (answered by the shard),
 * the log while the shard does not answer, the most branches a strategy may
 * have, and tags changed concurrently.
 *
 * The history is the shard's own log, whose first entries are let go as its
 * retention would let them go (each partition's last entry stays, as the
 * shard's compaction keeps it): versions 1 and 2 of one strategy, every
 * version of another.
 */
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import { clusterSubjects, ErrorCodes, VersionLimits, versionBuckets } from "@stratreg/protocol";
import { refusal, type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { type CallContext, copyReach, VersionControl } from "./operations.js";
import { VersionCopy } from "./store/copy.js";
import { ensureVersionsStream, VersionsStore } from "./store/records.js";
import { BranchStore, TagStore } from "./store/refs.js";

const SHARD_ENTRY = fileURLToPath(new URL("../../registry-shard/dist/main.js", import.meta.url));
/** Registered and edited before the history's first entry: no version of it is kept. */
const BEFORE = "ops-before";
/** Versions 1 and 2 older than the history's first entry, 3 and 4 in it. */
const STRADDLING = "ops-straddling";
const call: CallContext = { timeoutMs: 5000 };
/** A strategy whose only version the history no longer holds. */
const single = "ops-single-0";

let nc: NatsConnection;
let cluster: string;
let shard: ServiceProcess;
let client: StratregClient;
let state: KV;
let control: VersionControl;
let copy: VersionCopy | undefined;
const LOG = () => clusterSubjects(cluster).logStream;

async function startCopy(): Promise<void> {
  const js = jetstream(nc);
  let pending = Number.POSITIVE_INFINITY;
  copy = new VersionCopy(js, await jetstreamManager(nc), state, {
    logStream: LOG(),
    versionsStream: `${cluster}-versions`,
    cluster,
    checkpointMs: 10,
    warn: () => undefined,
    onProgress: (left) => {
      pending = left;
    },
  });
  await copy.start();
  await waitFor(() => pending === 0, { timeoutMs: 15_000, message: "the copy to catch up with the history" });
}

beforeAll(async () => {
  const natsUrl = inject("natsUrl");
  cluster = uniqueClusterName("versionops");
  shard = spawnService({
    entry: SHARD_ENTRY,
    name: "versionops-shard",
    env: {
      NATS_URL: natsUrl,
      STRATREG_CLUSTER: cluster,
      STRATREG_MEMBER_ID: "versionops-shard",
      STRATREG_PARTITIONS: "4",
      STRATREG_JOIN_GRACE_MS: "100",
      LOG_LEVEL: "info",
    },
  });
  await shard.waitForLog((_line, json) => json?.msg === "shard ready", 30_000);
  nc = await connect({ servers: natsUrl });
  client = await StratregClient.connect(nc, { cluster, timeoutMs: 15_000 });

  const before = await client.register({ id: BEFORE, name: "before v1", owner: "desk" });
  await client.update(BEFORE, before.version, { name: "before v2" });
  let straddling = await client.register({ id: STRADDLING, name: "straddling v1", owner: "desk" });
  straddling = await client.update(STRADDLING, straddling.version, { name: "straddling v2" });
  await client.register({ id: single, name: "single v1", owner: "desk" });

  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  const firstKept = (await jsm.streams.info(LOG())).state.last_seq + 1;
  for (let v = 3; v <= 4; v++) {
    straddling = await client.update(STRADDLING, straddling.version, { name: `straddling v${v}` });
  }
  // A later entry in every partition: the retention never lets a partition's last entry go.
  for (let p = 0, i = 0; p < 4; i++) {
    if (client.partitionOf(`ops-later-${i}`) !== p) continue;
    await client.register({ id: `ops-later-${i}`, name: "later", owner: "desk" });
    p++;
  }
  // The retention let the first entries go.
  await jsm.streams.purge(LOG(), { seq: firstKept });

  await ensureVersionsStream(jsm, cluster, 1);
  const kvm = new Kvm(js);
  const buckets = versionBuckets(cluster);
  const [branches, tags] = await Promise.all([
    kvm.create(buckets.branches, { history: 1 }),
    kvm.create(buckets.tags, { history: 1 }),
  ]);
  state = await kvm.create(buckets.state, { history: 1 });
  const logInfo = await jsm.streams.info(LOG());
  control = new VersionControl(
    new VersionsStore(js, jsm, cluster),
    new BranchStore(branches),
    new TagStore(tags),
    client,
    copyReach(() => copy?.progress.pending ?? Number.POSITIVE_INFINITY, Date.parse(logInfo.created), 86_400_000),
  );
  await startCopy();
  await waitFor(async () => (await control.log({ id: STRADDLING }, call)).versions.length === 2, {
    timeoutMs: 15_000,
    message: "versions 3 and 4 copied",
  });
}, 120_000);

afterAll(async () => {
  await copy?.stop();
  await nc?.close();
  await shard?.stop();
});

describe("versions the history no longer holds", () => {
  it("lists what is kept with the oldest kept, and refuses older versions NOT_FOUND naming it", async () => {
    expect(await control.log({ id: STRADDLING }, call)).toMatchObject({
      versions: [
        { version: 4, op: "update" },
        { version: 3, op: "update" },
      ],
      next: null,
      oldest: 3,
      current: 4,
    });
    const older = await refusal(control.show({ id: STRADDLING, version: 2 }, call));
    expect(older).toMatchObject({
      code: ErrorCodes.NotFound,
      field: "body.version",
      details: { id: STRADDLING, version: 2, oldest: 3 },
    });
    expect(older.message).toBe(`version 2 of ${STRADDLING} is older than the history kept`);
    expect((await refusal(control.tag({ id: STRADDLING, version: 1, tag: "first" }, call))).code).toBe(
      ErrorCodes.NotFound,
    );
    expect((await control.show({ id: STRADDLING, version: 3 }, call)).strategy).toMatchObject({
      version: 3,
      name: "straddling v3",
    });
  });

  it("answers for a strategy with no version kept: an empty log with its current version, that version from the shard", async () => {
    expect(await control.log({ id: BEFORE }, call)).toEqual({
      id: BEFORE,
      versions: [],
      next: null,
      oldest: null,
      current: 2,
    });
    expect(await control.show({ id: BEFORE, version: 2 }, call)).toMatchObject({
      ref: "2",
      version: 2,
      strategy: { id: BEFORE, version: 2, name: "before v2" },
    });
    expect(await refusal(control.show({ id: BEFORE, version: 1 }, call))).toMatchObject({
      code: ErrorCodes.NotFound,
      details: { id: BEFORE, version: 1, oldest: null },
    });
    // A branch may start from it all the same, from the current version.
    const { branch } = await control.branchCreate({ id: BEFORE, name: "exp", by: "qa" }, call);
    expect(branch).toMatchObject({ base: 2, version: 1, fields: { name: "before v2" } });
    expect((await control.branchShow({ id: BEFORE, name: "exp" }, call)).changes).toEqual([]);
  });
});

describe("a merge sent again with its command id", () => {
  it("answers as the first time, though the version before the one it made is not kept", async () => {
    const { branch } = await control.branchCreate({ id: single, name: "wider", by: "qa" }, call);
    await control.branchUpdate({
      id: single,
      name: "wider",
      expectedVersion: branch.version,
      patch: { name: "single wider" },
      by: "qa",
    });
    const store = new VersionsStore(jetstream(nc), await jetstreamManager(nc), cluster);
    const once: CallContext = { ...call, cid: "single-merge-once", issued: Date.now() };
    const note = (version: number, changed: string[]) =>
      store.note({ id: single, version, op: "merge", by: "qa", note: "branch wider", changed });
    const first = await control.merge({ id: single, branch: "wider", by: "qa" }, once, note);
    expect(first).toMatchObject({ merged: true, changed: ["name"], strategy: { version: 2, name: "single wider" } });
    await waitFor(async () => (await control.log({ id: single }, call)).versions.length === 1, {
      timeoutMs: 15_000,
      message: "the merge's version copied",
    });
    const again = await control.merge({ id: single, branch: "wider", by: "qa" }, once, note);
    expect(again).toMatchObject({ merged: true, changed: ["name"], strategy: { version: 2, name: "single wider" } });
  });
});

describe("a copy behind the shard", () => {
  it("refuses a version not copied yet UNAVAILABLE (retryable), answers the current one, and both once copied", async () => {
    await copy?.stop();
    let s = await client.get(STRADDLING);
    s = await client.update(STRADDLING, s.version, { name: "straddling v5" });
    s = await client.update(STRADDLING, s.version, { name: "straddling v6" });

    const behind = await refusal(control.show({ id: STRADDLING, version: 5 }, call));
    expect(behind).toMatchObject({
      code: ErrorCodes.Unavailable,
      retryable: true,
      details: { id: STRADDLING, version: 5 },
    });
    expect(await control.show({ id: STRADDLING, version: 6 }, call)).toMatchObject({
      version: 6,
      strategy: { name: "straddling v6" },
    });
    expect(await control.diff({ id: STRADDLING, from: 4, to: 6 }, call)).toMatchObject({
      fromVersion: 4,
      toVersion: 6,
      changes: [{ path: "name", old: "straddling v4", new: "straddling v6" }],
    });
    const log = await control.log({ id: STRADDLING }, call);
    expect(log.versions.map((v) => v.version)).toEqual([4, 3]);
    expect(log.current).toBe(6);

    await startCopy();
    await waitFor(async () => (await control.log({ id: STRADDLING }, call)).versions.length === 4, {
      timeoutMs: 15_000,
      message: "versions 5 and 6 copied",
    });
    expect((await control.show({ id: STRADDLING, version: 5 }, call)).strategy).toMatchObject({
      name: "straddling v5",
    });
  });

  it("refuses an earlier version of a strategy with nothing copied yet UNAVAILABLE, not gone for good", async () => {
    await copy?.stop();
    const fresh = "ops-fresh-0";
    const registered = await client.register({ id: fresh, name: "fresh v1", owner: "desk" });
    await client.update(fresh, registered.version, { name: "fresh v2" });
    const behind = await refusal(control.show({ id: fresh, version: 1 }, call));
    expect(behind).toMatchObject({ code: ErrorCodes.Unavailable, retryable: true, details: { id: fresh, version: 1 } });

    await startCopy();
    const shown = await waitFor(() => control.show({ id: fresh, version: 1 }, call), {
      timeoutMs: 15_000,
      message: "version 1 copied",
    });
    expect(shown.strategy).toMatchObject({ name: "fresh v1" });
  });
});

describe("branches and tags", () => {
  it(`keeps at most ${VersionLimits.branchesMax} branches of a strategy, listed by name`, async () => {
    const names = Array.from({ length: VersionLimits.branchesMax }, (_, i) => `b-${String(i).padStart(2, "0")}`);
    // Created out of order: the list is by name whatever the order they came in.
    for (let i = 0; i < names.length; i += 16) {
      await Promise.all(
        names
          .slice(i, i + 16)
          .reverse()
          .map((name) => control.branchCreate({ id: STRADDLING, name, by: "qa", from: 3 }, call)),
      );
    }
    const refused = await refusal(control.branchCreate({ id: STRADDLING, name: "one-more", by: "qa" }, call));
    expect(refused).toMatchObject({
      code: ErrorCodes.InvalidField,
      field: "body.name",
      details: { branches: VersionLimits.branchesMax, max: VersionLimits.branchesMax },
    });
    const { branches } = await control.branchList({ id: STRADDLING });
    expect(branches.map((b) => b.name)).toEqual(names);
    expect(branches.every((b) => b.base === 3)).toBe(true);

    // Deleting one makes room for another.
    await control.branchDelete({ id: STRADDLING, name: "b-00" });
    await control.branchCreate({ id: STRADDLING, name: "one-more", by: "qa" }, call);
    expect((await control.branchList({ id: STRADDLING })).branches.map((b) => b.name)).toEqual([
      ...names.slice(1),
      "one-more",
    ]);
  });

  it("keeps every tag of tags put and removed at the same time on one strategy", async () => {
    const tags = Array.from({ length: 12 }, (_, i) => `t${i}`);
    const put = await Promise.all(
      tags.map((tag, i) => control.tag({ id: STRADDLING, version: 3 + (i % 4), tag, by: "qa" }, call)),
    );
    expect(put.map((p) => [p.tag.tag, p.tag.version])).toEqual(tags.map((tag, i) => [tag, 3 + (i % 4)]));
    const log = await control.log({ id: STRADDLING }, call);
    expect(Object.fromEntries(log.versions.map((v) => [v.version, v.tags]))).toEqual({
      3: ["t0", "t4", "t8"],
      4: ["t1", "t5", "t9"],
      5: ["t10", "t2", "t6"],
      6: ["t11", "t3", "t7"],
    });

    const removed = await Promise.all(tags.slice(0, 8).map((tag) => control.untag({ id: STRADDLING, tag })));
    expect(removed.map((r) => r.removed.tag)).toEqual(tags.slice(0, 8));
    const after = await control.log({ id: STRADDLING }, call);
    expect(after.versions.flatMap((v) => v.tags).sort()).toEqual(["t10", "t11", "t8", "t9"]);
    expect((await control.show({ id: STRADDLING, version: "tag:t9" }, call)).ref).toBe("tag:t9 (4)");
  });
});

describe("the shard not answering", () => {
  it("still lists the kept versions, with no current version, and passes the shard's error on for the rest", async () => {
    await shard.stop();
    const short: CallContext = { timeoutMs: 1500 };
    const log = await control.log({ id: STRADDLING }, short);
    expect(log.versions.map((v) => v.version)).toEqual([6, 5, 4, 3]);
    expect(log).toMatchObject({ oldest: 3, current: null });
    expect((await control.show({ id: STRADDLING, version: 5 }, short)).strategy).toMatchObject({
      name: "straddling v5",
    });
    // Nothing kept and no shard to ask: not NOT_FOUND, which would say there is no such strategy.
    const unanswered = await refusal(control.log({ id: BEFORE }, short));
    expect(unanswered).toMatchObject({ code: ErrorCodes.Timeout, retryable: true });
  });
});
