/**
 * One loop per operator: the kernels compiled strategies call. Each writes its node's values for
 * bars [0, n) into `out` from its children's arrays, in O(n) whatever the window, allocating
 * nothing. They are shared by every compiled strategy, so V8 optimises them once per process and
 * a strategy seen for the first time runs at full speed (a loop generated per strategy runs
 * unoptimised until V8 has seen enough of it: ten times slower on its first call, measured).
 * No array destructuring in the loops: it may allocate.
 *
 * The meaning of each is the reference interpreter's (interpret.ts), operation for operation,
 * except sma, std and zscore, which slide sums over the window rather than summing each window
 * afresh. Conditions use Number(boolean) arithmetic instead of branches: on market data a
 * comparison's outcome is a coin toss that a branch predictor loses half the time.
 */

/**
 * A finite value, or NaN for ±∞ and NaN: v − v is exactly 0 for a finite v and NaN otherwise.
 * Arithmetic rather than a test, which costs twice as much here (a −0 comes out as 0, which no
 * operator tells apart).
 */
function finite(v: number): number {
  return v + (v - v);
}

/** Elementwise x + y, protected. */
export function add(n: number, out: Float64Array, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < n; i++) out[i] = finite((x[i] as number) + (y[i] as number));
}

/** Elementwise x − y, protected. */
export function sub(n: number, out: Float64Array, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < n; i++) out[i] = finite((x[i] as number) - (y[i] as number));
}

/** Elementwise x × y, protected. */
export function mul(n: number, out: Float64Array, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < n; i++) out[i] = finite((x[i] as number) * (y[i] as number));
}

/** Elementwise x ÷ y, protected (÷ 0 is undefined). */
export function div(n: number, out: Float64Array, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < n; i++) out[i] = finite((x[i] as number) / (y[i] as number));
}

/** x k bars back. */
export function lag(n: number, out: Float64Array, x: Float64Array, k: number): void {
  const head = Math.min(k, n);
  out.fill(Number.NaN, 0, head);
  if (n > k) out.set(x.subarray(0, n - k), k);
}

/** x[i]/x[i − k] − 1, protected. */
export function ret(n: number, out: Float64Array, x: Float64Array, k: number): void {
  const head = Math.min(k, n);
  out.fill(Number.NaN, 0, head);
  for (let i = head; i < n; i++) out[i] = finite((x[i] as number) / (x[i - k] as number) - 1);
}

/**
 * Rolling mean by a running sum over the current run of defined values. `eq` counts the
 * trailing equal values: a window of equal values has exactly that value as its mean. Every k
 * bars the sum is taken afresh (k additions per k bars, still O(1) a bar), so rounding errors do
 * not pile up over a long series and a sum that overflowed recovers once the huge values leave.
 */
export function sma(n: number, out: Float64Array, x: Float64Array, k: number): void {
  let run = 0;
  let eq = 0;
  let sum = 0;
  let left = k;
  for (let i = 0; i < n; i++) {
    const a = x[i] as number;
    if (Number.isNaN(a)) {
      run = 0;
      eq = 0;
      sum = 0;
      left = k;
      out[i] = Number.NaN;
      continue;
    }
    eq = run > 0 && a === x[i - 1] ? eq + 1 : 1;
    run++;
    sum += a;
    if (run > k) sum -= x[i - k] as number;
    if (--left === 0 || sum - sum !== 0) {
      left = k;
      sum = 0;
      for (let j = i - Math.min(run, k) + 1; j <= i; j++) sum += x[j] as number;
    }
    out[i] = run < k ? Number.NaN : eq >= k ? a : finite(sum / k);
  }
}

/**
 * Rolling sample deviation (z = false) or z-score (z = true). Sums of the deviations from a shift
 * c and of their squares slide over the window: mean = c + s1/k, variance = (s2 − s1²/k)/(k − 1).
 * With c near the window's values this does not cancel catastrophically as Σx² − (Σx)²/k does on
 * prices far from zero. Every k bars c becomes the window's mean and both sums are taken afresh.
 * A flat window (all values equal, counted exactly) has deviation 0 and no z-score.
 */
export function moments(n: number, out: Float64Array, x: Float64Array, k: number, z: boolean): void {
  let run = 0;
  let eq = 0;
  let shift = 0;
  let s1 = 0;
  let s2 = 0;
  let left = k;
  for (let i = 0; i < n; i++) {
    const a = x[i] as number;
    if (Number.isNaN(a)) {
      run = 0;
      eq = 0;
      s1 = 0;
      s2 = 0;
      left = k;
      out[i] = Number.NaN;
      continue;
    }
    eq = run > 0 && a === x[i - 1] ? eq + 1 : 1;
    run++;
    if (run === 1) shift = a;
    const d = a - shift;
    s1 += d;
    s2 += d * d;
    if (run > k) {
      const o = (x[i - k] as number) - shift;
      s1 -= o;
      s2 -= o * o;
    }
    if (--left === 0 || s1 - s1 !== 0 || s2 - s2 !== 0) {
      left = k;
      const w = Math.min(run, k);
      let sum = 0;
      for (let j = i - w + 1; j <= i; j++) sum += x[j] as number;
      shift = sum / w;
      s1 = 0;
      s2 = 0;
      for (let j = i - w + 1; j <= i; j++) {
        const e = (x[j] as number) - shift;
        s1 += e;
        s2 += e * e;
      }
    }
    if (run < k) {
      out[i] = Number.NaN;
    } else if (eq >= k) {
      out[i] = z ? Number.NaN : 0;
    } else {
      const m2 = s2 - (s1 * s1) / k;
      const sd = finite(Math.sqrt(m2 > 0 ? m2 / (k - 1) : 0));
      out[i] = !z ? sd : sd > 0 ? finite((a - shift - s1 / k) / sd) : Number.NaN;
    }
  }
}

/**
 * Rolling max (sign 1) or min (sign −1) by a monotonic deque of bar indices in `dq` (length ≥ n):
 * each index enters and leaves once.
 */
export function extreme(n: number, out: Float64Array, x: Float64Array, k: number, sign: 1 | -1, dq: Int32Array): void {
  let run = 0;
  let head = 0;
  let tail = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] as number;
    if (Number.isNaN(a)) {
      run = 0;
      head = 0;
      tail = 0;
      out[i] = Number.NaN;
      continue;
    }
    run++;
    while (tail > head && sign * (x[dq[tail - 1] as number] as number) <= sign * a) tail--;
    dq[tail++] = i;
    if ((dq[head] as number) <= i - k) head++;
    out[i] = run >= k ? (x[dq[head] as number] as number) : Number.NaN;
  }
}

/** EMA seeded with the mean of the run's first k values (the value itself if they are equal). */
export function ema(n: number, out: Float64Array, x: Float64Array, k: number): void {
  const alpha = 2 / (k + 1);
  let run = 0;
  let eq = 0;
  let sum = 0;
  let e = Number.NaN;
  for (let i = 0; i < n; i++) {
    const a = x[i] as number;
    if (Number.isNaN(a)) {
      run = 0;
      eq = 0;
      sum = 0;
      out[i] = Number.NaN;
      continue;
    }
    eq = run > 0 && a === x[i - 1] ? eq + 1 : 1;
    run++;
    if (run < k) {
      sum += a;
      out[i] = Number.NaN;
      continue;
    }
    if (run === k) {
      sum += a;
      e = eq >= k ? a : sum / k;
    } else {
      e += alpha * (a - e);
    }
    out[i] = finite(e);
  }
}

/** Wilder's RSI: the run's first k changes averaged, then (avg·(k − 1) + new)/k. */
export function rsi(n: number, out: Float64Array, x: Float64Array, k: number): void {
  let run = 0;
  let gain = 0;
  let loss = 0;
  for (let i = 0; i < n; i++) {
    const a = x[i] as number;
    if (Number.isNaN(a)) {
      run = 0;
      gain = 0;
      loss = 0;
      out[i] = Number.NaN;
      continue;
    }
    run++;
    out[i] = Number.NaN;
    if (run < 2) continue;
    const d = a - (x[i - 1] as number);
    const up = Math.max(d, 0);
    const down = Math.max(-d, 0);
    const changes = run - 1;
    if (changes < k) {
      gain += up;
      loss += down;
      continue;
    }
    if (changes === k) {
      gain = (gain + up) / k;
      loss = (loss + down) / k;
    } else {
      gain = (gain * (k - 1) + up) / k;
      loss = (loss * (k - 1) + down) / k;
    }
    out[i] = finite(gain + loss === 0 ? 50 : (100 * gain) / (gain + loss));
  }
}

// Conditions: 1, 0 or NaN. `v − v` is 0 for a defined v and NaN otherwise, so adding it makes
// the result undefined exactly when an input is.

/** x > c. */
export function gt(n: number, out: Float64Array, x: Float64Array, c: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    out[i] = Number(v > c) + (v - v);
  }
}

/** x < c. */
export function lt(n: number, out: Float64Array, x: Float64Array, c: number): void {
  for (let i = 0; i < n; i++) {
    const v = x[i] as number;
    out[i] = Number(v < c) + (v - v);
  }
}

/** x > y. */
export function above(n: number, out: Float64Array, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const a = x[i] as number;
    const b = y[i] as number;
    out[i] = Number(a > b) + (a - a) + (b - b);
  }
}

/** x < y. */
export function below(n: number, out: Float64Array, x: Float64Array, y: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const a = x[i] as number;
    const b = y[i] as number;
    out[i] = Number(a < b) + (a - a) + (b - b);
  }
}

/** x > y now and x ≤ y the bar before (sign 1), or x < y now and x ≥ y before (sign −1). */
export function crosses(n: number, out: Float64Array, x: Float64Array, y: Float64Array, sign: 1 | -1): void {
  if (n > 0) out[0] = Number.NaN;
  for (let i = 1; i < n; i++) {
    const a = x[i] as number;
    const b = y[i] as number;
    const pa = x[i - 1] as number;
    const pb = y[i - 1] as number;
    const defined = a - a + (b - b) + (pa - pa) + (pb - pb);
    out[i] = Number(sign * a > sign * b) * Number(sign * pa <= sign * pb) + defined;
  }
}

/** p and q. */
export function and(n: number, out: Float64Array, p: Float64Array, q: Float64Array): void {
  for (let i = 0; i < n; i++) out[i] = (p[i] as number) * (q[i] as number);
}

/** p or q. */
export function or(n: number, out: Float64Array, p: Float64Array, q: Float64Array): void {
  for (let i = 0; i < n; i++) {
    const a = p[i] as number;
    const b = q[i] as number;
    out[i] = a + b - a * b;
  }
}

/** not p. */
export function not(n: number, out: Float64Array, p: Float64Array): void {
  for (let i = 0; i < n; i++) out[i] = 1 - (p[i] as number);
}

/** side (+1 or −1) where p holds, 0 elsewhere (undefined included). */
export function side(n: number, out: Float64Array, p: Float64Array, sign: 1 | -1): void {
  // 0 − … rather than a sign flip of 0, which would be −0.
  for (let i = 0; i < n; i++) out[i] = sign === 1 ? Number(p[i] === 1) : 0 - Number(p[i] === 1);
}

/** +1 where only `long` holds, −1 where only `short` holds, 0 elsewhere or when either is undefined. */
export function longShort(n: number, out: Float64Array, long: Float64Array, short: Float64Array): void {
  for (let i = 0; i < n; i++) {
    // With conditions in {0, 1, NaN}, long − short is the position, or NaN when either is
    // undefined, which both comparisons turn into 0.
    const d = (long[i] as number) - (short[i] as number);
    out[i] = Number(d > 0) - Number(d < 0);
  }
}
