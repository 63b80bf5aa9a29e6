/** get, register, list and status end to end: the built CLI against real shards on a real nats-server. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { partitionOf } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ClusterStatus } from "./status/report.js";
import { runCli, startCluster, TEST_LEASE_MS, type TestCluster } from "./testing/cli.js";

const PARTITIONS = 16;
let cluster: TestCluster;
let dir: string;

beforeAll(async () => {
  cluster = await startCluster(inject("natsUrl"), uniqueClusterName("cli-cmds"), 2, PARTITIONS);
  dir = await mkdtemp(join(tmpdir(), "stratreg-cli-cmds-"));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("stratreg register and get", () => {
  it("registers one strategy from stdin and prints it", async () => {
    const input = JSON.stringify({
      id: "mr-eurusd",
      name: "Mean reversion EURUSD",
      owner: "fx-desk",
      tags: ["fx", "mean-reversion"],
      template: { id: "mean-reversion", version: 2, params: { lookback: 20 } },
      venues: [{ venue: "EBS", symbols: ["EURUSD"] }],
    });
    const run = await runCli(["register", "-"], cluster.env, input);
    expect(run.stderr).toBe("");
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^id: +mr-eurusd$/m);
    expect(run.stdout).toMatch(/^version: +1$/m);
    expect(run.stdout).toMatch(/^state: +candidate$/m);
    expect(run.stdout).toMatch(/^template: +mean-reversion v2 \{lookback: 20\}$/m);

    const get = await runCli(["get", "mr-eurusd"], cluster.env);
    expect(get.code).toBe(0);
    expect(get.stdout).toMatch(/^name: +Mean reversion EURUSD$/m);
    expect(get.stdout).toMatch(/^venues: +EBS \[EURUSD\]$/m);
  });

  it("registers an array through registerMany and reports rejections", async () => {
    const file = join(dir, "many.json");
    const many = ["arr-1", "arr-2", "arr-3", "mr-eurusd"].map((id) => ({ id, name: id, owner: "o" }));
    await writeFile(file, JSON.stringify(many));
    const run = await runCli(["register", file, "--json"], cluster.env);
    expect(run.code).toBe(1);
    expect(JSON.parse(run.stdout)).toEqual({
      registered: 3,
      rejected: [
        { index: 3, id: "mr-eurusd", code: "ALREADY_EXISTS", message: "strategy mr-eurusd is already registered" },
      ],
      failed: [],
    });
  });

  it("prints typed errors as `error CODE: message (field …)` and exits 1", async () => {
    const again = await runCli(["register", "-"], cluster.env, JSON.stringify({ id: "arr-1", name: "x", owner: "o" }));
    expect(again.code).toBe(1);
    expect(again.stderr).toBe("error ALREADY_EXISTS: strategy arr-1 is already registered\n");

    const invalid = await runCli(
      ["register", "-"],
      cluster.env,
      JSON.stringify({ id: "x-1", name: "x", owner: "o", colour: "red" }),
    );
    expect(invalid.code).toBe(1);
    expect(invalid.stderr).toBe(
      "error UNKNOWN_FIELD: body.strategy.colour is not a known field (field body.strategy.colour)\n",
    );

    const notJson = await runCli(["register", "-"], cluster.env, "{");
    expect(notJson.code).toBe(1);
    expect(notJson.stderr).toMatch(/^error: stdin is not valid JSON/);
  });

  it("gets several ids, reports the missing ones on stderr and exits 1", async () => {
    const run = await runCli(["get", "arr-1", "no-such-strategy", "arr-2", "--json"], cluster.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toBe("not found: no-such-strategy\n");
    const ids = run.stdout
      .trim()
      .split("\n")
      .map((line) => (JSON.parse(line) as { id: string }).id);
    expect(ids).toEqual(["arr-1", "arr-2"]);
  });
});

describe("stratreg list", () => {
  it("lists every strategy up to --limit, and one partition page by page", async () => {
    const all = await runCli(["list", "--json", "--limit", "1000"], cluster.env);
    expect(all.code).toBe(0);
    const listing = JSON.parse(all.stdout) as { strategies: Array<{ id: string }>; truncated: boolean };
    expect(listing.strategies.map((s) => s.id).sort()).toEqual(["arr-1", "arr-2", "arr-3", "mr-eurusd"]);
    expect(listing.truncated).toBe(false);

    const limited = await runCli(["list", "--limit", "2"], cluster.env);
    expect(limited.code).toBe(0);
    const lines = limited.stdout.trim().split("\n");
    expect(lines[0]).toMatch(/^ID +VERSION +STATE +NAME$/);
    expect(lines).toHaveLength(3);
    expect(limited.stderr).toContain("raise --limit");

    // Three more strategies in one partition, to page through it one at a time.
    const p = partitionOf("mr-eurusd", PARTITIONS);
    const sameP = Array.from({ length: 400 }, (_, i) => `page-${i}`)
      .filter((id) => partitionOf(id, PARTITIONS) === p)
      .slice(0, 3);
    const many = sameP.map((id) => ({ id, name: id, owner: "o" }));
    expect((await runCli(["register", "-"], cluster.env, JSON.stringify(many))).code).toBe(0);
    const expected = [...sameP, "arr-1", "arr-2", "arr-3", "mr-eurusd"]
      .filter((id) => partitionOf(id, PARTITIONS) === p)
      .sort();
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const args: string[] = ["list", "--partition", String(p), "--limit", "2", "--json"];
      if (cursor !== null) args.push("--cursor", cursor);
      const page = await runCli(args, cluster.env);
      expect(page.code).toBe(0);
      const body = JSON.parse(page.stdout) as { strategies: Array<{ id: string }>; nextCursor: string | null };
      seen.push(...body.strategies.map((s) => s.id));
      cursor = body.nextCursor;
    } while (cursor !== null && seen.length < 10);
    expect(seen).toEqual(expected);

    const text = await runCli(["list", "--partition", String(p), "--limit", "1"], cluster.env);
    expect(text.stdout).toMatch(/^ID +VERSION +STATE +NAME\n\S+ +1 +candidate +.+\n$/);
    expect(text.stderr).toMatch(new RegExp(`^more: stratreg list --partition ${p} --cursor \\S+ --limit 1\n$`));

    const outOfRange = await runCli(["list", "--partition", String(PARTITIONS)], cluster.env);
    expect(outOfRange.code).toBe(1);
    expect(outOfRange.stderr).toContain(`--partition must be below ${PARTITIONS}`);
  });
});

describe("stratreg status", () => {
  it("shows the members, what they serve, and that every partition has one owner", async () => {
    const json = await runCli(["status", "--json"], cluster.env);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as ClusterStatus;
    expect(status.partitions).toBe(PARTITIONS);
    expect(status.shards.map((s) => s.status.member)).toEqual(["shard-0", "shard-1"]);
    expect(status.totals.serving).toBe(PARTITIONS);
    expect(status.totals.strategies).toBe(7); // 4 registered, 3 more by the list test
    expect(status.unserved).toEqual([]);
    expect(status.multiServed).toEqual([]);

    const text = await runCli(["status", "--verbose"], cluster.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain(`cluster ${cluster.env.STRATREG_CLUSTER}: ${PARTITIONS} partitions, 2 members`);
    expect(text.stdout).toMatch(/^shard-0 +\d+ +0 +\d+ +[\d.]+ MiB/m);
    expect(text.stdout).toMatch(/^shard-1: serving [\d,-]+; loading -$/m);
    expect(text.stdout).toContain(`partitions served by nobody: 0 of ${PARTITIONS}`);
    expect(text.stdout).toContain(`partitions served by more than one member: 0 of ${PARTITIONS}`);
  });

  it("lists every partition with its owner, epoch and a fresh lease (--partitions)", async () => {
    const json = await runCli(["status", "--json"], cluster.env);
    expect(json.code).toBe(0);
    const status = JSON.parse(json.stdout) as ClusterStatus;
    expect(status.unowned).toEqual([]);
    expect(status.withoutPartitionDetails).toEqual([]);
    const rows = status.partitionTable;
    expect(rows.map((row) => row.partition)).toEqual(Array.from({ length: PARTITIONS }, (_, p) => p));
    for (const row of rows) {
      expect(row).toMatchObject({ state: "serving", flag: null });
      expect(row.owner).toMatch(/^shard-[01]$/);
      expect(row.epoch).toBeGreaterThanOrEqual(1);
      expect(row.leaseAgeMs).toBeGreaterThanOrEqual(0);
      expect(row.leaseAgeMs).toBeLessThan(TEST_LEASE_MS);
      expect(row.logSeq).toBeGreaterThanOrEqual(1); // at least the owner's epoch marker
    }
    expect(rows.reduce((n, row) => n + (row.strategies ?? 0), 0)).toBe(status.totals.strategies);
    expect(status.states.total).toEqual({ serving: PARTITIONS });
    for (const { status: shard } of status.shards) {
      expect(status.states.members[shard.member]).toEqual({ serving: shard.serving.length });
    }

    const text = await runCli(["status", "--partitions"], cluster.env);
    expect(text.code).toBe(0);
    expect(text.stdout).toMatch(
      new RegExp(`^MEMBER +SERVING\nshard-0 +\\d+\nshard-1 +\\d+\ntotal +${PARTITIONS}$`, "m"),
    );
    expect(text.stdout).toContain(`partitions with no owner: 0 of ${PARTITIONS}`);
    expect(text.stdout).toMatch(
      /^PARTITION +OWNER +STATE +EPOCH +LEASE AGE \(ms\) +LOG SEQ +SNAPSHOT SEQ +QUEUED +STRATEGIES +FLAG$/m,
    );
    for (let p = 0; p < PARTITIONS; p++) {
      expect(text.stdout).toMatch(
        new RegExp(`^ *${p} +shard-[01] +serving +[1-9]\\d* +\\d+ +[1-9]\\d* +\\d+ +\\d+ +\\d+$`, "m"),
      );
    }
    const plain = await runCli(["status"], cluster.env);
    expect(plain.stdout).not.toContain("PARTITION");
  });

  it("says so, and exits 1, when no shard of the cluster answers", async () => {
    const run = await runCli(["status", "--cluster", uniqueClusterName("nobody"), "--wait", "200"], cluster.env);
    expect(run.code).toBe(1);
    expect(run.stdout).toContain("no shard of this cluster answered");
  });
});

describe("connection failures", () => {
  it("names the NATS URL it could not reach", async () => {
    const run = await runCli(["get", "x"], { ...cluster.env, NATS_URL: "nats://127.0.0.1:1" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: cannot connect to NATS at nats:\/\/127\.0\.0\.1:1: /);
  });

  it("explains a cluster nobody serves", async () => {
    const run = await runCli(["get", "x", "--cluster", uniqueClusterName("nobody"), "--timeout", "300"], cluster.env);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error TIMEOUT: no shard of cluster "nobody-[a-z0-9]+" answered within 300 ms/);
  });
});
