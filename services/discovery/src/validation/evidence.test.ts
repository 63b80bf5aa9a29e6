import { Rng } from "@stratreg/alpha";
import { encode } from "@stratreg/protocol";
import { type BacktestEvidence, checkEvidence, sharpe, summariseEvidence } from "@stratreg/quant";
import { describe, expect, test } from "vitest";
import { boundEvidence, coarsenEvidence, EVIDENCE_MAX_BYTES, tradeReturns } from "./evidence.js";

const COSTS = { feeBps: 3, slippageBps: 2, periodsPerYear: 252 };
const PER_UNIT = 5 / 10_000;

describe("tradeReturns", () => {
  test("one return per closed trade: compounded over its periods, less entry and exit costs", () => {
    const positions = [1, 1, 0, -1, -1, 0, 0];
    const returns = [Number.NaN, 0.01, 0.02, 0.03, -0.01, 0.02, 0.05];
    const trades = tradeReturns(positions, returns, COSTS);
    expect(trades).toHaveLength(2);
    // Long over bars 0 and 1 earns the returns into bars 1 and 2.
    expect(trades[0]).toBeCloseTo(1.01 * 1.02 - 1 - 2 * PER_UNIT, 15);
    // Short over bars 3 and 4 earns minus the returns into bars 4 and 5.
    expect(trades[1]).toBeCloseTo((1 + 0.01) * (1 - 0.02) - 1 - 2 * PER_UNIT, 15);
  });

  test("a reversal closes one trade and opens the next; the trade open at the end is left out", () => {
    const trades = tradeReturns([1, -1, -1], [Number.NaN, 0.01, Number.NaN], COSTS);
    expect(trades).toHaveLength(1);
    expect(trades[0]).toBeCloseTo(0.01 - 2 * PER_UNIT, 15);
  });
});

describe("coarsenEvidence", () => {
  const evidence: BacktestEvidence = {
    returns: [0.01, 0.02, -0.01, 0.03, 0.01, 0.02, -0.02, 0.01, 0.04, 0.01],
    periodsPerYear: 252,
    oosStart: 5,
    folds: [
      [5, 7],
      [7, 10],
    ],
    regimes: ["a", "a", "b", "b", "b", "a", "a", "a", "b", "b"],
    trials: 3,
  };

  test("compounds blocks laid so that one starts at the out-of-sample split", () => {
    const coarse = coarsenEvidence(evidence, 2);
    // Blocks [0,1) [1,3) [3,5) [5,7) [7,9) [9,10).
    expect(coarse.returns).toHaveLength(6);
    expect(coarse.returns[1]).toBeCloseTo(1.02 * 0.99 - 1, 15);
    expect(coarse.returns[3]).toBeCloseTo(1.02 * 0.98 - 1, 15);
    expect(coarse.periodsPerYear).toBe(126);
    expect(coarse.oosStart).toBe(3);
    expect(coarse.folds).toEqual([
      [3, 4],
      [4, 6],
    ]);
    expect(coarse.regimes).toEqual(["a", "a", "b", "a", "a", "b"]);
    expect(coarse.trials).toBe(3);
    expect(checkEvidence(coarse)).toBeUndefined();
    expect(coarsenEvidence(evidence, 1)).toBe(evidence);
  });
});

describe("boundEvidence", () => {
  test("evidence that fits is left alone", () => {
    const small: BacktestEvidence = { returns: [0.01, -0.01, 0.02], oosStart: 1 };
    expect(boundEvidence(small)).toEqual({ evidence: small, factor: 1 });
  });

  test("a long backtest with regime labels is compounded until it fits, keeping its split and figures", () => {
    const rng = new Rng(1);
    const n = 40_000;
    const returns = Array.from({ length: n }, () => 0.0004 + 0.01 * rng.normal());
    const evidence: BacktestEvidence = {
      returns,
      periodsPerYear: 252 * 7,
      trades: returns.slice(0, 20_000),
      oosStart: 20_000,
      folds: [
        [20_000, 30_000],
        [30_000, 40_000],
      ],
      regimes: returns.map((_, i) => (Math.floor(i / 500) % 2 === 0 ? "calm-trending" : "volatile-ranging")),
    };
    const { evidence: bounded, factor } = boundEvidence(evidence);
    expect(factor).toBeGreaterThan(1);
    expect(encode(bounded).length).toBeLessThanOrEqual(EVIDENCE_MAX_BYTES);
    expect(checkEvidence(bounded)).toBeUndefined();
    expect(bounded.oosStart).toBe(Math.ceil(20_000 / factor));
    expect(bounded.periodsPerYear).toBe((252 * 7) / factor);
    // Compounding keeps the annualised Sharpe ratio near the original's (sampling error aside).
    const summary = summariseEvidence(bounded, { monteCarloRuns: 10 });
    expect(summary.sharpe).toBeCloseTo(sharpe(returns, { periodsPerYear: 252 * 7 }), 0);
  });
});
