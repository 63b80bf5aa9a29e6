/**
 * Backtest evidence for tests: seeded, so every run attaches the same numbers,
 * and shaped so each gate's outcome is known in advance.
 */
import { gaussian, uniform } from "@stratreg/launcher";

/** `n` normal returns with mean `mean` and standard deviation `sd`, from the synthetic market's generators. */
export function normalReturns(n: number, mean: number, sd: number, seed: number): number[] {
  const draw = gaussian(uniform(seed));
  return Array.from({ length: n }, () => mean + sd * draw());
}

/** Evidence that passes every default gate: five years of daily returns with a Sharpe ratio near 2. */
export function goodEvidence(seed = 7, trials = 1) {
  const returns = normalReturns(1260, 0.0006, 0.005, seed);
  const trades = normalReturns(1200, 0.002, 0.015, seed + 1);
  const folds: Array<[number, number]> = [];
  for (let start = 840; start < 1260; start += 84) folds.push([start, start + 84]);
  return {
    returns,
    trades,
    oosStart: 840,
    folds,
    perturbations: [
      { param: "lookback", change: 0.1, sharpe: 1.7 },
      { param: "lookback", change: -0.1, sharpe: 1.6 },
    ],
    regimes: returns.map((_, i) => (Math.floor(i / 126) % 2 === 0 ? "calm" : "storm")),
    trials,
  };
}

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
