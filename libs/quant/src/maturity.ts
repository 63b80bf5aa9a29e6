/**
 * The maturity phase of a live strategy, from the trend of its returns: an
 * exponentially weighted Sharpe ratio of the recent returns against the
 * Sharpe ratio of its whole live record.
 *
 * - birth: fewer than `birthPeriods` returns: too short a record to tell;
 * - growth: the recent Sharpe ratio is at least `band` above the long-run one;
 * - decline: it is at least `band` below it;
 * - maturity: in between.
 *
 * A recent Sharpe ratio is noisy (its standard error over a few months of daily
 * returns is above 1), so the phase moves only with hysteresis (a strategy stays
 * in growth or decline until it is back within half the band) and is meant to
 * be re-derived only every `everyPeriods` returns.
 */
import { type Conventions, resolveConventions } from "./conventions.js";

/** The phases, in the order a healthy strategy goes through them. */
export const Phases = ["birth", "growth", "maturity", "decline"] as const;
export type Phase = (typeof Phases)[number];

/** How phases are told apart. */
export interface MaturityOptions {
  /** Returns before a strategy leaves birth (63, a quarter of daily returns). */
  birthPeriods: number;
  /** Half-life of the recent returns' weights, in periods (42). */
  halfLife: number;
  /** Annualised Sharpe difference that makes growth or decline (1.0). */
  band: number;
  /** Re-derive the phase every this many returns (21). */
  everyPeriods: number;
}

export const DEFAULT_MATURITY: Readonly<MaturityOptions> = Object.freeze({
  birthPeriods: 63,
  halfLife: 42,
  band: 1.0,
  everyPeriods: 21,
});

/**
 * Exponentially weighted mean and variance of returns: O(1) per return, three numbers of state
 * (the weighted sums of r and r², and the count). The weights are normalised by their own sum,
 * 1 − (1 − α)ⁿ, so a short record is not pulled towards its first return or towards zero.
 */
export class TrendAccumulator {
  private readonly decay: number;
  private readonly s: Float64Array;

  /** A trend with weights halving every `halfLife` periods, optionally restored from {@link toState}. */
  constructor(halfLife = DEFAULT_MATURITY.halfLife, state?: Float64Array) {
    this.decay = 2 ** (-1 / halfLife);
    this.s = state?.length === 3 ? Float64Array.from(state) : new Float64Array(3);
  }

  /** Adds the next return. */
  add(r: number): void {
    const s = this.s;
    const a = 1 - this.decay;
    s[0] = this.decay * (s[0] as number) + a * r;
    s[1] = this.decay * (s[1] as number) + a * r * r;
    s[2] = (s[2] as number) + 1;
  }

  get count(): number {
    return this.s[2] as number;
  }

  /** The annualised Sharpe ratio of the recent returns (NaN until it has two, or when they do not vary). */
  sharpe(conventions?: Partial<Conventions>): number {
    const c = resolveConventions(conventions);
    const n = this.s[2] as number;
    if (n < 2) return Number.NaN;
    const total = 1 - this.decay ** n;
    const mean = (this.s[0] as number) / total;
    const variance = (this.s[1] as number) / total - mean * mean;
    if (!(variance > 0)) return Number.NaN;
    return ((mean - c.riskFree) / Math.sqrt(variance)) * Math.sqrt(c.periodsPerYear);
  }

  toState(): Float64Array {
    return Float64Array.from(this.s);
  }
}

/** What the phase is derived from. */
export interface MaturityInput {
  /** Returns in the live record. */
  periods: number;
  /** Annualised Sharpe ratio of the whole live record. */
  sharpe: number;
  /** Annualised Sharpe ratio of the recent returns ({@link TrendAccumulator}). */
  recentSharpe: number;
  /** The phase the strategy is in now, for hysteresis. */
  current?: Phase | undefined;
}

/** The maturity phase for `input` (see the module's description). */
export function maturityPhase(input: MaturityInput, options: Partial<MaturityOptions> = {}): Phase {
  const { birthPeriods, band } = { ...DEFAULT_MATURITY, ...options };
  if (!(input.periods >= birthPeriods)) return "birth";
  if (!Number.isFinite(input.sharpe) || !Number.isFinite(input.recentSharpe)) return input.current ?? "birth";
  const gap = input.recentSharpe - input.sharpe;
  if (gap >= band) return "growth";
  if (gap <= -band) return "decline";
  if (input.current === "growth" && gap >= band / 2) return "growth";
  if (input.current === "decline" && gap <= -band / 2) return "decline";
  return "maturity";
}
