/**
 * What a person types for discovery, read into what the wire takes: a run's
 * budget (`90s`, `10m`, `1h` or milliseconds), a list of symbols, and series
 * names mapped onto the names the market-data stream allows.
 */
import { DiscoveryLimits, MARKET_NAME_PATTERN } from "@stratreg/protocol";
import { InvalidArgumentError } from "commander";

const UNITS_MS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, min: 60_000, h: 3_600_000 };
const BUDGET = /^(\d+(?:\.\d+)?)\s*(ms|s|m|min|h)?$/i;
const MARKET_NAME = new RegExp(MARKET_NAME_PATTERN);

/**
 * A run's budget in ms: `90s`, `10m` (or `10min`), `1h`, `1.5h`, `250ms`, or a
 * bare number of ms; between 1 s and a day, as a run takes it.
 */
export function parseBudget(raw: string): number {
  const match = BUDGET.exec(raw.trim());
  if (match === null) {
    throw new InvalidArgumentError(
      `expected a duration such as 90s, 10m, 1h or milliseconds, got ${JSON.stringify(raw)}`,
    );
  }
  const unit = UNITS_MS[(match[2] ?? "ms").toLowerCase()] as number;
  const ms = Math.round(Number(match[1]) * unit);
  if (ms < 1000 || ms > DiscoveryLimits.budgetMsMax) {
    throw new InvalidArgumentError(`a run's budget must be between 1s and 24h, got ${raw}`);
  }
  return ms;
}

/**
 * A symbol or venue as the market-data stream names it: every character
 * other than letters, digits, `_` and `-` becomes `_` (`BRK.B` → `BRK_B`, as
 * dots separate subject tokens); undefined when even that is no name (empty,
 * longer than 32, or not starting with a letter or digit).
 */
export function marketName(raw: string): string | undefined {
  const name = raw.trim().replace(/[^A-Za-z0-9_-]/g, "_");
  return MARKET_NAME.test(name) ? name : undefined;
}

/** `--symbols A,B`: names mapped as {@link marketName}, duplicates dropped, at most `DiscoveryLimits.symbolsMax`. */
export function parseSymbols(raw: string): string[] {
  const symbols: string[] = [];
  for (const part of raw.split(",")) {
    if (part.trim() === "") continue;
    const name = marketName(part);
    if (name === undefined) {
      throw new InvalidArgumentError(
        `${JSON.stringify(part.trim())} is no symbol name (1-32 letters, digits, _ or -, starting with a letter or digit)`,
      );
    }
    if (!symbols.includes(name)) symbols.push(name);
  }
  if (symbols.length === 0) throw new InvalidArgumentError("expected symbols separated by commas, such as BTC,ETH");
  if (symbols.length > DiscoveryLimits.symbolsMax) {
    throw new InvalidArgumentError(`at most ${DiscoveryLimits.symbolsMax} symbols per run, got ${symbols.length}`);
  }
  return symbols;
}

/** A name for `--symbol`/`--venue` of `data import`: a market name, or an error saying what one is. */
export function parseMarketName(raw: string): string {
  const name = marketName(raw);
  if (name === undefined) {
    throw new InvalidArgumentError(
      `${JSON.stringify(raw)} is no series name (1-32 letters, digits, _ or -, starting with a letter or digit)`,
    );
  }
  return name;
}
