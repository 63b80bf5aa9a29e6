/**
 * The screen: the one use of the validation split. The miner's shortlist (found on train) is
 * evaluated on the validation window; each candidate gets a one-sided block-bootstrap p-value
 * for "its mean net return is ≤ 0", and Holm's step-down procedure across the shortlist keeps
 * those that are significant at α family-wise. The survivors go on to the test split
 * (validate.ts), whose own α is then divided by how many went.
 */
import { assetReturns, type Costs, type Expr, type Market, print } from "@stratreg/alpha";
import { hashString } from "@stratreg/protocol";
import { DEFAULT_RESAMPLES, meanPValue } from "./bootstrap.js";
import { checkSplits, positionsOf, type Splits, windowOf } from "./splits.js";

/** What the screen needs. */
export interface ScreenContext {
  /** The full market; the screen reads only its validation window's figures. */
  market: Market;
  /** The asset the candidates trade. */
  target: string;
  splits: Splits;
  costs: Costs;
  /** Seed of the bootstraps. */
  seed: number;
  /** Family-wise error rate of the screen, default 0.05. */
  alpha?: number;
  /** Bootstrap resamples per candidate; default {@link resamplesFor}(α / candidates). */
  resamples?: number;
}

/** One candidate on the validation window. */
export interface ScreenedCandidate {
  /** Canonical text. */
  expression: string;
  /** Annualised net Sharpe ratio on the validation window; null when undefined. */
  sharpe: number | null;
  /** Bars at which its position changed there. */
  trades: number;
  /** One-sided block-bootstrap p-value that its mean net return is ≤ 0. */
  pValue: number;
  /** Whether Holm's procedure keeps it at α. */
  survives: boolean;
}

/** The screen's verdicts, in the order the candidates were given. */
export interface Screening {
  alpha: number;
  candidates: ScreenedCandidate[];
  /** How many survive: the `tested` count the test split divides α by. */
  survivors: number;
}

/**
 * Exceedances the p-value waits for before stopping early (Besag–Clifford, see `meanPValue`):
 * 20 keep a stopped p-value within about ±25 % of the truth, and a hopeless candidate costs
 * about 40 resamples instead of thousands.
 */
const STOP_AFTER = 20;

/**
 * Resamples for a p-value that is compared with `level`: at least {@link DEFAULT_RESAMPLES}, and
 * enough that about 20 resamples would exceed at p = level, so a p-value near a Bonferroni or
 * Holm threshold is not decided by Monte Carlo noise. Capped at 200,000.
 */
export function resamplesFor(level: number): number {
  if (!(level > 0 && level <= 1)) throw new RangeError(`a significance level must be in (0, 1], got ${level}`);
  return Math.min(200_000, Math.max(DEFAULT_RESAMPLES, Math.ceil(20 / level) - 1));
}

/**
 * Holm's step-down procedure: which hypotheses are rejected at family-wise error rate α.
 * Sorted ascending, p(k) is rejected while p(j) ≤ α / (m − j + 1) for every j ≤ k (1-based);
 * the first that is not stops it. Controls the family-wise error under any dependence between
 * the tests, and rejects everything Bonferroni does, often more.
 */
export function holm(pValues: readonly number[], alpha: number): boolean[] {
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const m = pValues.length;
  const order = pValues.map((_, i) => i).sort((a, b) => (pValues[a] as number) - (pValues[b] as number) || a - b);
  const rejected = new Array<boolean>(m).fill(false);
  for (let k = 0; k < m; k++) {
    const i = order[k] as number;
    if (!((pValues[i] as number) <= alpha / (m - k))) break;
    rejected[i] = true;
  }
  return rejected;
}

/** A candidate's own seed: from the run's seed and its text, so its p-value does not depend on the list's order. */
export function candidateSeed(seed: number, expression: string): number {
  return hashString(`${seed}:${expression}`);
}

/**
 * Screens the shortlist on the validation split: per candidate the validation window's net
 * Sharpe ratio, trades and bootstrap p-value, and which survive Holm's procedure at α.
 */
export function screenCandidates(exprs: readonly Expr[], ctx: ScreenContext): Screening {
  const alpha = ctx.alpha ?? 0.05;
  if (!(alpha > 0 && alpha < 1)) throw new RangeError(`alpha must be in (0, 1), got ${alpha}`);
  const splits = checkSplits(ctx.splits);
  if (splits.bars !== ctx.market.length) {
    throw new RangeError(`the splits are of ${splits.bars} bars, the market has ${ctx.market.length}`);
  }
  const resamples = ctx.resamples ?? resamplesFor(alpha / Math.max(1, exprs.length));
  const returns = assetReturns(ctx.market, ctx.target);
  const screened = exprs.map((expr) => {
    const expression = print(expr);
    const positions = positionsOf(expr, ctx.market);
    const evaluation = windowOf(positions, returns, splits.trainEnd, splits.validationEnd, ctx.costs);
    const test = meanPValue(evaluation.returns, {
      seed: candidateSeed(ctx.seed, expression),
      resamples,
      stopAfter: STOP_AFTER,
    });
    return {
      expression,
      sharpe: Number.isFinite(evaluation.sharpe) ? evaluation.sharpe : null,
      trades: evaluation.trades,
      pValue: test.pValue,
    };
  });
  const survives = holm(
    screened.map((c) => c.pValue),
    alpha,
  );
  const candidates = screened.map((c, i) => ({ ...c, survives: survives[i] as boolean }));
  return { alpha, candidates, survivors: candidates.filter((c) => c.survives).length };
}
