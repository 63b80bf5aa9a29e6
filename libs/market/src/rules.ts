/**
 * Trading rules as data: what a planted pattern's ideal rule is, and what a miner's finding can be
 * written as and replayed. One function computes each feature (`featureAt`), and both the
 * generator (bar by bar, as it plants) and `evaluateRule` (over a whole series) call it, so a
 * replayed rule fires on exactly the bars the generator planted on.
 */
import { sharpe } from "@stratreg/quant";
import type { MarketData } from "./align.js";
import type { BarSeries } from "./bars.js";
import { dayOfWeek, hourOfDay } from "./calendar.js";

/**
 * What a rule looks at. x(i) is computed at the close of bar i from closes up to bar i:
 * - `"return"`: close[i] / close[i − 1] − 1 (window 1).
 * - `"momentum"`: close[i] / close[i − window] − 1, the last `window` bars' return.
 * - `"zscore"`: (close[i] − mean) / sd of close[i − window + 1 … i] (sd with ddof 1): how far the
 *   price is from its moving average.
 * - `"return-zscore"`: (r[i] − mean) / sd of the `window` returns before r[i] (ddof 1): how
 *   unusual this bar's move is.
 * - `"hour"`, `"weekday"`: calendar rules; they hold bars that open at UTC hour / weekday `at`.
 */
export const RuleFeatures = ["return", "momentum", "zscore", "return-zscore", "hour", "weekday"] as const;
/** One of `RuleFeatures`. */
export type RuleFeature = (typeof RuleFeatures)[number];

/**
 * A rule: at the close of bar i, when |x(i)| ≥ threshold, take position sign · sign(x(i)) in the
 * target (+1 long, −1 short) over bars i + lag … i + lag + horizon − 1; a newer signal replaces
 * a held one; otherwise flat. Calendar rules hold `sign` over every bar opening at `at`.
 */
export interface PatternRule {
  feature: RuleFeature;
  /** `symbol@venue` the feature is computed on (the target itself for calendar rules). */
  source: string;
  /** `symbol@venue` traded. */
  target: string;
  /** Bars the feature looks back over (1 for "return"; unused by calendar rules). */
  window: number;
  /** Bars from the signal's bar to the first bar held, ≥ 1 (the signal is only known at its bar's close). */
  lag: number;
  /** The signal fires when |x| ≥ threshold (0: whenever x ≠ 0). */
  threshold: number;
  /** +1 follows the feature's sign, −1 fades it; for calendar rules the position itself. */
  sign: 1 | -1;
  /** Bars each signal is held, ≥ 1. */
  horizon: number;
  /** Calendar rules: the UTC hour (0–23) or weekday (0 = Sunday … 6) of the bars held. */
  at?: number;
}

/** Trading costs per unit of position changed, in basis points of the price. */
export interface VenueFees {
  feeBps: number;
  slippageBps: number;
}

/** x(i) of a non-calendar feature on `close`, or NaN when bar i has too little history. O(window). */
export function featureAt(feature: RuleFeature, close: Float64Array, i: number, window: number): number {
  switch (feature) {
    case "return":
      return i >= 1 ? (close[i] as number) / (close[i - 1] as number) - 1 : Number.NaN;
    case "momentum":
      return i >= window ? (close[i] as number) / (close[i - window] as number) - 1 : Number.NaN;
    case "zscore": {
      if (i < window - 1 || window < 2) return Number.NaN;
      let sum = 0;
      for (let k = i - window + 1; k <= i; k++) sum += close[k] as number;
      const mean = sum / window;
      let squares = 0;
      for (let k = i - window + 1; k <= i; k++) squares += ((close[k] as number) - mean) ** 2;
      const sd = Math.sqrt(squares / (window - 1));
      return sd > 0 ? ((close[i] as number) - mean) / sd : Number.NaN;
    }
    case "return-zscore": {
      if (i < window + 1 || window < 2) return Number.NaN;
      let sum = 0;
      for (let k = i - window; k < i; k++) sum += (close[k] as number) / (close[k - 1] as number) - 1;
      const mean = sum / window;
      let squares = 0;
      for (let k = i - window; k < i; k++) squares += ((close[k] as number) / (close[k - 1] as number) - 1 - mean) ** 2;
      const sd = Math.sqrt(squares / (window - 1));
      const r = (close[i] as number) / (close[i - 1] as number) - 1;
      return sd > 0 ? (r - mean) / sd : Number.NaN;
    }
    default:
      return Number.NaN;
  }
}

/** The position a non-calendar rule's signal at bar i asks for: ±1, or 0 when it does not fire. */
export function signalAt(rule: PatternRule, sourceClose: Float64Array, i: number): number {
  const x = featureAt(rule.feature, sourceClose, i, rule.window);
  if (!(Math.abs(x) >= rule.threshold) || x === 0) return 0;
  return rule.sign * Math.sign(x);
}

/** Whether `rule` is a calendar rule (hour or weekday). */
export function isCalendarRule(rule: PatternRule): boolean {
  return rule.feature === "hour" || rule.feature === "weekday";
}

/** A calendar rule's position over the bar opening at `t`. */
export function calendarPositionAt(rule: PatternRule, t: number): number {
  const when = rule.feature === "hour" ? hourOfDay(t) : dayOfWeek(t);
  return when === rule.at ? rule.sign : 0;
}

/** Throws a RangeError naming the first malformed part of `rule`. */
export function checkRule(rule: PatternRule): void {
  if (!(RuleFeatures as readonly string[]).includes(rule.feature))
    throw new RangeError(`unknown feature ${rule.feature}`);
  if (rule.sign !== 1 && rule.sign !== -1) throw new RangeError("sign must be 1 or -1");
  if (!(Number.isInteger(rule.horizon) && rule.horizon >= 1)) throw new RangeError("horizon must be an integer ≥ 1");
  if (isCalendarRule(rule)) {
    const top = rule.feature === "hour" ? 23 : 6;
    if (!(Number.isInteger(rule.at) && (rule.at as number) >= 0 && (rule.at as number) <= top)) {
      throw new RangeError(`at must be an integer in 0…${top} for a ${rule.feature} rule`);
    }
    return;
  }
  if (!(Number.isInteger(rule.lag) && rule.lag >= 1)) throw new RangeError("lag must be an integer ≥ 1");
  if (!(Number.isInteger(rule.window) && rule.window >= 1)) throw new RangeError("window must be an integer ≥ 1");
  if (!(rule.threshold >= 0)) throw new RangeError("threshold must be ≥ 0");
}

/**
 * A rule's position bar after bar, reading only closes before the bar it positions: the
 * generator steps one while it writes prices, `rulePositions` over finished series, with the
 * same arithmetic, so both fire on the same bars.
 */
export class RuleStepper {
  private held = 0;
  private until = -1; // the last bar the held signal covers

  constructor(private readonly rule: PatternRule) {
    checkRule(rule);
  }

  /** The position over bar j; call for j = 0, 1, 2, … in order, once closes before bar j are known. */
  positionAt(j: number, sourceClose: Float64Array, targetT: Float64Array): number {
    const rule = this.rule;
    if (isCalendarRule(rule)) return calendarPositionAt(rule, targetT[j] as number);
    const i = j - rule.lag;
    if (i >= 0) {
      const signal = signalAt(rule, sourceClose, i);
      if (signal !== 0) {
        this.held = signal;
        this.until = j + rule.horizon - 1;
      }
    }
    return j <= this.until ? this.held : 0;
  }
}

/** Positions of `rule` per bar (bar-indexed, like the target's columns). O(n·window). */
export function rulePositions(rule: PatternRule, source: BarSeries, target: BarSeries): Float64Array {
  const stepper = new RuleStepper(rule);
  const positions = new Float64Array(target.length);
  for (let j = 0; j < target.length; j++) positions[j] = stepper.positionAt(j, source.close, target.t);
  return positions;
}

/** Options of `evaluateRule`. */
export interface RuleEvaluationOptions {
  /** Charged per unit of position changed (with half the bar's spread where known). Default none. */
  costs?: VenueFees;
  /** For the Sharpe ratio; default 252. */
  periodsPerYear?: number;
}

/** A rule replayed on data. */
export interface RuleEvaluation {
  /** Position per bar (bar-indexed). */
  positions: Float64Array;
  /**
   * The rule's return per bar after the first, aligned with `target.returns()`: returns[j − 1] =
   * positions[j] · r_target[j] − costs[j], costs[j] = |positions[j] − positions[j − 1]| ·
   * ((feeBps + slippageBps) / 10⁴ + spread[j − 1] / 2), traded at bar j − 1's close.
   */
  returns: Float64Array;
  /** Annualised Sharpe ratio of `returns` (@stratreg/quant); NaN when undefined. */
  sharpe: number;
  /** Fraction of bars (after the first) with a position. */
  exposure: number;
  /** Σ|Δposition| over the returns, in units of position. */
  turnover: number;
}

/**
 * Replays `rule` on aligned series (those of one `generateMarket`, or `align`'s): finds source and
 * target by key, positions them, and returns the rule's per-bar returns and Sharpe ratio. A
 * RangeError when a key is missing or the two series are not on one time grid.
 */
export function evaluateRule(
  rule: PatternRule,
  data: readonly BarSeries[] | MarketData,
  options: RuleEvaluationOptions = {},
): RuleEvaluation {
  const series = "series" in data ? data.series : data;
  const find = (key: string): BarSeries => {
    const found = series.find((s) => s.key === key);
    if (found === undefined) throw new RangeError(`no series ${key}`);
    return found;
  };
  const source = find(rule.source);
  const target = find(rule.target);
  if (source !== target) {
    const same = source.length === target.length && source.t.every((t, i) => t === target.t[i]);
    if (!same) throw new RangeError(`${rule.source} and ${rule.target} are not on one time grid: align them first`);
  }
  const positions = rulePositions(rule, source, target);
  const n = target.length;
  const returns = new Float64Array(Math.max(0, n - 1));
  const perUnit = options.costs === undefined ? 0 : (options.costs.feeBps + options.costs.slippageBps) / 10_000;
  let exposed = 0;
  let turnover = 0;
  for (let j = 1; j < n; j++) {
    const position = positions[j] as number;
    const change = Math.abs(position - (positions[j - 1] as number));
    let cost = 0;
    if (options.costs !== undefined && change > 0) {
      const spread = target.spread[j - 1] as number;
      cost = change * (perUnit + (Number.isNaN(spread) ? 0 : spread / 2));
    }
    const r = (target.close[j] as number) / (target.close[j - 1] as number) - 1;
    returns[j - 1] = position * r - cost;
    if (position !== 0) exposed++;
    turnover += change;
  }
  return {
    positions,
    returns,
    sharpe: returns.length >= 2 ? sharpe(returns, { periodsPerYear: options.periodsPerYear ?? 252 }) : Number.NaN,
    exposure: n > 1 ? exposed / (n - 1) : 0,
    turnover,
  };
}
