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
import { positionsOf as positionsIn } from "./validation/splits.js";
import { type ValidationContext, validateCandidate } from "./validation/validate.js";

/** |correlation| of held-out positions from which two mined patterns are the same bet. */
export const SAME_BET_CORRELATION = 0.5;

/**
 * The same for a synthesised child against the strategies synthesis combined: an ensemble of one
 * pattern's long side with another's short side moves with each by about 0.7 and is still a new
 * strategy (twice the bets); only a near copy of one is dropped. Against every other pattern on
 * the series, {@link SAME_BET_CORRELATION} holds.
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
 * undefined when they are their own trials (their count, and the variance of their
 * validation-window Sharpe ratios). `known` are expressions accepted before on the same series
 * (the same bet at `sameBet`); `parents`, those the texts were made from (synthesis: the same bet
 * only as a near copy, {@link SAME_CHILD_CORRELATION}). Between two validations it yields to the
 * event loop, so a halt or a stop is heard, and asks `shouldStop`.
 */
export async function judgeCandidates(
  texts: readonly string[],
  ctx: JudgeContext,
  trials: Pick<SearchTrials, "count" | "sharpeVariance"> | undefined,
  known: readonly string[] = [],
  shouldStop: () => boolean = () => false,
  sameBet = SAME_BET_CORRELATION,
  parents: readonly string[] = [],
): Promise<Judgement> {
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
  const heldOut = (expr: Expr) => positionsIn(expr, ctx.market).subarray(ctx.splits.trainEnd);
  const positionsOf = (list: readonly string[]) =>
    list.flatMap((text) => {
      try {
        return [heldOut(parse(text))];
      } catch {
        return [];
      }
    });
  const accepted = positionsOf(known);
  const origins = positionsOf(parents);
  const repeats = (positions: Float64Array) =>
    accepted.some((other) => Math.abs(correlation(positions, other)) >= sameBet) ||
    origins.some((other) => Math.abs(correlation(positions, other)) >= SAME_CHILD_CORRELATION);
  for (const [i, screened] of screening.candidates.entries()) {
    if (!screened.survives) continue;
    await new Promise<void>((resolve) => setImmediate(resolve));
    if (shouldStop()) continue;
    const expr = exprs[i] as Expr;
    // A repeat is known before validating it: validation is the costly part.
    const positions = heldOut(expr);
    if (repeats(positions)) {
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
