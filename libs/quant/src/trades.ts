/**
 * Trade statistics: win rate and profit factor, online and batch, from per-trade profit and loss.
 */
import { addCompensated, compensatedValue } from "./sums.js";

const STATE_VERSION = 1;
const T = {
  version: 0,
  count: 1,
  wins: 2,
  losses: 3,
  grossProfit: 4, // compensated (+1)
  grossLoss: 6, // of |pnl|, compensated (+1)
} as const;
const STATE_LENGTH = 8;

function checkPnl(pnl: number): void {
  if (!Number.isFinite(pnl)) throw new RangeError(`a trade's pnl must be a finite number, got ${pnl}`);
}

function winRateOf(count: number, wins: number): number {
  return count > 0 ? wins / count : Number.NaN;
}

function profitFactorOf(count: number, profit: number, loss: number): number {
  if (count === 0) return Number.NaN;
  if (loss > 0) return profit / loss;
  // No losing trade: unbounded when something was won, 0/0 when every trade broke even.
  return profit > 0 ? Number.POSITIVE_INFINITY : Number.NaN;
}

/**
 * Online trade statistics: `add` is O(1) and allocates nothing. A trade with pnl > 0 is a win,
 * pnl < 0 a loss, pnl = 0 neither (it still counts as a trade).
 */
export class TradeAccumulator {
  /** Length of the array {@link toState} returns. */
  static readonly STATE_LENGTH: number = STATE_LENGTH;

  private readonly s: Float64Array;

  constructor() {
    this.s = new Float64Array(STATE_LENGTH);
    this.s[T.version] = STATE_VERSION;
  }

  /** Adds one closed trade's profit or loss. Throws a RangeError, changing nothing, unless pnl is finite. */
  add(pnl: number): void {
    checkPnl(pnl);
    const s = this.s;
    s[T.count] = (s[T.count] as number) + 1;
    if (pnl > 0) {
      s[T.wins] = (s[T.wins] as number) + 1;
      addCompensated(s, T.grossProfit, pnl);
    } else if (pnl < 0) {
      s[T.losses] = (s[T.losses] as number) + 1;
      addCompensated(s, T.grossLoss, -pnl);
    }
  }

  /** Number of trades added. */
  get count(): number {
    return this.s[T.count] as number;
  }

  /** Winning trades / all trades; NaN when there are no trades. */
  winRate(): number {
    return winRateOf(this.s[T.count] as number, this.s[T.wins] as number);
  }

  /**
   * Gross profit / gross loss. +∞ when there is no losing trade but a winning one, NaN when
   * there are no trades or every trade broke even.
   */
  profitFactor(): number {
    return profitFactorOf(
      this.s[T.count] as number,
      compensatedValue(this.s, T.grossProfit),
      compensatedValue(this.s, T.grossLoss),
    );
  }

  /** A copy of the state, {@link TradeAccumulator.STATE_LENGTH} numbers. */
  toState(): Float64Array {
    return this.s.slice();
  }

  /** An accumulator continuing from a state {@link toState} returned; RangeError for a malformed one. */
  static fromState(state: Float64Array): TradeAccumulator {
    if (state.length !== STATE_LENGTH) {
      throw new RangeError(`a TradeAccumulator state has ${STATE_LENGTH} numbers, got ${state.length}`);
    }
    if (state[T.version] !== STATE_VERSION)
      throw new RangeError(`unknown TradeAccumulator state version ${state[T.version]}`);
    const count = state[T.count] as number;
    if (!(Number.isInteger(count) && count >= 0))
      throw new RangeError(`malformed count ${count} in a TradeAccumulator state`);
    const accumulator = new TradeAccumulator();
    accumulator.s.set(state);
    return accumulator;
  }
}

/** Winning trades / all trades (pnl > 0 wins); NaN for no trades. */
export function winRate(pnls: ArrayLike<number>): number {
  let wins = 0;
  for (let i = 0; i < pnls.length; i++) {
    const pnl = pnls[i] as number;
    checkPnl(pnl);
    if (pnl > 0) wins++;
  }
  return winRateOf(pnls.length, wins);
}

/** Gross profit / gross loss; +∞ with no losing trade, NaN for no trades or only break-even ones. */
export function profitFactor(pnls: ArrayLike<number>): number {
  const sums = new Float64Array(4);
  for (let i = 0; i < pnls.length; i++) {
    const pnl = pnls[i] as number;
    checkPnl(pnl);
    if (pnl > 0) addCompensated(sums, 0, pnl);
    else if (pnl < 0) addCompensated(sums, 2, -pnl);
  }
  return profitFactorOf(pnls.length, compensatedValue(sums, 0), compensatedValue(sums, 2));
}
