import { assetReturns, compile, evaluatePositions, parse, print, Rng, rampedHalfAndHalf } from "@stratreg/alpha";
import { align, generateMarket } from "@stratreg/market";
import { describe, expect, test } from "vitest";
import {
  DEFAULT_MIN_TRADES,
  evaluateInProcess,
  InProcessEvaluator,
  packEvaluations,
  unpackEvaluations,
} from "./evaluation.js";
import { marketFromData, marketWindow } from "./market.js";

const market = marketFromData(
  align(generateMarket({ seed: 11, bars: 1200, symbols: 3, venues: ["V1"], planted: ["momentum"] }).series),
);
const costs = { feeBps: 1, slippageBps: 1.5, periodsPerYear: 252 };
const window = { market, target: "BBB", costs };

describe("train evaluation", () => {
  test("agrees with alpha's evaluatePositions, number for number, on random strategies", () => {
    const texts = rampedHalfAndHalf(120, new Rng(8), { assets: ["AAA", "BBB", "CCC"], maxDepth: 6 }).map(print);
    const evaluations = evaluateInProcess(texts, window);
    const returns = assetReturns(market, "BBB");
    let usable = 0;
    for (const evaluation of evaluations) {
      const reference = evaluatePositions(compile(parse(evaluation.text))(market), returns, costs);
      expect(evaluation.error).toBeUndefined();
      expect(evaluation.sharpe).toBe(reference.sharpe);
      expect(evaluation.trades).toBe(reference.trades);
      expect(evaluation.exposure).toBe(reference.exposure);
      // The sketch is the net returns summed in blocks: its total is theirs.
      expect(evaluation.sketch.length).toBe(256);
      const total = evaluation.sketch.reduce((s, x) => s + x, 0);
      expect(total).toBeCloseTo(
        reference.returns.reduce((s, x) => s + x, 0),
        10,
      );
      const expected =
        reference.trades >= DEFAULT_MIN_TRADES && reference.exposure > 0 && Number.isFinite(reference.sharpe);
      expect(Number.isFinite(evaluation.fitness)).toBe(expected);
      if (expected) {
        expect(evaluation.fitness).toBe(reference.sharpe);
        usable++;
      }
    }
    expect(usable).toBeGreaterThan(20);
  });

  test("a text that does not parse, is not a strategy or reads a missing asset is unusable, with the reason", () => {
    const [garbled, notPosition, missing] = evaluateInProcess(
      ["long_short(gt(close(AAA), 0)", "gt(close(AAA), 0)", "signal(gt(returns(ZZZ), 0))"],
      window,
    );
    for (const e of [garbled, notPosition, missing]) {
      expect(e?.fitness).toBeNaN();
      expect(e?.sketch.length).toBe(0);
    }
    expect(garbled?.error).toMatch(/ExpressionError/);
    expect(notPosition?.error).toMatch(/expected a position/);
    expect(missing?.error).toMatch(/no asset ZZZ/);
  });

  test("too few trades or never in the market is unusable, though measured", () => {
    const evaluator = new InProcessEvaluator({ ...window, minTrades: 100 });
    const [rare, never] = evaluator.evaluate([
      // In for one bar each time the price breaks its 100-bar high: a few dozen trades.
      "signal(crosses_above(close(BBB), lag(max(close(BBB), 100), 1)))",
      "signal(gt(close(BBB), 1000000))",
    ]);
    expect(rare?.trades).toBeGreaterThan(0);
    expect(rare?.trades).toBeLessThan(100);
    expect(rare?.fitness).toBeNaN();
    expect(rare?.sketch.length).toBe(256);
    expect(never?.exposure).toBe(0);
    expect(never?.fitness).toBeNaN();
    expect(evaluator.assets).toEqual(["AAA", "BBB", "CCC"]);
  });

  test("the sketch has a block per period when there are fewer periods than blocks", () => {
    const [e] = evaluateInProcess(["long_short(gt(returns(AAA), 0), lt(returns(AAA), 0))"], {
      ...window,
      market: marketWindow(market, 0, 100),
      minTrades: 0,
    });
    expect(e?.sketch.length).toBe(99);
    expect(() => evaluateInProcess([], { ...window, sketchBlocks: 257 })).toThrow(RangeError);
    expect(() => evaluateInProcess([], { ...window, target: "ZZZ" })).toThrow(/no asset ZZZ/);
  });

  test("packing for the trip between threads loses nothing", () => {
    const texts = ["signal(gt(rsi(close(AAA), 10), 50))", "broken(", "short(lt(zscore(close(CCC), 20), -1))"];
    const evaluations = evaluateInProcess(texts, window);
    expect(unpackEvaluations(texts, packEvaluations(evaluations, 256))).toEqual(evaluations);
  });
});
