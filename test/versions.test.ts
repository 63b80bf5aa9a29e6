/**
 * Version control end to end: real shards, a real versions process copying
 * every version from the partition logs, used through the SDK as a quant would:
 * log, show, diff, rollback, branches, merge and tags; history that the log keeps
 * after snapshots cover it, and a SIGKILL of the versions process.
 */

import { fileURLToPath } from "node:url";
import { jetstreamManager } from "@nats-io/jetstream";
import { type Strategy, type StrategyPatch, StratregError, shardStatuses } from "@stratreg/client";
import { clusterSubjects, decode, ErrorCodes, encode, PROTOCOL_VERSION, type Reply } from "@stratreg/protocol";
import { type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { FAST_MEMBERSHIP, startRegistry, type TestRegistry } from "./support/registry.js";

const VERSIONS_MAIN = fileURLToPath(new URL("../services/versions/dist/main.js", import.meta.url));
const PARTITIONS = 8;
let registry: TestRegistry;
let cluster: string;
let versions: ServiceProcess;
/** What `get` answered after each change of the edited strategy, by version. */
const seen = new Map<number, Strategy>();
const EDITED = "vc-edited";
const EARLY = "vc-early";

function startVersions(member = "versions-1"): ServiceProcess {
  return spawnService({
    entry: VERSIONS_MAIN,
    name: member,
    env: {
      NATS_URL: inject("natsUrl"),
      STRATREG_CLUSTER: cluster,
      STRATREG_VERSIONS_ID: member,
      STRATREG_VERSIONS_CHECKPOINT_MS: "50",
      LOG_LEVEL: "info",
    },
  });
}

const caughtUp = (process: ServiceProcess) =>
  process.waitForLog((_line, json) => json?.msg === "versions caught up with the history", 30_000);

/** Waits until the versions process lists `version` of `id` (the copy is a moment behind the shard). */
async function logReaching(id: string, version: number) {
  return waitFor(
    async () => {
      const log = await registry.client.versionLog(id, { limit: 1000 }).catch(() => undefined);
      return log !== undefined && (log.versions[0]?.version ?? 0) >= version ? log : undefined;
    },
    { timeoutMs: 15_000, message: `the versions of ${id} to reach ${version}` },
  );
}

async function codeOf(work: Promise<unknown>): Promise<string> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StratregError);
  return (err as StratregError).code;
}

/** The sequence of the first entry `partition`'s log still holds. */
async function firstEntryOf(partition: number): Promise<number | undefined> {
  const subjects = clusterSubjects(cluster);
  const jsm = await jetstreamManager(registry.nc);
  const first = await jsm.direct.getMessage(subjects.logStream, { next_by_subj: subjects.log(partition), seq: 1 });
  return first?.seq;
}

/** The log sequence the latest snapshot of `partition` covers, as its owner reports it. */
async function snapshotSeqOf(partition: number): Promise<number> {
  const statuses = await shardStatuses(registry.nc, cluster);
  const held = statuses.flatMap((s) => s.partitions ?? []).filter((p) => p.partition === partition);
  return Math.max(0, ...held.map((p) => p.snapshotSeq));
}

/**
 * Updates another strategy of `id`'s partition until two snapshots have covered everything the
 * log held, past the command window: the second would have let the entries the first covers go,
 * but the log keeps them for the history. (A third snapshot shows the second's purge is over:
 * an owner takes one snapshot at a time, the purge behind it included.)
 */
async function snapshotPartitionOf(id: string): Promise<void> {
  const partition = registry.client.partitionOf(id);
  const firstBefore = await firstEntryOf(partition);
  const jsm = await jetstreamManager(registry.nc);
  const covered = (await jsm.streams.info(clusterSubjects(cluster).logStream)).state.last_seq;
  let filler = "";
  for (let i = 0; filler === ""; i++) {
    if (registry.client.partitionOf(`vc-filler-${i}`) === partition) filler = `vc-filler-${i}`;
  }
  let strategy = await registry.client.register({ id: filler, name: "filler", owner: "desk" });
  const snapshots: number[] = [];
  await waitFor(
    async () => {
      for (let i = 0; i < 10; i++) {
        strategy = await registry.client.update(filler, strategy.version, { description: "x".repeat(300) + i });
      }
      const seq = await snapshotSeqOf(partition);
      if (seq >= covered && seq > (snapshots.at(-1) ?? 0)) snapshots.push(seq);
      return snapshots.length >= 3;
    },
    { timeoutMs: 30_000, intervalMs: 600, message: "three snapshots of the partition" },
  );
  expect(await firstEntryOf(partition)).toBe(firstBefore);
}

beforeAll(async () => {
  cluster = uniqueClusterName("versions");
  registry = await startRegistry(inject("natsUrl"), cluster, ["shard-a", "shard-b"], {
    partitions: PARTITIONS,
    // Small snapshots, and command ids forgotten after a second: only the history's retention
    // keeps the entries a snapshot covers.
    env: {
      ...FAST_MEMBERSHIP,
      STRATREG_SNAPSHOT_MIN_BYTES: "2048",
      STRATREG_COMMAND_WINDOW_MS: "1000",
      STRATREG_MAX_CLOCK_SKEW_MS: "0",
    },
  });
  // A strategy edited, and its partition snapshotted, before any versions process ran.
  let early = await registry.client.register({ id: EARLY, name: "early v1", owner: "desk" });
  for (let v = 2; v <= 4; v++) early = await registry.client.update(EARLY, early.version, { name: `early v${v}` });
  await snapshotPartitionOf(EARLY);
  versions = startVersions();
  await caughtUp(versions);
});
afterAll(async () => {
  await versions?.kill("SIGTERM").catch(() => undefined);
  await registry?.close();
});

describe("log and show", () => {
  it("lists every version of a strategy edited many times, and shows each as get answered it then", async () => {
    let s = await registry.client.register({
      id: EDITED,
      name: "Band reversion",
      owner: "quant-1",
      tags: ["fx"],
      template: { id: "band", params: { lookback: 20, threshold: 1.5 } },
      venues: [{ venue: "lmax", symbols: ["EURUSD"] }],
    });
    seen.set(s.version, await registry.client.get(EDITED));
    const edits: StrategyPatch[] = [
      { name: "Band reversion 2" },
      { tags: ["fx", "mean-reversion"] },
      { template: { id: "band", params: { lookback: 30, threshold: 1.5 } } },
      { venues: [{ venue: "lmax", symbols: ["EURUSD", "GBPUSD"] }] },
      { description: "Fades moves outside a volatility band" },
      { family: "reversion" },
      { template: { id: "band", params: { lookback: 30, threshold: 2 } } },
      { owner: "quant-2" },
      { parents: [EARLY] },
      { name: "Band reversion 3", tags: ["fx"] },
    ];
    for (const patch of edits) {
      s = await registry.client.update(EDITED, s.version, patch);
      seen.set(s.version, await registry.client.get(EDITED));
    }
    s = await registry.client.transition(EDITED, "backtest", { by: "quant-2", reason: "start testing" });
    seen.set(s.version, await registry.client.get(EDITED));
    expect(s.version).toBe(12);

    const log = await logReaching(EDITED, 12);
    expect(log.versions.map((v) => v.version)).toEqual([12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1]);
    expect(log.versions.map((v) => v.op)).toEqual([
      "transition",
      ...Array.from({ length: 10 }, () => "update"),
      "register",
    ]);
    expect(log.versions[0]).toMatchObject({
      by: "quant-2",
      note: "candidate → backtesting: start testing",
      state: "backtesting",
    });
    expect(log).toMatchObject({ id: EDITED, next: null, oldest: 1, current: 12 });
    for (const [version, strategy] of seen) {
      expect((await registry.client.showVersion(EDITED, version)).strategy).toEqual(strategy);
    }
    const page = await registry.client.versionLog(EDITED, { limit: 5 });
    expect(page.versions.map((v) => v.version)).toEqual([12, 11, 10, 9, 8]);
    expect(page.next).toBe(8);
    const rest = await registry.client.versionLog(EDITED, { limit: 5, before: 8 });
    expect(rest.versions.map((v) => v.version)).toEqual([7, 6, 5, 4, 3]);
  });

  it("keeps versions written before the process ran, and after snapshots covered the partition log", async () => {
    const log = await registry.client.versionLog(EARLY);
    expect(log.versions.map((v) => v.version)).toEqual([4, 3, 2, 1]);
    expect((await registry.client.showVersion(EARLY, 1)).strategy?.name).toBe("early v1");
    await snapshotPartitionOf(EDITED);
    for (const [version, strategy] of seen) {
      expect((await registry.client.showVersion(EDITED, version)).strategy).toEqual(strategy);
    }
  });
});

describe("diff and rollback", () => {
  it("diffs two versions field by field, parameters, lists and the lifecycle state included", async () => {
    const d = await registry.client.diffVersions(EDITED, 1, 12);
    const byPath = Object.fromEntries(d.changes.map((c) => [c.path, c]));
    expect(byPath["template.params.lookback"]).toMatchObject({ kind: "changed", old: 20, new: 30 });
    expect(byPath["template.params.threshold"]).toMatchObject({ kind: "changed", old: 1.5, new: 2 });
    expect(byPath["venues[0].symbols[1]"]).toMatchObject({ kind: "added", new: "GBPUSD" });
    expect(byPath.family).toMatchObject({ kind: "changed", old: null, new: "reversion" });
    expect(byPath["parents[0]"]).toMatchObject({ kind: "added", new: EARLY });
    expect(byPath.state).toMatchObject({ kind: "changed", old: "candidate", new: "backtesting" });
    expect(byPath.tags).toBeUndefined();
    expect(d).toMatchObject({ from: "1", to: "12", fromVersion: 1, toVersion: 12 });
    const back = await registry.client.diffVersions(EDITED, "main", 2);
    expect(back.from).toBe("main (12)");
    expect(back.changes.find((c) => c.path === "name")).toMatchObject({
      old: "Band reversion 3",
      new: "Band reversion 2",
    });
  });

  it("rolls back with a new version equal to the old one's fields; the lifecycle state stays", async () => {
    // A near-cache of this client never shows the version a rollback left behind.
    const cache = await registry.client.nearCache({ ids: [EDITED], maxLagMs: 60_000 });
    await waitFor(() => cache.lookup(EDITED)?.version === 12, { timeoutMs: 15_000, message: "the cache to hold v12" });
    const command = { by: "alice", cid: "rollback-to-3", issued: Date.now() };
    const result = await registry.client.rollback(EDITED, 3, command);
    expect(cache.lookup(EDITED)?.version ?? 13).toBe(13);
    await cache.close();
    expect(result).toMatchObject({ rolledBack: true, from: 3 });
    expect([...result.changed].sort()).toEqual(
      ["description", "family", "name", "owner", "parents", "tags", "template", "venues"].sort(),
    );
    const now = await registry.client.get(EDITED);
    expect(now.version).toBe(13);
    expect(now.state).toBe("backtesting");
    const old = seen.get(3) as Strategy;
    for (const field of ["name", "description", "tags", "owner", "family", "parents", "template", "venues"] as const) {
      expect(now[field]).toEqual(old[field]);
    }
    const log = await logReaching(EDITED, 13);
    expect(log.versions[0]).toMatchObject({ version: 13, op: "rollback", by: "alice", note: "to 3" });
    expect(log.versions).toHaveLength(13);
    // The same command sent again: answered as the first time, nothing written.
    expect(await registry.client.rollback(EDITED, 3, command)).toEqual(result);
    expect((await registry.client.get(EDITED)).version).toBe(13);
    expect((await registry.client.diffVersions(EDITED, 3, 13)).changes).toEqual([
      { path: "state", at: ["state"], kind: "changed", old: "candidate", new: "backtesting" },
    ]);
    // Stale: nothing written.
    expect(await codeOf(registry.client.rollback(EDITED, 1, { by: "alice", expectedVersion: 12 }))).toBe(
      ErrorCodes.Conflict,
    );
    expect((await registry.client.get(EDITED)).version).toBe(13);
  });
});

describe("branches and merge", () => {
  it("edits a branch independently, compares it with main and merges it back in one update", async () => {
    const branch = await registry.client.createBranch(EDITED, "slow", { by: "bob" });
    expect(branch).toMatchObject({ name: "slow", base: 13, version: 1 });
    const edited = await registry.client.editBranch(
      EDITED,
      "slow",
      1,
      { template: { id: "band", params: { lookback: 60, threshold: 1.5 } } },
      { by: "bob" },
    );
    expect(edited.version).toBe(2);
    // Two edits made on one branch version: one wins, the other is refused.
    const racing = await Promise.allSettled([
      registry.client.editBranch(EDITED, "slow", 2, { description: "one" }, { by: "bob" }),
      registry.client.editBranch(EDITED, "slow", 2, { description: "two" }, { by: "carol" }),
    ]);
    expect(racing.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    const refused = racing.find((r) => r.status === "rejected") as PromiseRejectedResult;
    expect((refused.reason as StratregError).code).toBe(ErrorCodes.Conflict);
    const view = await registry.client.branch(EDITED, "slow");
    expect(view.branch.version).toBe(3);
    expect(view.changes.map((c) => c.path).sort()).toEqual(["description", "template.params.lookback"]);
    // Main moves on another field meanwhile.
    const main = await registry.client.update(EDITED, 13, { tags: ["fx", "g10"] });
    const vsMain = await registry.client.diffVersions(EDITED, "main", "branch:slow");
    expect(vsMain.changes.map((c) => c.path).sort()).toEqual(["description", "tags[1]", "template.params.lookback"]);
    const mergeCommand = { by: "bob", expectedVersion: main.version, cid: "merge-slow", issued: Date.now() };
    const merged = await registry.client.merge(EDITED, "slow", mergeCommand);
    expect(merged).toMatchObject({ merged: true, branch: { base: 15, version: 4, mergedAs: 15 } });
    expect(merged.changed.sort()).toEqual(["description", "template"]);
    const after = await registry.client.get(EDITED);
    expect(after).toMatchObject({ version: 15, tags: ["fx", "g10"], description: view.branch.fields.description });
    expect(after.template?.params).toEqual({ lookback: 60, threshold: 1.5 });
    const log = await logReaching(EDITED, 15);
    expect(log.versions[0]).toMatchObject({ version: 15, op: "merge", by: "bob", note: "branch slow" });
    // Sent again: answered as the first time, nothing written.
    const again = await registry.client.merge(EDITED, "slow", mergeCommand);
    expect(again).toMatchObject({ merged: true, strategy: merged.strategy, changed: merged.changed });
    expect((await registry.client.get(EDITED)).version).toBe(15);
    expect((await registry.client.branches(EDITED)).map((b) => b.name)).toEqual(["slow"]);
  });

  it("reports conflicts field by field with base, ours and theirs, and writes nothing", async () => {
    await registry.client.createBranch(EDITED, "rename", { by: "bob" });
    await registry.client.editBranch(EDITED, "rename", 1, { name: "Branch name", owner: "quant-9" }, { by: "bob" });
    const main = await registry.client.update(EDITED, 15, { name: "Main name" });
    const err = await registry.client.merge(EDITED, "rename", { by: "bob" }).catch((e: unknown) => e);
    expect((err as StratregError).code).toBe(ErrorCodes.Conflict);
    expect((err as StratregError).details?.conflicts).toEqual([
      { path: "name", base: "Band reversion 2", ours: "Main name", theirs: "Branch name" },
    ]);
    expect((await registry.client.get(EDITED)).version).toBe(main.version);
    await registry.client.deleteBranch(EDITED, "rename");
    expect(await codeOf(registry.client.branch(EDITED, "rename"))).toBe(ErrorCodes.NotFound);
    expect(await codeOf(registry.client.createBranch(EDITED, "slow", { by: "bob" }))).toBe(ErrorCodes.AlreadyExists);
  });
});

describe("tags", () => {
  it("names a version; moving a tag needs force; log and show know tags", async () => {
    expect(await registry.client.tagVersion(EDITED, 2, "prod", { by: "ops" })).toMatchObject({
      tag: "prod",
      version: 2,
    });
    expect(await codeOf(registry.client.tagVersion(EDITED, 3, "prod"))).toBe(ErrorCodes.Conflict);
    await registry.client.tagVersion(EDITED, 3, "prod", { force: true });
    await registry.client.tagVersion(EDITED, 3, "reviewed");
    const log = await registry.client.versionLog(EDITED, { limit: 1000 });
    expect(log.versions.find((v) => v.version === 3)?.tags).toEqual(["prod", "reviewed"]);
    expect(log.versions.find((v) => v.version === 2)?.tags).toEqual([]);
    const shown = await registry.client.showVersion(EDITED, "tag:prod");
    expect(shown).toMatchObject({ ref: "tag:prod (3)", version: 3, strategy: seen.get(3) });
    expect((await registry.client.diffVersions(EDITED, "tag:prod", 3)).changes).toEqual([]);
    await registry.client.untagVersion(EDITED, "reviewed");
    expect(await codeOf(registry.client.untagVersion(EDITED, "reviewed"))).toBe(ErrorCodes.NotFound);
    expect(await codeOf(registry.client.tagVersion(EDITED, 999, "future"))).toBe(ErrorCodes.NotFound);
  });
});

describe("faults and bad input", () => {
  it("answers the same after a SIGKILL, and copies what was written while it was down", async () => {
    const before = await registry.client.versionLog(EDITED, { limit: 1000 });
    const shownBefore = await registry.client.showVersion(EDITED, 5);
    await versions.kill("SIGKILL");
    let s = await registry.client.get(EDITED);
    s = await registry.client.update(EDITED, s.version, { description: "written while versions was down" });
    versions = startVersions();
    await caughtUp(versions);
    const after = await logReaching(EDITED, s.version);
    expect(after.versions.slice(1)).toEqual(before.versions);
    expect(after.versions[0]).toMatchObject({ version: s.version, op: "update" });
    expect(await registry.client.showVersion(EDITED, 5)).toEqual(shownBefore);
    expect((await registry.client.showVersion(EDITED, s.version)).strategy).toEqual(s);
  });

  it("keeps each version once while two processes copy and answer at once", async () => {
    const second = startVersions("versions-2");
    try {
      await caughtUp(second);
      let s = await registry.client.get(EDITED);
      const first = s.version;
      for (let i = 0; i < 10; i++) s = await registry.client.update(EDITED, s.version, { description: `burst ${i}` });
      const log = await logReaching(EDITED, s.version);
      const listed = log.versions.map((v) => v.version);
      expect(listed).toEqual(Array.from({ length: s.version }, (_, i) => s.version - i));
      // Either process may answer (one queue group): both say the same.
      for (let i = 0; i < 6; i++) {
        expect((await registry.client.versionLog(EDITED, { limit: 1000 })).versions).toEqual(log.versions);
        expect((await registry.client.showVersion(EDITED, first + 5)).strategy?.description).toBe("burst 4");
      }
    } finally {
      await second.kill("SIGTERM");
    }
  });

  it("refuses bad requests with stable codes and keeps serving", async () => {
    const ask = async (op: string, envelope: Record<string, unknown>) => {
      const msg = await registry.nc.request(`${cluster}.versions.${op}`, encode({ v: PROTOCOL_VERSION, ...envelope }), {
        timeout: 5000,
      });
      return decode(msg.data) as Reply<unknown>;
    };
    const codeOfReply = (reply: Reply<unknown>) => (reply.ok ? "ok" : reply.error.code);
    expect(codeOfReply(await ask("log", { body: {} }))).toBe(ErrorCodes.MissingField);
    expect(codeOfReply(await ask("log", { body: { id: EDITED, colour: 1 } }))).toBe(ErrorCodes.UnknownField);
    expect(codeOfReply(await ask("diff", { body: { id: EDITED, from: "banana", to: 1 } }))).toBe(
      ErrorCodes.InvalidField,
    );
    expect(codeOfReply(await ask("rollback", { body: { id: EDITED, version: 1, by: "x" } }))).toBe(
      ErrorCodes.MissingField,
    );
    expect(codeOfReply(await ask("branch-create", { body: { id: EDITED, name: "main", by: "x" } }))).toBe(
      ErrorCodes.InvalidField,
    );
    expect(
      codeOfReply(
        await ask("branch-update", {
          body: { id: EDITED, name: "slow", expectedVersion: 4, patch: { version: 9 }, by: "x" },
        }),
      ),
    ).toBe(ErrorCodes.UnknownField);
    const garbage = await registry.nc.request(`${cluster}.versions.show`, new Uint8Array([0xc1]), { timeout: 5000 });
    expect(codeOfReply(decode(garbage.data) as Reply<unknown>)).toBe(ErrorCodes.Malformed);
    expect(await codeOf(registry.client.showVersion(EDITED, 999))).toBe(ErrorCodes.NotFound);
    expect(await codeOf(registry.client.versionLog("vc-nobody"))).toBe(ErrorCodes.NotFound);
    expect((await registry.client.versionLog(EDITED)).id).toBe(EDITED);
    expect(versions.logs().filter((line) => line.includes('"level":50'))).toEqual([]);
    // The retention never let an entry go before the copy read it: no log entry went missing.
    expect(await registry.client.versionsStatus()).toMatchObject({ state: "serving", copy: { gaps: 0, pending: 0 } });
  });
});
