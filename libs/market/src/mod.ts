/**
 * @stratreg/market: market data for discovery, as pure functions over typed arrays with no I/O.
 * Bars and columnar series, alignment on a common time grid, and CSV import.
 * @module
 */

export { type AlignOptions, type AlignPolicy, align, type MarketData } from "./align.js";
export { type Bar, type BarColumns, BarSeries, seriesFromBars, seriesKey } from "./bars.js";
export {
  CSV_OPTIONAL_COLUMNS,
  CSV_REQUIRED_COLUMNS,
  type CsvOptions,
  type CsvProblem,
  type ParsedBars,
  parseBarsCsv,
} from "./csv.js";
