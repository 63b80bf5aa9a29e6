/**
 * Windowed statistics in O(1) or O(window) per step over typed arrays, for the scanner's
 * features. Sliding sums are summed afresh once per window length, so rounding errors from
 * adding and removing cannot build up over a long series (the cost stays O(n)), and again
 * wherever a window is much narrower than the values it just dropped.
 */

/** A sorted multiset of the last values seen (a window), for medians: O(size) per insert or removal. */
export class SortedWindow {
  private values: Float64Array;
  private count = 0;

  constructor(capacity = 64) {
    this.values = new Float64Array(Math.max(1, capacity));
  }

  /** Number of values held. */
  get size(): number {
    return this.count;
  }

  /** Adds x (finite). */
  insert(x: number): void {
    if (this.count === this.values.length) {
      const grown = new Float64Array(this.values.length * 2);
      grown.set(this.values);
      this.values = grown;
    }
    const at = this.lowerBound(x);
    this.values.copyWithin(at + 1, at, this.count);
    this.values[at] = x;
    this.count++;
  }

  /** Removes one x, which must be held. */
  remove(x: number): void {
    const at = this.lowerBound(x);
    if (at >= this.count || this.values[at] !== x) throw new RangeError(`${x} is not in the window`);
    this.values.copyWithin(at, at + 1, this.count);
    this.count--;
  }

  /** The median (mean of the middle two for an even count); NaN when empty. */
  median(): number {
    const n = this.count;
    if (n === 0) return Number.NaN;
    const mid = n >>> 1;
    return n % 2 === 1
      ? (this.values[mid] as number)
      : ((this.values[mid - 1] as number) + (this.values[mid] as number)) / 2;
  }

  /**
   * The median of |x − center| over the window, in O(size): the deviations left of `center`
   * grow leftwards and those right of it rightwards, so merging the two runs outwards from
   * `center` visits them in ascending order.
   */
  medianAbsoluteDeviation(center: number): number {
    const n = this.count;
    if (n === 0) return Number.NaN;
    const v = this.values;
    let right = this.lowerBound(center);
    let left = right - 1;
    const k = n >>> 1; // the k-th smallest deviation (0-based); for even n the mean of k − 1 and k
    let previous = 0;
    for (let taken = 0; ; taken++) {
      let deviation: number;
      if (left >= 0 && (right >= n || center - (v[left] as number) <= (v[right] as number) - center)) {
        deviation = center - (v[left] as number);
        left--;
      } else {
        deviation = (v[right] as number) - center;
        right++;
      }
      if (taken === k) return n % 2 === 1 ? deviation : (previous + deviation) / 2;
      previous = deviation;
    }
  }

  /** Mean of |x − center| over the window (a fallback scale when half the window sits on one value). */
  meanAbsoluteDeviation(center: number): number {
    let sum = 0;
    for (let i = 0; i < this.count; i++) sum += Math.abs((this.values[i] as number) - center);
    return this.count === 0 ? Number.NaN : sum / this.count;
  }

  private lowerBound(x: number): number {
    let lo = 0;
    let hi = this.count;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((this.values[mid] as number) < x) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }
}

/**
 * A sliding sum of squares carries rounding errors of about ε times the largest value it has
 * held. When a window's sum of squared deviations falls below this share of that largest value
 * (a window far narrower than what it just dropped), more than six digits would be lost to
 * cancellation: the window is then summed afresh, about its own mean.
 */
const CANCELLATION = 1e-6;

/**
 * Mean and sample standard deviation (ddof 1) of x over each window [i − window + 1, i];
 * NaN for i < window − 1. Sliding sums about a value near the window, summed afresh once per
 * window length and whenever cancellation threatens: O(n) in practice, accurate to about 1e-10
 * relative.
 */
export function rollingMeanSd(x: ArrayLike<number>, window: number): { mean: Float64Array; sd: Float64Array } {
  const n = x.length;
  if (!(Number.isInteger(window) && window >= 2)) throw new RangeError(`window must be an integer ≥ 2, got ${window}`);
  const mean = new Float64Array(n).fill(Number.NaN);
  const sd = new Float64Array(n).fill(Number.NaN);
  let shift = n > 0 ? (x[0] as number) : 0;
  let s1 = 0;
  let s2 = 0;
  let peak = 0; // the largest s2 since the last restart
  const restart = (i: number, center: number): void => {
    shift = center;
    s1 = 0;
    s2 = 0;
    for (let k = Math.max(0, i - window + 1); k <= i; k++) {
      const d = (x[k] as number) - shift;
      s1 += d;
      s2 += d * d;
    }
    peak = s2;
  };
  for (let i = 0; i < n; i++) {
    if (i >= window && (i - window) % window === 0) restart(i, x[i - window + 1] as number);
    else {
      if (i >= window) {
        const d = (x[i - window] as number) - shift;
        s1 -= d;
        s2 -= d * d;
      }
      const d = (x[i] as number) - shift;
      s1 += d;
      s2 += d * d;
      peak = Math.max(peak, s2);
    }
    if (i < window - 1) continue;
    let ss = s2 - (s1 * s1) / window;
    if (ss < CANCELLATION * peak) {
      restart(i, shift + s1 / window);
      ss = s2 - (s1 * s1) / window;
    }
    mean[i] = shift + s1 / window;
    sd[i] = Math.sqrt(Math.max(0, ss) / (window - 1));
  }
  return { mean, sd };
}

/**
 * Pearson correlation of a and b over each window [i − window + 1, i]; NaN before, or where
 * either is constant. Sliding sums as in `rollingMeanSd`. O(n) in practice.
 */
export function rollingPearson(a: ArrayLike<number>, b: ArrayLike<number>, window: number): Float64Array {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`series of ${n} and ${b.length} values`);
  if (!(Number.isInteger(window) && window >= 2)) throw new RangeError(`window must be an integer ≥ 2, got ${window}`);
  const out = new Float64Array(n).fill(Number.NaN);
  let shiftA = n > 0 ? (a[0] as number) : 0;
  let shiftB = n > 0 ? (b[0] as number) : 0;
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  let peakA = 0; // the largest saa and sbb since the last restart
  let peakB = 0;
  const restart = (i: number, centerA: number, centerB: number): void => {
    shiftA = centerA;
    shiftB = centerB;
    sa = sb = saa = sbb = sab = 0;
    for (let k = Math.max(0, i - window + 1); k <= i; k++) {
      const x = (a[k] as number) - shiftA;
      const y = (b[k] as number) - shiftB;
      sa += x;
      sb += y;
      saa += x * x;
      sbb += y * y;
      sab += x * y;
    }
    peakA = saa;
    peakB = sbb;
  };
  for (let i = 0; i < n; i++) {
    if (i >= window && (i - window) % window === 0)
      restart(i, a[i - window + 1] as number, b[i - window + 1] as number);
    else {
      if (i >= window) {
        const x = (a[i - window] as number) - shiftA;
        const y = (b[i - window] as number) - shiftB;
        sa -= x;
        sb -= y;
        saa -= x * x;
        sbb -= y * y;
        sab -= x * y;
      }
      const x = (a[i] as number) - shiftA;
      const y = (b[i] as number) - shiftB;
      sa += x;
      sb += y;
      saa += x * x;
      sbb += y * y;
      sab += x * y;
      peakA = Math.max(peakA, saa);
      peakB = Math.max(peakB, sbb);
    }
    if (i < window - 1) continue;
    let va = saa - (sa * sa) / window;
    let vb = sbb - (sb * sb) / window;
    if (va < CANCELLATION * peakA || vb < CANCELLATION * peakB) {
      restart(i, shiftA + sa / window, shiftB + sb / window);
      va = saa - (sa * sa) / window;
      vb = sbb - (sb * sb) / window;
    }
    const cov = sab - (sa * sb) / window;
    out[i] = va > 0 && vb > 0 ? Math.max(-1, Math.min(1, cov / Math.sqrt(va * vb))) : Number.NaN;
  }
  return out;
}
