/**
 * Similarity by behaviour: strategies whose recent returns move together.
 *
 * Each strategy keeps its most recent `window` periodic returns with their period
 * times, sorted by time, in two big typed arrays (slot s at [s·window, …)), so a
 * million series are two allocations, not two million. Similarity is Pearson
 * correlation over the periods both series have (a merge of two sorted time
 * lists), required to cover at least `minOverlap` periods so two strategies that
 * share three days do not look identical.
 *
 * The search is a brute-force scan: O(strategies × window) per query. At 1,000,000
 * series of 64 periods that is about 10^8 merge steps, of the order of a second on
 * one core here; the memory is 1M × 64 × 16 bytes ≈ 1 GB. An index (e.g. on
 * z-normalised vectors) would only help if all series shared one period grid,
 * which strategies trading different calendars and ages do not.
 */

/** Options of {@link BehaviourIndex}. */
export interface BehaviourOptions {
  /** Periods kept per strategy (the most recent); 64 unless given. */
  window?: number;
}

/** Options of {@link BehaviourIndex.similarByReturns}. */
export interface SimilarByReturnsOptions {
  /** Fewest shared periods for a correlation to count; 20 unless given. */
  minOverlap?: number;
}

/** A strategy whose returns correlate with the query's. */
export interface BehaviourMatch {
  id: string;
  /** Pearson correlation over the shared periods, in [−1, 1]. */
  correlation: number;
  /** How many periods both series have. */
  overlap: number;
}

/** A strategy's kept returns, oldest first. */
export interface ReturnSeries {
  times: number[];
  returns: number[];
}

/** The most recent returns of every strategy, and the search for those that move alike. */
export class BehaviourIndex {
  /** Periods kept per strategy. */
  readonly window: number;
  #times: Float64Array;
  #returns: Float64Array;
  #counts: Int32Array;
  #ids: (string | undefined)[] = [];
  readonly #slots = new Map<string, number>();
  readonly #freeSlots: number[] = [];
  // Scratch for the positions of shared periods in a merge; sized once.
  readonly #sharedA: Int32Array;
  readonly #sharedB: Int32Array;

  constructor(options: BehaviourOptions = {}) {
    this.window = options.window ?? 64;
    if (!(Number.isInteger(this.window) && this.window >= 2)) throw new RangeError("window must be an integer ≥ 2");
    this.#times = new Float64Array(256 * this.window);
    this.#returns = new Float64Array(256 * this.window);
    this.#counts = new Int32Array(256);
    this.#sharedA = new Int32Array(this.window);
    this.#sharedB = new Int32Array(this.window);
  }

  /** How many strategies have returns. */
  get size(): number {
    return this.#slots.size;
  }

  /**
   * Adds returns of a strategy, `times` strictly increasing. A period already
   * kept takes the new value (a correction); a new period goes in its place in
   * time, and once the window is full the oldest period falls out (a period older
   * than every kept one is then dropped). Throws a RangeError for mismatched
   * lengths, times out of order, or values that are not finite.
   */
  addReturns(id: string, times: readonly number[], returns: readonly number[]): void {
    if (times.length !== returns.length) throw new RangeError("times and returns must have the same length");
    for (let i = 0; i < times.length; i++) {
      if (!Number.isFinite(times[i]) || !Number.isFinite(returns[i]))
        throw new RangeError("times and returns must be finite");
      if (i > 0 && (times[i] as number) <= (times[i - 1] as number))
        throw new RangeError("times must be strictly increasing");
    }
    if (times.length === 0) return;
    const slot = this.#slotFor(id);
    for (let i = 0; i < times.length; i++) this.#put(slot, times[i] as number, returns[i] as number);
  }

  /** Forgets a strategy's returns. Returns whether it had any. */
  remove(id: string): boolean {
    const slot = this.#slots.get(id);
    if (slot === undefined) return false;
    this.#slots.delete(id);
    this.#ids[slot] = undefined;
    this.#counts[slot] = 0;
    this.#freeSlots.push(slot);
    return true;
  }

  /** A strategy's kept returns, oldest first, or undefined. */
  seriesOf(id: string): ReturnSeries | undefined {
    const slot = this.#slots.get(id);
    if (slot === undefined) return undefined;
    const start = slot * this.window;
    const end = start + (this.#counts[slot] as number);
    return {
      times: Array.from(this.#times.subarray(start, end)),
      returns: Array.from(this.#returns.subarray(start, end)),
    };
  }

  /**
   * The k strategies whose returns correlate most (highest Pearson first) with
   * `id`'s over at least `minOverlap` shared periods; series constant over the
   * shared periods have no correlation and are left out. Empty for an unknown id.
   */
  similarByReturns(id: string, k: number, options: SimilarByReturnsOptions = {}): BehaviourMatch[] {
    const minOverlap = Math.max(2, options.minOverlap ?? 20);
    const query = this.#slots.get(id);
    if (query === undefined || k <= 0) return [];
    const matches: BehaviourMatch[] = [];
    let worstKept = Number.NEGATIVE_INFINITY;
    for (let slot = 0; slot < this.#ids.length; slot++) {
      const other = this.#ids[slot];
      if (other === undefined || slot === query) continue;
      const overlap = this.#shared(query, slot);
      if (overlap < minOverlap) continue;
      const correlation = this.#correlation(overlap);
      if (Number.isNaN(correlation)) continue;
      // Below the k-th best of those kept so far: it cannot make the top k.
      if (matches.length >= k && correlation < worstKept) continue;
      matches.push({ id: other, correlation, overlap });
      // Keeping a few times k and trimming amortises the sort; k is small.
      if (matches.length >= 4 * k) {
        matches.sort(byCorrelation);
        matches.length = k;
        worstKept = (matches[k - 1] as BehaviourMatch).correlation;
      }
    }
    matches.sort(byCorrelation);
    return matches.slice(0, k);
  }

  #slotFor(id: string): number {
    const existing = this.#slots.get(id);
    if (existing !== undefined) return existing;
    let slot = this.#freeSlots.pop();
    if (slot === undefined) {
      slot = this.#ids.length;
      this.#ids.push(undefined);
      if (slot >= this.#counts.length) this.#grow();
    }
    this.#slots.set(id, slot);
    this.#ids[slot] = id;
    this.#counts[slot] = 0;
    return slot;
  }

  #grow(): void {
    const capacity = this.#counts.length * 2;
    const times = new Float64Array(capacity * this.window);
    times.set(this.#times);
    this.#times = times;
    const returns = new Float64Array(capacity * this.window);
    returns.set(this.#returns);
    this.#returns = returns;
    const counts = new Int32Array(capacity);
    counts.set(this.#counts);
    this.#counts = counts;
  }

  /** Puts one period into a slot's sorted window. */
  #put(slot: number, time: number, value: number): void {
    const start = slot * this.window;
    const count = this.#counts[slot] as number;
    const times = this.#times;
    const returns = this.#returns;
    // Usually the new period is the latest: search from the end.
    let i = count;
    while (i > 0 && (times[start + i - 1] as number) > time) i--;
    if (i > 0 && times[start + i - 1] === time) {
      returns[start + i - 1] = value;
      return;
    }
    if (count < this.window) {
      times.copyWithin(start + i + 1, start + i, start + count);
      returns.copyWithin(start + i + 1, start + i, start + count);
      times[start + i] = time;
      returns[start + i] = value;
      this.#counts[slot] = count + 1;
      return;
    }
    // Full: the oldest falls out, unless the new period would be the oldest.
    if (i === 0) return;
    times.copyWithin(start, start + 1, start + i);
    returns.copyWithin(start, start + 1, start + i);
    times[start + i - 1] = time;
    returns[start + i - 1] = value;
  }

  /** Merges two slots' times; leaves the positions of shared periods in the scratch arrays; returns their count. */
  #shared(a: number, b: number): number {
    const times = this.#times;
    const startA = a * this.window;
    const startB = b * this.window;
    const endA = startA + (this.#counts[a] as number);
    const endB = startB + (this.#counts[b] as number);
    let i = startA;
    let j = startB;
    let n = 0;
    while (i < endA && j < endB) {
      const ta = times[i] as number;
      const tb = times[j] as number;
      if (ta < tb) i++;
      else if (ta > tb) j++;
      else {
        this.#sharedA[n] = i++;
        this.#sharedB[n++] = j++;
      }
    }
    return n;
  }

  /** Pearson correlation over the n shared periods in the scratch arrays (two passes, for accuracy); NaN if either is constant there. */
  #correlation(n: number): number {
    const returns = this.#returns;
    let sumA = 0;
    let sumB = 0;
    for (let i = 0; i < n; i++) {
      sumA += returns[this.#sharedA[i] as number] as number;
      sumB += returns[this.#sharedB[i] as number] as number;
    }
    const meanA = sumA / n;
    const meanB = sumB / n;
    let covariance = 0;
    let varianceA = 0;
    let varianceB = 0;
    for (let i = 0; i < n; i++) {
      const da = (returns[this.#sharedA[i] as number] as number) - meanA;
      const db = (returns[this.#sharedB[i] as number] as number) - meanB;
      covariance += da * db;
      varianceA += da * da;
      varianceB += db * db;
    }
    // Constant: the mean of a constant series is off by rounding, which leaves deviations of order ε·|mean|.
    if (varianceA <= n * (1e-12 * meanA) ** 2 || varianceB <= n * (1e-12 * meanB) ** 2) return Number.NaN;
    // Rounding can push |r| a hair past 1.
    return Math.max(-1, Math.min(1, covariance / Math.sqrt(varianceA * varianceB)));
  }
}

/** Highest correlation first; ties by more shared periods, then by id, so results are stable. */
function byCorrelation(a: BehaviourMatch, b: BehaviourMatch): number {
  return b.correlation - a.correlation || b.overlap - a.overlap || (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
}
