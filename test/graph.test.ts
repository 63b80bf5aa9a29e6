/**
 * The dependency graph end to end: real shards, real graph processes, clients
 * adding edges concurrently across shards; the graph log checked as a whole
 * afterwards; cascades that must complete exactly once while a shard and the
 * graph leader are killed in the middle.
 */
import { connect } from "@nats-io/transport-node";
import { type Strategy, StratregClient, StratregError } from "@stratreg/client";
import { decode, ErrorCodes, encode, PartitionOps, PROTOCOL_VERSION } from "@stratreg/protocol";
import { reachable, refusal, type ServiceProcess, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { contextOf, goodEvidence } from "./support/evidence.js";
import { graphLeading, readGraphLog, startGraph } from "./support/graph.js";
import { FAST_MEMBERSHIP, ownership, startRegistry, type TestRegistry, waitForServing } from "./support/registry.js";
import { activeGuard, riskClient, startGuard } from "./support/risk.js";

const PARTITIONS = 16;
const by = "quant-1";
let registry: TestRegistry;
let cluster: string;
const graphs = new Map<string, ServiceProcess>();
let guard: ServiceProcess;

/** One step at a time, so that a kill lands in the middle of a cascade. */
const startGraphMember = (member: string) =>
  startGraph(inject("natsUrl"), cluster, member, { STRATREG_GRAPH_CASCADE_PARALLELISM: "1" });

const register = (id: string) => registry.client.register({ id, name: id, owner: "desk-1" });

/** Takes a registered candidate to active through the gates. */
async function activate(id: string): Promise<Strategy> {
  await registry.client.attachEvidence(id, goodEvidence(), { by });
  await registry.client.transition(id, "validate", { by, reason: "backtests done" });
  return registry.client.transition(id, "activate", { by, reason: "approved" });
}

/** Edges as the shards show them: every strategy's `dependencies`, and its `dependents`. */
async function projection(ids: string[]): Promise<{ out: Map<string, string[]>; into: Map<string, string[]> }> {
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
  for (const member of ["graph-1", "graph-2"]) graphs.set(member, startGraphMember(member));
  await Promise.race([...graphs.values()].map((g) => graphLeading(g)));
  guard = startGuard(inject("natsUrl"), cluster, "graph-guard");
  const risk = riskClient(registry.nc, cluster);
  await activeGuard(risk, ["graph-guard"]);
  await waitFor(async () => (await risk.state()).state === "ACTIVE", { timeoutMs: 10_000 });
});

afterAll(async () => {
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
    // An empty list holds no edge, in whatever width a client encodes it (here an array 16).
    const key = Buffer.concat([Buffer.of(0xa0 | "dependencies".length), Buffer.from("dependencies")]);
    const plain = Buffer.from(
      encode({
        v: PROTOCOL_VERSION,
        cid: "empty-deps-16",
        issued: Date.now(),
        body: { strategies: [{ id: "e-empty16", name: "empty", owner: "desk-1", dependencies: [] }] },
      }),
    );
    const at = plain.indexOf(Buffer.concat([key, Buffer.of(0x90)])) + key.length;
    const wide = Buffer.concat([plain.subarray(0, at), Buffer.of(0xdc, 0, 0), plain.subarray(at + 1)]);
    const partition = registry.client.partitionOf("e-empty16");
    const reply = decode(
      (
        await registry.nc.request(registry.client.subjects.partition(partition, PartitionOps.RegisterBatch), wide, {
          timeout: 5000,
        })
      ).data,
    ) as { ok: boolean; body?: { registered: number } };
    expect(reply).toMatchObject({ ok: true, body: { registered: 1 } });
    expect((await registry.client.get("e-empty16")).dependencies).toEqual([]);

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

describe("16 clients adding edges across shards at once", () => {
  it("never stores a cycle, refuses only edges that would close one then, and the shards show exactly the log's graph", async () => {
    const ids = Array.from({ length: 48 }, (_, i) => `c-${i}`);
    await registry.client.registerMany(ids.map((id) => ({ id, name: id, owner: "desk-1" })));
    const owners = await ownership(registry.nc, cluster, PARTITIONS);
    const ownerOf = (id: string) => owners.get(registry.client.partitionOf(id));
    const crossShard = ids.flatMap((from) => ids.filter((to) => ownerOf(from) !== ownerOf(to)).map((to) => [from, to]));
    expect(crossShard.length).toBeGreaterThan(500);
    const refused: Array<{ from: string; to: string; path: string[]; seq: number; changes: number }> = [];
    let linked = 0;
    let unlinked = 0;
    const deadline = Date.now() + 30_000;
    const clients = await Promise.all(
      Array.from({ length: 16 }, async () => {
        const nc = await connect({ servers: inject("natsUrl") });
        return { nc, client: await StratregClient.connect(nc, { cluster }) };
      }),
    );
    let seed = 7;
    const random = () => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed / 2147483648;
    };
    await Promise.all(
      clients.map(async ({ client }) => {
        while (Date.now() < deadline) {
          const [from, to] = crossShard[Math.floor(random() * crossShard.length)] as [string, string];
          if (random() < 0.15) {
            unlinked += (await client.unlink(from, [to], { by })).changed.length;
            continue;
          }
          try {
            linked += (await client.link(from, [to], { by })).changed.length;
          } catch (err) {
            expect(err).toBeInstanceOf(StratregError);
            expect((err as StratregError).code, (err as Error).message).toBe(ErrorCodes.Cycle);
            const details = (err as StratregError).details as { path: string[]; seq: number; changes: number };
            refused.push({ from, to, ...details });
          }
        }
      }),
    );
    await Promise.all(clients.map(({ nc }) => nc.close()));
    expect(linked).toBeGreaterThan(20);
    expect(unlinked).toBeGreaterThan(5);
    expect(refused.length).toBeGreaterThan(5);
    await waitFor(async () => (await registry.client.graphStatus()).pending === 0, { timeoutMs: 20_000 });

    // Replay the log: no link ever closed a cycle, and each refusal's path was there when it was refused:
    // at its `seq`, after the first `changes` changes of that record (those decided before it, together).
    const edges = new Map<string, Set<string>>();
    const byRefusal = [...refused].sort((a, b) => a.seq - b.seq || a.changes - b.changes);
    let next = 0;
    const checkRefusals = (upTo: (refusal: (typeof byRefusal)[number]) => boolean) => {
      for (; next < byRefusal.length && upTo(byRefusal[next] as (typeof byRefusal)[number]); next++) {
        const { from, to, path } = byRefusal[next] as (typeof byRefusal)[number];
        expect(path[0]).toBe(from);
        expect(path[1]).toBe(to);
        expect(path.at(-1)).toBe(from);
        for (let i = 1; i < path.length - 1; i++)
          expect(edges.get(path[i] as string)?.has(path[i + 1] as string)).toBe(true);
        expect(reachable(edges, to, from)).toBe(true);
      }
    };
    for (const { seq, entry } of await readGraphLog(registry.nc, cluster)) {
      checkRefusals((r) => r.seq < seq);
      if (entry.t !== "edges") continue;
      for (const [index, change] of entry.changes.entries()) {
        checkRefusals((r) => r.seq === seq && r.changes <= index);
        for (const to of change.to) {
          if (change.t === "unlink") {
            edges.get(change.from)?.delete(to);
            continue;
          }
          expect(reachable(edges, to, change.from), `${change.from} → ${to} at ${seq}`).toBe(false);
          if (!edges.has(change.from)) edges.set(change.from, new Set());
          edges.get(change.from)?.add(to);
        }
      }
    }
    checkRefusals(() => true);
    expect(next).toBe(byRefusal.length);

    // The shards hold the same graph, from both ends.
    const { out, into } = await projection(ids);
    const expectedOut = new Map<string, string[]>();
    const expectedIn = new Map<string, string[]>();
    for (const [from, tos] of edges) {
      // The log also holds the edges of the tests before this one.
      if (!from.startsWith("c-")) continue;
      if (tos.size > 0) expectedOut.set(from, [...tos].sort());
      for (const to of tos) expectedIn.set(to, [...(expectedIn.get(to) ?? []), from].sort());
    }
    expect(out).toEqual(expectedOut);
    expect(into).toEqual(expectedIn);

    // Impact analysis agrees with a breadth-first search of the replayed graph.
    const dependents = new Map<string, Set<string>>();
    for (const [from, tos] of edges)
      for (const to of tos) dependents.set(to, (dependents.get(to) ?? new Set()).add(from));
    for (const id of ids.slice(0, 12)) {
      const want = new Map<string, number>();
      let frontier = [id];
      for (let depth = 1; frontier.length > 0; depth++) {
        frontier = frontier.flatMap((at) => [...(dependents.get(at) ?? [])].filter((d) => d !== id && !want.has(d)));
        frontier = [...new Set(frontier)];
        for (const d of frontier) want.set(d, depth);
      }
      const got = await registry.client.impact(id);
      expect(new Map(got.nodes.map((n) => [n.id, n.depth]))).toEqual(want);
    }
  }, 120_000);
});

describe("edge rules", () => {
  it("answers a retried request by its command id, refuses a 65th dependency and a retired target, and lets a retired strategy let go", async () => {
    const ids = Array.from({ length: 66 }, (_, i) => `r-${i}`);
    await registry.client.registerMany(ids.map((id) => ({ id, name: id, owner: "desk-1" })));
    // The same command id twice: the second answer says what the first one changed.
    const first = await registry.client.link("r-0", ["r-1"], { by, cid: "link-once" });
    const again = await registry.client.link("r-0", ["r-1"], { by, cid: "link-once" });
    expect(again).toMatchObject({ changed: ["r-1"], unchanged: [], seq: first.seq });
    expect((await registry.client.link("r-0", ["r-1"], { by })).changed).toEqual([]);
    const undone = await registry.client.unlink("r-0", ["r-1"], { by, cid: "unlink-once" });
    expect(await registry.client.unlink("r-0", ["r-1"], { by, cid: "unlink-once" })).toMatchObject({
      changed: ["r-1"],
      seq: undone.seq,
    });
    // At most 64 dependencies.
    await registry.client.link("r-0", ids.slice(1, 65), { by });
    const tooMany = await refusal(registry.client.link("r-0", ["r-65"], { by }));
    expect(tooMany).toMatchObject({ code: ErrorCodes.InvalidField, field: "body.to" });
    expect((await registry.client.get("r-0")).dependencies).toHaveLength(64);
    expect((await registry.client.get("r-5")).dependents).toEqual(["r-0"]);
    // Nothing new may depend on a retired strategy.
    await registry.client.retire("r-65", { reason: "decayed" });
    const retired = await refusal(registry.client.link("r-64", ["r-65"], { by }));
    expect(retired).toMatchObject({ code: ErrorCodes.InvalidTransition });
    // A retired strategy lets go of what it depended on, so that those can move directly again.
    await registry.client.cascade("r-0", "retire", { by, reason: "replaced" });
    expect((await refusal(registry.client.cascade("r-0", "retire", { by, reason: "again" }))).code).toBe(
      ErrorCodes.InvalidTransition,
    );
    expect((await registry.client.unlink("r-0", ids.slice(1, 65), { by })).changed).toHaveLength(64);
    expect((await registry.client.retire("r-5", { reason: "free now" })).state).toBe("retired");
  });

  it("fences a leader that was paused past its lease: the other leads, and the paused one steps down when it wakes", async () => {
    const before = await registry.client.graphStatus();
    const paused = graphs.get(before.member) as ServiceProcess;
    await register("p-a");
    await register("p-b");
    paused.pause();
    try {
      const after = await waitFor(
        async () => {
          const status = await registry.client.graphStatus({ timeoutMs: 500 }).catch(() => undefined);
          return status !== undefined && status.member !== before.member ? status : undefined;
        },
        { timeoutMs: 20_000, intervalMs: 100, message: "another graph process to lead" },
      );
      expect(after.epoch).toBeGreaterThan(before.epoch);
      expect((await registry.client.link("p-a", ["p-b"], { by })).changed).toEqual(["p-b"]);
    } finally {
      paused.resume();
    }
    await paused.waitForLog((_line, json) => json?.msg === "graph leadership ended", 20_000);
    // The last leader to mark the log is the one that took over, and the graph is still one graph.
    const log = await readGraphLog(registry.nc, cluster);
    const marker = log.findLast(({ entry }) => entry.t === "epoch")?.entry as { member: string } | undefined;
    expect(marker?.member).toBeDefined();
    expect(marker?.member).not.toBe(before.member);
    expect(
      (await registry.client.link("p-b", ["p-a"], { by }).catch((e: unknown) => e)) as StratregError,
    ).toMatchObject({
      code: ErrorCodes.Cycle,
    });
  }, 60_000);
});

describe("cascades", () => {
  /** Registers `root` and a tree of `n` dependents under it (each on one or two of the earlier ones), all active. */
  async function activeTree(root: string, n: number): Promise<string[]> {
    const ids = [root, ...Array.from({ length: n }, (_, i) => `${root}-${i}`)];
    await registry.client.registerMany(ids.map((id) => ({ id, name: id, owner: "desk-1" })));
    for (let i = 1; i < ids.length; i++) {
      const parents = [ids[Math.floor((i - 1) / 3)] as string];
      if (i > 4 && i % 2 === 0) parents.push(ids[i - 2] as string);
      await registry.client.link(ids[i] as string, parents, { by });
    }
    for (const id of ids) await activate(id);
    return ids;
  }

  /** The strategies `ids`, in that order. */
  const fetch = async (ids: string[]) => {
    const byId = new Map((await registry.client.getMany(ids)).strategies.map((s) => [s.id, s]));
    return ids.map((id) => byId.get(id) as Strategy);
  };

  /** Resolves once the cascade has suspended its first dependent (`ids[1]`, nearest first). */
  const started = (ids: string[]) =>
    waitFor(async () => (await registry.client.get(ids[1] as string)).state === "suspended", {
      timeoutMs: 20_000,
      intervalMs: 5,
    });

  /** The cascade's SUSPEND moves in a strategy's lifecycle history. */
  const suspensions = (strategy: Strategy, cause: string) =>
    (contextOf(strategy).history ?? []).filter(
      (move) => move.event === "SUSPEND" && (move.reason ?? "").includes(`dependency ${cause}`),
    );

  it("refuses to suspend or retire a strategy others depend on, naming them", async () => {
    const ids = await activeTree("h-root", 3);
    const suspend = await refusal(registry.client.transition("h-root", "suspend", { by, reason: "drawdown" }));
    expect(suspend.code).toBe(ErrorCodes.HasDependents);
    expect([...((suspend.details?.dependents as string[] | undefined) ?? [])].sort()).toEqual(ids.slice(1, 4).sort());
    expect((await refusal(registry.client.retire("h-root"))).code).toBe(ErrorCodes.HasDependents);
    expect((await registry.client.get("h-root")).state).toBe("active");
    // A leaf has no dependents: it is suspended directly.
    expect((await registry.client.transition(ids[3] as string, "suspend", { by, reason: "leaf" })).state).toBe(
      "suspended",
    );
  });

  it("completes exactly once while a shard is killed in the middle", async () => {
    const ids = await activeTree("k-root", 40);
    const cascade = registry.client.cascade("k-root", "suspend", { by: "ops-1", reason: "drawdown breach" });
    await started(ids);
    const victim = "graph-shard-b";
    await registry.shards.get(victim)?.kill("SIGKILL");
    const reply = await cascade;
    expect(reply.suspended.map((n) => n.id).sort()).toEqual(ids.slice(1).sort());
    expect(reply.skipped).toEqual([]);
    registry.startShard(victim);
    await waitForServing(registry.nc, cluster, PARTITIONS, ["graph-shard-a", victim]);
    const after = await fetch(ids);
    expect(after.map((s) => s.state)).toEqual(ids.map(() => "suspended"));
    expect(suspensions(after[0] as Strategy, "k-root")).toHaveLength(0);
    for (const strategy of after.slice(1)) expect(suspensions(strategy, "k-root"), strategy.id).toHaveLength(1);
    // Resuming is explicit: nothing comes back by itself.
    expect((await registry.client.transition(ids[1] as string, "resume", { by, reason: "checked" })).state).toBe(
      "active",
    );
  }, 120_000);

  it("completes exactly once when the graph leader is killed in the middle, and a retry gets its outcome", async () => {
    const ids = await activeTree("g-root", 40);
    const leader = await registry.client.graphStatus();
    const cascade = registry.client.cascade("g-root", "retire", { by: "ops-1", reason: "decayed", timeoutMs: 60_000 });
    await started(ids);
    await graphs.get(leader.member)?.kill("SIGKILL");
    const reply = await cascade;
    // The new leader closed it: the cascade's `done` follows the next leader's epoch marker.
    const log = await readGraphLog(registry.nc, cluster);
    const opened = log.find(({ entry }) => entry.t === "cascade" && entry.id === "g-root")?.seq as number;
    const closed = log.find(({ entry }) => entry.t === "done" && entry.seq === opened)?.seq as number;
    expect(log.some(({ seq, entry }) => entry.t === "epoch" && seq > opened && seq < closed)).toBe(true);
    expect(reply.suspended.map((n) => n.id).sort()).toEqual(ids.slice(1).sort());
    expect((await registry.client.graphStatus()).member).not.toBe(leader.member);
    const after = await fetch(ids);
    expect(after[0]?.state).toBe("retired");
    for (const strategy of after.slice(1)) {
      expect(strategy.state, strategy.id).toBe("suspended");
      expect(suspensions(strategy, "g-root"), strategy.id).toHaveLength(1);
    }
    graphs.set(leader.member, startGraphMember(leader.member));
  }, 120_000);
});
