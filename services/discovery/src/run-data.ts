/**
 * The bars a run takes: the series of the symbols asked for (every symbol held when none are),
 * aligned on the times they all have, refused at once when they cannot make a run.
 */
import { align, type MarketData } from "@stratreg/market";
import { ErrorCodes, NotFoundError, ValidationError } from "@stratreg/protocol";
import type { BarStore } from "./store/bars.js";

/** Fewest aligned bars a run takes: each of its four quarters (train is two) has at least 100. */
export const MIN_RUN_BARS = 400;

/**
 * The aligned bars of `symbols` (every symbol held when undefined). NOT_FOUND for a symbol without
 * bars (`details.missing`) or when nothing is held; INVALID_FIELD when the series share fewer than
 * {@link MIN_RUN_BARS} bar times.
 */
export function runData(bars: BarStore, symbols: readonly string[] | undefined): MarketData {
  const series = bars.select(symbols);
  const held = new Set(series.map((s) => s.symbol));
  const missing = (symbols ?? []).filter((symbol) => !held.has(symbol));
  if (series.length === 0 || missing.length > 0) {
    throw new NotFoundError(
      series.length === 0 && symbols === undefined
        ? "no market data held: import bars first"
        : `no bars of ${missing.join(", ")}`,
      { field: "body.symbols", details: { missing } },
    );
  }
  const data = align(series);
  if (data.t.length < MIN_RUN_BARS) {
    throw new ValidationError(
      ErrorCodes.InvalidField,
      `the series share ${data.t.length} bar times, fewer than the ${MIN_RUN_BARS} a run splits into train, validation and test`,
      { field: "body.symbols", details: { bars: data.t.length, needed: MIN_RUN_BARS } },
    );
  }
  return data;
}
