/**
 * Backtest evidence for tests: seeded, so every run attaches the same numbers,
 * and shaped so each gate's outcome is known in advance.
 */
import { sampleEvidence, sampleReturns } from "@stratreg/launcher";

/** Evidence that passes every default gate (the demo's): five years of daily returns with a Sharpe ratio near 2. */
export const goodEvidence = sampleEvidence;
/** `n` normal returns with mean `mean` and standard deviation `sd`, seeded. */
export const normalReturns = sampleReturns;

/** Evidence that fails on purpose: too few trades, a negative out-of-sample part, a deep drawdown. */
export function weakEvidence(seed = 11) {
  const inSample = normalReturns(400, 0.002, 0.01, seed);
  const outOfSample = normalReturns(200, -0.004, 0.02, seed + 1);
  return {
    returns: [...inSample, ...outOfSample],
    trades: normalReturns(300, 0.001, 0.02, seed + 2),
    oosStart: 400,
    folds: [
      [400, 500],
      [500, 600],
    ] as Array<[number, number]>,
  };
}
