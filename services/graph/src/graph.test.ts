/**
 * The graph alone, against brute force on random edge sequences: what it
 * refuses would close a cycle and what it accepts would not; traversals give
 * every reachable strategy at its shortest depth; the log replay keeps track
 * of what is left to project and which cascades are open.
 */

import { reachable } from "@stratreg/testkit";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { DependencyGraph } from "./graph.js";
import { GraphState } from "./state.js";

/** Shortest distances from `start` along `edges`, brute force. */
const distances = (edges: Map<string, Set<string>>, start: string): Map<string, number> => {
  const out = new Map<string, number>();
  let frontier = [start];
  for (let depth = 1; frontier.length > 0; depth++) {
    frontier = [...new Set(frontier.flatMap((at) => [...(edges.get(at) ?? [])]))].filter(
      (id) => id !== start && !out.has(id),
    );
    for (const id of frontier) out.set(id, depth);
  }
  return out;
};

const node = fc.integer({ min: 0, max: 11 }).map((i) => `s${i}`);
const steps = fc.array(fc.record({ from: node, to: node, remove: fc.boolean() }), { maxLength: 120 });

describe("DependencyGraph", () => {
  test("refuses exactly the edges that would close a cycle, with a real path; stays acyclic", () => {
    fc.assert(
      fc.property(steps, (ops) => {
        const graph = new DependencyGraph();
        const edges = new Map<string, Set<string>>();
        for (const { from, to, remove } of ops) {
          if (remove) {
            expect(graph.remove(from, to)).toBe(edges.get(from)?.delete(to) ?? false);
            continue;
          }
          const cycle = graph.cycleIf(from, to);
          expect(cycle !== undefined).toBe(reachable(edges, to, from));
          if (cycle !== undefined) {
            expect(cycle[0]).toBe(from);
            expect(cycle[1]).toBe(to);
            expect(cycle.at(-1)).toBe(from);
            for (let i = 1; i < cycle.length - 1; i++) {
              expect(edges.get(cycle[i] as string)?.has(cycle[i + 1] as string)).toBe(true);
            }
            continue;
          }
          const added = graph.add(from, to);
          expect(added).toBe(!(edges.get(from)?.has(to) ?? false));
          edges.set(from, (edges.get(from) ?? new Set()).add(to));
        }
        expect(new Set([...graph.allEdges()].map(([a, b]) => `${a}>${b}`))).toEqual(
          new Set([...edges].flatMap(([a, tos]) => [...tos].map((b) => `${a}>${b}`))),
        );
        expect(graph.edges).toBe([...edges.values()].reduce((n, tos) => n + tos.size, 0));
      }),
      { numRuns: 300 },
    );
  });

  test("reaches every dependent and dependency at its shortest depth, nearest first, within depth and limit", () => {
    fc.assert(
      fc.property(
        steps,
        node,
        fc.integer({ min: 1, max: 4 }),
        fc.integer({ min: 1, max: 6 }),
        (ops, start, depth, limit) => {
          const graph = new DependencyGraph();
          const out = new Map<string, Set<string>>();
          const into = new Map<string, Set<string>>();
          for (const { from, to, remove } of ops) {
            if (remove || graph.cycleIf(from, to) !== undefined) continue;
            graph.add(from, to);
            out.set(from, (out.get(from) ?? new Set()).add(to));
            into.set(to, (into.get(to) ?? new Set()).add(from));
          }
          for (const [direction, edges] of [
            ["dependents", into],
            ["dependencies", out],
          ] as const) {
            const all = graph.reach(start, direction, Number.MAX_SAFE_INTEGER, Number.MAX_SAFE_INTEGER);
            expect(new Map(all.nodes.map((n) => [n.id, n.depth]))).toEqual(distances(edges, start));
            expect(all.nodes.map((n) => n.depth)).toEqual([...all.nodes.map((n) => n.depth)].sort((a, b) => a - b));
            const within = [...distances(edges, start)].filter(([, d]) => d <= depth);
            const bounded = graph.reach(start, direction, depth, limit);
            expect(bounded.nodes.length).toBe(Math.min(limit, within.length));
            expect(bounded.truncated).toBe(within.length > limit);
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("counts strategies with an edge on either side", () => {
    const graph = new DependencyGraph();
    graph.add("a", "b");
    graph.add("c", "b");
    expect(graph.strategies).toBe(3);
    expect([...graph.dependentsOf("b")].sort()).toEqual(["a", "c"]);
    graph.remove("a", "b");
    graph.remove("c", "b");
    expect(graph.strategies).toBe(0);
    expect(graph.remove("a", "b")).toBe(false);
  });
});

describe("GraphState (the log replayed)", () => {
  test("keeps the changes after the last projected mark, and cascades until done", () => {
    const state = new GraphState();
    state.apply({ t: "epoch", epoch: 3, member: "g", at: 1 }, 1);
    state.apply({ t: "edges", changes: [{ t: "link", from: "a", to: ["b", "c"], by: "q" }], at: 2 }, 2);
    state.apply({ t: "edges", changes: [{ t: "link", from: "b", to: ["c"], by: "q" }], at: 3 }, 3);
    state.apply({ t: "projected", upTo: 2, at: 4 }, 4);
    state.apply({ t: "edges", changes: [{ t: "unlink", from: "a", to: ["c"], by: "q" }], at: 5 }, 5);
    expect(state.unprojected.map(({ seq }) => seq)).toEqual([3, 5]);
    expect([...state.graph.allEdges()]).toEqual([
      ["a", "b"],
      ["b", "c"],
    ]);
    // The cascade's targets are what depends on its root at its record: here a, through a → b.
    state.apply({ t: "cascade", id: "c", action: "suspend", by: "o", reason: "r", at: 6, cid: "x" }, 6);
    expect(state.open.get(6)?.targets).toEqual([
      { id: "b", depth: 1 },
      { id: "a", depth: 2 },
    ]);
    expect(state.cascadeByCid.get("x")).toBe(6);
    state.apply({ t: "done", seq: 6, skipped: [], at: 7 }, 7);
    expect(state.open.size).toBe(0);
    expect(state.closed.get(6)?.entry.id).toBe("c");
    expect(state).toMatchObject({ seq: 7, epoch: 3 });
  });
});
