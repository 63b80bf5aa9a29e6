/**
 * The compounded wealth path V_t = Π(1 + r_i), V_0 = 1, followed one return at a time in six
 * slots of a Float64Array: the accumulator keeps them in its state, a batch pass in a scratch
 * array, and both run this one step, so drawdowns agree bit for bit.
 *
 * Wealth is kept as log V (a compensated sum of log1p(r)): 10,000 large returns overflow a
 * product of doubles but not its logarithm, and drawdowns of tiny returns keep their digits.
 */
import { addCompensated, compensatedValue } from "./sums.js";

/** Slot offsets from the start of the wealth block. */
export const WealthSlots = {
  logWealth: 0, // and its compensation at +1
  logPeak: 2,
  maxDrawdown: 3,
  underwater: 4,
  maxUnderwater: 5,
} as const;

/** How many slots the wealth block takes. */
export const WEALTH_SLOTS = 6;

/**
 * Moves the wealth path by one return. A return of −1 ruins the account (log V = −∞, drawdown
 * −1 from then on); a return below −1 makes wealth negative, its logarithm NaN, and every
 * wealth metric NaN from then on.
 */
export function stepWealth(slots: Float64Array, at: number, r: number): void {
  addCompensated(slots, at + WealthSlots.logWealth, Math.log1p(r));
  const logWealth = compensatedValue(slots, at + WealthSlots.logWealth);
  const logPeak = slots[at + WealthSlots.logPeak] as number;
  if (logWealth >= logPeak) {
    // At or above the previous peak: not under water.
    slots[at + WealthSlots.logPeak] = logWealth;
    slots[at + WealthSlots.underwater] = 0;
    return;
  }
  const underwater = (slots[at + WealthSlots.underwater] as number) + 1;
  slots[at + WealthSlots.underwater] = underwater;
  if (underwater > (slots[at + WealthSlots.maxUnderwater] as number))
    slots[at + WealthSlots.maxUnderwater] = underwater;
  // V/peak − 1 = exp(log V − log peak) − 1, with expm1 keeping small drawdowns exact.
  const drawdown = Math.expm1(logWealth - logPeak);
  if (drawdown < (slots[at + WealthSlots.maxDrawdown] as number)) slots[at + WealthSlots.maxDrawdown] = drawdown;
}

/** The log of final wealth log V_n (0 before any return). */
export function logWealthOf(slots: Float64Array, at: number): number {
  return compensatedValue(slots, at + WealthSlots.logWealth);
}
