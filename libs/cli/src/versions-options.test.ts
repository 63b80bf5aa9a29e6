/**
 * `stratreg log | show | diff | rollback | branch | merge | tag | untag` as a
 * person drives them: their options (`--limit`, `--before`, `--from`,
 * `--expected-version`, `--set`), `--json`, and the refusals they print and
 * exit 1 on. The built CLI runs as a real process against a real shard and a
 * real versions process; each test edits a strategy of its own.
 */
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type Strategy, StratregClient } from "@stratreg/client";
import { type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { logLines } from "./commands/versions.js";
import { runCli, startCluster, type TestCluster } from "./testing/cli.js";

const VERSIONS_ENTRY = fileURLToPath(new URL("../../../services/versions/dist/main.js", import.meta.url));

describe("the log when the copy is behind the shard", () => {
  it("says the shard is ahead even when no version of the strategy is kept yet", () => {
    const lines = logLines({ id: "s", versions: [], next: null, oldest: null, current: 3 });
    expect(lines.at(-1)).toBe("(the shard is at version 3; the newest is still being copied)");
  });
});

describe("stratreg version control options, JSON and refusals", () => {
  let cluster: TestCluster;
  let versions: ServiceProcess;
  let nc: NatsConnection;
  let client: StratregClient;
  let env: NodeJS.ProcessEnv;

  const cli = (...args: string[]) => runCli(args, env);
  const json = <T>(stdout: string) => JSON.parse(stdout) as T;

  /** Registers `id` named `names[0]`, renames it through the rest, and waits until every version is listed. */
  async function strategyNamed(id: string, names: string[]): Promise<Strategy> {
    let s = await client.register({
      id,
      name: names[0] as string,
      owner: "desk",
      template: { id: "carry", params: { k: 1 } },
    });
    for (const name of names.slice(1)) s = await client.update(id, s.version, { name });
    await waitFor(
      async () =>
        ((await client.versionLog(id, { timeoutMs: 2000 }).catch(() => undefined))?.versions.length ?? 0) ===
        names.length,
      { timeoutMs: 30_000, message: `the versions process to list ${names.length} versions of ${id}` },
    );
    return s;
  }

  beforeAll(async () => {
    const natsUrl = inject("natsUrl");
    const name = uniqueClusterName("cli-versions-opts");
    cluster = await startCluster(natsUrl, name, 1, 4);
    env = { ...cluster.env, STRATREG_OPERATOR: "qa" };
    versions = spawnService({
      entry: VERSIONS_ENTRY,
      name: "cli-versions-opts",
      env: { NATS_URL: natsUrl, STRATREG_CLUSTER: name, STRATREG_VERSIONS_ID: "cli-versions-opts", LOG_LEVEL: "info" },
    });
    await versions.waitForLog((_line, json) => json?.msg === "versions caught up with the history", 30_000);
    nc = await connect({ servers: natsUrl });
    client = await StratregClient.connect(nc, { cluster: name, timeoutMs: 15_000 });
  }, 120_000);

  afterAll(async () => {
    await nc?.close();
    await versions?.stop();
    await cluster?.stop();
  });

  it("pages the log with --limit and --before, prints the reply with --json, and refuses an unknown strategy", async () => {
    const id = "cli-opts-log";
    await strategyNamed(id, ["one", "two", "three"]);

    const [first, rest, unknown] = await Promise.all([
      cli("log", id, "--limit", "2"),
      cli("log", id, "--before", "2", "--json"),
      cli("log", "cli-opts-nobody"),
    ]);
    expect(first.code).toBe(0);
    const lines = first.stdout.trimEnd().split("\n");
    expect(lines.slice(1, -1).map((l) => l.split(/ +/)[0])).toEqual(["3", "2"]);
    expect(lines.at(-1)).toBe("more: --before 2");

    expect(rest.code).toBe(0);
    expect(json(rest.stdout)).toMatchObject({
      id,
      versions: [{ version: 1, op: "register", state: "candidate", tags: [] }],
      next: null,
      oldest: 1,
      current: 3,
    });

    expect(unknown.code).toBe(1);
    expect(unknown.stdout).toBe("");
    expect(unknown.stderr).toMatch(/^error NOT_FOUND: no strategy cli-opts-nobody \(field body\.id\)/);
  });

  it("shows a version, main and a branch head; a ref it cannot read or a missing tag or branch exits 1", async () => {
    const id = "cli-opts-show";
    await strategyNamed(id, ["first", "second"]);
    await client.createBranch(id, "exp", { by: "qa" });
    await client.editBranch(id, "exp", 1, { name: "on the branch" }, { by: "qa" });

    const [v1, main, head, headJson, badRef, noTag, noBranch] = await Promise.all([
      cli("show", id, "1"),
      cli("show", id, "main", "--json"),
      cli("show", id, "branch:exp"),
      cli("show", id, "branch:exp", "--json"),
      cli("show", id, "prod"),
      cli("show", id, "tag:prod"),
      cli("show", id, "branch:gone"),
    ]);
    expect(v1.code).toBe(0);
    expect(json(v1.stdout)).toMatchObject({ id, version: 1, name: "first" });
    expect(json(main.stdout)).toMatchObject({ id, ref: "main (2)", version: 2, strategy: { name: "second" } });
    expect(head.code).toBe(0);
    expect(json(head.stdout)).toMatchObject({
      id,
      name: "exp",
      base: 2,
      version: 2,
      fields: { name: "on the branch" },
    });
    expect(json(headJson.stdout)).toMatchObject({ ref: "branch:exp", version: null, branch: { name: "exp" } });

    expect(badRef.code).toBe(1);
    expect(badRef.stderr).toContain('expected a version number, main, tag:<name> or branch:<name>, got "prod"');
    expect(noTag.code).toBe(1);
    expect(noTag.stderr).toMatch(/^error NOT_FOUND: strategy cli-opts-show has no tag prod \(field body\.version\)/);
    expect(noBranch.code).toBe(1);
    expect(noBranch.stderr).toMatch(/^error NOT_FOUND: strategy cli-opts-show has no branch gone/);
  });

  it("diffs a version against a branch head without comparing states, and prints the reply with --json", async () => {
    const id = "cli-opts-diff";
    await strategyNamed(id, ["alpha", "beta"]);
    await client.transition(id, "backtest", { by: "qa", reason: "try it" });
    await client.createBranch(id, "wide", { by: "qa", from: 1 });
    await client.editBranch(id, "wide", 1, { template: { id: "carry", params: { k: 4 } } }, { by: "qa" });

    const text = await cli("diff", id, "2", "branch:wide");
    expect(text.code).toBe(0);
    expect(text.stdout).toBe(
      [
        `--- ${id} 2`,
        `+++ ${id} branch:wide`,
        "@@ name (changed)",
        '-name: "beta"',
        '+name: "alpha"',
        "@@ template.params.k (changed)",
        "-template.params.k: 1",
        "+template.params.k: 4",
        "",
      ].join("\n"),
    );

    // Between two versions the lifecycle state is compared too.
    await waitFor(async () => (await client.versionLog(id)).versions.length === 3, {
      timeoutMs: 15_000,
      message: "the move to be copied",
    });
    const between = await cli("diff", id, "1", "main", "--json");
    expect(between.code).toBe(0);
    expect(json(between.stdout)).toEqual({
      id,
      from: "1",
      to: "main (3)",
      fromVersion: 1,
      toVersion: 3,
      changes: [
        { path: "name", at: ["name"], kind: "changed", old: "alpha", new: "beta" },
        { path: "state", at: ["state"], kind: "changed", old: "candidate", new: "backtesting" },
      ],
    });
  });

  it("rolls back: says when there is nothing to do, refuses a stale --expected-version, prints the reply with --json", async () => {
    const id = "cli-opts-rollback";
    await strategyNamed(id, ["old name", "new name"]);

    const [same, stale] = await Promise.all([
      cli("rollback", id, "2"),
      cli("rollback", id, "1", "--expected-version", "1"),
    ]);
    expect(same.code).toBe(0);
    expect(same.stdout).toBe(`${id} already equals version 2: nothing to roll back\n`);
    expect(stale.code).toBe(1);
    expect(stale.stderr).toMatch(/^error CONFLICT: strategy cli-opts-rollback is at version 2, not 1/);
    expect((await client.get(id)).version).toBe(2);

    const done = await cli("rollback", id, "1", "--expected-version", "2", "--by", "ana", "--json");
    expect(done.code).toBe(0);
    expect(json(done.stdout)).toMatchObject({
      rolledBack: true,
      from: 1,
      changed: ["name"],
      strategy: { version: 3, name: "old name" },
    });
    const log = await waitFor(
      async () => {
        const l = await client.versionLog(id);
        return l.versions[0]?.version === 3 && l.versions[0].by !== undefined ? l : undefined;
      },
      { timeoutMs: 15_000, message: "the rollback to be listed with its author" },
    );
    expect(log.versions[0]).toMatchObject({ op: "rollback", by: "ana", note: "to 1" });
  });

  it("creates branches: needs a name, starts from --from, lists them by name as a table or --json", async () => {
    const id = "cli-opts-branch-list";
    await strategyNamed(id, ["v1", "v2"]);

    const [nameless, zeta, alpha] = await Promise.all([
      cli("branch", id, "create"),
      cli("branch", id, "create", "zeta"),
      cli("branch", id, "create", "alpha", "--from", "1", "--by", "bob", "--json"),
    ]);
    expect(nameless.code).toBe(1);
    expect(nameless.stderr).toBe("error: branch create needs a branch name\n");
    expect(zeta.code).toBe(0);
    expect(alpha.code).toBe(0);
    expect(json(alpha.stdout)).toMatchObject({ id, name: "alpha", base: 1, version: 1, by: "bob" });

    const [table, listed] = await Promise.all([cli("branch", id, "list"), cli("branch", id, "list", "--json")]);
    expect(table.code).toBe(0);
    expect(
      table.stdout
        .trimEnd()
        .split("\n")
        .map((l) => l.split(/ +/)),
    ).toEqual([
      ["branch", "version", "from", "by"],
      ["alpha", "1", "1", "bob"],
      ["zeta", "1", "2", "qa"],
    ]);
    expect(json<Array<{ name: string }>>(listed.stdout).map((b) => b.name)).toEqual(["alpha", "zeta"]);

    const taken = await cli("branch", id, "create", "zeta", "--from", "1");
    expect(taken.code).toBe(1);
    expect(taken.stderr).toBe(`error ALREADY_EXISTS: strategy ${id} has a branch zeta already\n`);
    expect((await client.branch(id, "zeta")).branch.base).toBe(2);
  });

  it("edits and deletes branches: --set with plain words, refusals of bad --set and stale versions, --json", async () => {
    const id = "cli-opts-branch-edit";
    await strategyNamed(id, ["v1", "v2"]);
    await Promise.all([client.createBranch(id, "alpha", { by: "qa" }), client.createBranch(id, "zeta", { by: "qa" })]);

    const [noSet, badSet] = await Promise.all([
      cli("branch", id, "edit", "alpha"),
      cli("branch", id, "edit", "alpha", "--set", "=x"),
    ]);
    expect(noSet.code).toBe(1);
    expect(noSet.stderr).toBe("error: branch edit needs --set field=value\n");
    expect(badSet.code).toBe(1);
    expect(badSet.stderr).toBe('error: --set takes field=value, got "=x"\n');

    // A value that is not JSON is taken as it is written.
    const edited = await cli("branch", id, "edit", "alpha", "--set", "name=Carry, wider bands", "--json");
    expect(edited.code).toBe(0);
    expect(json(edited.stdout)).toMatchObject({ name: "alpha", version: 2, fields: { name: "Carry, wider bands" } });

    const [shown, staleEdit, staleDelete] = await Promise.all([
      cli("branch", id, "show", "alpha", "--json"),
      cli("branch", id, "edit", "alpha", "--set", "owner=ops", "--expected-version", "1"),
      cli("branch", id, "delete", "alpha", "--expected-version", "1"),
    ]);
    expect(json(shown.stdout)).toMatchObject({
      branch: { name: "alpha", version: 2, fields: { name: "Carry, wider bands", owner: "desk" } },
      changes: [{ path: "name", kind: "changed", old: "v2", new: "Carry, wider bands" }],
    });
    expect(staleEdit.code).toBe(1);
    expect(staleEdit.stderr).toMatch(/^error CONFLICT: branch alpha of cli-opts-branch-edit is at version 2, not 1/);
    expect(staleDelete.code).toBe(1);
    expect(staleDelete.stderr).toMatch(/^error CONFLICT: branch alpha of cli-opts-branch-edit is at version 2, not 1/);
    expect((await client.branch(id, "alpha")).branch).toMatchObject({ version: 2, fields: { owner: "desk" } });

    const [deleted, deletedJson] = await Promise.all([
      cli("branch", id, "delete", "alpha", "--expected-version", "2"),
      cli("branch", id, "delete", "zeta", "--json"),
    ]);
    expect(deleted.code).toBe(0);
    expect(deleted.stdout).toBe(`deleted branch alpha of ${id}\n`);
    expect(deletedJson.code).toBe(0);
    expect(JSON.parse(deletedJson.stdout)).toEqual({ id, deleted: "zeta" });
    expect((await client.branches(id)).map((b) => b.name)).toEqual([]);

    const [again, showGone] = await Promise.all([
      cli("branch", id, "delete", "alpha"),
      cli("branch", id, "show", "zeta"),
    ]);
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/^error NOT_FOUND: strategy cli-opts-branch-edit has no branch alpha/);
    expect(showGone.code).toBe(1);
    expect(showGone.stderr).toMatch(/^error NOT_FOUND: strategy cli-opts-branch-edit has no branch zeta/);
  });

  it("merges: says when the branch has nothing new, refuses a stale --expected-version and a missing branch, prints --json", async () => {
    const id = "cli-opts-merge";
    await strategyNamed(id, ["base", "moved"]);
    await client.createBranch(id, "idle", { by: "qa" });

    const idle = await cli("merge", id, "idle");
    expect(idle.code).toBe(0);
    expect(idle.stdout).toBe(`branch idle has nothing ${id} lacks: nothing merged\n`);
    expect((await client.get(id)).version).toBe(2);

    await client.createBranch(id, "tuned", { by: "qa" });
    await client.editBranch(id, "tuned", 1, { template: { id: "carry", params: { k: 3 } } }, { by: "qa" });

    const [stale, missing] = await Promise.all([
      cli("merge", id, "tuned", "--expected-version", "1"),
      cli("merge", id, "nowhere"),
    ]);
    expect(stale.code).toBe(1);
    // A fence refused, not a merge conflict: no field-by-field listing.
    expect(stale.stderr).toBe(`error CONFLICT: strategy ${id} is at version 2, not 1\n`);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toBe(`error NOT_FOUND: strategy ${id} has no branch nowhere\n`);
    expect((await client.get(id)).version).toBe(2);

    const merged = await cli("merge", id, "tuned", "--expected-version", "2", "--json");
    expect(merged.code).toBe(0);
    expect(json(merged.stdout)).toMatchObject({
      merged: true,
      changed: ["template"],
      strategy: { version: 3, template: { id: "carry", params: { k: 3 } } },
      branch: { name: "tuned", base: 3, mergedAs: 3, version: 3 },
    });
  });

  it("tags and untags: --json, the same tag again, and removing a tag that is not there", async () => {
    const id = "cli-opts-tags";
    await strategyNamed(id, ["draft", "final"]);

    const tagged = await cli("tag", id, "2", "prod", "--json", "--by", "ops");
    expect(tagged.code).toBe(0);
    const tag = json<{ tag: string; version: number; by: string; at: number }>(tagged.stdout);
    expect(tag).toMatchObject({ tag: "prod", version: 2, by: "ops" });
    // Naming the same version again is no move: answered, the tag unchanged.
    const [again, first] = await Promise.all([
      cli("tag", id, "2", "prod", "--json", "--by", "someone-else"),
      cli("tag", id, "1", "first"),
    ]);
    expect(again.code).toBe(0);
    expect(json(again.stdout)).toEqual(tag);
    expect(first.code).toBe(0);

    const [removed, removedJson] = await Promise.all([cli("untag", id, "first"), cli("untag", id, "prod", "--json")]);
    expect(removed.code).toBe(0);
    expect(removed.stdout).toBe(`removed tag first (version 1) of ${id}\n`);
    expect(removedJson.code).toBe(0);
    expect(json(removedJson.stdout)).toEqual(tag);
    expect((await client.versionLog(id)).versions.flatMap((v) => v.tags)).toEqual([]);

    const [gone, future] = await Promise.all([cli("untag", id, "prod"), cli("tag", id, "9", "later")]);
    expect(gone.code).toBe(1);
    expect(gone.stderr).toBe(`error NOT_FOUND: strategy ${id} has no tag prod\n`);
    expect(future.code).toBe(1);
    expect(future.stderr).toBe(`error NOT_FOUND: strategy ${id} has no version 9: it is at 2 (field body.version)\n`);
  });
});
