/** `stratreg import` end to end: the built CLI against real shards on a real nats-server. */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import type { ImportSummary } from "./import/summary.js";
import { runCli, startCluster, startFedCli, type TestCluster } from "./testing/cli.js";

let cluster: TestCluster;
let dir: string;

function strategy(id: string) {
  return { id, name: `Strategy ${id}`, owner: "quant-desk", tags: ["import-test"] };
}

function jsonl(lines: Array<string | object>): string {
  return `${lines.map((line) => (typeof line === "string" ? line : JSON.stringify(line))).join("\n")}\n`;
}

beforeAll(async () => {
  cluster = await startCluster(inject("natsUrl"), uniqueClusterName("cli-import"), 2, 16);
  dir = await mkdtemp(join(tmpdir(), "stratreg-cli-import-"));
});

afterAll(async () => {
  await cluster?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("stratreg import", () => {
  const goodIds = Array.from({ length: 300 }, (_, i) => `good-${i}`);

  it("registers every line of a clean file and prints a summary", async () => {
    const file = join(dir, "good.jsonl");
    await writeFile(file, jsonl(goodIds.map(strategy)));
    const run = await runCli(["import", file, "--batch-size", "50"], cluster.env);
    expect(run.stderr).not.toMatch(/error/);
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/imported .*good\.jsonl: 300 lines in [\d.]+ s \([\d,]+ strategies\/s\)/);
    expect(run.stdout).toMatch(/registered: +300\n/);
    expect(run.stdout).toMatch(/already registered: +0\n/);
    expect(run.stdout).toMatch(/invalid lines: +0\n/);
    expect(run.stdout).toMatch(/other failures: +0\n/);

    const get = await runCli(["get", "good-0", "good-299", "--json"], cluster.env);
    expect(get.code).toBe(0);
    const strategies = get.stdout
      .trim()
      .split("\n")
      .map((line) => JSON.parse(line) as { id: string; name: string; version: number; state: string });
    expect(strategies.map((s) => [s.id, s.name, s.version, s.state])).toEqual([
      ["good-0", "Strategy good-0", 1, "candidate"],
      ["good-299", "Strategy good-299", 1, "candidate"],
    ]);
  });

  it("counts a re-import as already registered and succeeds", async () => {
    const run = await runCli(["import", join(dir, "good.jsonl"), "--json"], cluster.env);
    expect(run.code).toBe(0);
    const summary = JSON.parse(run.stdout) as ImportSummary;
    expect(summary).toMatchObject({ lines: 300, registered: 0, alreadyRegistered: 300, invalid: 0, failed: 0 });
    expect(summary.problems).toEqual([]);
  });

  it("reports bad JSON and invalid strategies by line number, registers the rest, and exits 1", async () => {
    const file = join(dir, "mixed.jsonl");
    const fresh = Array.from({ length: 120 }, (_, i) => strategy(`mixed-${i}`));
    await writeFile(
      file,
      jsonl([
        strategy("mixed-a"),
        strategy("good-5"), // registered by the first test
        "{this is not json",
        strategy("mixed-b"),
        { ...strategy("mixed-unknown"), colour: "red" },
        "",
        { ...strategy("mixed-bad-name"), name: "" },
        ...fresh,
      ]),
    );
    const run = await runCli(["import", file, "--json", "--concurrency", "4"], cluster.env);
    expect(run.code).toBe(1);
    const summary = JSON.parse(run.stdout) as ImportSummary;
    expect(summary).toMatchObject({ lines: 127, registered: 122, alreadyRegistered: 1, invalid: 3, failed: 0 });
    expect(summary.problems.map((p) => [p.line, p.code, p.field])).toEqual([
      [3, "BAD_JSON", undefined],
      [5, "UNKNOWN_FIELD", "colour"],
      [7, "INVALID_FIELD", "name"],
    ]);

    const text = await runCli(["import", file], cluster.env);
    expect(text.code).toBe(1);
    expect(text.stderr).toContain("line 3: BAD_JSON: not valid JSON");
    expect(text.stderr).toContain("line 5: UNKNOWN_FIELD: colour is not a known field (field colour)");
    expect(text.stdout).toMatch(/already registered: +123\n/);
    expect(text.stdout).toMatch(/invalid lines: +3\n/);

    const get = await runCli(["get", "mixed-a", "mixed-b", "mixed-119", "--json"], cluster.env);
    expect(get.code).toBe(0);
    expect(get.stdout.trim().split("\n")).toHaveLength(3);
    const missing = await runCli(["get", "mixed-unknown"], cluster.env);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain("not found: mixed-unknown");
  });

  it("reads stdin and sends msgpack records in small batches", async () => {
    const lines = jsonl(Array.from({ length: 40 }, (_, i) => strategy(`stdin-${i}`)));
    const run = await runCli(
      ["import", "-", "--json", "--encoding", "msgpack-records", "--batch-size", "7", "--chunk-size", "10"],
      cluster.env,
      lines,
    );
    expect(run.code).toBe(0);
    expect(JSON.parse(run.stdout)).toMatchObject({ file: "stdin", lines: 40, registered: 40, invalid: 0 });
  });

  it("counts the lines of batches nobody answers as failed, naming each, and exits 1", async () => {
    const lines = Array.from({ length: 14 }, (_, i) => strategy(`unanswered-${i}`));
    const run = startFedCli(
      ["import", "-", "--json", "--batch-size", "1", "--chunk-size", "2", "--timeout", "300"],
      cluster.env,
    );
    run.write(jsonl(lines.slice(0, 2)));
    await waitFor(async () => (await runCli(["get", "unanswered-0", "unanswered-1"], cluster.env)).code === 0, {
      timeoutMs: 20_000,
      message: "the first two lines registered",
    });
    // The shards stop answering (SIGSTOP) with the CLI connected: every later batch times out.
    for (const shard of cluster.shards) shard.pause();
    try {
      run.write(jsonl(lines.slice(2)));
      run.end();
      const { code, stdout } = await run.done;
      expect(code).toBe(1);
      const summary = JSON.parse(stdout) as ImportSummary;
      expect(summary).toMatchObject({ lines: 14, registered: 2, failed: 12, invalid: 0 });
      expect(summary.problems.map((p) => p.line)).toEqual(Array.from({ length: 12 }, (_, i) => i + 3));
      for (const problem of summary.problems) {
        expect(problem.code).toBe("TIMEOUT");
        expect(problem.message).toMatch(/^a batch of 1 strategies failed: /);
      }
    } finally {
      for (const shard of cluster.shards) shard.resume();
    }
  });

  it("stops after the batches in flight on Ctrl-C, and at once on a second", async () => {
    const nc = await connect({ servers: inject("natsUrl") });
    const sent = nc.subscribe(`${cluster.env.STRATREG_CLUSTER}.part.*.register-batch`);
    const run = startFedCli(
      ["import", "-", "--batch-size", "1", "--chunk-size", "1", "--timeout", "20000"],
      cluster.env,
    );
    try {
      run.write(jsonl([strategy("interrupted-0")]));
      await waitFor(async () => (await runCli(["get", "interrupted-0"], cluster.env)).code === 0, {
        timeoutMs: 20_000,
        message: "the first line registered",
      });
      for (const shard of cluster.shards) shard.pause();
      // The next batch goes out to shards that do not answer.
      const next = (async () => {
        for await (const msg of sent) if (msg.data.length > 0 && sent.getReceived() > 1) return;
      })();
      run.write(jsonl([strategy("interrupted-1"), strategy("interrupted-2")]));
      await next;
      run.kill("SIGINT");
      await run.stderrContains("stopping after the batches in flight (Ctrl-C again to quit now)");
      // The batch in flight is waited for: the first Ctrl-C does not end the run.
      const ended = await Promise.race([
        run.done.then(() => true),
        new Promise((r) => setTimeout(() => r(false), 500)),
      ]);
      expect(ended).toBe(false);
      run.kill("SIGINT");
      expect((await run.done).code).toBe(130);
    } finally {
      for (const shard of cluster.shards) shard.resume();
      await nc.close();
    }
  });

  it("fails on a file that does not exist, before connecting", async () => {
    const run = await runCli(["import", join(dir, "nope.jsonl")], { ...cluster.env, NATS_URL: "nats://127.0.0.1:1" });
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(/^error: cannot read .*nope\.jsonl: ENOENT/);
  });
});
