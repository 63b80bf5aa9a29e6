/**
 * The market the miner evaluates candidates on, in the shape the expression language reads
 * (@stratreg/alpha's `Market`), made from aligned bars (@stratreg/market's `MarketData`); and the
 * same market laid out in one SharedArrayBuffer, so that every worker of the evaluation pool reads
 * the one copy in place instead of receiving its own.
 */
import { type AssetBars, checkMarket, FIELDS, type Field, type Market } from "@stratreg/alpha";
import type { MarketData } from "@stratreg/market";

/**
 * The expression language's market over aligned series (`align`'s result), sharing their columns
 * (nothing is copied). Assets are named by symbol when no symbol trades on two venues, so patterns
 * read `close(BTC)`; otherwise every asset is named by its `symbol@venue` key, so that one rule
 * names them all and no two collide. A RangeError when a series is not on the grid.
 */
export function marketFromData(data: MarketData): Market {
  const n = data.t.length;
  const symbols = data.series.map((s) => s.symbol);
  const bySymbol = new Set(symbols).size === symbols.length;
  const assets: AssetBars[] = data.series.map((series, j) => {
    if (series.length !== n) {
      throw new RangeError(`series ${series.key} has ${series.length} bars, the grid ${n}: align the series first`);
    }
    return {
      name: bySymbol ? series.symbol : (data.keys[j] ?? series.key),
      open: series.open,
      high: series.high,
      low: series.low,
      close: series.close,
      volume: series.volume,
    };
  });
  const market: Market = { length: n, t: data.t, assets };
  checkMarket(market);
  return market;
}

/**
 * Bars [from, to) of a market (negative indices are not accepted), as views on its columns: a
 * training window costs nothing to cut. A RangeError for a window outside the market.
 */
export function marketWindow(market: Market, from: number, to: number): Market {
  if (!(Number.isInteger(from) && Number.isInteger(to) && 0 <= from && from <= to && to <= market.length)) {
    throw new RangeError(`window [${from}, ${to}) is not within a market of ${market.length} bars`);
  }
  return {
    length: to - from,
    t: market.t.subarray(from, to),
    assets: market.assets.map((a) => ({
      name: a.name,
      open: a.open.subarray(from, to),
      high: a.high.subarray(from, to),
      low: a.low.subarray(from, to),
      close: a.close.subarray(from, to),
      volume: a.volume.subarray(from, to),
    })),
  };
}

/**
 * A market in shared memory: plain data that structured cloning (a worker's `workerData`) passes
 * by reference, so any number of threads read one copy of the bars.
 */
export interface SharedMarket {
  /** Bars per column. */
  readonly length: number;
  /** Asset names, in the order of their columns. */
  readonly names: readonly string[];
  /** `t`, then open, high, low, close and volume of each asset in turn; `length` doubles each. */
  readonly buffer: SharedArrayBuffer;
}

/** Copies a market's columns into one SharedArrayBuffer (once; RangeError for a market `checkMarket` refuses). */
export function shareMarket(market: Market): SharedMarket {
  checkMarket(market);
  const n = market.length;
  const buffer = new SharedArrayBuffer(Float64Array.BYTES_PER_ELEMENT * n * (1 + FIELDS.length * market.assets.length));
  const columns = columnsOf(buffer, n, market.assets.length);
  columns[0]?.set(market.t);
  for (const [a, asset] of market.assets.entries()) {
    for (const [f, field] of FIELDS.entries()) columns[1 + a * FIELDS.length + f]?.set(asset[field]);
  }
  return { length: n, names: market.assets.map((asset) => asset.name), buffer };
}

/** The market over a shared buffer: views, no copy. A RangeError when the buffer does not fit the names and length. */
export function marketFromShared(shared: SharedMarket): Market {
  const { length: n, names, buffer } = shared;
  const expected = Float64Array.BYTES_PER_ELEMENT * n * (1 + FIELDS.length * names.length);
  if (!(Number.isSafeInteger(n) && n >= 0 && buffer.byteLength === expected)) {
    throw new RangeError(`a shared market of ${names.length} assets × ${n} bars needs ${expected} bytes`);
  }
  const columns = columnsOf(buffer, n, names.length);
  const column = (i: number): Float64Array => columns[i] as Float64Array;
  const assets: AssetBars[] = names.map((name, a) => {
    const at = 1 + a * FIELDS.length;
    const field = (which: Field) => column(at + FIELDS.indexOf(which));
    return {
      name,
      open: field("open"),
      high: field("high"),
      low: field("low"),
      close: field("close"),
      volume: field("volume"),
    };
  });
  const market: Market = { length: n, t: column(0), assets };
  checkMarket(market);
  return market;
}

function columnsOf(buffer: SharedArrayBuffer, n: number, assets: number): Float64Array[] {
  return Array.from(
    { length: 1 + FIELDS.length * assets },
    (_, i) => new Float64Array(buffer, i * n * Float64Array.BYTES_PER_ELEMENT, n),
  );
}
