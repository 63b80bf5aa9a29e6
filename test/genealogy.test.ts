/**
 * Genealogy end to end: real shards and a real search process following their
 * logs. Strategies are registered with parents, families and origins through
 * the SDK, some are taken through the quality gates (one fails them, one is
 * retired after passing), returns are reported, and lineage, family, breeding
 * and dynasties are asked through the SDK and the built `stratreg` CLI as a
 * quant would. Parents that loop or are registered nowhere do not stop a walk.
 */
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { type StrategyInput, StratregError } from "@stratreg/client";
import { ErrorCodes } from "@stratreg/protocol";
import { sharpe } from "@stratreg/quant";
import { type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { goodEvidence, normalReturns, weakEvidence } from "./support/evidence.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";

const SEARCH_MAIN = fileURLToPath(new URL("../services/search/dist/main.js", import.meta.url));
const CLI_MAIN = fileURLToPath(new URL("../libs/cli/dist/main.js", import.meta.url));
const by = "quant-1";
let registry: TestRegistry;
let cluster: string;
let search: ServiceProcess;

const mom = (id: string, extra: Partial<StrategyInput> = {}): StrategyInput => ({
  id,
  name: id,
  owner: "desk-1",
  family: "mom",
  ...extra,
});

/**
 * g-root ─┬─ g-a1 ─┬─ g-b1 ── g-c1
 *         │        └─ g-legacy (no origin given: read as a variation)
 *         └─ g-a2 ──── g-x1 (crossover of g-a2 and r-root, of family rev)
 */
const STRATEGIES: StrategyInput[] = [
  mom("g-root", { origin: "manual" }),
  { id: "r-root", name: "r-root", owner: "desk-2", family: "rev" },
  mom("g-a1", { parents: ["g-root"], origin: "variation" }),
  mom("g-a2", { parents: ["g-root"], origin: "variation" }),
  mom("g-b1", { parents: ["g-a1"], origin: "variation" }),
  mom("g-c1", { parents: ["g-b1"], origin: "variation" }),
  mom("g-legacy", { parents: ["g-a1"] }),
  mom("g-x1", { parents: ["g-a2", "r-root"], origin: "crossover" }),
  // A parent registered nowhere, and two strategies that name each other.
  { id: "o-1", name: "o-1", owner: "desk-3", parents: ["never-registered"], origin: "variation" },
  { id: "cy-1", name: "cy-1", owner: "desk-3", parents: ["cy-2"] },
  { id: "cy-2", name: "cy-2", owner: "desk-3", parents: ["cy-1"] },
];

const TIMES = Array.from({ length: 60 }, (_, i) => 1_700_000_000_000 + i * 86_400_000);
const RETURNS: Record<string, number[]> = {
  "g-a1": normalReturns(60, 0.001, 0.01, 3),
  "g-b1": normalReturns(60, 0.002, 0.01, 4),
  "g-c1": normalReturns(60, 0.0005, 0.01, 5),
};

async function cli(...args: string[]): Promise<string> {
  const { stdout } = await promisify(execFile)(process.execPath, [CLI_MAIN, ...args], {
    env: { ...process.env, NATS_URL: inject("natsUrl"), STRATREG_CLUSTER: cluster },
  });
  return stdout;
}

async function validate(id: string): Promise<void> {
  await registry.client.attachEvidence(id, goodEvidence(), { by });
  await registry.client.transition(id, "validate", { by, reason: "backtests done" });
}

beforeAll(async () => {
  cluster = uniqueClusterName("genealogy");
  registry = await startRegistry(inject("natsUrl"), cluster, ["gen-shard-a", "gen-shard-b"], { partitions: 8 });
  search = spawnService({
    entry: SEARCH_MAIN,
    name: "gen-search",
    env: {
      NATS_URL: inject("natsUrl"),
      STRATREG_CLUSTER: cluster,
      STRATREG_SEARCH_ID: "gen-search",
      STRATREG_SEARCH_PROBE_MS: "20",
      LOG_LEVEL: "warn",
    },
  });
  for (const strategy of STRATEGIES) await registry.client.register(strategy);
  for (const id of ["g-a1", "g-a2", "g-b1", "g-c1"]) await validate(id);
  await registry.client.retire("g-a2", { reason: "superseded by g-x1" });
  // Weak evidence: the gates are evaluated on g-legacy and refuse it.
  await registry.client.attachEvidence("g-legacy", weakEvidence(), { by });
  await registry.client.transition("g-legacy", "validate", { by, reason: "try" }).catch((err: unknown) => {
    expect((err as StratregError).code).toBe(ErrorCodes.GatesFailed);
  });
  await registry.client.report(Object.entries(RETURNS).map(([id, returns]) => ({ id, seq: 1, times: TIMES, returns })));
  // Search has applied everything once it sees the last changes.
  await waitFor(
    async () => {
      const reply = await registry.client.family({ family: "mom" }, { timeoutMs: 2000 }).catch(() => undefined);
      return reply?.performance.count === 3 && reply.survival.evaluated === 5 && reply.size === 7;
    },
    { timeoutMs: 30_000, message: "the search process to hold every strategy, move and report" },
  );
}, 120_000);

afterAll(async () => {
  await search?.kill("SIGTERM").catch(() => undefined);
  await registry?.close();
});

describe("origin", () => {
  it("refuses an origin that does not fit the parents, naming the field, and stores one that does", async () => {
    const err = await registry.client
      .register(mom("g-bad", { parents: ["g-root"], origin: "crossover" }))
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StratregError);
    expect(err).toMatchObject({ code: ErrorCodes.InvalidField, field: "body.strategy.origin" });
    expect((err as Error).message).toContain("crossover needs exactly 2 parents; parents has 1");
    await expect(registry.client.get("g-bad")).rejects.toMatchObject({ code: ErrorCodes.NotFound });

    const stored = await registry.client.get("g-x1");
    expect(stored.origin).toBe("crossover");
    // Parents changed under a stored origin that no longer fits: refused, nothing written.
    const update = await registry.client.update("g-x1", stored.version, { parents: ["g-a2"] }).catch((e: unknown) => e);
    expect(update).toMatchObject({ code: ErrorCodes.InvalidField, field: "body.patch.parents" });
    expect((await registry.client.get("g-x1")).version).toBe(stored.version);
    // One registered without an origin reads as its parents say, and `stratreg get` says so.
    expect(await cli("get", "g-legacy")).toContain("origin:       variation (read from its parents)\n");
    expect(await cli("get", "g-x1")).toContain("origin:       crossover\n");
  });
});

describe("lineage", () => {
  it("walks descendants and ancestors to a depth, with origins, states and who passed the gates", async () => {
    const down = await registry.client.lineage({ id: "g-root", direction: "descendants" });
    expect(down.nodes.map((n) => [n.id, n.depth, n.origin, n.state, n.passed])).toEqual([
      ["g-root", 0, "manual", "candidate", false],
      ["g-a1", 1, "variation", "validated", true],
      ["g-a2", 1, "variation", "retired", true],
      ["g-b1", 2, "variation", "validated", true],
      ["g-legacy", 2, "variation", "backtesting", false],
      ["g-x1", 2, "crossover", "candidate", false],
      ["g-c1", 3, "variation", "validated", true],
    ]);
    expect(down).toMatchObject({ total: 6, truncated: false, missing: [], member: "gen-search" });

    const shallow = await registry.client.lineage({ id: "g-root", direction: "descendants", depth: 1, limit: 1 });
    expect(shallow.nodes.map((n) => n.id)).toEqual(["g-root", "g-a1"]);
    expect(shallow).toMatchObject({ total: 2, truncated: true });

    const up = await registry.client.lineage({ id: "g-x1", direction: "ancestors" });
    expect(up.nodes.map((n) => [n.id, n.depth])).toEqual([
      ["g-x1", 0],
      ["g-a2", -1],
      ["r-root", -1],
      ["g-root", -2],
    ]);
    expect(up.edges).toContainEqual({ parent: "r-root", child: "g-x1" });
  });

  it("ends at a loop and reports parents registered nowhere as missing", async () => {
    const loop = await registry.client.lineage({ id: "cy-1", direction: "both", depth: 64 });
    expect(loop.nodes.map((n) => [n.id, n.depth])).toEqual([
      ["cy-1", 0],
      ["cy-2", 1],
    ]);
    const orphan = await registry.client.lineage({ id: "o-1", direction: "ancestors" });
    expect(orphan.missing).toEqual(["never-registered"]);
    expect(orphan.edges).toEqual([{ parent: "never-registered", child: "o-1" }]);
    await expect(registry.client.lineage({ id: "nobody", direction: "both" })).rejects.toMatchObject({
      code: ErrorCodes.NotFound,
    });
  });

  it("refuses a depth out of range with a stable code and keeps answering", async () => {
    await expect(registry.client.lineage({ id: "g-root", direction: "both", depth: 65 })).rejects.toMatchObject({
      code: ErrorCodes.InvalidField,
      field: "body.depth",
    });
    expect((await registry.client.lineage({ id: "g-root", direction: "both", depth: 64 })).total).toBe(6);
  });

  it("is drawn as a tree by stratreg lineage", async () => {
    expect(await cli("lineage", "g-root", "--down")).toBe(
      [
        "g-root  manual  candidate",
        "├── g-a1  variation  validated ✓",
        "│   ├── g-b1  variation  validated ✓",
        "│   │   └── g-c1  variation  validated ✓",
        "│   └── g-legacy  variation  backtesting",
        "└── g-a2  variation  retired ✓",
        "    └── g-x1  crossover  candidate",
        "",
        "6 descendants within 8 generations; ✓ passed the gates",
        "",
      ].join("\n"),
    );
    expect(await cli("lineage", "g-x1", "--up", "--depth", "1")).toBe(
      [
        "g-x1  crossover  candidate",
        "├── g-a2  variation  retired ✓",
        "└── r-root  manual  candidate",
        "",
        "2 ancestors within 1 generation; ✓ passed the gates",
        "",
      ].join("\n"),
    );
  });
});

describe("family", () => {
  it("gives the family's tree, its Sharpe ratios' mean, median and best, its origins and its survival through the gates", async () => {
    const reply = await registry.client.family({ family: "mom" });
    expect(reply.members.map((m) => m.id)).toEqual(
      ["g-a1", "g-a2", "g-b1", "g-c1", "g-legacy", "g-root", "g-x1"].sort(),
    );
    expect(reply.size).toBe(7);
    expect(reply.roots).toEqual(["g-root"]);
    // g-x1's other parent is of another family: not an edge of this tree.
    expect(reply.edges).not.toContainEqual({ parent: "r-root", child: "g-x1" });
    expect(reply.edges).toContainEqual({ parent: "g-a2", child: "g-x1" });
    expect(reply.origins).toEqual({ manual: 1, variation: 5, crossover: 1 });
    const values = Object.entries(RETURNS).map(([id, r]) => ({ id, value: sharpe(r) }));
    const sorted = values.map((v) => v.value).sort((a, b) => a - b);
    const best = values.reduce((a, b) => (b.value > a.value ? b : a));
    expect(reply.performance.metric).toBe("sharpe");
    expect(reply.performance.count).toBe(3);
    expect(reply.performance.mean).toBeCloseTo(values.reduce((s, v) => s + v.value, 0) / 3, 9);
    expect(reply.performance.median).toBeCloseTo(sorted[1] as number, 9);
    expect(reply.performance.best?.id).toBe(best.id);
    // Passed: g-a1, g-b1, g-c1 (validated), g-a2 (retired after validation); evaluated: those and g-legacy.
    expect(reply.survival).toEqual({ passed: 4, evaluated: 5, rate: 0.8 });
    await expect(registry.client.family({ family: "nobody" })).rejects.toMatchObject({ code: ErrorCodes.NotFound });
  });

  it("is printed by stratreg family with its statistics, members and tree", async () => {
    const out = (await cli("family", "mom")).split("\n");
    expect(out.slice(0, 3)).toEqual([
      "family mom: 7 members (1 manual, 5 variation, 1 crossover)",
      expect.stringMatching(
        /^sharpe: 3 with a value, mean -?\d+\.\d{3}, median -?\d+\.\d{3}, best g-[abc]1 \(-?\d+\.\d{3}\)$/,
      ),
      "survival: 4 of 5 evaluated passed the gates (80.0%)",
    ]);
    expect(out).toContain("g-x1      crossover  candidate           g-a2,r-root  g-x1");
    expect(out.slice(out.indexOf("g-root  manual  candidate"))).toEqual([
      "g-root  manual  candidate",
      "├── g-a1  variation  validated ✓",
      "│   ├── g-b1  variation  validated ✓",
      "│   │   └── g-c1  variation  validated ✓",
      "│   └── g-legacy  variation  backtesting",
      "└── g-a2  variation  retired ✓",
      "    └── g-x1  crossover  candidate",
      "",
    ]);
  });
});

describe("breeding and dynasties", () => {
  it("lists the cross-family child with its parents' families", async () => {
    const reply = await registry.client.breeding();
    expect(reply.children).toEqual([
      {
        id: "g-x1",
        family: "mom",
        origin: "crossover",
        parents: [
          { id: "g-a2", family: "mom" },
          { id: "r-root", family: "rev" },
        ],
      },
    ]);
    expect((await registry.client.breeding({ family: "rev" })).total).toBe(1);
    expect(await cli("family", "breeding")).toContain("g-x1      mom     crossover  g-a2 (mom), r-root (rev)");
  });

  it("finds g-root's dynasty of three generations that passed the gates, and none of four", async () => {
    const reply = await registry.client.dynasties({ k: 3 });
    expect(reply.dynasties).toEqual([
      { root: "g-root", family: "mom", length: 3, generations: [["g-a1", "g-a2"], ["g-b1"], ["g-c1"]] },
    ]);
    expect((await registry.client.dynasties({ k: 4 })).total).toBe(0);
    expect((await registry.client.dynasties({ k: 1, family: "rev" })).total).toBe(0);
    expect(await cli("family", "dynasties", "--k", "3")).toBe(
      [
        "root    family  generations  passed the gates, by generation",
        "g-root  mom               3  1: g-a1,g-a2  2: g-b1  3: g-c1",
        "1 dynasty of 3 or more generations",
        "",
      ].join("\n"),
    );
  });
});
