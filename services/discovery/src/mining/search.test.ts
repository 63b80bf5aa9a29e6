/**
 * The miner end to end on a synthetic market with one planted lead–lag pattern (the target's next
 * return follows the sign of the leader's return), on the first 2,000 of 2,500 daily bars.
 */
import { assetsOf, behaviouralDistance, parse } from "@stratreg/alpha";
import { align, generateMarket } from "@stratreg/market";
import { decode, encode } from "@stratreg/protocol";
import { afterAll, describe, expect, test } from "vitest";
import type { MiningCheckpoint } from "./checkpoint.js";
import { MiningErrorCodes } from "./errors.js";
import { evaluateInProcess, InProcessEvaluator, type TrainEvaluation, type TrainingWindow } from "./evaluation.js";
import { marketFromData, marketWindow } from "./market.js";
import { EvaluationPool } from "./pool.js";
import { type MiningProgress, type MiningResult, mine, StopReasons } from "./search.js";

const synthetic = generateMarket({ seed: 7, bars: 2500, symbols: 3, venues: ["V1"], planted: ["lead-lag"] });
const pattern = synthetic.planted[0];
if (pattern === undefined) throw new Error("the synthetic market has no planted pattern");
const leader = pattern.rule.source.split("@")[0] as string;
const fees = synthetic.fees[pattern.venue] ?? { feeBps: 0, slippageBps: 0 };
const window: TrainingWindow = {
  market: marketWindow(marketFromData(align(synthetic.series)), 0, 2000),
  target: pattern.symbol,
  costs: { ...fees, periodsPerYear: synthetic.periodsPerYear },
};
const pool = new EvaluationPool({ ...window, maxThreads: 2 });
afterAll(() => pool.close());

/** An in-process evaluator that remembers every evaluation it made. */
function recording(): { evaluator: InProcessEvaluator; seen: TrainEvaluation[] } {
  const evaluator = new InProcessEvaluator(window);
  const seen: TrainEvaluation[] = [];
  const evaluate = evaluator.evaluate.bind(evaluator);
  evaluator.evaluate = (texts) => {
    const answers = evaluate(texts);
    seen.push(...answers);
    return answers;
  };
  return { evaluator, seen };
}

describe("mining", () => {
  test("finds the planted lead–lag: a clearly positive train Sharpe, reading the leader, on the pool", async () => {
    const progress: MiningProgress[] = [];
    const result = await mine({
      evaluator: pool,
      seed: 3,
      populationSize: 100,
      generations: 10,
      onProgress: (p) => progress.push(p),
    });
    expect(result.target).toBe(pattern.symbol);
    expect(result.stoppedBy).toBe(StopReasons.GENERATIONS);
    expect(result.generations).toBe(10);
    const best = result.shortlist[0];
    // The planted rule is expected to earn about 2 net of costs; noise alone peaks well below.
    expect(best?.trainSharpe).toBeGreaterThan(1.5);
    expect(assetsOf(parse(best?.text ?? ""))).toContain(leader);
    expect(progress.map((p) => p.generation)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(progress.at(-1)?.evaluated).toBe(result.evaluated);
    expect(progress.every((p) => p.target === pattern.symbol && p.elapsedMs >= 0)).toBe(true);
    expect(progress.at(-1)?.bestFitness).toBeGreaterThan(progress[0]?.bestFitness ?? Number.NaN);

    // The shortlist: distinct, best first, and no two of its bets near-duplicates.
    const texts = result.shortlist.map((c) => c.text);
    expect(result.shortlist.length).toBeGreaterThan(5);
    expect(new Set(texts).size).toBe(texts.length);
    const adjusted = result.shortlist.map((c) => c.adjusted);
    expect(adjusted).toEqual([...adjusted].sort((a, b) => b - a));
    const sketches = evaluateInProcess(texts, window).map((e) => e.sketch);
    for (let i = 0; i < sketches.length; i++) {
      for (let j = 0; j < i; j++) {
        const correlation = 1 - behaviouralDistance(sketches[i] as Float64Array, sketches[j] as Float64Array);
        expect(correlation).toBeLessThan(0.9);
      }
    }
  });

  test("counts every distinct candidate once, and the variance is that of their usable train Sharpes", async () => {
    const { evaluator, seen } = recording();
    const result = await mine({ evaluator, seed: 5, populationSize: 60, generations: 5 });
    const distinct = new Map(seen.map((e) => [e.text, e]));
    expect(result.evaluated).toBe(distinct.size);
    expect(result.trials.count).toBe(distinct.size);
    const sharpes = [...distinct.values()].filter((e) => Number.isFinite(e.fitness)).map((e) => e.fitness);
    const mean = sharpes.reduce((s, x) => s + x, 0) / sharpes.length;
    const variance = sharpes.reduce((s, x) => s + (x - mean) ** 2, 0) / (sharpes.length - 1);
    expect(result.trials.usable).toBe(sharpes.length);
    expect(result.trials.sharpeVariance).toBeCloseTo(variance, 10);
    // Cached across generations: most individuals of later generations were bred before.
    expect(result.evaluated).toBeLessThan(5 * 60);
  });

  test("stops at the evaluation budget, the deadline, or the signal, with what it found so far", async () => {
    const evaluator = new InProcessEvaluator(window);
    const budget = await mine({ evaluator, seed: 1, populationSize: 50, generations: 100, maxEvaluations: 120 });
    expect(budget.stoppedBy).toBe(StopReasons.EVALUATIONS);
    expect(budget.evaluated).toBeGreaterThanOrEqual(120);
    expect(budget.evaluated).toBeLessThan(120 + 50);
    expect(budget.shortlist.length).toBeGreaterThan(0);

    const timed = await mine({ evaluator, seed: 1, populationSize: 50, generations: 10_000, deadlineMs: 300 });
    expect(timed.stoppedBy).toBe(StopReasons.DEADLINE);
    expect(timed.generations).toBeGreaterThan(0);
    expect(timed.generations).toBeLessThan(10_000);

    const controller = new AbortController();
    const aborted = await mine({
      evaluator,
      seed: 1,
      populationSize: 50,
      generations: 100,
      signal: controller.signal,
      onProgress: (p) => {
        if (p.generation === 2) controller.abort();
      },
    });
    expect(aborted.stoppedBy).toBe(StopReasons.ABORTED);
    expect(aborted.generations).toBe(2);
    expect(aborted.shortlist.length).toBeGreaterThan(0);
  });

  test("a search stopped and resumed from its checkpoint ends exactly as the uninterrupted one", async () => {
    // Small caches, so that evictions and sketches computed again are part of what must match.
    const options = { seed: 9, populationSize: 60, generations: 6, cacheSize: 150, sketchCacheSize: 40 };
    let final: MiningCheckpoint | undefined;
    const whole = await mine({
      ...options,
      evaluator: pool,
      onCheckpoint: (c) => {
        final = c;
      },
    });

    const controller = new AbortController();
    let saved: Uint8Array | undefined;
    const first = await mine({
      ...options,
      evaluator: new InProcessEvaluator(window),
      signal: controller.signal,
      onCheckpoint: (c) => {
        // Stored as the wire's msgpack and read back: a checkpoint is plain data.
        saved = encode(c).slice();
        if (c.generation === 3) controller.abort();
      },
    });
    expect(first.stoppedBy).toBe(StopReasons.ABORTED);
    expect(first.generations).toBe(3);
    const checkpoint = decode(saved as Uint8Array) as MiningCheckpoint;
    expect(checkpoint.generation).toBe(3);
    expect(checkpoint.cache.texts.length).toBeLessThanOrEqual(150);

    let resumedFinal: MiningCheckpoint | undefined;
    const resumed: MiningResult = await mine({
      ...options,
      evaluator: new InProcessEvaluator(window),
      resume: checkpoint,
      onCheckpoint: (c) => {
        resumedFinal = c;
      },
    });
    expect(resumed).toEqual(whole);
    expect(resumedFinal).toEqual(final);
    expect(whole.shortlist.length).toBeGreaterThan(0);
  });

  test("a checkpoint of another target is refused", async () => {
    let checkpoint: MiningCheckpoint | undefined;
    await mine({
      evaluator: pool,
      seed: 2,
      populationSize: 20,
      generations: 1,
      onCheckpoint: (c) => {
        checkpoint = c;
      },
    });
    const other = new InProcessEvaluator({ ...window, target: leader });
    await expect(mine({ evaluator: other, seed: 2, resume: checkpoint })).rejects.toMatchObject({
      code: MiningErrorCodes.CHECKPOINT_MISMATCH,
    });
    await expect(
      mine({ evaluator: pool, seed: 2, resume: { ...checkpoint, version: 2 } as never }),
    ).rejects.toMatchObject({ code: MiningErrorCodes.CHECKPOINT_MISMATCH });
  });
});
