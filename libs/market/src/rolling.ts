/**
 * Windowed statistics in O(1) or O(window) per step over typed arrays, for the scanner's
 * features. Sliding sums are recomputed from scratch once per window length, so rounding
 * errors from adding and removing cannot build up over a long series (the cost stays O(n)).
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
 * Mean and sample standard deviation (ddof 1) of x over each window [i − window + 1, i];
 * NaN for i < window − 1. O(n).
 */
export function rollingMeanSd(x: ArrayLike<number>, window: number): { mean: Float64Array; sd: Float64Array } {
  const n = x.length;
  const mean = new Float64Array(n).fill(Number.NaN);
  const sd = new Float64Array(n).fill(Number.NaN);
  if (!(Number.isInteger(window) && window >= 2)) throw new RangeError(`window must be an integer ≥ 2, got ${window}`);
  let shift = 0;
  let s1 = 0;
  let s2 = 0;
  for (let i = 0; i < n; i++) {
    if (i >= window && (i - window) % window === 0) {
      // Start afresh, shifted by a value inside the window, once per window length.
      shift = x[i - window + 1] as number;
      s1 = 0;
      s2 = 0;
      for (let k = i - window + 1; k < i; k++) {
        const d = (x[k] as number) - shift;
        s1 += d;
        s2 += d * d;
      }
    } else if (i >= window) {
      const d = (x[i - window] as number) - shift;
      s1 -= d;
      s2 -= d * d;
    }
    if (i === 0) shift = x[0] as number;
    const d = (x[i] as number) - shift;
    s1 += d;
    s2 += d * d;
    if (i >= window - 1) {
      const m = s1 / window;
      mean[i] = shift + m;
      sd[i] = Math.sqrt(Math.max(0, (s2 - window * m * m) / (window - 1)));
    }
  }
  return { mean, sd };
}

/** Pearson correlation of a and b over each window [i − window + 1, i]; NaN before, or where either is constant. O(n). */
export function rollingPearson(a: ArrayLike<number>, b: ArrayLike<number>, window: number): Float64Array {
  const n = a.length;
  if (b.length !== n) throw new RangeError(`series of ${n} and ${b.length} values`);
  if (!(Number.isInteger(window) && window >= 2)) throw new RangeError(`window must be an integer ≥ 2, got ${window}`);
  const out = new Float64Array(n).fill(Number.NaN);
  let sa = 0;
  let sb = 0;
  let saa = 0;
  let sbb = 0;
  let sab = 0;
  let shiftA = a[0] as number;
  let shiftB = b[0] as number;
  for (let i = 0; i < n; i++) {
    if (i >= window && (i - window) % window === 0) {
      shiftA = a[i - window + 1] as number;
      shiftB = b[i - window + 1] as number;
      sa = sb = saa = sbb = sab = 0;
      for (let k = i - window + 1; k < i; k++) {
        const x = (a[k] as number) - shiftA;
        const y = (b[k] as number) - shiftB;
        sa += x;
        sb += y;
        saa += x * x;
        sbb += y * y;
        sab += x * y;
      }
    } else if (i >= window) {
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
    if (i >= window - 1) {
      const va = saa - (sa * sa) / window;
      const vb = sbb - (sb * sb) / window;
      const cov = sab - (sa * sb) / window;
      out[i] = va > 0 && vb > 0 ? Math.max(-1, Math.min(1, cov / Math.sqrt(va * vb))) : Number.NaN;
    }
  }
  return out;
}
