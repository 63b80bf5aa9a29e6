/**
 * Synthesis as the pipeline uses it: children of discovered strategies that trade one series, each
 * a strategy the language accepts, none a copy of a parent or of another child.
 */
import { check, type Expr, parse, print } from "@stratreg/alpha";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ASSETS, exprArbs } from "../../../libs/alpha/src/testing/arbitraries.js";
import { ensembles, type SynthesisChild, type SynthesisParent, synthesise } from "./synthesis.js";

const A = "gt(zscore(close(AAA), 20), 1)";
const B = "lt(returns(BBB), 0)";
const C = "gt(weekday(), 3.5)";
const D = "lt(rsi(close(AAA), 10), 30)";

const printed = (children: Array<{ expr: Expr; how: SynthesisChild["how"] }>) =>
  children.map(({ expr, how }) => [how, print(expr)]);

describe("ensembles", () => {
  test("two long-only strategies: both conditions, either condition, and no long-short", () => {
    expect(printed(ensembles(parse(`signal(${A})`), parse(`signal(${B})`)))).toEqual([
      ["and", `signal(and(${A}, ${B}))`],
      ["or", `signal(or(${A}, ${B}))`],
    ]);
  });

  test("two short-only strategies: the same on the short side", () => {
    expect(printed(ensembles(parse(`short(${A})`), parse(`short(${B})`)))).toEqual([
      ["and", `short(and(${A}, ${B}))`],
      ["or", `short(or(${A}, ${B}))`],
    ]);
  });

  test("a long one and a short one: long on the first's condition, short on the second's", () => {
    // Joining a side with a missing one keeps the side: and, or and long-short are the same tree.
    expect(printed(ensembles(parse(`signal(${A})`), parse(`short(${B})`)))).toEqual([
      ["and", `long_short(${A}, ${B})`],
      ["or", `long_short(${A}, ${B})`],
      ["long-short", `long_short(${A}, ${B})`],
    ]);
  });

  test("two long-short strategies: each side joined, and each one's long with the other's short", () => {
    expect(printed(ensembles(parse(`long_short(${A}, ${B})`), parse(`long_short(${C}, ${D})`)))).toEqual([
      ["and", `long_short(and(${A}, ${C}), and(${B}, ${D}))`],
      ["or", `long_short(or(${A}, ${C}), or(${B}, ${D}))`],
      ["long-short", `long_short(${A}, ${D})`],
      ["long-short", `long_short(${C}, ${B})`],
    ]);
  });

  test("a long-short and a long-only strategy: the short side is the long-short one's, also beside the other's long", () => {
    expect(printed(ensembles(parse(`long_short(${A}, ${B})`), parse(`signal(${C})`)))).toEqual([
      ["and", `long_short(and(${A}, ${C}), ${B})`],
      ["or", `long_short(or(${A}, ${C}), ${B})`],
      ["long-short", `long_short(${C}, ${B})`],
    ]);
  });

  test("an expression that is not a position has no sides to join", () => {
    expect(ensembles(parse(A), parse(`signal(${B})`))).toEqual([
      { how: "and", expr: parse(`signal(${B})`) },
      { how: "or", expr: parse(`signal(${B})`) },
    ]);
    expect(ensembles(parse(A), parse(C))).toEqual([]);
  });

  test("of any two strategies: well-typed positions whose text reads back as the same tree", () => {
    const { position } = exprArbs(4);
    fc.assert(
      fc.property(position, position, (a, b) => {
        const children = ensembles(a, b);
        expect(children.length).toBeGreaterThanOrEqual(2);
        for (const { expr, how } of children) {
          expect(check(expr, "position")).toBe("position");
          expect(parse(print(expr), "position")).toEqual(parse(print(expr)));
          expect(print(parse(print(expr)))).toBe(print(expr));
          expect(["and", "or", "long-short"]).toContain(how);
        }
      }),
      { numRuns: 200 },
    );
  });
});

const OPTIONS = { seed: 1, assets: ["AAA", "BBB"], maxDepth: 5, max: 100 };

const PARENTS: SynthesisParent[] = [
  { id: "c1", expression: `signal(${A})`, target: "AAA@V1" },
  { id: "c2", expression: `long_short(${B}, ${C})`, target: "AAA@V1" },
  { id: "c3", expression: `short(${D})`, target: "AAA@V1" },
  { id: "c4", expression: `signal(${C})`, target: "BBB@V2" },
  { id: "c5", expression: `long_short(${D}, ${A})`, target: "BBB@V2" },
];

const keyOf = (target: string, expression: string) => `${target}|${print(parse(expression))}`;

describe("synthesise", () => {
  const children = synthesise(PARENTS, OPTIONS);
  const byId = new Map(PARENTS.map((p) => [p.id, p]));

  test("makes children of every pair on one series, each a well-typed strategy in canonical text", () => {
    expect(children.length).toBeGreaterThan(0);
    const pairs = new Set(children.map((c) => [...c.parents].sort().join("+")));
    expect([...pairs].sort()).toEqual(["c1+c2", "c1+c3", "c2+c3", "c4+c5"]);
    for (const child of children) {
      const expr = parse(child.expression);
      expect(check(expr, "position")).toBe("position");
      expect(print(expr)).toBe(child.expression);
      expect(["and", "or", "long-short", "crossover"]).toContain(child.how);
    }
    expect(new Set(children.map((c) => c.how))).toEqual(new Set(["and", "or", "long-short", "crossover"]));
  });

  test("pairs only parents on the same target, and carries both parents' ids", () => {
    for (const child of children) {
      const [first, second] = child.parents;
      expect(first).not.toBe(second);
      const parents = [byId.get(first), byId.get(second)];
      expect(parents.every((p) => p !== undefined)).toBe(true);
      expect(parents.map((p) => p?.target)).toEqual([child.target, child.target]);
    }
  });

  test("an ensemble's ids are in the parents' order, and crossover names the parent whose spine it keeps first", () => {
    const ensemble = children.find((c) => c.how === "and" && c.target === "BBB@V2");
    expect(ensemble).toMatchObject({ parents: ["c4", "c5"], expression: `long_short(and(${C}, ${D}), ${A})` });
    for (const child of children.filter((c) => c.how === "crossover")) {
      // The spine: crossover keeps the first parent's root.
      const spine = parse(byId.get(child.parents[0])?.expression as string);
      expect(parse(child.expression).op).toBe(spine.op);
    }
  });

  test("never returns a parent or a duplicate", () => {
    const keys = children.map((c) => keyOf(c.target, c.expression));
    expect(new Set(keys).size).toBe(keys.length);
    for (const parent of PARENTS) expect(keys).not.toContain(keyOf(parent.target, parent.expression));
  });

  test("a parent written with other spacing is still a parent: no child repeats it", () => {
    // signal(A) with short(B) joins to long_short(A, B), which a third parent already is.
    const spaced = `long_short( ${A.replaceAll(", ", " ,")} ,${B} )`;
    const made = synthesise(
      [
        { id: "x", expression: `signal(${A})`, target: "AAA@V1" },
        { id: "y", expression: `short(${B})`, target: "AAA@V1" },
        { id: "z", expression: spaced, target: "AAA@V1" },
      ],
      OPTIONS,
    );
    expect(made.length).toBeGreaterThan(0);
    expect(made.map((c) => c.expression)).not.toContain(`long_short(${A}, ${B})`);
    // On another series the same tree is new.
    const elsewhere = synthesise(
      [
        { id: "x", expression: `signal(${A})`, target: "AAA@V1" },
        { id: "y", expression: `short(${B})`, target: "AAA@V1" },
        { id: "z", expression: spaced, target: "BBB@V2" },
      ],
      OPTIONS,
    );
    expect(elsewhere.filter((c) => c.expression === `long_short(${A}, ${B})`)).toEqual([
      { expression: `long_short(${A}, ${B})`, target: "AAA@V1", parents: ["x", "y"], how: "and" },
    ]);
  });

  test("respects max, keeping the first children in order", () => {
    expect(synthesise(PARENTS, { ...OPTIONS, max: 0 })).toEqual([]);
    expect(synthesise(PARENTS, { ...OPTIONS, max: 3 })).toEqual(children.slice(0, 3));
    expect(synthesise(PARENTS, { ...OPTIONS, max: children.length + 5 })).toEqual(children);
  });

  test("is deterministic for a seed", () => {
    expect(synthesise(PARENTS, OPTIONS)).toEqual(children);
    const crossed = (seed: number) =>
      synthesise(PARENTS, { ...OPTIONS, seed })
        .filter((c) => c.how === "crossover")
        .map((c) => c.expression);
    const seeds = [2, 3, 4, 5].map(crossed);
    expect(seeds.some((other) => JSON.stringify(other) !== JSON.stringify(crossed(1)))).toBe(true);
  });

  test("skips parents that do not parse, and a lone parent on a series has nothing to pair with", () => {
    const broken: SynthesisParent[] = [
      { id: "bad1", expression: "signal(gt(close(AAA), 1)", target: "AAA@V1" },
      { id: "bad2", expression: "not an expression", target: "AAA@V1" },
    ];
    expect(synthesise([...broken, ...PARENTS], OPTIONS)).toEqual(children);
    expect(synthesise([...broken, PARENTS[0] as SynthesisParent], OPTIONS)).toEqual([]);
    expect(synthesise([], OPTIONS)).toEqual([]);
  });

  test("of any parents: distinct, well-typed children of two parents on their series, none a parent, at most max", () => {
    const { position } = exprArbs(4);
    const parent = fc.record({
      expr: position,
      target: fc.constantFrom("AAA@V1", "BBB@V2"),
    });
    fc.assert(
      fc.property(
        fc.array(parent, { maxLength: 6 }),
        fc.integer({ min: 0, max: 1000 }),
        fc.integer({ min: 0, max: 30 }),
        (drawn, seed, max) => {
          const parents = drawn.map((p, i) => ({ id: `p${i}`, expression: print(p.expr), target: p.target }));
          const made = synthesise(parents, { seed, assets: [...ASSETS], maxDepth: 4, max });
          expect(made.length).toBeLessThanOrEqual(max);
          expect(synthesise(parents, { seed, assets: [...ASSETS], maxDepth: 4, max })).toEqual(made);
          const parentKeys = new Set(parents.map((p) => keyOf(p.target, p.expression)));
          const seen = new Set<string>();
          const targetOf = new Map(parents.map((p) => [p.id, p.target]));
          for (const child of made) {
            const key = keyOf(child.target, child.expression);
            expect(parentKeys.has(key)).toBe(false);
            expect(seen.has(key)).toBe(false);
            seen.add(key);
            expect(check(parse(child.expression), "position")).toBe("position");
            expect(child.parents[0]).not.toBe(child.parents[1]);
            expect(child.parents.map((id) => targetOf.get(id))).toEqual([child.target, child.target]);
          }
        },
      ),
      { numRuns: 150 },
    );
  });
});
