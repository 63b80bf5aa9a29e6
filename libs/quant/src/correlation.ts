/**
 * Pearson correlation of two equally long series (returns of two strategies, say).
 */
import { compensatedSum } from "./sums.js";

/**
 * Pearson correlation coefficient, by two passes with compensated sums, clamped to [−1, 1].
 * NaN when n < 2 or either series is constant; a RangeError when the lengths differ or a
 * value is not finite.
 */
export function correlation(a: ArrayLike<number>, b: ArrayLike<number>): number {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`correlation needs series of equal length, got ${n} and ${b.length}`);
  // A constant series has no spread, though its rounded mean can leave a spurious one.
  let aVaries = false;
  let bVaries = false;
  for (let i = 0; i < n; i++) {
    if (!(Number.isFinite(a[i]) && Number.isFinite(b[i]))) throw new RangeError(`non-finite value at index ${i}`);
    aVaries ||= a[i] !== a[0];
    bVaries ||= b[i] !== b[0];
  }
  if (!(aVaries && bVaries)) return Number.NaN;
  const meanA = compensatedSum(a) / n;
  const meanB = compensatedSum(b) / n;
  let sab = 0;
  let saa = 0;
  let sbb = 0;
  for (let i = 0; i < n; i++) {
    const da = (a[i] as number) - meanA;
    const db = (b[i] as number) - meanB;
    sab += da * db;
    saa += da * da;
    sbb += db * db;
  }
  if (!(saa > 0 && sbb > 0)) return Number.NaN;
  return Math.max(-1, Math.min(1, sab / Math.sqrt(saa * sbb)));
}
