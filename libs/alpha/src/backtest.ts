/**
 * What a position series earns in one traded asset, net of costs. Pure arithmetic on two aligned
 * arrays; the metrics are @stratreg/quant's, so a Sharpe ratio found here is the registry's.
 *
 * Timing: the position held at bar i is decided from data up to bar i's close (every operator
 * looks back only) and earns the asset's return from bar i's close to bar i + 1's. So period
 * j = 1…n − 1 earns p[j − 1]·r[j], r[j] = close[j]/close[j − 1] − 1, as `returns(asset)` and
 * `assetReturns` align it. Moving from p[j − 2] to p[j − 1] costs (fee + slippage)·|Δp|, charged
 * in period j. The position at the last bar earns nothing and is not traded.
 */
import { metricsOf, type PerformanceMetrics } from "@stratreg/quant";
import type { Expr } from "./ast.js";
import { compile } from "./compile.js";
import { assetReturns, type Market } from "./market.js";
import { check } from "./tree.js";

/** Trading costs and the annualisation of the returns. */
export interface Costs {
  /** Commission per unit of traded notional, in basis points. */
  feeBps: number;
  /** Slippage (spread, impact) per unit of traded notional, in basis points. */
  slippageBps: number;
  /** Annualisation factor A of the periods (252 for daily bars, 252 × 6.5 for hourly…). */
  periodsPerYear: number;
}

/** The net result of a position series. */
export interface PositionEvaluation {
  /** Net return of each period, n − 1 of them: returns[j − 1] is period j (bar j − 1 → j). */
  readonly returns: Float64Array;
  /** The same before costs. */
  readonly grossReturns: Float64Array;
  /** Σ|Δp| over the traded bars, the entry from flat included (a reversal counts 2). */
  readonly turnover: number;
  /** Bars at which the position changed (entries, exits and reversals). */
  readonly trades: number;
  /** Share of periods with a position (≠ 0). */
  readonly exposure: number;
  /** Periods whose asset return was undefined (a missing close): they earned 0. */
  readonly missing: number;
  /** Annualised Sharpe ratio of the net returns (quant's `sharpe`; NaN when they are constant). */
  readonly sharpe: number;
  /** Every quant metric of the net returns, under `periodsPerYear`. */
  readonly metrics: PerformanceMetrics;
}

/**
 * Evaluates positions (each in [−1, 1]) against the traded asset's per-bar returns, both aligned
 * with the bars (see the module's timing). A RangeError for unequal lengths, a position that is
 * not a finite number in [−1, 1], an infinite return, or negative or non-finite costs.
 */
export function evaluatePositions(
  positions: ArrayLike<number>,
  assetReturns: ArrayLike<number>,
  costs: Costs,
): PositionEvaluation {
  const n = positions.length;
  if (assetReturns.length !== n) {
    throw new RangeError(`positions (${n}) and returns (${assetReturns.length}) must be aligned`);
  }
  for (const key of ["feeBps", "slippageBps"] as const) {
    if (!(Number.isFinite(costs[key]) && costs[key] >= 0))
      throw new RangeError(`${key} must be ≥ 0, got ${costs[key]}`);
  }
  for (let i = 0; i < n; i++) {
    const p = positions[i] as number;
    if (!(p >= -1 && p <= 1)) throw new RangeError(`positions[${i}] must be in [-1, 1], got ${p}`);
  }
  const costPerUnit = (costs.feeBps + costs.slippageBps) / 10_000;
  const periods = Math.max(n - 1, 0);
  const net = new Float64Array(periods);
  const gross = new Float64Array(periods);
  let turnover = 0;
  let trades = 0;
  let exposed = 0;
  let missing = 0;
  let held = 0;
  for (let j = 1; j < n; j++) {
    const p = positions[j - 1] as number;
    let r = assetReturns[j] as number;
    if (r === Number.POSITIVE_INFINITY || r === Number.NEGATIVE_INFINITY) {
      throw new RangeError(`returns[${j}] is infinite`);
    }
    if (Number.isNaN(r)) {
      missing++;
      r = 0;
    }
    const traded = Math.abs(p - held);
    if (traded > 0) trades++;
    turnover += traded;
    if (p !== 0) exposed++;
    gross[j - 1] = p * r;
    net[j - 1] = p * r - costPerUnit * traded;
    held = p;
  }
  const metrics = metricsOf(net, { periodsPerYear: costs.periodsPerYear });
  return {
    returns: net,
    grossReturns: gross,
    turnover,
    trades,
    exposure: periods > 0 ? exposed / periods : 0,
    missing,
    sharpe: metrics.sharpe,
    metrics,
  };
}

/**
 * Compiles a strategy (an expression whose root is a position), runs it on `market` and
 * evaluates its positions in `tradedAsset`: the whole backtest of one candidate on one window.
 */
export function backtest(expr: Expr, market: Market, tradedAsset: string, costs: Costs): PositionEvaluation {
  check(expr, "position");
  return evaluatePositions(compile(expr)(market), assetReturns(market, tradedAsset), costs);
}
