/**
 * `stratreg drain` and `stratreg events` end to end: the built CLI drains one of two real shard
 * processes while a second CLI follows the ownership events; the other shard ends up serving
 * everything, and nothing registered before is lost.
 */
import type { OwnershipEvent } from "@stratreg/client";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ClusterStatus } from "./status/report.js";
import { runCli, startCli, startCluster, type TestCluster } from "./testing/cli.js";

const PARTITIONS = 16;
const IDS = Array.from({ length: 60 }, (_, i) => `drain-${String(i).padStart(3, "0")}`);
let cluster: TestCluster;

beforeAll(async () => {
  cluster = await startCluster(inject("natsUrl"), uniqueClusterName("cli-drain"), 2, PARTITIONS);
});

afterAll(async () => {
  await cluster?.stop();
});

async function status(): Promise<ClusterStatus> {
  const run = await runCli(["status", "--json"], cluster.env);
  return JSON.parse(run.stdout) as ClusterStatus;
}

describe("stratreg drain", () => {
  it("refuses a member that is not there, naming it and the cluster", async () => {
    const run = await runCli(["drain", "shard-9"], cluster.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe(`error NO_SUCH_SHARD: no shard shard-9 in cluster ${cluster.env.STRATREG_CLUSTER}\n`);
    expect(run.stdout).toBe("");
  });

  it("hands every partition of a member to the other, which the event feed shows, and loses nothing", async () => {
    const strategies = IDS.map((id) => ({ id, name: id, owner: "drain-test" }));
    expect((await runCli(["register", "-"], cluster.env, JSON.stringify(strategies))).code).toBe(0);
    const before = await status();
    const held = before.shards.find((s) => s.status.member === "shard-1")?.status.serving ?? [];
    expect(held.length).toBeGreaterThan(0);

    // Every partition shard-1 serves is released by it and acquired by shard-0: two events each.
    const events = startCli(["events", "--json", "--count", String(2 * held.length)], cluster.env, undefined, 30_000);
    await events.stderrContains("following");

    const drain = await runCli(["drain", "shard-1"], cluster.env);
    expect(drain.stderr).not.toContain("error");
    expect(drain.code).toBe(0);
    expect(drain.stdout).toContain(
      `drain requested: shard-1 of cluster ${cluster.env.STRATREG_CLUSTER} is handing off`,
    );
    expect(drain.stdout).toMatch(
      new RegExp(`^drained shard-1 in [\\d.]+ s: shard-0 serves all ${PARTITIONS} partitions$`, "m"),
    );
    expect(await cluster.shards[1]?.exited).toEqual({ code: 0, signal: null });

    const after = await status();
    expect(after.shards.map((s) => s.status.member)).toEqual(["shard-0"]);
    expect(after.shards[0]?.status.serving).toHaveLength(PARTITIONS);
    expect(after.unserved).toEqual([]);
    expect(after.unowned).toEqual([]);
    expect(after.healthy).toBe(true);
    for (const row of after.partitionTable) expect(row).toMatchObject({ owner: "shard-0", state: "serving" });

    const get = await runCli(["get", ...IDS, "--json"], cluster.env);
    expect(get.stderr).toBe("");
    expect(get.code).toBe(0);
    expect(get.stdout.trim().split("\n")).toHaveLength(IDS.length);

    const followed = await events.done;
    expect(followed.code).toBe(0);
    const seen = followed.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as OwnershipEvent);
    const moves = (member: string, change: string) =>
      seen
        .filter((e) => e.member === member && e.change === change)
        .map((e) => e.partition)
        .sort((a, b) => a - b);
    expect(moves("shard-1", "released")).toEqual(held);
    expect(moves("shard-0", "acquired")).toEqual(held);
    for (const event of seen.filter((e) => e.change === "acquired")) expect(event.epoch).toBeGreaterThanOrEqual(2);
    // A release names the epoch it ends; the next owner's acquisition is the one after it.
    for (const released of seen.filter((e) => e.change === "released")) {
      const acquired = seen.find((e) => e.change === "acquired" && e.partition === released.partition);
      expect(released.epoch).toBeGreaterThanOrEqual(1);
      expect(acquired?.epoch).toBe(released.epoch + 1);
    }
  });

  it("refuses to drain the last member, which would leave every partition unserved", async () => {
    const run = await runCli(["drain", "shard-0"], cluster.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error LAST_MEMBER: shard-0 is the only member of cluster /);
    expect((await status()).healthy).toBe(true);
  });
});

describe("stratreg events", () => {
  it("prints one line per ownership change and stops after --count", async () => {
    const events = startCli(["events", "--count", "3"], cluster.env);
    await events.stderrContains(`following ${cluster.env.STRATREG_CLUSTER}.events.ownership for 3 events`);
    // shard-1 comes back and takes its share from shard-0: releases and acquisitions.
    cluster.addShard("shard-1");
    const run = await events.done;
    expect(run.code).toBe(0);
    const lines = run.stdout.trim().split("\n");
    expect(lines).toHaveLength(3);
    for (const line of lines) {
      expect(line).toMatch(
        /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z shard-[01] (acquired|released|lost) partition \d+ epoch \d+$/,
      );
    }
    await cluster.waitHealthy(2);
  });

  it("stops on Ctrl-C with exit code 130", async () => {
    const events = startCli(["events"], cluster.env);
    await events.stderrContains("following");
    events.kill("SIGINT");
    expect((await events.done).code).toBe(130);
  });
});
