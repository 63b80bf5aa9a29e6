/**
 * Compensated summation (Neumaier's variant of Kahan's), kept in two adjacent slots of a
 * Float64Array so that an accumulator can use it without allocating and a batch pass can run
 * exactly the same arithmetic in the same order: online and batch sums then agree bit for bit.
 */

/** Adds x to the running sum held at slots [at] (sum) and [at + 1] (compensation). */
export function addCompensated(slots: Float64Array, at: number, x: number): void {
  const sum = slots[at] as number;
  const t = sum + x;
  // Once the sum is infinite or NaN the compensation means nothing and would turn into NaN.
  if (Number.isFinite(t)) {
    slots[at + 1] = (slots[at + 1] as number) + (Math.abs(sum) >= Math.abs(x) ? sum - t + x : x - t + sum);
  }
  slots[at] = t;
}

/** The value of a compensated sum. */
export function compensatedValue(slots: Float64Array, at: number): number {
  return (slots[at] as number) + (slots[at + 1] as number);
}

/** The compensated sum of a series, in index order. */
export function compensatedSum(values: ArrayLike<number>, map: (x: number) => number = (x) => x): number {
  const slots = new Float64Array(2);
  for (let i = 0; i < values.length; i++) addCompensated(slots, 0, map(values[i] as number));
  return compensatedValue(slots, 0);
}
