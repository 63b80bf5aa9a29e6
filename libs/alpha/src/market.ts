/**
 * The input every expression is evaluated on: aligned bars of several assets. Defined here, as
 * plain typed-array columns, so this library needs nothing from whoever produces the bars.
 */

/** One asset's bars, each column aligned with {@link Market.t}. NaN marks a missing value. */
export interface AssetBars {
  readonly name: string;
  readonly open: Float64Array;
  readonly high: Float64Array;
  readonly low: Float64Array;
  readonly close: Float64Array;
  readonly volume: Float64Array;
}

/**
 * Aligned bars: bar i of every asset covers the same interval. `t[i]` is the bar's time in
 * integer milliseconds since the Unix epoch (UTC); the calendar terms read it.
 */
export interface Market {
  readonly length: number;
  readonly t: Float64Array;
  readonly assets: readonly AssetBars[];
}

/** The price and volume columns of an asset, as the operators name them. */
export const FIELDS = ["open", "high", "low", "close", "volume"] as const;
/** One of {@link FIELDS}. */
export type Field = (typeof FIELDS)[number];

/** Largest |t| a JavaScript Date accepts (ECMA-262 TimeClip), so calendar terms agree with Date. */
const MAX_TIME = 8.64e15;

const checked = new WeakSet<Market>();

/**
 * Throws a RangeError unless `market` is usable: every column `length` long, times integer
 * milliseconds within the Date range, values finite or NaN (an infinity would poison every
 * running sum after it), asset names non-empty and distinct. A market that passed is remembered
 * by identity and not scanned again: change its arrays afterwards and the check is yours.
 */
export function checkMarket(market: Market): void {
  if (checked.has(market)) return;
  const n = market.length;
  if (!(Number.isSafeInteger(n) && n >= 0)) throw new RangeError(`market.length must be a count, got ${n}`);
  if (!(market.t instanceof Float64Array) || market.t.length !== n) {
    throw new RangeError(`market.t must be a Float64Array of length ${n}`);
  }
  for (let i = 0; i < n; i++) {
    const t = market.t[i] as number;
    if (!(Number.isInteger(t) && Math.abs(t) <= MAX_TIME)) {
      throw new RangeError(`market.t[${i}] must be integer milliseconds within the Date range, got ${t}`);
    }
  }
  const names = new Set<string>();
  market.assets.forEach((asset, a) => {
    if (!(typeof asset.name === "string" && asset.name.length > 0)) {
      throw new RangeError(`market.assets[${a}].name must be a non-empty string`);
    }
    if (names.has(asset.name)) throw new RangeError(`market.assets[${a}].name ${asset.name} is not unique`);
    names.add(asset.name);
    for (const field of FIELDS) {
      const column = asset[field];
      if (!(column instanceof Float64Array) || column.length !== n) {
        throw new RangeError(`market.assets[${a}].${field} must be a Float64Array of length ${n}`);
      }
      for (let i = 0; i < n; i++) {
        const v = column[i] as number;
        if (v === Number.POSITIVE_INFINITY || v === Number.NEGATIVE_INFINITY) {
          throw new RangeError(`market.assets[${a}].${field}[${i}] is infinite (use NaN for a missing value)`);
        }
      }
    }
  });
  checked.add(market);
}

/** The bars of the named asset; a RangeError naming the asset when the market has none. */
export function assetOf(market: Market, name: string): AssetBars {
  for (const asset of market.assets) if (asset.name === name) return asset;
  throw new RangeError(`the market has no asset ${name} (it has ${market.assets.map((a) => a.name).join(", ")})`);
}

/**
 * Close-to-close simple returns of an asset, aligned with the bars: r[i] = close[i]/close[i−1] − 1,
 * NaN at bar 0 and wherever a close is missing or zero. The same numbers as `returns(asset)`.
 */
export function assetReturns(market: Market, name: string): Float64Array {
  checkMarket(market);
  const close = assetOf(market, name).close;
  const r = new Float64Array(market.length);
  r[0] = Number.NaN;
  for (let i = 1; i < market.length; i++) {
    const v = (close[i] as number) / (close[i - 1] as number) - 1;
    r[i] = v - v === 0 ? v : Number.NaN;
  }
  return r;
}
