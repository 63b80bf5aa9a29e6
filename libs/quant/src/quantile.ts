/** Quantiles of sorted values, read as numpy reads them: shared by the VaR/ES and the evidence summaries. */

/**
 * The q-quantile (0 ≤ q ≤ 1) of ascending values by numpy's default ("linear") method, as
 * `np.percentile(x, 100·q)`: index h = (n − 1)·q, linear interpolation between the values at
 * ⌊h⌋ and ⌊h⌋ + 1, written as numpy's lerp does (from the nearer end) so the two agree to the
 * last bit. NaN for no values.
 */
export function linearPercentile(sorted: ArrayLike<number>, q: number): number {
  const n = sorted.length;
  if (n === 0) return Number.NaN;
  const h = (n - 1) * q;
  const below = Math.floor(h);
  const a = sorted[below] as number;
  const b = sorted[Math.min(below + 1, n - 1)] as number;
  const t = h - below;
  const diff = b - a;
  return t >= 0.5 ? b - diff * (1 - t) : a + diff * t;
}
