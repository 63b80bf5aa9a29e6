import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Expr } from "./ast.js";
import { eligibleOps, type GrammarOptions, rampedHalfAndHalf, randomExpr } from "./generate.js";
import { Rng } from "./rng.js";
import { parse, print } from "./text.js";
import { assetsOf, check, depth, nodeAt, nodesOf, replaceAt, sameExpr } from "./tree.js";
import { constantMutation, crossover, hoistMutation, mutate, pointMutation, subtreeMutation } from "./variation.js";

const GRAMMAR: GrammarOptions = { assets: ["AAA", "BBB", "CCC"], maxDepth: 6 };
const seed = fc.integer({ min: 0, max: 2 ** 32 - 1 });
const grammar = fc.record({
  assets: fc.constantFrom(["AAA"], ["AAA", "BBB"], ["AAA", "BBB", "C 1", "D"]),
  maxDepth: fc.integer({ min: 3, max: 8 }),
});

/** A well-typed strategy within the grammar's depth. */
function expectStrategy(expr: Expr, options: GrammarOptions): void {
  expect(check(expr, "position")).toBe("position");
  expect(depth(expr)).toBeLessThanOrEqual(options.maxDepth);
  for (const asset of assetsOf(expr)) expect(options.assets).toContain(asset);
}

/** True when `child` is `a` with one non-root subtree replaced by a same-typed subtree of `b`. */
function isSplice(child: Expr, a: Expr, b: Expr): boolean {
  return nodesOf(a).some(({ path, type, level }) => {
    if (level === 1) return false;
    let piece: Expr;
    try {
      piece = nodeAt(child, path);
    } catch {
      return false;
    }
    return (
      sameExpr(replaceAt(child, path, nodeAt(a, path)), a) &&
      nodesOf(b).some((n) => n.type === type && sameExpr(n.node, piece))
    );
  });
}

describe("random trees", () => {
  test("ramped half-and-half: well typed, within the depth, every depth from 3 up, grown and full", () => {
    fc.assert(
      fc.property(seed, grammar, (s, options) => {
        const population = rampedHalfAndHalf(40, new Rng(s), options);
        expect(population).toHaveLength(40);
        for (const expr of population) expectStrategy(expr, options);
        expect(Math.max(...population.map(depth))).toBe(options.maxDepth);
        expect(Math.min(...population.map(depth))).toBe(3);
      }),
      { numRuns: 100 },
    );
  });

  test("full trees reach the depth limit on every branch the types allow", () => {
    const expr = randomExpr(new Rng(3), "series", 4, "full", GRAMMAR);
    const leaves = nodesOf(expr).filter((n) => n.node.args.length === 0);
    for (const leaf of leaves) expect(leaf.level).toBe(4);
  });

  test("only operators that can be completed within the levels left are drawn", () => {
    expect(eligibleOps("position", 2)).toEqual([]);
    expect(eligibleOps("bool", 2)).not.toContain("and");
    expect(eligibleOps("bool", 3)).toContain("and");
    expect(() => randomExpr(new Rng(1), "position", 2, "grow", GRAMMAR)).toThrow(/no position fits/);
  });

  test("the same seed gives the same population; another seed another one", () => {
    const texts = (s: number) => rampedHalfAndHalf(30, new Rng(s), GRAMMAR).map(print);
    expect(texts(42)).toEqual(texts(42));
    expect(texts(42)).not.toEqual(texts(43));
  });
});

describe("genetic operators", () => {
  const parents = fc.tuple(seed, grammar).map(([s, options]) => {
    const rng = new Rng(s);
    const [a, b] = rampedHalfAndHalf(2, rng, options) as [Expr, Expr];
    return { rng, options, a, b };
  });

  test("crossover, every mutation and chains of them keep strategies well typed and within depth", () => {
    fc.assert(
      fc.property(
        parents,
        fc.array(fc.constantFrom("cross", "point", "subtree", "constant", "hoist", "any"), { maxLength: 30 }),
        ({ rng, options, a, b }, steps) => {
          let x = a;
          let y = b;
          for (const step of steps) {
            const child =
              step === "cross"
                ? crossover(x, y, rng, options)
                : step === "point"
                  ? pointMutation(x, rng, options)
                  : step === "subtree"
                    ? subtreeMutation(x, rng, options)
                    : step === "constant"
                      ? constantMutation(x, rng)
                      : step === "hoist"
                        ? hoistMutation(x, rng)
                        : mutate(x, rng, options);
            if (child !== undefined) {
              expectStrategy(child, options);
              [x, y] = [child, x];
            }
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  test("a crossover child is one parent with a same-typed piece of the other spliced in", () => {
    fc.assert(
      fc.property(parents, ({ rng, options, a, b }) => {
        const child = crossover(a, b, rng, options);
        if (child !== a) expect(isSplice(child, a, b)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  test("children of two different parents carry material from both", () => {
    const a = parse("signal(and(gt(zscore(close(AAA), 20), 1), lt(rsi(close(AAA), 10), 30)))");
    const b = parse("short(or(crosses_above(ema(close(BBB), 5), sma(close(BBB), 50)), gt(returns(BBB), 0.01)))");
    const rng = new Rng(11);
    let both = 0;
    for (let i = 0; i < 100; i++) {
      const child = crossover(a, b, rng, GRAMMAR);
      expect(child.op).toBe("signal"); // a's root, a's spine
      expect(isSplice(child, a, b)).toBe(true);
      if (assetsOf(child).join() === "AAA,BBB") both++;
    }
    expect(both).toBeGreaterThan(50);
  });

  test("crossover respects the depth left at the cut", () => {
    const a = parse("signal(gt(sma(sma(close(AAA), 5), 5), 0))");
    const b = parse("signal(gt(sma(sma(sma(close(BBB), 5), 5), 5), 0))");
    const rng = new Rng(5);
    for (let i = 0; i < 50; i++)
      expect(depth(crossover(a, b, rng, { ...GRAMMAR, maxDepth: 5 }))).toBeLessThanOrEqual(5);
  });

  test("each mutation does what it says", () => {
    const rng = new Rng(9);
    const expr = parse("signal(gt(sma(close(AAA), 20), 1.5))");
    const point = pointMutation(expr, rng, GRAMMAR) as Expr;
    expect(print(point)).toMatch(
      /^signal\(gt\((sma|ema|std|zscore|rsi|max|min)\((close|open|high|low|volume|returns)\((AAA|BBB|CCC)\), 20\), 1\.5\)\)$|^signal\(lt\(sma\(close\(AAA\), 20\), 1\.5\)\)$|^short\(gt\(sma\(close\(AAA\), 20\), 1\.5\)\)$/,
    );
    expect(print(point)).not.toBe(print(expr));
    const moved = new Set<string>();
    for (let i = 0; i < 200; i++) moved.add(print(constantMutation(expr, rng) as Expr));
    for (const text of moved) {
      const m = /^signal\(gt\(sma\(close\(AAA\), (\d+)\), ([\d.]+)\)\)$/.exec(text);
      expect(m).not.toBeNull();
      const [window, c] = [Number(m?.[1]), Number(m?.[2])];
      if (window !== 20) expect([10, 50]).toContain(window);
      else expect(Math.abs(c / 1.5 - 1)).toBeLessThanOrEqual(0.1);
    }
    expect(moved.has("signal(gt(sma(close(AAA), 10), 1.5))")).toBe(true);
    const zero = constantMutation(parse("signal(gt(returns(AAA), 0))"), rng);
    expect([-0.005, 0.005]).toContain(zero?.args[0]?.c);
    expect(constantMutation(parse("signal(above(close(AAA), open(BBB)))"), rng)).toBeUndefined();
    const hoisted = hoistMutation(parse("signal(and(gt(close(AAA), 1), not(lt(close(BBB), 2))))"), rng) as Expr;
    expect([
      "signal(gt(close(AAA), 1))",
      "signal(not(lt(close(BBB), 2)))",
      "signal(lt(close(BBB), 2))",
      "signal(and(gt(close(AAA), 1), lt(close(BBB), 2)))",
    ]).toContain(print(hoisted));
    expect(hoistMutation(parse("signal(gt(close(AAA), 1))"), rng)).toBeUndefined();
    expect(pointMutation(parse("signal(gt(hour(), 1))"), rng, { ...GRAMMAR, assets: ["AAA"] })).toBeDefined();
  });

  test("the same seed breeds the same children", () => {
    const breed = (s: number): string[] => {
      const rng = new Rng(s);
      const population = rampedHalfAndHalf(20, rng, GRAMMAR);
      return population.map((x, i) =>
        print(i % 2 ? mutate(x, rng, GRAMMAR) : crossover(x, population[(i + 1) % 20] as Expr, rng, GRAMMAR)),
      );
    };
    expect(breed(1)).toEqual(breed(1));
    expect(breed(1)).not.toEqual(breed(2));
  });
});
