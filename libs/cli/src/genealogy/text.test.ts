/**
 * Genealogy as the terminal shows it: lineage trees drawn with box-drawing
 * characters (a strategy met twice drawn once, then referenced; parents
 * registered nowhere marked missing), a family's statistics and tree,
 * cross-family breeding and dynasties.
 */
import type { FamilyReply, GenealogyNode, LineageReply } from "@stratreg/protocol";
import { describe, expect, it } from "vitest";
import { breedingLines, drawTree, dynastyLines, familyLines, lineageLines } from "./text.js";

const lag = { entries: 0, ms: 5 };

function node(id: string, depth: number, extra: Partial<GenealogyNode> = {}): GenealogyNode {
  return {
    id,
    version: 1,
    name: id.toUpperCase(),
    family: "mom",
    origin: "variation",
    state: "candidate",
    parents: [],
    passed: false,
    depth,
    ...extra,
  };
}

describe("drawTree", () => {
  it("draws branches with ├── └── │ and references a node met again instead of drawing it twice", () => {
    const branches: Record<string, string[]> = { r: ["b", "a"], a: ["c", "d"], b: ["c"], c: ["r"] };
    expect(
      drawTree(
        "r",
        (id) => id,
        (id) => branches[id] ?? [],
      ),
    ).toEqual(["r", "├── a", "│   ├── c", "│   │   └── r  ↑ above", "│   └── d", "└── b", "    └── c  ↑ above"]);
  });
});

describe("lineageLines", () => {
  it("draws descendants below and ancestors above the strategy, each with origin, state and ✓ for passed gates", () => {
    const reply: LineageReply = {
      id: "m1",
      direction: "both",
      depth: 8,
      nodes: [
        node("m1", 0, { origin: "variation", state: "active", parents: ["root"], passed: true }),
        node("m2", 1, { parents: ["m1"], state: "validated", passed: true }),
        node("x1", 1, { origin: "crossover", parents: ["m1", "m2"] }),
        node("root", -1, { origin: "manual", state: "retired", passed: true, parents: ["ghost"] }),
      ],
      edges: [
        { parent: "root", child: "m1" },
        { parent: "m1", child: "m2" },
        { parent: "m1", child: "x1" },
        { parent: "m2", child: "x1" },
        { parent: "ghost", child: "root" },
      ],
      missing: ["ghost"],
      total: 3,
      truncated: false,
      lag,
      member: "search-1",
    };
    expect(lineageLines(reply)).toEqual([
      "descendants",
      "m1  variation  active ✓",
      "├── m2  variation  validated ✓",
      "│   └── x1  crossover  candidate",
      "└── x1  ↑ above",
      "",
      "ancestors",
      "m1  variation  active ✓",
      "└── root  manual  retired ✓",
      "    └── ghost  (missing: registered nowhere)",
      "",
      "2 descendants, 1 ancestor within 8 generations; ✓ passed the gates",
      "missing parents: ghost",
    ]);
  });

  it("draws one direction alone and says how many of how many it shows when cut", () => {
    const reply: LineageReply = {
      id: "r",
      direction: "descendants",
      depth: 2,
      nodes: [node("r", 0, { origin: "manual" }), node("c1", 1, { parents: ["r"] })],
      edges: [{ parent: "r", child: "c1" }],
      missing: [],
      total: 5,
      truncated: true,
      lag,
      member: "search-1",
    };
    expect(lineageLines(reply)).toEqual([
      "r  manual  candidate",
      "└── c1  variation  candidate",
      "",
      "1 descendant within 2 generations; 1 of 5 shown (--limit); ✓ passed the gates",
    ]);
  });
});

describe("familyLines", () => {
  it("prints the family's origins, performance, survival, a member table and its tree from the roots", () => {
    const reply: FamilyReply = {
      family: "mom",
      size: 3,
      members: [
        { ...node("a", 0, { origin: "manual", state: "active", passed: true }), depth: undefined },
        { ...node("b", 0, { parents: ["a"], state: "backtesting" }), depth: undefined },
        { ...node("c", 0, { parents: ["a"], state: "validated", passed: true }), depth: undefined },
      ].map(({ depth: _, ...rest }) => rest),
      edges: [
        { parent: "a", child: "b" },
        { parent: "a", child: "c" },
      ],
      roots: ["a"],
      truncated: false,
      performance: { metric: "sharpe", count: 2, mean: 1.25, median: 1.25, best: { id: "a", value: 2 } },
      survival: { passed: 2, evaluated: 3, rate: 2 / 3 },
      origins: { manual: 1, variation: 2, crossover: 0 },
      lag,
      member: "search-1",
    };
    expect(familyLines(reply)).toEqual([
      "family mom: 3 members (1 manual, 2 variation, 0 crossover)",
      "sharpe: 2 with a value, mean 1.250, median 1.250, best a (2.000)",
      "survival: 2 of 3 evaluated passed the gates (66.7%)",
      "",
      "strategy  origin     state        gates  parents  name",
      "a         manual     active       ✓      –        A",
      "b         variation  backtesting         a        B",
      "c         variation  validated    ✓      a        C",
      "",
      "a  manual  active ✓",
      "├── b  variation  backtesting",
      "└── c  variation  validated ✓",
    ]);
  });
});

describe("breeding and dynasties", () => {
  it("lists cross-family children with their parents' families, and dynasties by generation", () => {
    expect(
      breedingLines({
        children: [
          {
            id: "x",
            family: null,
            origin: "crossover",
            parents: [
              { id: "a", family: "mom" },
              { id: "b", family: "rev" },
            ],
          },
        ],
        total: 1,
        next: null,
        lag,
        member: "s",
      }),
    ).toEqual([
      "strategy  family  origin     parents (family)",
      "x         –       crossover  a (mom), b (rev)",
      "1 cross-family child",
    ]);
    expect(
      dynastyLines({
        k: 2,
        dynasties: [{ root: "a", family: "mom", length: 2, generations: [["b", "c"], ["d"]] }],
        total: 1,
        lag,
        member: "s",
      }),
    ).toEqual([
      "root  family  generations  passed the gates, by generation",
      "a     mom               2  1: b,c  2: d",
      "1 dynasty of 2 or more generations",
    ]);
  });
});

describe("the other cases a reader meets", () => {
  it("draws ancestors alone, and a lineage of one generation with nothing found", () => {
    const reply: LineageReply = {
      id: "lone",
      direction: "ancestors",
      depth: 1,
      nodes: [node("lone", 0, { origin: "manual" })],
      edges: [],
      missing: [],
      total: 0,
      truncated: false,
      lag,
      member: "search-1",
    };
    expect(lineageLines(reply)).toEqual([
      "lone  manual  candidate",
      "",
      "0 ancestors within 1 generation; ✓ passed the gates",
    ]);
  });

  it("prints a family with no performance yet, nobody evaluated, no roots and a cut member list", () => {
    const members = [node("p", 0, { parents: ["q"] }), node("q", 0, { parents: ["p"] })].map(
      ({ depth: _, ...rest }) => rest,
    );
    const reply: FamilyReply = {
      family: "loop",
      size: 3,
      members,
      edges: [
        { parent: "q", child: "p" },
        { parent: "p", child: "q" },
      ],
      roots: [],
      truncated: true,
      performance: { metric: "sortino", count: 0, mean: null, median: null, best: null },
      survival: { passed: 0, evaluated: 0, rate: null },
      origins: { manual: 0, variation: 3, crossover: 0 },
      lag,
      member: "search-1",
    };
    expect(familyLines(reply)).toEqual([
      "family loop: 3 members (0 manual, 3 variation, 0 crossover)",
      "sortino: 0 with a value, mean –, median –, best –",
      "survival: 0 of 0 evaluated passed the gates",
      "",
      "strategy  origin     state      gates  parents  name",
      "p         variation  candidate         q        P",
      "q         variation  candidate         p        Q",
      "",
      "(no roots: every member has a parent in the family)",
      "2 of 3 members shown (--members)",
    ]);
    const one = familyLines({ ...reply, size: 1, members: [], roots: [], truncated: false });
    expect(one[0]).toBe("family loop: 1 member (0 manual, 3 variation, 0 crossover)");
    expect(one).not.toContain("(no roots: every member has a parent in the family)");
  });

  it("says where the next page of cross-family children starts, and how many dynasties were not shown", () => {
    const breeding = breedingLines({
      children: [{ id: "x", family: "mom", origin: "crossover", parents: [{ id: "a", family: null }] }],
      total: 7,
      next: 1,
      lag,
      member: "s",
    });
    expect(breeding.slice(1)).toEqual([
      "x         mom     crossover  a (–)",
      "7 cross-family children; next page: --offset 1",
    ]);
    const dynasties = dynastyLines({
      k: 3,
      dynasties: [{ root: "a", family: null, length: 3, generations: [["b"], ["c"], ["d"]] }],
      total: 4,
      lag,
      member: "s",
    });
    expect(dynasties.slice(1)).toEqual([
      "a     –                 3  1: b  2: c  3: d",
      "4 dynasties of 3 or more generations (1 shown)",
    ]);
  });
});
