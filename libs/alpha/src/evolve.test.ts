import { correlation } from "@stratreg/quant";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Expr } from "./ast.js";
import { type Evaluation, evolve, type FitnessFunction } from "./evolve.js";
import { rampedHalfAndHalf } from "./generate.js";
import { behaviouralDistance, noveltyScore, prepareBehaviour } from "./novelty.js";
import { Rng } from "./rng.js";
import { parse, print } from "./text.js";
import { size } from "./tree.js";

const GRAMMAR = { assets: ["AAA", "BBB"], maxDepth: 6 };

/** A fitness that depends on the text only: deterministic and cheap. */
const textFitness: FitnessFunction = (batch) =>
  batch.map((expr) => {
    const text = print(expr);
    let h = 0;
    for (let i = 0; i < text.length; i++) h = (Math.imul(h, 31) + text.charCodeAt(i)) | 0;
    return { fitness: (h % 1000) / 1000 };
  });

describe("novelty", () => {
  test("distance is 1 − |Pearson correlation| (quant's), symmetric, in [0, 1]", () => {
    // Return-sized values (quant's correlation squares them as they are, so no 1e-162s here).
    const value = fc.double({ min: -1, max: 1, noNaN: true }).map((v) => (Math.abs(v) < 1e-50 ? 0 : v));
    const series = fc.array(value, { minLength: 3, maxLength: 50 });
    fc.assert(
      fc.property(series, series, (a, b) => {
        const n = Math.min(a.length, b.length);
        const [x, y] = [a.slice(0, n), b.slice(0, n)];
        const d = behaviouralDistance(x, y);
        expect(d).toBe(behaviouralDistance(y, x));
        expect(d).toBeGreaterThanOrEqual(0);
        expect(d).toBeLessThanOrEqual(1);
        const rho = correlation(x, y);
        if (Number.isFinite(rho)) expect(d).toBeCloseTo(1 - Math.abs(rho), 12);
      }),
    );
  });

  test("the same bet, its mirror image and a scaled copy are 0 apart; flat behaviours by value", () => {
    const r = [0.01, -0.02, 0.005, 0.03, -0.01];
    expect(behaviouralDistance(r, r)).toBeCloseTo(0, 15);
    expect(
      behaviouralDistance(
        r,
        r.map((v) => -2 * v),
      ),
    ).toBeCloseTo(0, 15);
    expect(behaviouralDistance([0, 0, 0], [0, 0, 0])).toBe(0);
    expect(behaviouralDistance([0, 0, 0], [1, 1, 1])).toBe(1);
    expect(behaviouralDistance([0, 0, 0], [0, 1, 0])).toBe(1);
    expect(() => behaviouralDistance([0, 1], [0, 1, 2])).toThrow(RangeError);
    expect(() => prepareBehaviour([0, Number.NaN])).toThrow(/behaviour\[1\]/);
  });

  test("a behaviourally different individual is more novel than members of a crowd", () => {
    const rng = new Rng(3);
    const base = Array.from({ length: 250 }, () => rng.normal());
    const crowd = Array.from({ length: 8 }, () => prepareBehaviour(base.map((v) => v + 0.2 * rng.normal())));
    const outsider = prepareBehaviour(Array.from({ length: 250 }, () => rng.normal()));
    const all = [...crowd, outsider];
    const novelty = all.map((b, i) =>
      noveltyScore(
        b,
        all.filter((_, j) => j !== i),
        3,
      ),
    );
    const outsiderNovelty = novelty[8] as number;
    for (const member of novelty.slice(0, 8)) expect(outsiderNovelty).toBeGreaterThan(member + 0.5);
    expect(noveltyScore(outsider, [])).toBe(1);
  });
});

describe("evolve", () => {
  test("the same seed and fitness give the same generations; another seed others", async () => {
    const run = async (seed: number): Promise<string[][]> => {
      const rng = new Rng(seed);
      let population = rampedHalfAndHalf(30, rng, GRAMMAR);
      const history: string[][] = [];
      for (let g = 0; g < 4; g++) {
        const next = await evolve(population, textFitness, { ...GRAMMAR, rng });
        history.push(next.scored.map((s) => s.text));
        population = next.population;
      }
      return history;
    };
    expect(await run(8)).toEqual(await run(8));
    expect(await run(8)).not.toEqual(await run(9));
  });

  test("elites pass on unchanged, the fittest first; each distinct text is evaluated once", async () => {
    const rng = new Rng(1);
    const population = rampedHalfAndHalf(20, rng, GRAMMAR);
    const doubled = [...population, ...population];
    const asked: string[] = [];
    const next = await evolve(
      doubled,
      async (batch) => {
        asked.push(...batch.map(print));
        return textFitness(batch);
      },
      { ...GRAMMAR, rng, elitism: 3, parsimony: 0 },
    );
    expect(asked).toHaveLength(new Set(doubled.map(print)).size);
    expect(new Set(asked).size).toBe(asked.length);
    expect(next.population).toHaveLength(40);
    const best = next.scored
      .map((s) => s.text)
      .filter((t, i, all) => all.indexOf(t) === i)
      .slice(0, 3);
    expect(next.population.slice(0, 3).map(print)).toEqual(best);
    expect(next.stats.evaluated).toBe(asked.length);
    expect(next.stats.best.text).toBe(best[0]);
    expect(next.stats.diversity).toBeCloseTo(0.5, 12);
  });

  test("parsimony: of two equally fit strategies the bloated one loses, as elite and in tournaments", async () => {
    const lean = parse("signal(gt(zscore(close(AAA), 20), 1))");
    const bloated = parse("signal(and(gt(zscore(close(AAA), 20), 1), or(gt(hour(), 0), not(gt(hour(), 0)))))");
    expect(size(bloated)).toBeGreaterThan(size(lean));
    const equal: FitnessFunction = (batch) => batch.map(() => ({ fitness: 1 }));
    const copies = { crossoverRate: 0, mutationRate: 0, size: 400, tournamentSize: 2 } as const;
    const count = async (parsimony: number): Promise<{ elite: string; lean: number }> => {
      const next = await evolve([bloated, lean], equal, { ...GRAMMAR, ...copies, rng: new Rng(4), parsimony });
      return { elite: print(next.population[0] as Expr), lean: next.population.filter((e) => e === lean).length };
    };
    const withPenalty = await count(0.01);
    expect(withPenalty.elite).toBe(print(lean));
    expect(withPenalty.lean).toBeGreaterThan(280); // 3 in 4 tournaments hold it and it wins them all
    const without = await count(0);
    expect(without.lean).toBeLessThan(240); // no pressure: a tie keeps the first drawn
  });

  test("novelty: with weight, a different bet of lower fitness wins tournaments against a crowd", async () => {
    const rng = new Rng(12);
    const base = Array.from({ length: 200 }, () => rng.normal());
    const crowd = ["AAA", "BBB"].flatMap((a) => [5, 10, 20].map((k) => parse(`signal(gt(sma(close(${a}), ${k}), 1))`)));
    const outsider = parse("signal(gt(hour(), 12))");
    const outsiderBehaviour = Array.from({ length: 200 }, () => rng.normal());
    const fitness: FitnessFunction = (batch) =>
      batch.map(
        (expr): Evaluation =>
          expr === outsider
            ? { fitness: 0.9, behaviour: outsiderBehaviour }
            : { fitness: 1, behaviour: base.map((v) => v + 0.05 * rng.normal()) },
      );
    const options = { ...GRAMMAR, crossoverRate: 0, mutationRate: 0, size: 300, tournamentSize: 3, parsimony: 0 };
    const share = async (noveltyWeight: number): Promise<number> => {
      const next = await evolve([...crowd, outsider], fitness, { ...options, rng: new Rng(2), noveltyWeight });
      return next.population.filter((e) => e === outsider).length / next.population.length;
    };
    expect(await share(0)).toBeLessThan(0.05); // it only wins a tournament of itself
    expect(await share(1)).toBeGreaterThan(0.3); // it wins every tournament it is in
  });

  test("the archive keeps the most novel behaviours, capped, oldest out", async () => {
    const rng = new Rng(6);
    const population = rampedHalfAndHalf(10, rng, GRAMMAR);
    const fitness: FitnessFunction = (batch) =>
      batch.map(() => ({ fitness: 0, behaviour: Array.from({ length: 30 }, () => rng.normal()) }));
    let archive = (await evolve(population, fitness, { ...GRAMMAR, rng, archiveAdditions: 3, archiveSize: 5 })).archive;
    expect(archive.entries).toHaveLength(3);
    const first = archive.entries.map((e) => e.text);
    archive = (await evolve(population, fitness, { ...GRAMMAR, rng, archive, archiveAdditions: 3, archiveSize: 5 }))
      .archive;
    expect(archive.entries).toHaveLength(5);
    expect(archive.entries.map((e) => e.text)).not.toContain(first[0]);
    expect(new Set(archive.entries.map((e) => e.text)).size).toBe(5);
  });

  test("unusable fitness ranks last and is never an elite; bad options and answers are refused", async () => {
    const population = [parse("signal(gt(close(AAA), 1))"), parse("signal(gt(close(BBB), 1))")];
    const next = await evolve(
      population,
      (batch) => batch.map((e) => ({ fitness: print(e).includes("AAA") ? Number.NaN : -5 })),
      { ...GRAMMAR, rng: new Rng(1), elitism: 2 },
    );
    expect(next.scored.map((s) => s.text)).toEqual(["signal(gt(close(BBB), 1))", "signal(gt(close(AAA), 1))"]);
    expect(next.population[0]).toBe(population[1]);
    expect(next.population[1]).not.toBe(population[0]);
    expect(next.stats.unusable).toBe(1);
    expect(next.stats.meanFitness).toBe(-5);
    const rng = new Rng(1);
    await expect(evolve([], textFitness, { ...GRAMMAR, rng })).rejects.toThrow(/non-empty/);
    await expect(evolve(population, () => [], { ...GRAMMAR, rng })).rejects.toThrow(/answered 0 evaluations for 2/);
    await expect(evolve(population, textFitness, { ...GRAMMAR, rng, crossoverRate: 0.9 })).rejects.toThrow(/≤ 1/);
    await expect(evolve([parse("close(AAA)")], textFitness, { ...GRAMMAR, rng })).rejects.toThrow(
      /expected a position/,
    );
    await expect(evolve(population, textFitness, { ...GRAMMAR, maxDepth: 2, rng })).rejects.toThrow(/maxDepth/);
  });
});
