/**
 * The whole backtest as @stratreg/quant's `BacktestEvidence`: what the registry's own gates
 * take, attached to the validation report so that they can judge the candidate again by their
 * thresholds. Kept small enough to travel: see {@link boundEvidence}.
 */
import type { Costs } from "@stratreg/alpha";
import { type BarWindow, encode } from "@stratreg/protocol";
import { type BacktestEvidence, checkEvidence } from "@stratreg/quant";
import type { RegimeLabels } from "./heldout.js";

/** Most bytes the evidence may take as msgpack, so a report stays well under a 1 MiB message. */
export const EVIDENCE_MAX_BYTES = 300_000;

/**
 * Per-trade returns of the closed trades, chronological. A trade is a run of consecutive bars
 * holding the same non-zero position q (the language's positions are −1, 0 and +1; a reversal
 * closes one trade and opens another). Its return is Π(1 + q·r) − 1 over the periods the
 * position earns, less the cost of entering and of leaving, (fee + slippage)·|q| each, as
 * `evaluatePositions` charges them. A missing asset return counts as 0, as there. The trade
 * still open at the end is left out: it has no exit yet.
 */
export function tradeReturns(positions: ArrayLike<number>, assetReturns: ArrayLike<number>, costs: Costs): number[] {
  const perUnit = (costs.feeBps + costs.slippageBps) / 10_000;
  const n = positions.length;
  const trades: number[] = [];
  let q = 0;
  let wealth = 1;
  // Bars 0 … n − 2 hold positions that earn (bar i earns the return into bar i + 1).
  for (let i = 0; i < n - 1; i++) {
    const p = positions[i] as number;
    if (p !== q) {
      if (q !== 0) trades.push(wealth - 1 - 2 * perUnit * Math.abs(q));
      q = p;
      wealth = 1;
    }
    if (q !== 0) {
      const r = assetReturns[i + 1] as number;
      wealth *= 1 + q * (Number.isNaN(r) ? 0 : r);
    }
  }
  return trades;
}

function majority(labels: readonly string[], from: number, to: number): string {
  const counts = new Map<string, number>();
  let best = labels[from] as string;
  for (let i = from; i < to; i++) {
    const label = labels[i] as string;
    const count = (counts.get(label) ?? 0) + 1;
    counts.set(label, count);
    if (count > (counts.get(best) ?? 0)) best = label;
  }
  return best;
}

/**
 * The evidence with every `factor` consecutive returns compounded into one and the
 * annualisation factor divided by `factor`. Blocks are laid so that one starts at `oosStart`
 * (the first may be shorter), so no block mixes in-sample and out-of-sample periods; a fold
 * covers the blocks its periods fall in; a block's regime is that of most of its periods.
 */
export function coarsenEvidence(evidence: BacktestEvidence, factor: number): BacktestEvidence {
  if (!(Number.isInteger(factor) && factor >= 1)) throw new RangeError(`factor must be an integer ≥ 1, got ${factor}`);
  if (factor === 1) return evidence;
  const n = evidence.returns.length;
  const offset = (evidence.oosStart ?? 0) % factor;
  // Block 0 is [0, offset) when offset > 0; the others are `factor` long from offset on.
  const blockOf = (i: number): number => (i < offset ? 0 : (offset > 0 ? 1 : 0) + Math.floor((i - offset) / factor));
  const starts: number[] = offset > 0 ? [0] : [];
  for (let s = offset; s < n; s += factor) starts.push(s);
  const ends = [...starts.slice(1), n];
  const returns = starts.map((s, b) => {
    let wealth = 1;
    for (let i = s; i < (ends[b] as number); i++) wealth *= 1 + (evidence.returns[i] as number);
    return wealth - 1;
  });
  const out: BacktestEvidence = {
    ...evidence,
    returns,
    periodsPerYear: (evidence.periodsPerYear ?? 252) / factor,
  };
  if (evidence.oosStart !== undefined) out.oosStart = blockOf(evidence.oosStart);
  if (evidence.folds !== undefined) {
    out.folds = evidence.folds.map(([a, b]): [number, number] => [blockOf(a), blockOf(b - 1) + 1]);
  }
  const labels = evidence.regimes;
  if (labels !== undefined) out.regimes = starts.map((s, b) => majority(labels, s, ends[b] as number));
  return out;
}

/**
 * The evidence as it is when its msgpack encoding fits in `maxBytes`; else coarsened
 * ({@link coarsenEvidence}) by the smallest factor that fits, with only the most recent trade
 * returns kept if they alone would take more than half the room. Ten years of daily bars with
 * regime labels fit as they are; a hundred thousand hourly bars are compounded into a few
 * hours each. Returns the evidence and the factor used.
 */
export function boundEvidence(
  evidence: BacktestEvidence,
  maxBytes = EVIDENCE_MAX_BYTES,
): { evidence: BacktestEvidence; factor: number } {
  let bounded = evidence;
  // A float64 takes 9 bytes in msgpack.
  const maxTrades = Math.floor(maxBytes / 2 / 9);
  if (bounded.trades !== undefined && bounded.trades.length > maxTrades) {
    bounded = { ...bounded, trades: bounded.trades.slice(-maxTrades) };
  }
  const size = encode(bounded).length;
  if (size <= maxBytes) return { evidence: bounded, factor: 1 };
  for (let factor = Math.max(2, Math.floor(size / maxBytes)); ; factor++) {
    const coarse = coarsenEvidence(bounded, factor);
    if (encode(coarse).length <= maxBytes || coarse.returns.length <= 2) return { evidence: coarse, factor };
  }
}

/** What the evidence of a whole backtest is made of. */
export interface EvidenceParts {
  /** The strategy's position at every bar of the market. */
  readonly positions: Float64Array;
  /** The traded asset's returns, bar-aligned (`assetReturns`). */
  readonly assetReturns: Float64Array;
  /** The net returns of the whole backtest (`evaluatePositions`): return j − 1 is the period into bar j. */
  readonly netReturns: Float64Array;
  readonly costs: Costs;
  /** First held-out bar: the returns from index trainEnd on are the out-of-sample part. */
  readonly trainEnd: number;
  /** The walk-forward folds as bar windows. */
  readonly folds: readonly BarWindow[];
  readonly perturbations: readonly { param: string; change: number; sharpe: number }[];
  readonly regimes?: RegimeLabels;
  /** Candidates tried to arrive at this one. */
  readonly trials: number;
}

/**
 * The backtest's evidence, {@link boundEvidence bounded} in size and checked by quant's
 * `checkEvidence`. Indices map as the windows do (splits.ts): a window [from, to) of bars holds
 * the returns [from, to − 1), so the out-of-sample part starts at index trainEnd and a fold
 * covers the same periods as in the report; a return is labelled with the regime of the bar
 * it moves into (heldout.ts). Throws an Error if the result is not valid evidence, which would
 * be a bug here.
 */
export function backtestEvidence(parts: EvidenceParts): BacktestEvidence {
  const n = parts.netReturns.length;
  const evidence: BacktestEvidence = {
    // + 0: a short earning a return of 0 nets −0, which msgpack writes as 0.
    returns: Array.from(parts.netReturns, (r) => r + 0),
    periodsPerYear: parts.costs.periodsPerYear,
    trades: tradeReturns(parts.positions, parts.assetReturns, parts.costs),
    oosStart: parts.trainEnd,
    folds: parts.folds.map((f): [number, number] => [f.from, f.to - 1]),
    perturbations: parts.perturbations.map(({ param, change, sharpe }) => ({ param, change, sharpe })),
    trials: parts.trials,
  };
  if (parts.regimes !== undefined) {
    const { labels, names } = parts.regimes;
    evidence.regimes = Array.from({ length: n }, (_, j) => names[labels[j + 1] as number] as string);
  }
  const bounded = boundEvidence(evidence).evidence;
  const problem = checkEvidence(bounded);
  if (problem !== undefined) throw new Error(`built invalid evidence: ${problem.field}: ${problem.message}`);
  return bounded;
}
