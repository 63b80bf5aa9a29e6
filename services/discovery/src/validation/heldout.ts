/**
 * The held-out period, validation and test splits together, cut two ways: into consecutive
 * walk-forward folds, and by market regime. The expression is fixed (nothing is refitted), so
 * the folds ask whether what it earns out of sample is spread over time or comes from one lucky
 * stretch; the regimes ask where it earns.
 */
import type { Costs, Market } from "@stratreg/alpha";
import type { FoldResult, RegimeResult } from "@stratreg/protocol";
import { sharpe } from "@stratreg/quant";
import { barWindow, windowOf } from "./splits.js";

/** Regime labels of the bars: `labels[i]` is an index into `names`. */
export interface RegimeLabels {
  readonly labels: ArrayLike<number>;
  readonly names: readonly string[];
}

function finiteOrNull(x: number): number | null {
  return Number.isFinite(x) ? x : null;
}

/**
 * Bars [from, to) cut into `folds` consecutive windows of (nearly) equal length, each
 * evaluated on its own (`windowOf`: it starts flat). A fold's net return is compounded,
 * Π(1 + r) − 1 (@stratreg/quant's total return), so a fold that never trades has 0, which is
 * not positive.
 */
export function walkForward(
  market: Market,
  positions: Float64Array,
  returns: Float64Array,
  from: number,
  to: number,
  folds: number,
  costs: Costs,
): FoldResult[] {
  if (!(Number.isInteger(folds) && folds >= 1 && (to - from) / folds >= 2)) {
    throw new RangeError(`${to - from} held-out bars cannot be cut into ${folds} folds of at least 2 bars`);
  }
  const bounds = Array.from({ length: folds + 1 }, (_, k) => from + Math.floor((k * (to - from)) / folds));
  return bounds.slice(0, -1).map((start, k) => {
    const end = bounds[k + 1] as number;
    const evaluation = windowOf(positions, returns, start, end, costs);
    return {
      ...barWindow(market, start, end),
      sharpe: finiteOrNull(evaluation.sharpe),
      netReturn: evaluation.metrics.totalReturn,
      trades: evaluation.trades,
    };
  });
}

/**
 * Throws a RangeError unless every one of `bars` labels is an integer index into `names`, and
 * the names are distinct and non-empty.
 */
export function checkRegimeLabels(regimes: RegimeLabels, bars: number): void {
  if (regimes.labels.length !== bars) {
    throw new RangeError(`regime labels must be one per bar (${bars}), got ${regimes.labels.length}`);
  }
  if (new Set(regimes.names).size !== regimes.names.length || regimes.names.some((name) => name.length === 0)) {
    throw new RangeError("regime names must be distinct and non-empty");
  }
  for (let i = 0; i < bars; i++) {
    const label = regimes.labels[i] as number;
    if (!(Number.isInteger(label) && label >= 0 && label < regimes.names.length)) {
      throw new RangeError(`regime label ${label} of bar ${i} is not an index into the ${regimes.names.length} names`);
    }
  }
}

/**
 * The Sharpe ratio of a window's returns within each regime. `windowReturns` are those of
 * `windowOf(…, from, to)`: return k is the period from bar from + k to bar from + k + 1, and it
 * is labelled with the regime of bar from + k + 1, the bar whose price move it earns. Every
 * named regime is listed, in the order of the names; one with fewer than `minPeriods` periods
 * has a null Sharpe ratio (too few to judge), as has one whose returns are constant.
 */
export function regimeResults(
  windowReturns: Float64Array,
  from: number,
  regimes: RegimeLabels,
  minPeriods: number,
  periodsPerYear: number,
): RegimeResult[] {
  const byRegime = regimes.names.map((): number[] => []);
  for (let k = 0; k < windowReturns.length; k++) {
    byRegime[regimes.labels[from + k + 1] as number]?.push(windowReturns[k] as number);
  }
  return regimes.names.map((regime, label) => {
    const part = byRegime[label] as number[];
    const judged = part.length >= minPeriods ? sharpe(part, { periodsPerYear }) : Number.NaN;
    return { regime, periods: part.length, sharpe: finiteOrNull(judged) };
  });
}
