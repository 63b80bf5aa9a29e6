/**
 * Behavioural novelty (Lehman & Stanley's novelty search, used here as a pressure beside fitness):
 * two strategies are close when they behave alike on the training window, whatever their text.
 * `sma(x, 10)` and `ema(x, 10)` crossing the price are different trees and nearly the same bet;
 * a population that converges on one bet in many spellings has stopped searching.
 */

/**
 * A behaviour prepared for distances: standardised (zero mean, unit norm) once, so each
 * correlation afterwards is one dot product. A constant series has no correlation with
 * anything and keeps its value instead.
 */
export interface Behaviour {
  readonly length: number;
  /** (x − mean)/‖x − mean‖, or undefined for a constant series. */
  readonly unit: Float64Array | undefined;
  /** The value of a constant series (undefined otherwise). */
  readonly constant: number | undefined;
}

/** Prepares a behaviour (usually the net returns on the training window). RangeError on a non-finite value. */
export function prepareBehaviour(values: ArrayLike<number>): Behaviour {
  const n = values.length;
  let sum = 0;
  let varies = false;
  for (let i = 0; i < n; i++) {
    const v = values[i] as number;
    if (!Number.isFinite(v)) throw new RangeError(`behaviour[${i}] is not finite: ${v}`);
    sum += v;
    varies ||= v !== values[0];
  }
  if (!varies) return { length: n, unit: undefined, constant: n > 0 ? (values[0] as number) : 0 };
  const mean = sum / n;
  // Deviations are scaled by the largest first, so that squaring them neither underflows nor
  // overflows whatever their magnitude.
  const unit = new Float64Array(n);
  let largest = 0;
  for (let i = 0; i < n; i++) {
    const d = (values[i] as number) - mean;
    unit[i] = d;
    largest = Math.max(largest, Math.abs(d));
  }
  if (largest === 0) return { length: n, unit: undefined, constant: values[0] as number };
  let norm = 0;
  for (let i = 0; i < n; i++) {
    const d = (unit[i] as number) / largest;
    unit[i] = d;
    norm += d * d;
  }
  const scale = 1 / Math.sqrt(norm);
  for (let i = 0; i < n; i++) unit[i] = (unit[i] as number) * scale;
  return { length: n, unit, constant: undefined };
}

/**
 * 1 − |Pearson correlation| of two behaviours, in [0, 1]: 0 for the same bet or its mirror image
 * (a short is as unoriginal as the long it mirrors), 1 for unrelated ones. Two constant
 * behaviours (both flat, say) are 0 apart when equal and 1 apart otherwise; a constant and a
 * varying one are 1 apart. RangeError for unequal lengths.
 */
export function behaviourDistance(a: Behaviour, b: Behaviour): number {
  if (a.length !== b.length) throw new RangeError(`behaviours of ${a.length} and ${b.length} periods`);
  if (a.unit === undefined || b.unit === undefined) {
    return a.unit === undefined && b.unit === undefined && a.constant === b.constant ? 0 : 1;
  }
  let dot = 0;
  for (let i = 0; i < a.length; i++) dot += (a.unit[i] as number) * (b.unit[i] as number);
  return 1 - Math.min(1, Math.abs(dot));
}

/** {@link behaviourDistance} of two raw series. */
export function behaviouralDistance(a: ArrayLike<number>, b: ArrayLike<number>): number {
  return behaviourDistance(prepareBehaviour(a), prepareBehaviour(b));
}

/**
 * Novelty of a behaviour: the mean distance to its `k` nearest neighbours among `others` (the
 * rest of the population and the archive; leave the behaviour itself out). With fewer than `k`
 * others, the mean over all of them; with none, 1 (nothing like it has been seen).
 */
export function noveltyScore(behaviour: Behaviour, others: readonly Behaviour[], k = 10): number {
  if (!(Number.isInteger(k) && k > 0)) throw new RangeError(`k must be a positive integer, got ${k}`);
  if (others.length === 0) return 1;
  const distances = others.map((other) => behaviourDistance(behaviour, other)).sort((x, y) => x - y);
  const nearest = distances.slice(0, k);
  return nearest.reduce((sum, d) => sum + d, 0) / nearest.length;
}

/** Behaviours kept across generations, oldest first, with the canonical text of their strategy. */
export interface NoveltyArchive {
  readonly entries: readonly { readonly text: string; readonly behaviour: Behaviour }[];
}

/** An archive with nothing in it. */
export const EMPTY_ARCHIVE: NoveltyArchive = Object.freeze({ entries: Object.freeze([]) });
