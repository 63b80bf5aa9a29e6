/**
 * `stratreg deps` and `stratreg move … --cascade`: the built CLI end to end
 * against a real shard and a real graph process.
 */
import { fileURLToPath } from "node:url";
import { type ServiceProcess, spawnService, uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { nodeLines } from "./commands/deps.js";
import { runCli, startCluster, type TestCluster } from "./testing/cli.js";

const GRAPH_ENTRY = fileURLToPath(new URL("../../../services/graph/dist/main.js", import.meta.url));

describe("nodeLines", () => {
  it("lists depth and strategy nearest first, with the count and how deep; says when there is nothing", () => {
    const reply = {
      id: "a",
      nodes: [
        { id: "b", depth: 1 },
        { id: "c-long", depth: 2 },
      ],
      truncated: true,
      seq: 9,
    };
    expect(nodeLines(reply, "dependents")).toEqual([
      "depth  strategy",
      "1      b",
      "2      c-long",
      "2+ (truncated: raise --limit) dependents, 2 deep (graph log at 9)",
    ]);
    expect(nodeLines({ ...reply, nodes: [], truncated: false }, "dependencies")).toEqual(["a: no dependencies"]);
  });
});

describe("stratreg deps against a shard and a graph process", () => {
  let cluster: TestCluster;
  let graph: ServiceProcess;
  const as = { STRATREG_OPERATOR: "quant-7" };

  beforeAll(async () => {
    const natsUrl = inject("natsUrl");
    const name = uniqueClusterName("cli-deps");
    cluster = await startCluster(natsUrl, name, 1, 4);
    graph = spawnService({
      entry: GRAPH_ENTRY,
      name: "cli-graph",
      env: { NATS_URL: natsUrl, STRATREG_CLUSTER: name, STRATREG_GRAPH_ID: "cli-graph", LOG_LEVEL: "info" },
    });
    await graph.waitForLog((_line, json) => json?.msg === "graph leader", 30_000);
    const strategies = ["dep-a", "dep-b", "dep-c"].map((id) => ({ id, name: id, owner: "desk" }));
    const run = await runCli(["register", "-"], cluster.env, JSON.stringify(strategies));
    expect(run.code, run.stderr).toBe(0);
  }, 120_000);

  afterAll(async () => {
    await graph?.stop();
    await cluster?.stop();
  });

  it("adds dependencies, refuses a cycle with its path, and shows both directions", async () => {
    const env = { ...cluster.env, ...as };
    const added = await runCli(["deps", "add", "dep-a", "dep-b"], env);
    expect(added).toMatchObject({ code: 0, stdout: "dep-a: now depends on dep-b\n" });
    expect((await runCli(["deps", "add", "dep-b", "dep-c"], env)).code).toBe(0);
    const again = await runCli(["deps", "add", "dep-a", "dep-b"], env);
    expect(again.stdout).toBe("dep-a: nothing changed; already so: dep-b\n");
    const cycle = await runCli(["deps", "add", "dep-c", "dep-a"], env);
    expect(cycle.code).toBe(1);
    expect(cycle.stderr).toContain("refused: it would close a cycle\n  dep-c → dep-a → dep-b → dep-c");
    const impact = await runCli(["deps", "impact", "dep-c"], env);
    expect(impact.stdout.split("\n").slice(0, 3)).toEqual(["depth  strategy", "1      dep-b", "2      dep-a"]);
    expect((await runCli(["deps", "show", "dep-a", "--depth", "1"], env)).stdout).toContain("1      dep-b");
    const status = await runCli(["deps", "status"], env);
    expect(status.stdout).toMatch(/^leader cli-graph \(epoch \d+\), log at \d+: 2 edges between 3 strategies/);
    const json = await runCli(["deps", "impact", "dep-c", "--json"], env);
    expect(JSON.parse(json.stdout)).toMatchObject({ id: "dep-c", truncated: false });
  });

  it("retires a strategy others depend on only with --cascade, which suspends what is live and leaves the rest", async () => {
    const env = { ...cluster.env, ...as };
    const refused = await runCli(["move", "retire", "dep-c", "--reason", "decayed"], env);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain("dep-c has 1 dependent: dep-b");
    expect(refused.stderr).toContain("error HAS_DEPENDENTS");
    // Suspending cascades by itself; a candidate is not live, so the graph service says so.
    const suspend = await runCli(["move", "suspend", "dep-c", "--reason", "drawdown"], env);
    expect(suspend.code).toBe(1);
    expect(suspend.stderr).toContain("error INVALID_TRANSITION: strategy dep-c is candidate, not active");
    const cascade = await runCli(["move", "retire", "dep-c", "--reason", "decayed", "--cascade"], env);
    expect(cascade.code, cascade.stderr).toBe(0);
    expect(cascade.stdout).toMatch(
      /^dep-c: retired \(cascade \d+\)\n {2}left dep-b: candidate\n {2}left dep-a: candidate\n/,
    );
  });
});
