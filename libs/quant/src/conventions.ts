/**
 * How returns are read: the annualisation factor and the per-period rates that Sharpe and
 * Sortino measure against (docs/adr/008-quant-conventions.md).
 */

/** The reading of a return series that every metric depends on. */
export interface Conventions {
  /** Annualisation factor A: periods per year (252 for daily returns). */
  periodsPerYear: number;
  /** Risk-free rate per period, subtracted in the Sharpe ratio. */
  riskFree: number;
  /** Minimum acceptable return per period, the threshold of downside risk and Sortino. */
  mar: number;
}

/** Daily returns, no risk-free rate, a minimum acceptable return of zero. */
export const DEFAULT_CONVENTIONS: Readonly<Conventions> = Object.freeze({ periodsPerYear: 252, riskFree: 0, mar: 0 });

/** Fills in the defaults and refuses conventions no metric could be computed with. */
export function resolveConventions(conventions?: Partial<Conventions>): Conventions {
  const resolved = { ...DEFAULT_CONVENTIONS, ...conventions };
  if (!(Number.isFinite(resolved.periodsPerYear) && resolved.periodsPerYear > 0)) {
    throw new RangeError(`periodsPerYear must be a positive number, got ${resolved.periodsPerYear}`);
  }
  if (!Number.isFinite(resolved.riskFree)) throw new RangeError(`riskFree must be finite, got ${resolved.riskFree}`);
  if (!Number.isFinite(resolved.mar)) throw new RangeError(`mar must be finite, got ${resolved.mar}`);
  return resolved;
}
