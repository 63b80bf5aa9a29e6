/**
 * The full validation of one candidate that survived the screen: every check against
 * overfitting on data the search never saw, an estimate of what it earns net of costs, and the
 * evidence the registry's gates can judge again. Pure and deterministic for a seed.
 *
 * Where each figure comes from (splits.ts for the windows):
 * - the train split: the Deflated Sharpe Ratio, because the train Sharpe ratio is the figure
 *   the search selected on, and the DSR is what it is worth after that many trials;
 * - the held-out period (validation and test splits): trades, walk-forward folds, regimes and
 *   parameter stability, for as many bars as the search did not fit to;
 * - the test split, used for nothing before: the Sharpe ratio, the p-value, the net return, the
 *   capacity and the estimate with its bootstrap interval.
 */
import { assetReturns, type Costs, type Expr, evaluatePositions, type Market, print, Rng } from "@stratreg/alpha";
import {
  type ValidationCheck,
  ValidationCheckNames,
  type ValidationReport,
  type WindowResult,
} from "@stratreg/protocol";
import { deflatedSharpe, expectedMaxSharpe } from "@stratreg/quant";
import type { SearchTrials } from "../mining/trials.js";
import { bootstrapIntervals, DEFAULT_RESAMPLES, meanPValue } from "./bootstrap.js";
import { capacityOf } from "./capacity.js";
import { finiteOrNull, judged, regimesCheck, show } from "./checks.js";
import { backtestEvidence } from "./evidence.js";
import { checkRegimeLabels, type RegimeLabels, regimeResults, walkForward } from "./heldout.js";
import { resamplesFor } from "./screen.js";
import { barWindow, checkSplits, positionsOf, type Splits, windowOf } from "./splits.js";
import { perturbedRuns, stabilityCheck } from "./stability.js";
import { resolveThresholds, type ValidationThresholds } from "./thresholds.js";

/** Everything `validateCandidate` needs. */
export interface ValidationContext {
  /** The full market: every split of it. */
  market: Market;
  /** The asset the candidate trades. */
  target: string;
  splits: Splits;
  /** The venue's fees and slippage, and the annualisation of the bars. */
  costs: Costs;
  /** Regime of each bar, for the per-regime figures and the regimes check (left out without). */
  regimes?: RegimeLabels;
  /** The search behind the candidate: its distinct candidates and the variance of their train Sharpe ratios (null: unknown, read as 0). */
  trials: Pick<SearchTrials, "count" | "sharpeVariance">;
  /** Candidates that reach the test split in this run: α is divided by it (Bonferroni). */
  tested: number;
  thresholds?: Partial<ValidationThresholds>;
  /** Seed of the bootstraps. */
  seed: number;
  /** Share of a bar's traded value a trade may take, for the capacity; default {@link DEFAULT_PARTICIPATION}. */
  participation?: number;
  /** Bootstrap resamples; default {@link resamplesFor}(α / tested) for the p-value, 1,999 for the intervals. */
  resamples?: number;
  /** Coverage of the estimate's intervals; default 0.9. */
  level?: number;
}

/** A trade may take 1 % of its bar's traded value: small enough to go through at about the quoted price. */
export const DEFAULT_PARTICIPATION = 0.01;

function windowResult(evaluation: { returns: Float64Array; sharpe: number; trades: number }): WindowResult {
  return { periods: evaluation.returns.length, sharpe: finiteOrNull(evaluation.sharpe), trades: evaluation.trades };
}

function checkContext(ctx: ValidationContext): void {
  const { count } = ctx.trials;
  const sharpeVariance = ctx.trials.sharpeVariance ?? 0;
  if (!(Number.isInteger(count) && count >= 1))
    throw new RangeError(`trials.count must be an integer ≥ 1, got ${count}`);
  if (!(Number.isFinite(sharpeVariance) && sharpeVariance >= 0)) {
    throw new RangeError(`trials.sharpeVariance must be a finite number ≥ 0, got ${sharpeVariance}`);
  }
  if (!(Number.isInteger(ctx.tested) && ctx.tested >= 1)) {
    throw new RangeError(`tested must be an integer ≥ 1, got ${ctx.tested}`);
  }
  if (!Number.isSafeInteger(ctx.seed)) throw new RangeError(`seed must be a safe integer, got ${ctx.seed}`);
  if (ctx.splits.bars !== ctx.market.length) {
    throw new RangeError(`the splits are of ${ctx.splits.bars} bars, the market has ${ctx.market.length}`);
  }
}

/**
 * Validates `expr` as a strategy trading `ctx.target` (validate.ts's module doc for which data
 * each figure comes from). The checks, in the order of the report:
 * - trades: held-out trades ≥ minTrades;
 * - testSharpe: the test split's net Sharpe ratio > minTestSharpe;
 * - testPValue: its block-bootstrap p-value for a mean ≤ 0 ≤ alpha / tested;
 * - deflatedSharpe: DSR of the train returns over trials.count skill-less trials (Sharpe variance A/(T − 1))
 *   ≥ minDeflatedSharpe;
 * - walkForward: share of the held-out folds with a positive net return ≥ minPositiveFolds;
 * - parameterStability: the worst held-out Sharpe ratio of the ±perturbation expressions / the
 *   candidate's ≥ minPerturbationRatio (passes with value null when there is no number to change);
 * - regimes (with regime labels only): the best held-out Sharpe ratio among regimes with at
 *   least regimeMinPeriods periods > 0. Lenient on purpose: a real edge may live in some regimes
 *   only (planted momentum pays only while the market trends), so one profitable regime long
 *   enough to judge is enough, and the figures of every regime are in the report for a reader;
 * - netReturn: the test split's annualised compounded net return > minNetReturn;
 * - capacity: the test split's median trade capacity (capacity.ts) ≥ minCapacity.
 * `passed` is true when every check passed. Throws a RangeError for unusable inputs (splits too
 * short, an unknown asset, trials or labels out of range) and the language's ExpressionError
 * for an expression that is not a position.
 */
export function validateCandidate(expr: Expr, ctx: ValidationContext): ValidationReport {
  const t = resolveThresholds(ctx.thresholds);
  const splits = checkSplits(ctx.splits);
  checkContext(ctx);
  const { market, costs } = ctx;
  const { trainEnd, validationEnd, bars: n } = splits;
  const periodsPerYear = costs.periodsPerYear;
  const participation = ctx.participation ?? DEFAULT_PARTICIPATION;
  const level = ctx.level ?? 0.9;
  if (ctx.regimes !== undefined) checkRegimeLabels(ctx.regimes, n);

  const expression = print(expr);
  const returns = assetReturns(market, ctx.target);
  const positions = positionsOf(expr, market);
  const full = evaluatePositions(positions, returns, costs);
  const train = windowOf(positions, returns, 0, trainEnd, costs);
  const validation = windowOf(positions, returns, trainEnd, validationEnd, costs);
  const test = windowOf(positions, returns, validationEnd, n, costs);
  const heldOut = windowOf(positions, returns, trainEnd, n, costs);
  const seeds = new Rng(ctx.seed);
  const pValueSeed = seeds.uint32();
  const intervalSeed = seeds.uint32();
  const checks: ValidationCheck[] = [];

  checks.push(
    judged(ValidationCheckNames.Trades, heldOut.trades, ">=", t.minTrades, "position changes over the held-out period"),
  );
  checks.push(judged(ValidationCheckNames.TestSharpe, finiteOrNull(test.sharpe), ">", t.minTestSharpe));

  const alphaPerTest = t.alpha / ctx.tested;
  const meanTest = meanPValue(test.returns, {
    seed: pValueSeed,
    resamples: ctx.resamples ?? resamplesFor(alphaPerTest),
  });
  checks.push(
    judged(
      ValidationCheckNames.TestPValue,
      meanTest.pValue,
      "<=",
      alphaPerTest,
      `${meanTest.method} block bootstrap (mean block ${meanTest.blockLength}) of the test returns, ` +
        `${meanTest.exceedances} of ${meanTest.resamples} resamples at or above the mean; α ${t.alpha} / ${ctx.tested} tested`,
    ),
  );

  // SR*, the best of `count` trials without skill: their Sharpe estimates vary by sampling alone,
  // A/(T − 1) on T train returns (the registry's DSR gate falls back to the same). The spread of
  // the search's train Sharpe ratios is larger wherever candidates differ in true Sharpe ratio
  // (on planted data: partly catching a real edge), which is not what "no skill" means; on noise
  // the two agree. Both are in the note.
  const { count } = ctx.trials;
  const nullVariance = periodsPerYear / Math.max(1, train.returns.length - 1);
  const dsr = finiteOrNull(deflatedSharpe(train.returns, count, nullVariance, { periodsPerYear }));
  checks.push(
    judged(
      ValidationCheckNames.DeflatedSharpe,
      dsr,
      ">=",
      t.minDeflatedSharpe,
      `train Sharpe ${show(finiteOrNull(train.sharpe))} against SR* ${show(expectedMaxSharpe(count, nullVariance))}, ` +
        `the expected best of ${count} skill-less trials (Sharpe variance A/(T − 1) = ${show(nullVariance)}; ` +
        `the search's train Sharpe ratios varied by ${show(ctx.trials.sharpeVariance ?? Number.NaN)})`,
    ),
  );

  const folds = walkForward(market, positions, returns, trainEnd, n, t.folds, costs);
  const positive = folds.filter((f) => f.netReturn > 0).length;
  checks.push(
    judged(
      ValidationCheckNames.WalkForward,
      positive / folds.length,
      ">=",
      t.minPositiveFolds,
      `${positive} of ${folds.length} folds positive`,
    ),
  );

  const baseSharpe = finiteOrNull(heldOut.sharpe);
  const window = { from: trainEnd, to: n, trainEnd };
  const perturbed = perturbedRuns(expr, market, returns, window, costs, t.perturbation, baseSharpe);
  const perturbationResults = perturbed.map((p) => p.result);
  checks.push(stabilityCheck(perturbationResults, baseSharpe, t.minPerturbationRatio));

  const regimes =
    ctx.regimes === undefined
      ? []
      : regimeResults(heldOut.returns, trainEnd, ctx.regimes, t.regimeMinPeriods, periodsPerYear);
  if (ctx.regimes !== undefined) checks.push(regimesCheck(regimes, t.regimeMinPeriods));

  const annualReturn = finiteOrNull(test.metrics.cagr);
  checks.push(
    judged(
      ValidationCheckNames.NetReturn,
      annualReturn,
      ">",
      t.minNetReturn,
      "test split, compounded, net of fees and slippage",
    ),
  );

  const targetBars = market.assets.find((a) => a.name === ctx.target);
  if (targetBars === undefined) throw new RangeError(`the market has no asset ${ctx.target}`);
  const capacity = capacityOf(positions, targetBars, validationEnd, n, participation);
  checks.push(
    judged(
      ValidationCheckNames.Capacity,
      capacity,
      ">=",
      t.minCapacity,
      capacity === null
        ? "no trades in the test split"
        : `median over the test split's trades at ${participation * 100} % participation`,
    ),
  );

  const intervals = bootstrapIntervals(test.returns, {
    seed: intervalSeed,
    resamples: ctx.resamples ?? DEFAULT_RESAMPLES,
    periodsPerYear,
    level,
  });

  const evidence = backtestEvidence({
    positions,
    assetReturns: returns,
    netReturns: full.returns,
    costs,
    trainEnd,
    folds,
    perturbations: perturbed.map((p) => ({ ...p.result, sharpe: p.fullSharpe })),
    trials: count,
    ...(ctx.regimes === undefined ? {} : { regimes: ctx.regimes }),
  });

  return {
    expression,
    target: ctx.target,
    splits: {
      train: barWindow(market, 0, trainEnd),
      validation: barWindow(market, trainEnd, validationEnd),
      test: barWindow(market, validationEnd, n),
    },
    train: windowResult(train),
    validation: windowResult(validation),
    test: windowResult(test),
    heldOut: windowResult(heldOut),
    checks,
    passed: checks.every((c) => c.passed),
    regimes,
    folds,
    perturbations: perturbationResults,
    estimate: {
      sharpe: finiteOrNull(test.sharpe),
      sharpeInterval: intervals.sharpe,
      annualReturn,
      annualReturnInterval: intervals.annualReturn,
      level,
      resamples: intervals.resamples,
      blockLength: intervals.blockLength,
      feeBps: costs.feeBps,
      slippageBps: costs.slippageBps,
      turnoverPerYear: test.returns.length > 0 ? (test.turnover / test.returns.length) * periodsPerYear : null,
      capacity,
      participation,
    },
    trials: { count, sharpeVariance: ctx.trials.sharpeVariance ?? 0 },
    tested: ctx.tested,
    seed: ctx.seed,
    evidence,
  };
}
