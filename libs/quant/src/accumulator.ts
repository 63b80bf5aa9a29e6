/**
 * Performance metrics of a return series that grows one return at a time, in constant time
 * and memory, with a fixed-length state for snapshots.
 */
import { checkReturn } from "./batch.js";
import { type Conventions, resolveConventions } from "./conventions.js";
import { metricsFromSummary, type PerformanceMetrics, type ReturnSummary } from "./performance.js";
import { addCompensated, compensatedValue } from "./sums.js";
import { logWealthOf, stepWealth, WEALTH_SLOTS, WealthSlots } from "./wealth.js";

// The state layout. Its version is slot 0, so a snapshot written by another layout is refused.
const STATE_VERSION = 1;
const S = {
  version: 0,
  count: 1,
  shift: 2, // the first return; moments are of r − shift
  sum: 3, // Σ(r − shift), compensated (+1)
  m2: 5,
  m3: 6,
  m4: 7,
  downside: 8, // Σ min(r − MAR, 0)², compensated (+1)
  min: 10,
  max: 11,
  periodsPerYear: 12,
  riskFree: 13,
  mar: 14,
  wealth: 15, // WEALTH_SLOTS slots, see wealth.ts
} as const;
const STATE_LENGTH = S.wealth + WEALTH_SLOTS;

/**
 * Online performance metrics: `add` is O(1) and allocates nothing (Welford's mean and Pébay's
 * updates of the third and fourth central sums, a compensated sum of log wealth and a running
 * peak); `metrics` is O(1). Agrees with `metricsOf` on the same returns to about 1e-12.
 */
export class ReturnAccumulator {
  /** Length of the array {@link toState} returns. */
  static readonly STATE_LENGTH: number = STATE_LENGTH;

  /** The conventions the metrics are computed with. */
  readonly conventions: Conventions;
  // Everything lives in the state array itself, so a snapshot is a copy and add() a few stores.
  private readonly s: Float64Array;

  /** An empty series read with the given conventions (defaults: daily, rf = 0, MAR = 0). */
  constructor(conventions?: Partial<Conventions>) {
    this.conventions = Object.freeze(resolveConventions(conventions));
    this.s = new Float64Array(STATE_LENGTH);
    this.s[S.version] = STATE_VERSION;
    this.s[S.periodsPerYear] = this.conventions.periodsPerYear;
    this.s[S.riskFree] = this.conventions.riskFree;
    this.s[S.mar] = this.conventions.mar;
  }

  /** Adds the next period's simple return. Throws a RangeError, changing nothing, unless r is finite. */
  add(r: number): void {
    checkReturn(r);
    const s = this.s;
    const previous = s[S.count] as number;
    const n = previous + 1;
    if (previous === 0) {
      s[S.shift] = r;
      s[S.min] = r;
      s[S.max] = r;
    } else if (r < (s[S.min] as number)) {
      s[S.min] = r;
    } else if (r > (s[S.max] as number)) {
      s[S.max] = r;
    }
    const y = r - (s[S.shift] as number);
    // Pébay (2008) / Terriberry: central sums updated from the old ones, highest order first.
    const delta = previous === 0 ? 0 : y - compensatedValue(s, S.sum) / previous;
    const deltaN = delta / n;
    const deltaN2 = deltaN * deltaN;
    const term = delta * deltaN * previous;
    const m2 = s[S.m2] as number;
    const m3 = s[S.m3] as number;
    s[S.m4] = (s[S.m4] as number) + term * deltaN2 * (n * n - 3 * n + 3) + 6 * deltaN2 * m2 - 4 * deltaN * m3;
    s[S.m3] = m3 + term * deltaN * (n - 2) - 3 * deltaN * m2;
    s[S.m2] = m2 + term;
    addCompensated(s, S.sum, y);
    const below = r - (s[S.mar] as number);
    if (below < 0) addCompensated(s, S.downside, below * below);
    stepWealth(s, S.wealth, r);
    s[S.count] = n;
  }

  /** Number of returns added. */
  get count(): number {
    return this.s[S.count] as number;
  }

  /** Every metric of the returns so far, in O(1). */
  metrics(): PerformanceMetrics {
    return metricsFromSummary(this.summary(), this.conventions);
  }

  private summary(): ReturnSummary {
    const s = this.s;
    const n = s[S.count] as number;
    const constant = n === 0 || s[S.min] === s[S.max];
    return {
      count: n,
      mean: n === 0 ? Number.NaN : (s[S.shift] as number) + compensatedValue(s, S.sum) / n,
      m2: constant ? 0 : (s[S.m2] as number),
      m3: constant ? 0 : (s[S.m3] as number),
      m4: constant ? 0 : (s[S.m4] as number),
      constant,
      downsideSquares: compensatedValue(s, S.downside),
      logWealth: logWealthOf(s, S.wealth),
      maxDrawdown: s[S.wealth + WealthSlots.maxDrawdown] as number,
      maxDrawdownDuration: s[S.wealth + WealthSlots.maxUnderwater] as number,
    };
  }

  /**
   * A copy of the state, {@link ReturnAccumulator.STATE_LENGTH} numbers including the conventions
   * it was gathered with; `fromState(toState())` continues exactly as this accumulator would.
   */
  toState(): Float64Array {
    return this.s.slice();
  }

  /**
   * An accumulator continuing from a state {@link toState} returned. Without conventions it uses
   * the stored ones. Given conventions may change A and rf (they only enter the final formulas)
   * but not MAR, which the stored downside sum depends on. Throws a RangeError for a state of
   * another length or version, a malformed count, or a different MAR.
   */
  static fromState(state: Float64Array, conventions?: Partial<Conventions>): ReturnAccumulator {
    if (state.length !== STATE_LENGTH) {
      throw new RangeError(`a ReturnAccumulator state has ${STATE_LENGTH} numbers, got ${state.length}`);
    }
    if (state[S.version] !== STATE_VERSION)
      throw new RangeError(`unknown ReturnAccumulator state version ${state[S.version]}`);
    const count = state[S.count] as number;
    if (!(Number.isInteger(count) && count >= 0))
      throw new RangeError(`malformed count ${count} in a ReturnAccumulator state`);
    const stored: Conventions = {
      periodsPerYear: state[S.periodsPerYear] as number,
      riskFree: state[S.riskFree] as number,
      mar: state[S.mar] as number,
    };
    const accumulator = new ReturnAccumulator({ ...stored, ...conventions });
    if (accumulator.conventions.mar !== stored.mar) {
      throw new RangeError(`the state was gathered with MAR ${stored.mar}, not ${accumulator.conventions.mar}`);
    }
    accumulator.s.set(state);
    accumulator.s[S.periodsPerYear] = accumulator.conventions.periodsPerYear;
    accumulator.s[S.riskFree] = accumulator.conventions.riskFree;
    return accumulator;
  }
}
