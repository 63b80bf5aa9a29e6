/**
 * Parameter stability: the candidate run again with each literal perturbed (perturb.ts), and
 * how much of its held-out Sharpe ratio survives the worst change.
 */
import { type Costs, compile, type Expr, evaluatePositions, type Market, print } from "@stratreg/alpha";
import { type PerturbationResult, type ValidationCheck, ValidationCheckNames } from "@stratreg/protocol";
import { volatility } from "@stratreg/quant";
import { marketWindow } from "../mining/market.js";
import { judged, show } from "./checks.js";
import { perturbations, type SeriesScale } from "./perturb.js";
import { positionsOf, windowOf } from "./splits.js";

/** A perturbation's result, and the perturbed strategy's Sharpe ratio over the whole backtest (for the evidence). */
export interface PerturbedRun {
  readonly result: PerturbationResult;
  readonly fullSharpe: number;
}

/**
 * The series' standard deviation on bars [0, trainEnd) (finite values only): the step of a
 * threshold of 0, measured where the candidate was found.
 */
export function trainScale(market: Market, trainEnd: number): SeriesScale {
  const train = marketWindow(market, 0, trainEnd);
  return (series) => {
    const values = Array.from(compile(series)(train)).filter(Number.isFinite);
    return values.length >= 2 ? volatility(values, { periodsPerYear: 1 }) : Number.NaN;
  };
}

/**
 * Each perturbation of `expr` by ±`fraction` run on the full market: its Sharpe ratio on the
 * held-out bars [from, to) and over the whole backtest. A strategy that never trades has
 * constant returns and no Sharpe ratio; it earns nothing, so it counts as 0. `ratio` is the
 * held-out Sharpe ratio over `baseSharpe` (the candidate's), null unless that is positive.
 */
export function perturbedRuns(
  expr: Expr,
  market: Market,
  returns: Float64Array,
  window: { from: number; to: number; trainEnd: number },
  costs: Costs,
  fraction: number,
  baseSharpe: number | null,
): PerturbedRun[] {
  return perturbations(expr, fraction, trainScale(market, window.trainEnd)).map((p) => {
    const moved = positionsOf(p.expr, market);
    const heldOut = windowOf(moved, returns, window.from, window.to, costs).sharpe;
    const sharpe = Number.isFinite(heldOut) ? heldOut + 0 : 0;
    const full = evaluatePositions(moved, returns, costs).sharpe;
    const result: PerturbationResult = {
      param: p.param,
      from: p.from,
      to: p.to,
      change: p.change,
      expression: print(p.expr),
      sharpe,
      ratio: baseSharpe !== null && baseSharpe > 0 ? sharpe / baseSharpe : null,
    };
    if (p.note !== undefined) result.note = p.note;
    return { result, fullSharpe: Number.isFinite(full) ? full + 0 : 0 };
  });
}

/**
 * The stability check: the worst ratio ≥ `min`. An expression with no number to change is
 * stable by construction and passes with value null; a candidate whose own held-out Sharpe
 * ratio is not positive has no ratio to keep and fails.
 */
export function stabilityCheck(
  results: readonly PerturbationResult[],
  base: number | null,
  min: number,
): ValidationCheck {
  const name = ValidationCheckNames.ParameterStability;
  if (results.length === 0) {
    return {
      name,
      value: null,
      threshold: min,
      comparison: ">=",
      passed: true,
      note: "no numeric parameter to perturb",
    };
  }
  if (base === null || !(base > 0)) {
    return judged(name, null, ">=", min, `the held-out Sharpe ratio ${show(base)} is not positive: no ratio to keep`);
  }
  let worst = results[0] as PerturbationResult;
  for (const r of results) if ((r.ratio as number) < (worst.ratio as number)) worst = r;
  const note =
    `worst of ${results.length}: ${worst.param} ${show(worst.from)} → ${show(worst.to)}, ` +
    `held-out Sharpe ${show(worst.sharpe)} against ${show(base)}`;
  return judged(name, worst.ratio, ">=", min, note);
}
