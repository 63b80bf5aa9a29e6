/**
 * Genealogy over the search index, fed real partition log entries (as the
 * follower reads them): random parent graphs with loops, dangling parents and
 * parents changed by later updates, each query checked against a brute-force
 * reference computed from the final strategies alone.
 */
import {
  encode,
  encodeLogEntry,
  type GenealogyNode,
  type LineageDirection,
  LOG_FORMAT_VERSION,
  type LogOp,
  LogOps,
  type Metric,
  newStrategy,
  type Origin,
  partitionOf,
  readLogEntry,
  type StoredLifecycle,
  type Strategy,
} from "@stratreg/protocol";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { breeding, dynasties, family, familyPerformance, type GenealogyDoc, lineage } from "./genealogy.js";
import { StrategyIndex } from "./strategies.js";

const PARTITIONS = 4;
const START = Date.UTC(2026, 0, 5);
const FAMILIES = ["alpha", "beta", "gamma"] as const;

/** Lifecycles as shards store them, with whether each passed the gates and was evaluated. */
const LIFECYCLES: Array<{ state: Strategy["state"]; lifecycle: StoredLifecycle; passed: boolean; evaluated: boolean }> =
  [
    { state: "candidate", lifecycle: { value: "candidate", context: {} }, passed: false, evaluated: false },
    {
      state: "backtesting",
      lifecycle: { value: "backtesting", context: { gates: { passed: false, at: 1 } } },
      passed: false,
      evaluated: true,
    },
    { state: "backtesting", lifecycle: { value: "backtesting", context: {} }, passed: false, evaluated: false },
    {
      state: "validated",
      lifecycle: { value: "validated", context: { gates: { passed: true, at: 1 } } },
      passed: true,
      evaluated: true,
    },
    {
      state: "active",
      lifecycle: { value: { active: "growth" }, context: { phase: "growth" } },
      passed: true,
      evaluated: true,
    },
    {
      state: "suspended",
      lifecycle: { value: "suspended", context: { phase: "birth" } },
      passed: true,
      evaluated: true,
    },
    // Retired after going live: the phase stays in the context.
    { state: "retired", lifecycle: { value: "retired", context: { phase: "decline" } }, passed: true, evaluated: true },
    // Retired after validation: the history shows it.
    {
      state: "retired",
      lifecycle: {
        value: "retired",
        context: {
          gates: { passed: false, at: 2 },
          history: [{ at: 1, by: "q", event: "VALIDATE", from: "backtesting", to: "validated" }],
        },
      },
      passed: true,
      evaluated: true,
    },
    // Retired after failing the gates.
    {
      state: "retired",
      lifecycle: { value: "retired", context: { gates: { passed: false, at: 1 } } },
      passed: false,
      evaluated: true,
    },
    // Stored before lifecycles were: a legacy draft, no lifecycle.
    { state: "draft", lifecycle: undefined as unknown as StoredLifecycle, passed: false, evaluated: false },
  ];

interface Shape {
  parents: number[];
  /** Parents that are registered nowhere. */
  ghosts: number;
  family: number | null;
  lifecycle: number;
}

function strategyOf(i: number, shape: Shape, version = 1): Strategy {
  const life = LIFECYCLES[shape.lifecycle] as (typeof LIFECYCLES)[number];
  const strategy: Strategy = {
    ...newStrategy(
      {
        id: `s${i}`,
        name: `S ${i}`,
        owner: "desk",
        family: shape.family === null ? null : (FAMILIES[shape.family] as string),
        parents: [
          ...shape.parents.map((p) => `s${p}`),
          ...Array.from({ length: shape.ghosts }, (_, g) => `ghost${i}-${g}`),
        ],
      },
      START,
    ),
    state: life.state,
    version,
  };
  if (life.lifecycle === undefined) delete strategy.lifecycle;
  else strategy.lifecycle = life.lifecycle;
  return strategy;
}

function logEntry(op: LogOp, ids: string[], recs: Uint8Array[]) {
  const written = encodeLogEntry({ v: LOG_FORMAT_VERSION, op, at: START, member: "shard-0", epoch: 1 }, ids, recs);
  return readLogEntry(written.bytes);
}

/** Appends `strategies` to their partitions' logs as one entry of `op` each. */
function write(index: StrategyIndex, op: LogOp, strategies: Strategy[]): void {
  const byPartition = new Map<number, Strategy[]>();
  for (const s of strategies) {
    const p = partitionOf(s.id, PARTITIONS);
    byPartition.set(p, [...(byPartition.get(p) ?? []), s]);
  }
  for (const [partition, batch] of byPartition) {
    index.apply(
      partition,
      logEntry(
        op,
        batch.map((s) => s.id),
        batch.map((s) => encode(s)),
      ),
    );
  }
}

const shapeArb = (n: number): fc.Arbitrary<Shape> =>
  fc.record({
    parents: fc.uniqueArray(fc.nat({ max: n - 1 }), { maxLength: 3 }),
    ghosts: fc.nat({ max: 1 }),
    family: fc.option(fc.nat({ max: FAMILIES.length - 1 }), { nil: null, freq: 4 }),
    lifecycle: fc.nat({ max: LIFECYCLES.length - 1 }),
  });

/** Strategies as first registered, then some of them changed (parents, family, lifecycle). */
const worldArb = fc.integer({ min: 1, max: 24 }).chain((n) =>
  fc.record({
    first: fc.array(shapeArb(n), { minLength: n, maxLength: n }),
    changes: fc.array(fc.tuple(fc.nat({ max: n - 1 }), shapeArb(n)), { maxLength: n }),
  }),
);

/** A world registered, then its changes logged as updates: the index and the strategies it should hold. */
function build(world: { first: Shape[]; changes: Array<[number, Shape]> }) {
  const index = new StrategyIndex(PARTITIONS);
  const held = world.first.map((shape, i) => strategyOf(i, shape));
  write(index, LogOps.RegisterBatch, held);
  for (const [i, shape] of world.changes) {
    const next = strategyOf(i, shape, (held[i] as Strategy).version + 1);
    held[i] = next;
    write(index, LogOps.Update, [next]);
  }
  return { index, held: new Map(held.map((s) => [s.id, s])) };
}

/** The world with partition 0 loaded again from an empty snapshot (its strategies compacted away under the follower). */
function reloaded(built: ReturnType<typeof build>) {
  built.index.restore(0, undefined);
  for (const id of [...built.held.keys()]) if (partitionOf(id, PARTITIONS) === 0) built.held.delete(id);
  return built;
}

/** Shortest distances from `id` following `next`, to `depth`: every edge relaxed until nothing changes. */
function distances(all: Map<string, Strategy>, id: string, depth: number, up: boolean): Map<string, number> {
  const dist = new Map<string, number>([[id, 0]]);
  for (let changed = true; changed; ) {
    changed = false;
    for (const s of all.values()) {
      for (const p of s.parents) {
        if (!all.has(p)) continue;
        const [from, to] = up ? [s.id, p] : [p, s.id];
        const d = dist.get(from);
        if (d === undefined || d + 1 > depth) continue;
        if (!dist.has(to) || (dist.get(to) as number) > d + 1) {
          dist.set(to, d + 1);
          changed = true;
        }
      }
    }
  }
  return dist;
}

function passedOf(s: Strategy): boolean {
  const i = LIFECYCLES.findIndex(
    (l) => l.state === s.state && JSON.stringify(l.lifecycle) === JSON.stringify(s.lifecycle),
  );
  return (LIFECYCLES[i] as (typeof LIFECYCLES)[number]).passed;
}

const sortById = <T extends { id: string }>(xs: T[]) => [...xs].sort((a, b) => (a.id < b.id ? -1 : 1));

describe("lineage", () => {
  test("reaches every ancestor and descendant at its shortest depth, once, across loops and reloads; dangling parents are missing", () => {
    fc.assert(
      fc.property(
        worldArb,
        fc.nat(),
        fc.constantFrom<LineageDirection>("ancestors", "descendants", "both"),
        fc.integer({ min: 1, max: 6 }),
        fc.boolean(),
        (world, pick, direction, depth, reload) => {
          const { index, held } = reload ? reloaded(build(world)) : build(world);
          const ids = [...held.keys()];
          if (ids.length === 0) return;
          const id = ids[pick % ids.length] as string;
          const reply = lineage(index, { id, direction, depth, limit: 10_000 });
          const down = direction === "ancestors" ? new Map<string, number>() : distances(held, id, depth, false);
          const up = direction === "descendants" ? new Map<string, number>() : distances(held, id, depth, true);
          const expected = new Map<string, number>([[id, 0]]);
          for (const [n, d] of down) if (!expected.has(n)) expected.set(n, d);
          for (const [n, d] of up) if (!expected.has(n)) expected.set(n, -d);
          expect(new Map(reply.nodes.map((node) => [node.id, node.depth]))).toEqual(expected);
          expect(reply.nodes.length).toBe(expected.size);
          expect(reply.total).toBe(expected.size - 1);
          expect(reply.truncated).toBe(false);
          // Nodes come breadth first: depth 0, then descendants by depth, then ancestors by depth.
          expect(reply.nodes[0]?.id).toBe(id);
          // Missing: parents registered nowhere of ancestors short of the depth.
          const missing = new Set<string>();
          for (const [n, d] of up) {
            if (d >= depth) continue;
            for (const p of (held.get(n) as Strategy).parents) if (!held.has(p)) missing.add(p);
          }
          expect(reply.missing).toEqual([...missing].sort());
          // Edges: every parent link among the nodes listed, and to the missing.
          const listed = new Set(reply.nodes.map((node) => node.id));
          const edges = [...listed].flatMap((child) =>
            [...new Set((held.get(child) as Strategy).parents)]
              .filter((p) => listed.has(p) || missing.has(p))
              .map((parent) => `${parent}>${child}`),
          );
          expect(reply.edges.map((e) => `${e.parent}>${e.child}`).sort()).toEqual(edges.sort());
          for (const node of reply.nodes) {
            const s = held.get(node.id) as Strategy;
            expect(node).toMatchObject({ family: s.family, parents: s.parents, passed: passedOf(s) });
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("stops listing at the limit and says it truncated, still counting every strategy reached", () => {
    const index = new StrategyIndex(PARTITIONS);
    const root = strategyOf(0, { parents: [], ghosts: 0, family: 0, lifecycle: 0 });
    const kids = Array.from({ length: 30 }, (_, i) =>
      strategyOf(i + 1, { parents: [0], ghosts: 0, family: 0, lifecycle: 0 }),
    );
    write(index, LogOps.RegisterBatch, [root, ...kids]);
    const reply = lineage(index, { id: "s0", direction: "descendants", limit: 10 });
    expect(reply.nodes).toHaveLength(11);
    expect(reply).toMatchObject({ total: 30, truncated: true, depth: 8 });
    expect(reply.edges).toHaveLength(10);
    // A reply that would pass the byte budget ends early, still truncated.
    const small = lineage(index, { id: "s0", direction: "descendants" }, 600);
    expect(small.nodes.length).toBeLessThan(31);
    expect(small.truncated).toBe(true);
  });

  test("answers NOT_FOUND for a strategy it does not hold", () => {
    const index = new StrategyIndex(PARTITIONS);
    expect(() => lineage(index, { id: "nope", direction: "both" })).toThrow(
      expect.objectContaining({ code: "NOT_FOUND" }),
    );
  });

  test("reads a strategy stored without origin by its parents, and keeps a stored origin", () => {
    const index = new StrategyIndex(PARTITIONS);
    const a = strategyOf(0, { parents: [], ghosts: 0, family: 0, lifecycle: 0 });
    const b = strategyOf(1, { parents: [0], ghosts: 0, family: 0, lifecycle: 0 });
    const c = strategyOf(2, { parents: [0, 1], ghosts: 0, family: 0, lifecycle: 0 });
    const d = { ...strategyOf(3, { parents: [0, 1], ghosts: 0, family: 0, lifecycle: 0 }), origin: "manual" as Origin };
    write(index, LogOps.RegisterBatch, [a, b, c, d]);
    const origins = Object.fromEntries(
      lineage(index, { id: "s0", direction: "descendants" }).nodes.map((n: GenealogyNode) => [n.id, n.origin]),
    );
    expect(origins).toEqual({ s0: "manual", s1: "variation", s2: "crossover", s3: "manual" });
  });
});

describe("family", () => {
  test("lists the members, the edges among them and the roots, and counts survival through the gates", () => {
    fc.assert(
      fc.property(worldArb, fc.constantFrom(...FAMILIES), (world, name) => {
        const { index, held } = build(world);
        const members = sortById([...held.values()].filter((s) => s.family === name));
        if (members.length === 0) {
          expect(() => family(index, { family: name })).toThrow(expect.objectContaining({ code: "NOT_FOUND" }));
          return;
        }
        const reply = family(index, { family: name });
        const ids = new Set(members.map((s) => s.id));
        expect(reply.size).toBe(members.length);
        expect(reply.members.map((m) => m.id)).toEqual(members.map((s) => s.id));
        expect(reply.roots).toEqual(members.filter((s) => !s.parents.some((p) => ids.has(p))).map((s) => s.id));
        const edges = members.flatMap((s) =>
          [...new Set(s.parents)].filter((p) => ids.has(p)).map((p) => `${p}>${s.id}`),
        );
        expect(reply.edges.map((e) => `${e.parent}>${e.child}`).sort()).toEqual(edges.sort());
        const life = (s: Strategy) =>
          LIFECYCLES.find(
            (l) => l.state === s.state && JSON.stringify(l.lifecycle) === JSON.stringify(s.lifecycle),
          ) as (typeof LIFECYCLES)[number];
        const passed = members.filter((s) => life(s).passed).length;
        const evaluated = members.filter((s) => life(s).evaluated).length;
        expect(reply.survival).toEqual({ passed, evaluated, rate: evaluated === 0 ? null : passed / evaluated });
        expect(reply.origins.variation + reply.origins.crossover + reply.origins.manual).toBe(members.length);
        const page = family(index, { family: name, limit: 2 });
        expect(page.members.map((m) => m.id)).toEqual(members.slice(0, 2).map((s) => s.id));
        expect(page.truncated).toBe(members.length > 2);
        expect(page.survival).toEqual(reply.survival);
      }),
      { numRuns: 200 },
    );
  });

  test("aggregates a metric: count, mean, median and the best member, lower-is-better metrics the other way", () => {
    const docs = (values: Array<number | null>): GenealogyDoc[] =>
      values.map((value, i) => ({
        strategy: strategyOf(i, { parents: [], ghosts: 0, family: 0, lifecycle: 0 }),
        metric: (_: Metric) => value,
        walk: 0,
      }));
    expect(familyPerformance(docs([1.5, null, -0.5, 3, 1]), "sharpe")).toEqual({
      metric: "sharpe",
      count: 4,
      mean: 1.25,
      median: 1.25,
      best: { id: "s3", value: 3 },
    });
    expect(familyPerformance(docs([0.2, 0.1, 0.3]), "volatility")).toMatchObject({
      median: 0.2,
      best: { id: "s1", value: 0.1 },
    });
    expect(familyPerformance(docs([null]), "sharpe")).toEqual({
      metric: "sharpe",
      count: 0,
      mean: null,
      median: null,
      best: null,
    });
  });
});

describe("breeding", () => {
  test("lists exactly the children whose registered parents span two families, in id order, a page at a time", () => {
    fc.assert(
      fc.property(
        worldArb,
        fc.option(fc.constantFrom(...FAMILIES), { nil: undefined }),
        fc.boolean(),
        (world, only, reload) => {
          const { index, held } = reload ? reloaded(build(world)) : build(world);
          const expected = sortById(
            [...held.values()].flatMap((s) => {
              const parents = [...new Set(s.parents)].flatMap((p) => {
                const parent = held.get(p);
                return parent === undefined ? [] : [{ id: p, family: parent.family }];
              });
              const families = new Set(parents.flatMap((p) => (p.family === null ? [] : [p.family])));
              if (families.size < 2) return [];
              if (only !== undefined && s.family !== only && !families.has(only)) return [];
              return [{ id: s.id, family: s.family, parents }];
            }),
          );
          const all = breeding(index, { ...(only === undefined ? {} : { family: only }), limit: 1000 });
          expect(all.total).toBe(expected.length);
          expect(all.children.map(({ id, family, parents }) => ({ id, family, parents }))).toEqual(expected);
          const page = breeding(index, { ...(only === undefined ? {} : { family: only }), limit: 2, offset: 1 });
          expect(page.children.map((c) => c.id)).toEqual(expected.slice(1, 3).map((c) => c.id));
          expect(page.next).toBe(expected.length > 3 ? 3 : null);
        },
      ),
      { numRuns: 300 },
    );
  });
});

describe("dynasties", () => {
  test("finds every root whose generations passed the gates k in a row from the first", () => {
    fc.assert(
      fc.property(worldArb, fc.integer({ min: 1, max: 3 }), fc.boolean(), (world, k, reload) => {
        const { index, held } = reload ? reloaded(build(world)) : build(world);
        const expected = [...held.values()]
          .filter((s) => !s.parents.some((p) => held.has(p)))
          .flatMap((root) => {
            const dist = distances(held, root.id, Number.POSITIVE_INFINITY, false);
            const generations: string[][] = [];
            for (let g = 1; ; g++) {
              const passed = [...dist]
                .filter(([id, d]) => d === g && passedOf(held.get(id) as Strategy))
                .map(([id]) => id)
                .sort();
              if (passed.length === 0) break;
              generations.push(passed);
            }
            return generations.length >= k
              ? [{ root: root.id, family: root.family, length: generations.length, generations }]
              : [];
          })
          .sort((a, b) => b.length - a.length || (a.root < b.root ? -1 : 1));
        const reply = dynasties(index, { k });
        expect(reply).toEqual({ k, dynasties: expected, total: expected.length });
      }),
      { numRuns: 300 },
    );
  });
});
