/**
 * Backtest evidence for tests: seeded, so every run attaches the same numbers,
 * and shaped so each gate's outcome is known in advance.
 */

/** mulberry32: a small seeded generator, enough for test data. */
function generator(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** `n` normal returns with mean `mean` and standard deviation `sd` (Box–Muller). */
export function normalReturns(n: number, mean: number, sd: number, seed: number): number[] {
  const random = generator(seed);
  const out: number[] = [];
  while (out.length < n) {
    const u = Math.max(random(), 1e-12);
    const v = random();
    const radius = Math.sqrt(-2 * Math.log(u));
    out.push(mean + sd * radius * Math.cos(2 * Math.PI * v));
    if (out.length < n) out.push(mean + sd * radius * Math.sin(2 * Math.PI * v));
  }
  return out;
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
