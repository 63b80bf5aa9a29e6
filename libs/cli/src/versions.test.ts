/**
 * `stratreg log | show | diff | rollback | branch | merge | tag`: the text they
 * print, and the built CLI end to end against a real shard and a real versions
 * process.
 */
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type FieldChange, StratregClient } from "@stratreg/client";
import { type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { conflictLines, diffLines, logLines, parseRef, setPath } from "./commands/versions.js";
import { runCli, startCluster, type TestCluster } from "./testing/cli.js";

const VERSIONS_ENTRY = fileURLToPath(new URL("../../../services/versions/dist/main.js", import.meta.url));

describe("the text of version control", () => {
  const changes: FieldChange[] = [
    { path: "name", at: ["name"], kind: "changed", old: "a", new: "b" },
    { path: "template.params.k", at: ["template", "params", "k"], kind: "removed", old: 3 },
    { path: "tags[1]", at: ["tags", 1], kind: "added", new: "fx" },
  ];

  it("prints a unified field diff, coloured only when asked", () => {
    expect(diffLines("s 1", "s 2", changes, false)).toEqual([
      "--- s 1",
      "+++ s 2",
      "@@ name (changed)",
      '-name: "a"',
      '+name: "b"',
      "@@ template.params.k (removed)",
      "-template.params.k: 3",
      "@@ tags[1] (added)",
      '+tags[1]: "fx"',
    ]);
    const coloured = diffLines("s 1", "s 2", changes, true);
    expect(coloured[3]).toBe('\x1b[31m-name: "a"\x1b[0m');
    expect(coloured[4]).toBe('\x1b[32m+name: "b"\x1b[0m');
    expect(diffLines("a", "b", [], false)).toEqual(["--- a", "+++ b", "(no differences)"]);
  });

  it("lists conflicts with base, ours and theirs", () => {
    expect(conflictLines([{ path: "name", base: "x", ours: "y", theirs: "z" }])).toEqual([
      "conflict in name:",
      '  base    "x"',
      '  ours    "y"   (main)',
      '  theirs  "z"   (the branch)',
    ]);
  });

  it("lays a log out newest first, says where the next page starts, and when the newest is still being copied", () => {
    const at = Date.UTC(2026, 10, 28, 9, 30);
    const log = {
      id: "s",
      versions: [
        { version: 4, at, op: "rollback", by: "ana", note: "to 2", state: "validated", tags: ["prod", "fx"] },
        { version: 3, at, op: "update", state: "validated", tags: [] },
      ],
      next: 3,
      oldest: null,
      current: 4,
    };
    const lines = logLines(log);
    expect(lines[0]?.split(/ +/)).toEqual(["version", "at", "op", "by", "state", "tags", "note"]);
    expect(lines[1]?.split(/ +/)).toEqual([
      "4",
      "2026-11-28T09:30:00Z",
      "rollback",
      "ana",
      "validated",
      "prod,fx",
      "to",
      "2",
    ]);
    expect(lines[2]?.split(/ +/).slice(0, 6)).toEqual(["3", "2026-11-28T09:30:00Z", "update", "–", "validated", "–"]);
    expect(lines.at(-1)).toBe("more: --before 3");
    const behind = logLines({ ...log, versions: log.versions.slice(1), next: null, current: 4 });
    expect(behind.at(-1)).toBe("(the shard is at version 4; the newest is still being copied)");
    expect(logLines({ ...log, next: null }).at(-1)).not.toMatch(/more|copied/);
  });

  it("refuses field paths and assignments it cannot read, and makes lists where an index follows", () => {
    expect(() => setPath({}, "", 1)).toThrow(/--set needs a field/);
    const fields: Record<string, unknown> = {};
    expect(setPath(fields, "venues[0].symbols", ["EURUSD"])).toBe("venues");
    expect(fields).toEqual({ venues: [{ symbols: ["EURUSD"] }] });
  });

  it("reads refs and field paths as a person writes them", () => {
    expect(parseRef("7")).toBe(7);
    expect(parseRef("tag:prod")).toBe("tag:prod");
    expect(parseRef("main")).toBe("main");
    expect(() => parseRef("0")).toThrow(/expected a version number/);
    expect(() => parseRef("prod")).toThrow(/expected a version number/);
    const fields: Record<string, unknown> = { template: { id: "t", params: { k: 1 } } };
    expect(setPath(fields, "template.params.lookback", 60)).toBe("template");
    expect(fields).toEqual({ template: { id: "t", params: { k: 1, lookback: 60 } } });
  });
});

describe("stratreg version control against a shard and a versions process", () => {
  let cluster: TestCluster;
  let versions: ServiceProcess;
  let nc: NatsConnection;
  let client: StratregClient;
  const id = "cli-vc-1";

  beforeAll(async () => {
    const natsUrl = inject("natsUrl");
    const name = uniqueClusterName("cli-versions");
    cluster = await startCluster(natsUrl, name, 1, 4);
    versions = spawnService({
      entry: VERSIONS_ENTRY,
      name: "cli-versions",
      env: { NATS_URL: natsUrl, STRATREG_CLUSTER: name, STRATREG_VERSIONS_ID: "cli-versions", LOG_LEVEL: "warn" },
    });
    nc = await connect({ servers: natsUrl });
    client = await StratregClient.connect(nc, { cluster: name, timeoutMs: 15_000 });
    let s = await client.register({ id, name: "Carry", owner: "desk", template: { id: "c", params: { k: 1 } } });
    s = await client.update(id, s.version, { name: "Carry 2" });
    await client.update(id, s.version, { template: { id: "c", params: { k: 2 } } });
    await waitFor(
      async () =>
        ((await client.versionLog(id, { timeoutMs: 2000 }).catch(() => undefined))?.versions.length ?? 0) === 3,
      { timeoutMs: 30_000, message: "the versions process to list three versions" },
    );
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await versions?.stop();
    await cluster?.stop();
  });

  it("logs, diffs, tags, branches, merges and rolls back", async () => {
    const env = { ...cluster.env, STRATREG_OPERATOR: "qa" };
    const log = await runCli(["log", id], env);
    expect(log.code).toBe(0);
    const lines = log.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^version +at +op +by +state +tags +note$/);
    expect(lines.slice(1).map((l) => l.split(/ +/)[0])).toEqual(["3", "2", "1"]);
    expect(lines[3]).toMatch(/^1 +\S+ +register +– +candidate +–/);

    const diff = await runCli(["diff", id, "1", "3"], env);
    expect(diff.stdout).toBe(
      [
        `--- ${id} 1`,
        `+++ ${id} 3`,
        "@@ name (changed)",
        '-name: "Carry"',
        '+name: "Carry 2"',
        "@@ template.params.k (changed)",
        "-template.params.k: 1",
        "+template.params.k: 2",
        "",
      ].join("\n"),
    );

    expect((await runCli(["tag", id, "1", "first"], env)).stdout).toBe(`tag first names version 1 of ${id}\n`);
    const moved = await runCli(["tag", id, "2", "first"], env);
    expect(moved.code).toBe(1);
    expect(moved.stderr).toMatch(/^error CONFLICT: tag first of cli-vc-1 names version 1; move it with force/);

    expect((await runCli(["branch", id, "create", "exp"], env)).stdout).toMatch(
      /^branch exp of cli-vc-1: version 1, from version 3\n/,
    );
    const edit = await runCli(
      ["branch", id, "edit", "exp", "--set", "template.params.k=5", "--set", 'tags=["x"]'],
      env,
    );
    expect(edit.code).toBe(0);
    const shown = await runCli(["branch", id, "show", "exp"], env);
    expect(shown.stdout).toContain("+template.params.k: 5");
    expect(shown.stdout).toContain('+tags[0]: "x"');
    const merged = await runCli(["merge", id, "exp"], env);
    expect(merged.stdout).toBe(`merged branch exp into ${id} as version 4 (tags, template)\n`);

    const rolled = await runCli(["rollback", id, "1"], env);
    expect(rolled.stdout).toBe(
      `${id} rolled back to version 1 as version 5 (name, tags, template); state stays candidate\n`,
    );
    expect((await client.get(id)).template?.params).toEqual({ k: 1 });

    // Both sides change the parameter: the CLI lists the conflict and exits 1.
    await runCli(["branch", id, "edit", "exp", "--set", "template.params.k=9"], env);
    await client.update(id, 5, { template: { id: "c", params: { k: 7 } } });
    const conflict = await runCli(["merge", id, "exp"], env);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toContain(
      "conflict in template.params.k:\n  base    5\n  ours    7   (main)\n  theirs  9   (the branch)\n",
    );
  });
});
