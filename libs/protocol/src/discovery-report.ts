/**
 * What discovery's validation stage says about one candidate pattern before anything is
 * published: how the data was split, what the candidate earned on each part, every check
 * against overfitting with its value, threshold and verdict, and an estimate of what it earns
 * out of sample net of costs. The report travels as msgpack or JSON, so every figure that is
 * undefined (no trades, constant returns) is null, never NaN.
 */
import type { BacktestEvidenceInput } from "./gates.js";

/** The checks of a validation report, by the name each carries. */
export const ValidationCheckNames = {
  /** Trades over the held-out period (validation and test splits) ≥ a minimum. */
  Trades: "trades",
  /** Annualised net Sharpe ratio of the test split > a minimum (0). */
  TestSharpe: "testSharpe",
  /** Block-bootstrap p-value that the test split's mean net return is ≤ 0, ≤ α / candidates tested. */
  TestPValue: "testPValue",
  /** Deflated Sharpe Ratio of the train Sharpe ratio over the search's trials ≥ a minimum. */
  DeflatedSharpe: "deflatedSharpe",
  /** Share of walk-forward folds of the held-out period with a positive net return ≥ a minimum. */
  WalkForward: "walkForward",
  /** Worst held-out Sharpe ratio under ±10 % parameter changes / the unchanged one ≥ a minimum. */
  ParameterStability: "parameterStability",
  /** The best held-out Sharpe ratio among regimes long enough to judge > 0 (only with regime labels). */
  Regimes: "regimes",
  /** Annualised (compounded) net return of the test split > a minimum (0). */
  NetReturn: "netReturn",
  /** Notional the strategy can trade within its participation of traded volume ≥ a minimum. */
  Capacity: "capacity",
} as const;
/** A check's name. */
export type ValidationCheckName = (typeof ValidationCheckNames)[keyof typeof ValidationCheckNames];

/** How a check's value must compare with its threshold to pass. */
export type ValidationComparison = ">=" | "<=" | ">";

/** One check's verdict. */
export interface ValidationCheck {
  name: ValidationCheckName;
  /**
   * The figure judged; null when it is undefined, and the check then fails. One exception:
   * parameterStability of an expression with no number to change passes with null (see note).
   */
  value: number | null;
  /** What it is compared with; null when there is nothing to compare with (the check then fails). */
  threshold: number | null;
  comparison: ValidationComparison;
  passed: boolean;
  /** How the figure or the threshold was arrived at, or why it is missing. */
  note?: string;
}

/** A contiguous part of the bars: indices [from, to) and the times of its first and last bar. */
export interface BarWindow {
  /** First bar, inclusive. */
  from: number;
  /** End bar, exclusive. */
  to: number;
  /** Time of bar `from`, ms since the epoch (UTC). */
  start: number;
  /** Time of bar `to − 1`, the window's last bar. */
  end: number;
}

/** The chronological splits: the miner saw only `train`; `validation` shortlisted; `test` judges. */
export interface ValidationSplits {
  train: BarWindow;
  validation: BarWindow;
  test: BarWindow;
}

/** What a candidate earned on one window, net of costs. */
export interface WindowResult {
  /** Net returns evaluated (one fewer than the window's bars). */
  periods: number;
  /** Annualised net Sharpe ratio; null when undefined. */
  sharpe: number | null;
  /** Bars at which the position changed, the entry at the window's start included. */
  trades: number;
}

/** One walk-forward fold of the held-out period. */
export interface FoldResult extends BarWindow {
  /** Annualised net Sharpe ratio of the fold; null when undefined. */
  sharpe: number | null;
  /** Compounded net return over the fold, Π(1 + r) − 1. */
  netReturn: number;
  trades: number;
}

/** The held-out Sharpe ratio within one regime. */
export interface RegimeResult {
  regime: string;
  /** Held-out periods labelled with this regime. */
  periods: number;
  /** Annualised net Sharpe ratio of those periods; null when too few to judge, or undefined. */
  sharpe: number | null;
}

/** One parameter of the expression changed, and what the candidate earned then. */
export interface PerturbationResult {
  /** The parameter: operator, pre-order node index and which literal (`gt#3.c`, `sma#5.k`). */
  param: string;
  /** Its value in the candidate. */
  from: number;
  /** Its value in the perturbed expression. */
  to: number;
  /** Relative change, to / from − 1 (for a threshold of 0: the change in units of the series' deviation). */
  change: number;
  /** The perturbed expression's text. */
  expression: string;
  /** Held-out annualised net Sharpe ratio of the perturbed expression (0 when it never trades). */
  sharpe: number;
  /** `sharpe` / the candidate's held-out Sharpe ratio; null when that is not positive. */
  ratio: number | null;
  /** Why the change is not exactly ±10 %, when it is not. */
  note?: string;
}

/** A bootstrap percentile interval [low, high]. */
export type Interval = [number, number];

/** What the candidate is expected to earn, from the test split, net of the costs below. */
export interface ProfitabilityEstimate {
  /** Annualised net Sharpe ratio of the test split; null when undefined. */
  sharpe: number | null;
  /** Its bootstrap percentile interval at `level`; null when undefined. */
  sharpeInterval: Interval | null;
  /** Annualised compounded net return (CAGR) of the test split; null when undefined. */
  annualReturn: number | null;
  /** Its bootstrap percentile interval at `level`; null when undefined. */
  annualReturnInterval: Interval | null;
  /** Coverage of the intervals (0.9: the 5th to the 95th percentile). */
  level: number;
  /** Bootstrap resamples drawn. */
  resamples: number;
  /** Mean block length of the stationary bootstrap, in periods. */
  blockLength: number;
  /** Commission charged per unit of traded notional, basis points. */
  feeBps: number;
  /** Slippage charged per unit of traded notional, basis points. */
  slippageBps: number;
  /** Σ|Δposition| per year over the test split (2 = one full turn of the book a year). */
  turnoverPerYear: number | null;
  /**
   * Notional N the strategy can trade: the median over the test split's trades of
   * participation · close · volume / |Δposition| at the trade's bar. Null without trades.
   */
  capacity: number | null;
  /** The share of a bar's traded value a trade may take, used for `capacity`. */
  participation: number;
}

/** A candidate's full validation. */
export interface ValidationReport {
  /** The candidate's canonical text. */
  expression: string;
  /** The asset it trades. */
  target: string;
  splits: ValidationSplits;
  train: WindowResult;
  validation: WindowResult;
  test: WindowResult;
  /** The held-out period, validation and test splits together. */
  heldOut: WindowResult;
  /** Every check; the regimes check only when regime labels were given. */
  checks: ValidationCheck[];
  /** Whether every check passed. */
  passed: boolean;
  /** Held-out Sharpe ratio per regime, by name (empty without regime labels). */
  regimes: RegimeResult[];
  /** The walk-forward folds of the held-out period, in order. */
  folds: FoldResult[];
  /** Each parameter changed up and down. */
  perturbations: PerturbationResult[];
  estimate: ProfitabilityEstimate;
  /** The search behind the candidate: distinct candidates tried on train, the variance of their annualised Sharpe ratios. */
  trials: { count: number; sharpeVariance: number };
  /** Candidates that reached the test split in this run (the Bonferroni divisor of α). */
  tested: number;
  /** Seed of the bootstraps: the same inputs and seed give the same report. */
  seed: number;
  /** The whole backtest as the registry's gates take it, so they can judge it again. */
  evidence: BacktestEvidenceInput;
}
