/**
 * Judging a shortlist for one traded series: the validation-window screen
 * (Holm's correction over the shortlist), full validation of each survivor on
 * the test window (Bonferroni over the survivors), then one pattern per bet:
 * a survivor whose held-out positions move with those of a pattern accepted
 * before it (in this run or registered earlier) by |correlation| ≥ 0.5 is the
 * same bet in another spelling, and is dropped.
 */

import { type Expr, parse } from "@stratreg/alpha";
import type { ValidationReport } from "@stratreg/protocol";
import { correlation } from "@stratreg/quant";
import type { SearchTrials } from "./mining/trials.js";
import { screenCandidates } from "./validation/screen.js";
import { positionsOf } from "./validation/splits.js";
import { type ValidationContext, validateCandidate } from "./validation/validate.js";

/** |correlation| of held-out positions from which two mined patterns are the same bet. */
export const SAME_BET_CORRELATION = 0.5;

/**
 * The same for a synthesised child against what it came from: an ensemble of a pattern's long side
 * with another's short side moves with each parent by about 0.7 and is still a new strategy (twice
 * the bets); only a near copy is dropped.
 */
export const SAME_CHILD_CORRELATION = 0.9;

/** What judging a shortlist found. */
export interface Judgement {
  shortlisted: number;
  /** Survivors of the screen. */
  screened: number;
  /** Reports of the patterns that passed validation and are not a bet already accepted, in shortlist order. */
  passed: ValidationReport[];
  /** Patterns that passed but repeat a bet accepted before. */
  repeats: number;
  /** Reports of the survivors that failed validation. */
  rejected: ValidationReport[];
}

/** The context of a judgement: validation's, without what judging works out itself. */
export type JudgeContext = Omit<ValidationContext, "trials" | "tested">;

function sampleVariance(xs: readonly number[]): number {
  if (xs.length < 2) return 0;
  const mean = xs.reduce((a, b) => a + b, 0) / xs.length;
  return xs.reduce((a, b) => a + (b - mean) ** 2, 0) / (xs.length - 1);
}

/**
 * Judges `texts` (canonical expressions trading `ctx.target`). `trials` is the search behind them;
 * undefined when they are their own trials (synthesis: their count, and the variance of their
 * validation-window Sharpe ratios). `known` are expressions accepted before on the same series.
 */
export function judgeCandidates(
  texts: readonly string[],
  ctx: JudgeContext,
  trials: Pick<SearchTrials, "count" | "sharpeVariance"> | undefined,
  known: readonly string[] = [],
  shouldStop: () => boolean = () => false,
  sameBet = SAME_BET_CORRELATION,
): Judgement {
  const judgement: Judgement = { shortlisted: texts.length, screened: 0, passed: [], repeats: 0, rejected: [] };
  if (texts.length === 0) return judgement;
  const exprs = texts.map((text) => parse(text));
  const screening = screenCandidates(exprs, {
    ...ctx,
    ...(ctx.thresholds?.alpha === undefined ? {} : { alpha: ctx.thresholds.alpha }),
  });
  judgement.screened = screening.survivors;
  const sharpes = screening.candidates.flatMap((c) => (c.sharpe === null ? [] : [c.sharpe]));
  const searched = trials ?? { count: texts.length, sharpeVariance: sampleVariance(sharpes) };
  const heldOut = (expr: Expr) => positionsOf(expr, ctx.market).subarray(ctx.splits.trainEnd);
  const accepted: Float64Array[] = known.flatMap((text) => {
    try {
      return [heldOut(parse(text))];
    } catch {
      return [];
    }
  });
  for (const [i, screened] of screening.candidates.entries()) {
    if (!screened.survives || shouldStop()) continue;
    const expr = exprs[i] as Expr;
    // A repeat is known before validating it: validation is the costly part.
    const positions = heldOut(expr);
    if (accepted.some((other) => Math.abs(correlation(positions, other)) >= sameBet)) {
      judgement.repeats++;
      continue;
    }
    const report = validateCandidate(expr, { ...ctx, trials: searched, tested: screening.survivors });
    if (!report.passed) {
      judgement.rejected.push(report);
      continue;
    }
    accepted.push(positions);
    judgement.passed.push(report);
  }
  return judgement;
}
