/**
 * What a candidate must show on held-out data to be published, and how the checks are run.
 * Every field has a default; a caller overrides any subset.
 */

/** The thresholds and settings of `validateCandidate`'s checks. */
export interface ValidationThresholds {
  /**
   * Family-wise error rate of the test split's p-value; each candidate is tested at
   * alpha / (candidates reaching the test split), Bonferroni. Default 0.05.
   */
  alpha: number;
  /**
   * Trades (position changes) over the held-out period at least. Default 50: with fewer, a
   * handful of bets decide every figure and the bootstrap has little to resample.
   */
  minTrades: number;
  /** The test split's annualised net Sharpe ratio must exceed this. Default 0: it must earn something after costs. */
  minTestSharpe: number;
  /**
   * Deflated Sharpe Ratio of the train Sharpe ratio at least. Default 0.95: 95 % confidence
   * that the Sharpe ratio the search selected on beats the best that as many skill-less trials
   * would show (Bailey & López de Prado; the registry's gate uses the same figure).
   */
  minDeflatedSharpe: number;
  /**
   * Walk-forward folds the held-out period is cut into. Default 6: enough for a share of them
   * to mean something, each long enough (a sixth of the held-out period) to be more than noise.
   */
  folds: number;
  /** Share of folds with a positive net return at least. Default 0.6 (4 of 6), as the registry's walk-forward gate. */
  minPositiveFolds: number;
  /** Relative change of each parameter in the stability check. Default 0.1 (±10 %). */
  perturbation: number;
  /**
   * Worst held-out Sharpe ratio under a perturbation / the candidate's own at least. Default
   * 0.5: it may lose half its Sharpe ratio, not more (the registry's gate allows a 50 % drop).
   */
  minPerturbationRatio: number;
  /** Held-out periods a regime needs for its Sharpe ratio to count. Default 60, as the registry's regime gate. */
  regimeMinPeriods: number;
  /** The test split's annualised compounded net return must exceed this. Default 0. */
  minNetReturn: number;
  /** Capacity (notional) at least. Default 100,000. */
  minCapacity: number;
}

/** The defaults, each explained at its field of {@link ValidationThresholds}. */
export const DEFAULT_VALIDATION_THRESHOLDS: Readonly<ValidationThresholds> = Object.freeze({
  alpha: 0.05,
  minTrades: 50,
  minTestSharpe: 0,
  minDeflatedSharpe: 0.95,
  folds: 6,
  minPositiveFolds: 0.6,
  perturbation: 0.1,
  minPerturbationRatio: 0.5,
  regimeMinPeriods: 60,
  minNetReturn: 0,
  minCapacity: 100_000,
});

/**
 * The defaults with `overrides` applied; a RangeError naming the first field out of range
 * (a probability outside (0, 1), a count that is not a positive integer, a non-finite figure).
 */
export function resolveThresholds(overrides: Partial<ValidationThresholds> = {}): ValidationThresholds {
  const t = { ...DEFAULT_VALIDATION_THRESHOLDS, ...overrides };
  const fail = (key: keyof ValidationThresholds, want: string): never => {
    throw new RangeError(`threshold ${key} must be ${want}, got ${t[key]}`);
  };
  for (const key of Object.keys(DEFAULT_VALIDATION_THRESHOLDS) as (keyof ValidationThresholds)[]) {
    if (typeof t[key] !== "number" || !Number.isFinite(t[key])) fail(key, "a finite number");
  }
  if (!(t.alpha > 0 && t.alpha < 1)) fail("alpha", "in (0, 1)");
  if (!(t.perturbation > 0 && t.perturbation < 1)) fail("perturbation", "in (0, 1)");
  if (!(Number.isInteger(t.folds) && t.folds >= 1)) fail("folds", "an integer ≥ 1");
  if (!(Number.isInteger(t.regimeMinPeriods) && t.regimeMinPeriods >= 2)) fail("regimeMinPeriods", "an integer ≥ 2");
  if (!(t.minPositiveFolds >= 0 && t.minPositiveFolds <= 1)) fail("minPositiveFolds", "in [0, 1]");
  if (!(t.minDeflatedSharpe >= 0 && t.minDeflatedSharpe <= 1)) fail("minDeflatedSharpe", "in [0, 1]");
  if (!(t.minTrades >= 0)) fail("minTrades", "≥ 0");
  if (!(t.minCapacity >= 0)) fail("minCapacity", "≥ 0");
  return t;
}
