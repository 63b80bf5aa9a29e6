/**
 * Chronological splits of a market and the evaluation of a candidate on one part of it.
 *
 * The bars are cut by index into train [0, trainEnd), validation [trainEnd, validationEnd) and
 * test [validationEnd, bars). The miner only ever sees the train window (mining's `marketWindow`); the
 * validation window shortlists (screen.ts); the test window judges (validate.ts).
 *
 * Figures on a later window are computed by running the candidate on the full market and
 * slicing its positions and the asset's returns to the window (`windowOf`). The language has no
 * look-ahead (a position at bar i reads data up to bar i), so the positions on [from, to) are
 * exactly those the candidate would compute on the prefix [0, to) (splits.test.ts proves it for
 * random expressions), while the bars before the window warm its indicators up: a 100-bar
 * average is defined from the window's first bar, as it would be when trading live.
 */
import {
  type Costs,
  check,
  compile,
  type Expr,
  evaluatePositions,
  type Market,
  type PositionEvaluation,
} from "@stratreg/alpha";
import type { BarWindow } from "@stratreg/protocol";

/** Where the splits fall, by bar index: train [0, trainEnd), validation [trainEnd, validationEnd), test [validationEnd, bars). */
export interface Splits {
  /** Bars of the market. */
  readonly bars: number;
  readonly trainEnd: number;
  readonly validationEnd: number;
}

/** Options of {@link chronologicalSplits}. */
export interface SplitOptions {
  /** Share of the bars for training, default 0.5. */
  train?: number;
  /** Share for validation, default 0.25; the test split has the rest. */
  validation?: number;
}

/**
 * Fewest bars a split may have by default: below about 100 returns a Sharpe ratio's standard
 * error (√(A/n), 1.6 on daily bars) is larger than any Sharpe ratio worth publishing.
 */
export const MIN_SPLIT_BARS = 100;

/**
 * Train / validation / test splits of `bars` bars in time order, by default 50 % / 25 % / 25 %
 * (each boundary rounded down to a bar). A RangeError when the shares are not in (0, 1) with
 * room for a test split, or when any split would have fewer than {@link MIN_SPLIT_BARS} bars:
 * too short to judge anything on.
 */
export function chronologicalSplits(bars: number, options: SplitOptions = {}): Splits {
  const train = options.train ?? 0.5;
  const validation = options.validation ?? 0.25;
  if (!(Number.isSafeInteger(bars) && bars >= 0)) throw new RangeError(`bars must be a count, got ${bars}`);
  if (!(train > 0 && validation > 0 && train + validation < 1)) {
    throw new RangeError(
      `split shares must be positive and leave room for a test split: train ${train}, validation ${validation}`,
    );
  }
  const trainEnd = Math.floor(bars * train);
  const validationEnd = Math.floor(bars * (train + validation));
  return checkSplits({ bars, trainEnd, validationEnd });
}

/**
 * Returns `splits` if they are usable, else throws a RangeError that says which split is too
 * short: integer bounds 0 < trainEnd < validationEnd < bars with at least `minBars` bars each.
 * The screen and the validation call it with the default, so splits made by hand meet the same
 * floor as those of {@link chronologicalSplits}.
 */
export function checkSplits(splits: Splits, minBars = MIN_SPLIT_BARS): Splits {
  const { bars, trainEnd, validationEnd } = splits;
  for (const [name, value] of [
    ["bars", bars],
    ["trainEnd", trainEnd],
    ["validationEnd", validationEnd],
  ] as const) {
    if (!Number.isSafeInteger(value)) throw new RangeError(`splits.${name} must be an integer, got ${value}`);
  }
  const sizes = [
    ["train", trainEnd],
    ["validation", validationEnd - trainEnd],
    ["test", bars - validationEnd],
  ] as const;
  for (const [name, size] of sizes) {
    if (size < minBars) {
      throw new RangeError(
        `the ${name} split has ${size} bars, fewer than the ${minBars} needed to judge it ` +
          `(${bars} bars split at ${trainEnd} and ${validationEnd}): use more data or other shares`,
      );
    }
  }
  return splits;
}

/** The bar window [from, to) of a market with the times of its first and last bar. */
export function barWindow(market: Market, from: number, to: number): BarWindow {
  return { from, to, start: market.t[from] as number, end: market.t[to - 1] as number };
}

/**
 * What positions computed on the full market earn on bars [from, to): `evaluatePositions` of the
 * positions and asset returns sliced to the window. The window starts flat, so entering its
 * first position is a trade and is charged; its to − from − 1 returns are the periods from bar
 * from to bar to − 1 (the period into bar `to` belongs to the next window).
 */
export function windowOf(
  positions: Float64Array,
  returns: Float64Array,
  from: number,
  to: number,
  costs: Costs,
): PositionEvaluation {
  return evaluatePositions(positions.subarray(from, to), returns.subarray(from, to), costs);
}

/**
 * A strategy's positions on every bar of the full market (the figures of any window are sliced
 * from them, see the module doc). Throws the language's ExpressionError unless `expr` is a
 * well-formed position.
 */
export function positionsOf(expr: Expr, market: Market): Float64Array {
  check(expr, "position");
  return compile(expr)(market);
}
