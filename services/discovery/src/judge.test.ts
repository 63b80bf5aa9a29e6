/**
 * Judging a shortlist as the pipeline does for one traded series: a real edge passes once, however
 * it is spelled and whether or not it was registered before; noise and an edge that has gone do not.
 */
import { type Costs, parse, print, Rng } from "@stratreg/alpha";
import { align, BarSeries } from "@stratreg/market";
import { describe, expect, test } from "vitest";
import { type JudgeContext, judgeCandidates } from "./judge.js";
import { marketFromData } from "./mining/market.js";
import { chronologicalSplits } from "./validation/splits.js";

const DAILY: Costs = { feeBps: 1, slippageBps: 1, periodsPerYear: 252 };
const BARS = 3000;
const SPLITS = chronologicalSplits(BARS);

/**
 * Daily bars of AAA and CCC (random walks) and BBB, whose return into bar i is `edge(i)`·sign(AAA's
 * return into bar i − 1) plus noise, aligned and read as discovery reads them.
 */
function leadLagContext(edge: (i: number) => number, seed: number, target = "BBB"): JudgeContext {
  const rng = new Rng(seed);
  const t = Float64Array.from({ length: BARS }, (_, i) => Date.UTC(2000, 0, 3) + i * 86_400_000);
  const aaa = Array.from({ length: BARS }, () => 0.01 * rng.normal());
  const bbb = aaa.map((_, i) => (i > 0 ? edge(i) * Math.sign(aaa[i - 1] as number) : 0) + 0.01 * rng.normal());
  const ccc = Array.from({ length: BARS }, () => 0.01 * rng.normal());
  const series = (symbol: string, returns: number[]) => {
    const close = new Float64Array(BARS);
    let price = 100;
    returns.forEach((r, i) => {
      price *= i > 0 ? 1 + r : 1;
      close[i] = price;
    });
    return new BarSeries(symbol, "V1", {
      t,
      open: close,
      high: close,
      low: close,
      close,
      volume: close.map(() => 1e6),
    });
  };
  const market = marketFromData(align([series("AAA", aaa), series("BBB", bbb), series("CCC", ccc)]));
  return { market, target, splits: SPLITS, costs: DAILY, seed: 5 };
}

/** The planted bet, and the same bet spelled otherwise: a 1-bar return is the return. */
const FOLLOW = "long_short(gt(returns(AAA), 0), lt(returns(AAA), 0))";
const FOLLOW_AGAIN = "long_short(gt(ret(close(AAA), 1), 0), lt(ret(close(AAA), 1), 0))";
/** Strategies with nothing behind them on this market. */
const NOISE = [
  "long_short(lt(zscore(close(BBB), 20), -1), gt(zscore(close(BBB), 20), 1))",
  "long_short(gt(ret(close(BBB), 5), 0), lt(ret(close(BBB), 5), 0))",
  "long_short(gt(returns(CCC), 0), lt(returns(CCC), 0))",
  "signal(gt(weekday(), 2.5))",
];

const TRIALS = { count: 200, sharpeVariance: 0.5 };

describe("a shortlist on a market with a real lead-lag edge", () => {
  const ctx = leadLagContext(() => 0.002, 11);

  test("the real pattern passes, and the noise around it does not", async () => {
    const judgement = await judgeCandidates([...NOISE, FOLLOW], ctx, TRIALS);
    expect(judgement.shortlisted).toBe(5);
    expect(judgement.passed.map((r) => r.expression)).toEqual([FOLLOW]);
    const [report] = judgement.passed;
    expect(report).toMatchObject({ passed: true, target: "BBB", trials: TRIALS, tested: judgement.screened });
    expect(judgement.screened).toBeGreaterThanOrEqual(1);
    expect(judgement.repeats).toBe(0);
    // Only survivors of the screen are validated: the rest are neither passed nor rejected.
    expect(judgement.passed.length + judgement.rejected.length).toBe(judgement.screened);
    for (const rejected of judgement.rejected) expect(rejected.passed).toBe(false);
  });

  test("two spellings of the same bet: the first passes, the second is a repeat", async () => {
    const judgement = await judgeCandidates([FOLLOW_AGAIN, FOLLOW], ctx, TRIALS);
    expect(judgement).toMatchObject({ shortlisted: 2, screened: 2, repeats: 1, rejected: [] });
    expect(judgement.passed.map((r) => r.expression)).toEqual([print(parse(FOLLOW_AGAIN))]);
  });

  test("a bet known before, in any spelling, is a repeat and is not validated again", async () => {
    for (const known of [FOLLOW, FOLLOW_AGAIN]) {
      const judgement = await judgeCandidates([FOLLOW], ctx, TRIALS, [known]);
      expect(judgement).toMatchObject({ shortlisted: 1, screened: 1, passed: [], repeats: 1, rejected: [] });
    }
  });

  test("known expressions that do not parse, or trade an asset this market lacks, are left out", async () => {
    const judgement = await judgeCandidates([FOLLOW], ctx, TRIALS, ["long_short(", "signal(gt(returns(ZZZ), 0))"]);
    expect(judgement.passed.map((r) => r.expression)).toEqual([FOLLOW]);
    expect(judgement.repeats).toBe(0);
  });

  test("without the search's trials, the shortlist is its own: its size is the trial count", async () => {
    const judgement = await judgeCandidates([...NOISE, FOLLOW], ctx, undefined);
    const [report] = judgement.passed;
    expect(report?.expression).toBe(FOLLOW);
    expect(report?.trials.count).toBe(5);
    expect(report?.trials.sharpeVariance).toBeGreaterThan(0);
  });

  test("shouldStop returning true validates nothing, though the screen has run", async () => {
    let asked = 0;
    const judgement = await judgeCandidates([...NOISE, FOLLOW], ctx, TRIALS, [], () => {
      asked++;
      return true;
    });
    expect(judgement).toMatchObject({ shortlisted: 5, passed: [], repeats: 0, rejected: [] });
    expect(judgement.screened).toBeGreaterThanOrEqual(1);
    expect(asked).toBeGreaterThanOrEqual(1);
  });

  test("a stop asked after the first validation leaves the rest unvalidated", async () => {
    let calls = 0;
    const judgement = await judgeCandidates([FOLLOW, FOLLOW_AGAIN], ctx, TRIALS, [], () => calls++ > 0);
    expect(judgement.passed.map((r) => r.expression)).toEqual([FOLLOW]);
    expect(judgement.repeats).toBe(0);
  });

  test("an empty shortlist gives an empty judgement", async () => {
    expect(await judgeCandidates([], ctx, TRIALS)).toEqual({
      shortlisted: 0,
      screened: 0,
      passed: [],
      repeats: 0,
      rejected: [],
    });
    expect((await judgeCandidates([], ctx, undefined, [FOLLOW], () => true)).passed).toEqual([]);
  });

  test("a text that does not parse is refused with the language's error", async () => {
    await expect(judgeCandidates(["long_short(gt(returns(AAA), 0)"], ctx, TRIALS)).rejects.toThrow(/expected/);
  });
});

describe("a shortlist with no real edge", () => {
  test.each([12, 106])("nothing passes on a random walk (seed %i)", async (seed) => {
    const ctx = leadLagContext(() => 0, seed);
    const judgement = await judgeCandidates([FOLLOW, FOLLOW_AGAIN, ...NOISE], ctx, TRIALS);
    expect(judgement.shortlisted).toBe(6);
    expect(judgement.passed).toEqual([]);
    expect(judgement.repeats).toBe(0);
    expect(judgement.rejected).toHaveLength(judgement.screened);
  });

  test("what survives the screen on a random walk by chance is rejected by validation", async () => {
    // Seed 106: both spellings of the lead-lag rule get through the screen.
    const judgement = await judgeCandidates(
      [FOLLOW, FOLLOW_AGAIN, ...NOISE],
      leadLagContext(() => 0, 106),
      TRIALS,
    );
    expect(judgement.screened).toBe(2);
    expect(judgement.rejected.map((r) => r.passed)).toEqual([false, false]);
  });

  test("the lead-lag rule aimed at a series that does not follow passes nothing", async () => {
    const ctx = leadLagContext(() => 0.002, 11, "CCC");
    expect((await judgeCandidates([FOLLOW, ...NOISE], ctx, undefined)).passed).toEqual([]);
  });

  test("an edge gone by the test window survives the screen and is rejected by validation", async () => {
    const ctx = leadLagContext((i) => (i < SPLITS.validationEnd ? 0.003 : 0), 13);
    const judgement = await judgeCandidates([FOLLOW], ctx, TRIALS);
    expect(judgement.screened).toBe(1);
    expect(judgement.passed).toEqual([]);
    expect(judgement.rejected.map((r) => r.expression)).toEqual([FOLLOW]);
    const failed = judgement.rejected[0]?.checks.filter((c) => !c.passed).map((c) => c.name);
    expect(failed).toContain("testPValue");
  });
});
