/**
 * What validation needs to know about the search to judge its winner fairly: how many distinct
 * candidates were tried, and how widely their train Sharpe ratios spread. The best of many noisy
 * tries lands high by selection alone; the Deflated Sharpe Ratio subtracts the expected maximum of
 * `count` draws with that variance (quant's `expectedMaxSharpe`).
 */

/** The trials of a search, as validation's deflation reads them (quant's `FamilyTrials` shape). */
export interface SearchTrials {
  /** Distinct candidates evaluated, usable or not. */
  readonly count: number;
  /** Sample variance (n − 1) of the usable candidates' annualised train Sharpe ratios; null below two. */
  readonly sharpeVariance: number | null;
  /** Candidates whose Sharpe ratio entered the variance. */
  readonly usable: number;
  /** Mean of those Sharpe ratios; null when there is none. */
  readonly sharpeMean: number | null;
}

/** Running count, mean and sum of squared deviations (Welford), as plain data for checkpoints. */
export interface SharpeMoments {
  readonly count: number;
  readonly usable: number;
  readonly mean: number;
  readonly m2: number;
}

/** No trial yet. */
export const NO_TRIALS: SharpeMoments = Object.freeze({ count: 0, usable: 0, mean: 0, m2: 0 });

/** The moments after one more distinct candidate, whose Sharpe ratio counts when `usable`. */
export function addTrial(moments: SharpeMoments, sharpe: number, usable: boolean): SharpeMoments {
  if (!usable) return { ...moments, count: moments.count + 1 };
  const usableCount = moments.usable + 1;
  const delta = sharpe - moments.mean;
  const mean = moments.mean + delta / usableCount;
  return { count: moments.count + 1, usable: usableCount, mean, m2: moments.m2 + delta * (sharpe - mean) };
}

/** The report of the moments. */
export function trialsOf(moments: SharpeMoments): SearchTrials {
  return {
    count: moments.count,
    sharpeVariance: moments.usable >= 2 ? moments.m2 / (moments.usable - 1) : null,
    usable: moments.usable,
    sharpeMean: moments.usable >= 1 ? moments.mean : null,
  };
}
