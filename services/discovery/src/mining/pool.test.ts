import { fileURLToPath, pathToFileURL } from "node:url";
import { print, Rng, rampedHalfAndHalf } from "@stratreg/alpha";
import { align, generateMarket } from "@stratreg/market";
import { afterAll, describe, expect, test } from "vitest";
import { MiningError, MiningErrorCodes } from "./errors.js";
import { evaluateInProcess, type TrainingWindow } from "./evaluation.js";
import { marketFromData, marketWindow } from "./market.js";
import { EvaluationPool, workerFile } from "./pool.js";

const market = marketFromData(
  align(generateMarket({ seed: 21, bars: 3000, symbols: 3, venues: ["V1"], planted: ["lead-lag"] }).series),
);
const window: TrainingWindow = {
  market: marketWindow(market, 0, 2000),
  target: "AAA",
  costs: { feeBps: 0.5, slippageBps: 0.5, periodsPerYear: 252 },
};
const pool = new EvaluationPool({ ...window, maxThreads: 2 });
afterAll(() => pool.close());

describe("evaluation pool", () => {
  test("gives the in-process evaluations, number for number, on a batch of random strategies", async () => {
    const texts = rampedHalfAndHalf(300, new Rng(42), { assets: pool.assets, maxDepth: 6 }).map(print);
    texts.splice(150, 0, "long_short(gt(close(AAA), 0)", "signal(gt(volume(NOPE), 0))");
    // Eight shares of at most 38: both threads work on the batch at once, to its end.
    expect(pool.chunkSizeFor(texts.length)).toBe(38);
    const [inPool, inProcess] = [await pool.evaluate(texts), evaluateInProcess(texts, window)];
    expect(inPool.map((e) => e.text)).toEqual(texts);
    expect(inPool).toEqual(inProcess);
    expect(inPool.filter((e) => Number.isFinite(e.fitness)).length).toBeGreaterThan(50);
  });

  test("a bad text is an unusable evaluation, and the pool keeps serving", async () => {
    const [bad, unknown, good] = await pool.evaluate([
      "not an expression",
      "signal(frobnicate(close(AAA)))",
      "long_short(gt(returns(BBB), 0), lt(returns(BBB), 0))",
    ]);
    expect(bad?.fitness).toBeNaN();
    expect(bad?.error).toMatch(/ExpressionError/);
    expect(unknown?.error).toMatch(/unknown operator frobnicate/);
    expect(Number.isFinite(good?.sharpe)).toBe(true);
    const again = await pool.evaluate(["signal(gt(rsi(close(CCC), 10), 50))"]);
    expect(again[0]?.trades).toBeGreaterThan(20);
    expect(await pool.evaluate([])).toEqual([]);
  });

  test("a closed pool refuses work with POOL_CLOSED", async () => {
    const closing = new EvaluationPool({ ...window, maxThreads: 1 });
    expect(closing.threads).toBe(1);
    await closing.close();
    await closing.close();
    const refused = await closing.evaluate(["signal(gt(close(AAA), 0))"]).catch((error: unknown) => error);
    expect(refused).toBeInstanceOf(MiningError);
    expect((refused as MiningError).code).toBe(MiningErrorCodes.POOL_CLOSED);
  });

  test("a bad window is refused when the pool is made, not by a worker later", () => {
    expect(() => new EvaluationPool({ ...window, target: "ZZZ", maxThreads: 1 })).toThrow(/no asset ZZZ/);
    expect(() => new EvaluationPool({ ...window, maxThreads: 0 })).toThrow(RangeError);
  });

  test("the worker is the built one: beside the module in dist, the package's dist from src", () => {
    const fromSrc = workerFile();
    expect(fileURLToPath(fromSrc)).toMatch(/services\/discovery\/dist\/mining\/worker\.js$/);
    const fromDist = new URL("./pool.js", fromSrc);
    expect(workerFile(fromDist).href).toBe(fromSrc.href);
    const nowhere = pathToFileURL("/nonexistent/src/mining/pool.ts");
    expect(() => workerFile(nowhere)).toThrow(expect.objectContaining({ code: MiningErrorCodes.WORKER_NOT_BUILT }));
  });
});
