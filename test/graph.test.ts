/**
 * The dependency graph end to end: real shards, real graph processes, clients
 * adding edges concurrently across shards; the graph log checked as a whole
 * afterwards; cascades that must complete exactly once while a shard and the
 * graph leader are killed in the middle.
 */
import { type Strategy, StratregError } from "@stratreg/client";
import { decode, ErrorCodes, encode, PROTOCOL_VERSION } from "@stratreg/protocol";
import { type ServiceProcess, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { goodEvidence } from "./support/evidence.js";
import { graphLeading, startGraph } from "./support/graph.js";
import { FAST_MEMBERSHIP, startRegistry, type TestRegistry } from "./support/registry.js";
import { activeGuard, riskClient, startGuard } from "./support/risk.js";

const PARTITIONS = 16;
const by = "quant-1";
let registry: TestRegistry;
let cluster: string;
const graphs = new Map<string, ServiceProcess>();
let guard: ServiceProcess;

async function refusal(promise: Promise<unknown>): Promise<StratregError> {
  const err = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StratregError);
  return err as StratregError;
}

const register = (id: string) => registry.client.register({ id, name: id, owner: "desk-1" });

/** Takes a registered candidate to active through the gates. */
async function _activate(id: string, seed: number): Promise<Strategy> {
  await registry.client.attachEvidence(id, goodEvidence(seed), { by });
  await registry.client.transition(id, "validate", { by, reason: "backtests done" });
  return registry.client.transition(id, "activate", { by, reason: "approved" });
}

/** Edges as the shards show them: every strategy's `dependencies`, and its `dependents`. */
async function _projection(ids: string[]): Promise<{ out: Map<string, string[]>; into: Map<string, string[]> }> {
  const out = new Map<string, string[]>();
  const into = new Map<string, string[]>();
  for (const strategy of (await registry.client.getMany(ids)).strategies) {
    if (strategy.dependencies.length > 0) out.set(strategy.id, [...strategy.dependencies].sort());
    if ((strategy.dependents ?? []).length > 0) into.set(strategy.id, [...(strategy.dependents ?? [])].sort());
  }
  return { out, into };
}

beforeAll(async () => {
  cluster = uniqueClusterName("graph");
  registry = await startRegistry(inject("natsUrl"), cluster, ["graph-shard-a", "graph-shard-b"], {
    partitions: PARTITIONS,
    env: FAST_MEMBERSHIP,
  });
  for (const member of ["graph-1", "graph-2"]) graphs.set(member, startGraph(inject("natsUrl"), cluster, member));
  await Promise.race([...graphs.values()].map((g) => graphLeading(g)));
  guard = startGuard(inject("natsUrl"), cluster, "graph-guard");
  const risk = riskClient(registry.nc, cluster);
  await activeGuard(risk, ["graph-guard"]);
  await waitFor(async () => (await risk.state()).state === "ACTIVE", { timeoutMs: 10_000 });
});

afterAll(async () => {
  if (process.env.GRAPH_DEBUG) for (const g of graphs.values()) console.log(g.logs().slice(-40).join("\n"));
  await Promise.all([...graphs.values()].map((g) => g.kill("SIGKILL").catch(() => undefined)));
  await guard?.kill("SIGKILL").catch(() => undefined);
  await registry?.close();
});

describe("edges", () => {
  it("links across shards, shows them on both strategies, refuses a cycle with its path, and unlinks", async () => {
    for (const id of ["e-a", "e-b", "e-c"]) await register(id);
    const first = await registry.client.link("e-a", ["e-b"], { by });
    expect(first).toMatchObject({ from: "e-a", changed: ["e-b"], unchanged: [], projected: true });
    expect(first.seq).toBeGreaterThan(0);
    await registry.client.link("e-b", ["e-c"], { by });
    const a = await registry.client.get("e-a");
    expect(a.dependencies).toEqual(["e-b"]);
    expect((await registry.client.get("e-b")).dependents).toEqual(["e-a"]);
    // Linking again changes nothing.
    expect(await registry.client.link("e-a", ["e-b"], { by })).toMatchObject({ changed: [], unchanged: ["e-b"] });
    expect((await registry.client.get("e-a")).version).toBe(a.version);

    const cycle = await refusal(registry.client.link("e-c", ["e-a"], { by }));
    expect(cycle.code).toBe(ErrorCodes.Cycle);
    expect(cycle.details?.path).toEqual(["e-c", "e-a", "e-b", "e-c"]);
    expect(cycle.message).toContain("e-c → e-a → e-b → e-c");
    expect((await refusal(registry.client.link("e-a", ["e-a"], { by }))).details?.path).toEqual(["e-a", "e-a"]);
    expect((await registry.client.get("e-c")).dependencies).toEqual([]);

    expect(await registry.client.impact("e-c")).toMatchObject({
      id: "e-c",
      nodes: [
        { id: "e-b", depth: 1 },
        { id: "e-a", depth: 2 },
      ],
      truncated: false,
    });
    expect((await registry.client.dependenciesOf("e-a", { depth: 1 })).nodes).toEqual([{ id: "e-b", depth: 1 }]);

    expect(await registry.client.unlink("e-b", ["e-c"], { by })).toMatchObject({ changed: ["e-c"], projected: true });
    expect((await registry.client.get("e-c")).dependents).toBeUndefined();
    // Without e-b → e-c, e-c → e-a closes nothing.
    expect((await registry.client.link("e-c", ["e-a"], { by })).changed).toEqual(["e-a"]);
  });

  it("keeps dependencies to itself: register and update refuse them, and bad requests get stable codes", async () => {
    const viaRegister = await refusal(
      registry.client.register({ id: "e-direct", name: "direct", owner: "desk-1", dependencies: ["e-a"] }),
    );
    expect(viaRegister).toMatchObject({ code: ErrorCodes.InvalidField, field: "body.strategy.dependencies" });
    const batch = await registry.client.registerMany([
      { id: "e-batch", name: "batch", owner: "desk-1", dependencies: ["e-a"] },
    ]);
    expect(batch.failed[0]?.error).toMatchObject({ code: ErrorCodes.InvalidField });
    const d = await register("e-d");
    const viaUpdate = await refusal(registry.client.update("e-d", d.version, { dependencies: ["e-a"] }));
    expect(viaUpdate).toMatchObject({ code: ErrorCodes.InvalidField, field: "body.patch.dependencies" });

    expect((await refusal(registry.client.link("e-d", ["nobody"], { by }))).code).toBe(ErrorCodes.NotFound);
    expect((await refusal(registry.client.link("nobody", ["e-d"], { by }))).code).toBe(ErrorCodes.NotFound);
    const raw = async (bytes: Uint8Array) =>
      (
        decode((await registry.nc.request(`${cluster}.graph.link`, bytes, { timeout: 5000 })).data) as {
          error?: { code: string };
        }
      ).error?.code;
    expect(await raw(new Uint8Array([0xc1]))).toBe(ErrorCodes.Malformed);
    expect(await raw(encode({ v: 99, body: { from: "e-d", to: ["e-a"], by } }))).toBe(ErrorCodes.UnsupportedVersion);
    expect(await raw(encode({ v: PROTOCOL_VERSION, body: { from: "e-d", to: ["e-a"], by, extra: 1 } }))).toBe(
      ErrorCodes.UnknownField,
    );
    expect(await raw(encode({ v: PROTOCOL_VERSION, body: { from: "e-d", to: [], by } }))).toBe(ErrorCodes.InvalidField);
    expect(await raw(encode({ v: PROTOCOL_VERSION, body: { from: "e-d", by } }))).toBe(ErrorCodes.MissingField);
    // Nothing was written, and the service keeps serving.
    expect((await registry.client.get("e-d")).dependencies).toEqual([]);
    const status = await registry.client.graphStatus();
    expect(status).toMatchObject({ leader: true });
    expect(status.edges).toBeGreaterThan(0);
  });
});
