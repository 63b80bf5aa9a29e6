/**
 * Time of bars: every time is milliseconds since the epoch, UTC, and names a bar's open.
 * Hour of day and day of week are read in UTC so a series means the same thing on every machine.
 */

/** Milliseconds in an hour. */
export const HOUR_MS = 3_600_000;
/** Milliseconds in a day. */
export const DAY_MS = 86_400_000;

/** The UTC hour (0–23) in which the bar opening at `t` opens. */
export function hourOfDay(t: number): number {
  // Floor division that stays right before 1970 as well.
  const ms = ((t % DAY_MS) + DAY_MS) % DAY_MS;
  return Math.floor(ms / HOUR_MS);
}

/** The UTC day of the week (0 = Sunday … 6 = Saturday, as `Date.getUTCDay`) of the bar opening at `t`. */
export function dayOfWeek(t: number): number {
  // 1970-01-01 was a Thursday (4).
  const days = Math.floor(t / DAY_MS);
  return (((days + 4) % 7) + 7) % 7;
}

/** Where a calendar pattern may sit. */
export interface CalendarSlots {
  /** True for one bar a day: the calendar pattern is then a weekday. */
  daily: boolean;
  /** UTC hours in which bars open. */
  hours: number[];
  /** Weekdays with bars. */
  weekdays: number[];
}

/** Bar open times of a synthetic market and what its calendar allows. */
export interface TradingCalendar {
  t: Float64Array;
  barsPerDay: number;
  slots: CalendarSlots;
}

/**
 * `bars` bar open times over the trading days from `start` (its time of day ignored): on each of
 * `weekdays`, bars of `barMs` from session[0] to session[1] (UTC hours), or one bar at 00:00 UTC
 * when `barMs` is a day. No holidays.
 */
export function tradingTimes(
  bars: number,
  start: number,
  barMs: number,
  session: [number, number],
  weekdays: number[],
): TradingCalendar {
  const daily = barMs === DAY_MS;
  const sessionMs = (session[1] - session[0]) * HOUR_MS;
  if (!daily && !(barMs > 0 && sessionMs > 0 && sessionMs % barMs === 0 && session[0] >= 0 && session[1] <= 24)) {
    throw new RangeError(`barMs ${barMs} must divide the session ${session[0]}–${session[1]} h, or be one day`);
  }
  if (weekdays.length === 0 || !weekdays.every((d) => Number.isInteger(d) && d >= 0 && d <= 6)) {
    throw new RangeError(`weekdays must be some of 0 (Sunday) … 6, got [${weekdays.join(", ")}]`);
  }
  const barsPerDay = daily ? 1 : sessionMs / barMs;
  const t = new Float64Array(bars);
  let day = Math.floor(start / DAY_MS) * DAY_MS;
  let i = 0;
  while (i < bars) {
    if (weekdays.includes(dayOfWeek(day))) {
      for (let k = 0; k < barsPerDay && i < bars; k++) t[i++] = daily ? day : day + session[0] * HOUR_MS + k * barMs;
    }
    day += DAY_MS;
  }
  const hours = [...new Set(Array.from(t.subarray(0, barsPerDay), hourOfDay))];
  return { t, barsPerDay, slots: { daily, hours, weekdays: [...weekdays].sort() } } satisfies TradingCalendar;
}
