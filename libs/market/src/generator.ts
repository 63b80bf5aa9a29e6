/**
 * A seeded synthetic market for discovery's tests: bars of several symbols on several venues,
 * regimes that switch, and either nothing to find (`"random-walk"`) or planted patterns with a
 * known edge (planted.ts). The model, bar j of series s (σ per bar, from the regime):
 *
 *   r_sj = σ_sj·(β_s·f_j + √(1 − β_s²)·e_sj) + planted edge,   close_sj = close_s,j−1·(1 + r_sj)
 *
 * f (a market factor) and e are i.i.d. standard normal, so returns are independent over time and
 * correlated across symbols only within a bar. All randomness is drawn before any price is
 * written, from streams split by purpose, so the same seed gives the same noise with and without
 * planted patterns: a planted market is the random walk of its seed plus the edges.
 */
import { BarSeries, seriesKey } from "./bars.js";
import { DAY_MS, type TradingCalendar, tradingTimes } from "./calendar.js";
import {
  type ActiveIn,
  describePattern,
  draftPatterns,
  edgeFor,
  edgeMoments,
  expectedSharpeOf,
  type PatternDraft,
  type PatternKind,
  PatternKinds,
  type PlantedPattern,
} from "./planted.js";
import { seededNormal, seededUniform } from "./random.js";
import { RuleStepper, type VenueFees } from "./rules.js";

/**
 * Regimes as codes: bit 0 set = volatile, bit 1 set = ranging (else trending). Volatility and
 * trend switch independently. Volatile bars have `volatileMultiplier` times the calm volatility
 * (and more volume, wider spreads). The trend half only matters to planted momentum, whose edge
 * is there in trending regimes alone: in a random walk it is a label with nothing behind it.
 */
export const Regimes = { calmTrending: 0, volatileTrending: 1, calmRanging: 2, volatileRanging: 3 } as const;
/** A regime code, 0…3. */
export type Regime = (typeof Regimes)[keyof typeof Regimes];
/** Names of the regime codes, by code. */
export const REGIME_NAMES = ["calm-trending", "volatile-trending", "calm-ranging", "volatile-ranging"] as const;

/** Whether regime code `regime` is volatile. */
export function isVolatile(regime: number): boolean {
  return (regime & 1) === 1;
}

/** Whether regime code `regime` is trending (else ranging). */
export function isTrending(regime: number): boolean {
  return (regime & 2) === 0;
}

/** Options of `generateMarket`; every field has a default. */
export interface MarketOptions {
  /** Default 1. */
  seed?: number;
  /** Bars per series, default 10,000. */
  bars?: number;
  /** Symbol names, or how many (named AAA, BBB, …); default 6. Symbol k trades on venue k mod venues. */
  symbols?: number | string[];
  /** Default ["V1", "V2", "V3"]. */
  venues?: string[];
  /**
   * Bar length in ms: one day (one bar per trading day, at 00:00 UTC; the default) or a divisor of
   * the session (intraday bars, with hour-of-day patterns). Daily is the default because 10,000
   * bars of it give a Sharpe-2 pattern t ≈ 12; 10,000 hourly bars give t ≈ 4.8 ± 1.
   */
  barMs?: number;
  /** First trading day (its time of day is ignored), ms UTC; default 2020-01-06, a Monday. */
  start?: number;
  /** UTC hours [open, close) of intraday bars; default [14, 21]: seven hourly bars a day. Unused for daily bars. */
  session?: [number, number];
  /** Weekdays with bars (0 = Sunday); default Monday to Friday. */
  weekdays?: number[];
  /** "random-walk" (nothing to find) or "planted"; default "planted" when `planted` is given, else "random-walk". */
  mode?: "random-walk" | "planted";
  /** How many patterns to plant (kinds taken in `PatternKinds` order, cycling) or which kinds; default 5, one of each. */
  planted?: number | PatternKind[];
  /** Range of the planted rules' annualised Sharpe ratios before costs; default [1.5, 2.5]. */
  sharpe?: [number, number];
  /** Annualised volatility of a typical symbol in calm regimes; default 0.16 (each symbol ×0.8…1.4). */
  volatility?: number;
  /** Volatile regimes' volatility over calm ones'; default 2.5. */
  volatileMultiplier?: number;
  /** Mean regime durations in bars (geometric); default calm 70, volatile 30, trending and ranging 120 trading days. */
  durations?: { calm?: number; volatile?: number; trending?: number; ranging?: number };
  /** Fees per venue; default venue k: fee 0.5·(k + 1) bp, slippage 0.5 + 0.25·k bp. */
  fees?: Record<string, VenueFees>;
}

/** A generated market and the truth about it. */
export interface SyntheticMarket {
  /** One series per symbol, all on one time grid, in symbol order. */
  series: BarSeries[];
  /** The true regime code of each bar (`Regimes`). */
  regimes: Int8Array;
  /** The patterns hidden in it (none in a random walk). */
  planted: PlantedPattern[];
  /** Trading costs per venue. */
  fees: Record<string, VenueFees>;
  /** The true per-bar volatility of each series' return (σ_sj), by series. */
  volatility: Float64Array[];
  /** Bars per trading day. */
  barsPerDay: number;
  /** 252 trading days of `barsPerDay` bars: the annualisation factor of Sharpe ratios on these bars. */
  periodsPerYear: number;
}

/** Two independent two-state chains (volatility, trend) with geometric durations, started from their stationary laws. */
function regimePath(n: number, durations: Required<NonNullable<MarketOptions["durations"]>>, next: () => number) {
  const regimes = new Int8Array(n);
  const leave = [1 / durations.calm, 1 / durations.volatile, 1 / durations.trending, 1 / durations.ranging];
  let volatile = next() < durations.volatile / (durations.calm + durations.volatile) ? 1 : 0;
  let ranging = next() < durations.ranging / (durations.trending + durations.ranging) ? 1 : 0;
  for (let j = 0; j < n; j++) {
    if (j > 0) {
      if (next() < (leave[volatile] as number)) volatile ^= 1;
      if (next() < (leave[2 + ranging] as number)) ranging ^= 1;
    }
    regimes[j] = volatile | (ranging << 1);
  }
  return regimes;
}

function symbolNames(symbols: number | string[]): string[] {
  if (Array.isArray(symbols)) return symbols;
  return Array.from({ length: symbols }, (_, k) => (k < 26 ? String.fromCharCode(65 + k).repeat(3) : `S${k}`));
}

/** Noise drawn once per market, so calibration passes and the final one see the same. */
interface Noise {
  factor: Float64Array;
  idiosyncratic: Float64Array[];
  range: Float64Array[];
  volume: Float64Array[];
  spread: Float64Array[];
}

/**
 * A synthetic market, the same for the same options (module doc for the model; planted.ts for
 * the patterns). A planted pattern's edge is sized in two calibration passes so its expected
 * Sharpe ratio lands near its drawn target, then stated exactly for the final prices.
 */
export function generateMarket(options: MarketOptions = {}): SyntheticMarket {
  const seed = options.seed ?? 1;
  const n = options.bars ?? 10_000;
  if (!(Number.isInteger(n) && n >= 2)) throw new RangeError("bars must be an integer ≥ 2");
  const names = symbolNames(options.symbols ?? 6);
  const venues = options.venues ?? ["V1", "V2", "V3"];
  if (names.length === 0 || venues.length === 0) throw new RangeError("a market needs symbols and venues");
  const mode = options.mode ?? (options.planted === undefined ? "random-walk" : "planted");
  const kinds = mode === "random-walk" ? [] : plantedKinds(options.planted ?? PatternKinds.length);
  const asked = options.planted;
  if (mode === "random-walk" && (Array.isArray(asked) ? asked.length > 0 : (asked ?? 0) > 0)) {
    throw new RangeError('a random walk has nothing planted: drop `planted` or use mode "planted"');
  }
  const calendar = tradingTimes(
    n,
    options.start ?? Date.UTC(2020, 0, 6),
    options.barMs ?? DAY_MS,
    options.session ?? [14, 21],
    options.weekdays ?? [1, 2, 3, 4, 5],
  );
  const periodsPerYear = 252 * calendar.barsPerDay;
  const days = calendar.barsPerDay;
  const durations = {
    calm: 70 * days,
    volatile: 30 * days,
    trending: 120 * days,
    ranging: 120 * days,
    ...options.durations,
  };
  const volatileMultiplier = options.volatileMultiplier ?? 2.5;
  const fees = options.fees ?? Object.fromEntries(venues.map((v, k) => [v, defaultFees(k)]));
  const venueOf = names.map((_, k) => venues[k % venues.length] as string);
  for (const venue of venueOf) if (fees[venue] === undefined) throw new RangeError(`no fees for venue ${venue}`);
  const keys = names.map((name, k) => seriesKey(name, venueOf[k] as string));
  const S = names.length;

  // Streams split by purpose: the noise does not depend on how many patterns are drawn.
  const regimes = regimePath(n, durations, seededUniform(seed));
  const traits = seededUniform(seed + 0x51ed27);
  const baseVol = (options.volatility ?? 0.16) / Math.sqrt(periodsPerYear);
  const symbolsTraits = names.map(() => ({
    vol: baseVol * (0.8 + 0.6 * traits()),
    beta: 0.3 + 0.4 * traits(),
    price: 20 + 180 * traits(),
    // Traded value a day (price × shares), so that a symbol's dollar volume does not drift with its price.
    value: 50_000_000 * (0.5 + 2 * traits()),
    spread: 0.8 + 0.6 * traits(),
  }));
  const noise = drawNoise(n, S, seededNormal(seededUniform(seed + 0x2545f491)));
  const sigma = symbolsTraits.map(({ vol }) => {
    const s = new Float64Array(n);
    for (let j = 0; j < n; j++) s[j] = isVolatile(regimes[j] as number) ? vol * volatileMultiplier : vol;
    return s;
  });

  const drafts = draftPatterns(
    kinds,
    keys,
    calendar.slots,
    options.sharpe ?? [1.5, 2.5],
    seededUniform(seed + 0x3c6ef372),
  );
  const active = drafts.map((d) => activeMask(regimes, d.activeIn));
  const targetOf = new Int32Array(S).fill(-1);
  for (const [p, d] of drafts.entries()) targetOf[d.target] = p;
  const simulate = (edges: number[]) => {
    const closes = symbolsTraits.map(({ price }) => {
      const c = new Float64Array(n);
      c[0] = price;
      return c;
    });
    const positions = drafts.map(() => new Float64Array(n));
    const steppers = drafts.map((d) => new RuleStepper(d.rule));
    for (let j = 0; j < n; j++) {
      for (let p = 0; p < drafts.length; p++) {
        const source = closes[(drafts[p] as PatternDraft).source] as Float64Array;
        (positions[p] as Float64Array)[j] = (steppers[p] as RuleStepper).positionAt(j, source, calendar.t);
      }
      if (j === 0) continue;
      const f = noise.factor[j] as number;
      for (let s = 0; s < S; s++) {
        const { beta } = symbolsTraits[s] as { beta: number };
        const vol = (sigma[s] as Float64Array)[j] as number;
        let r = vol * (beta * f + Math.sqrt(1 - beta * beta) * ((noise.idiosyncratic[s] as Float64Array)[j] as number));
        const p = targetOf[s] as number;
        if (p >= 0 && (active[p] as Uint8Array)[j] === 1)
          r += (edges[p] as number) * vol * ((positions[p] as Float64Array)[j] as number);
        // Never reached at these volatilities; it keeps a price positive whatever the options.
        if (r < -0.9) r = -0.9;
        const close = closes[s] as Float64Array;
        close[j] = (close[j - 1] as number) * (1 + r);
      }
    }
    return { closes, positions };
  };

  const edges = drafts.map(() => 0);
  for (let pass = 0; pass < 2 && drafts.length > 0; pass++) {
    const { positions } = simulate(edges);
    for (const [p, d] of drafts.entries()) {
      const moments = edgeMoments(
        positions[p] as Float64Array,
        sigma[d.target] as Float64Array,
        active[p] as Uint8Array,
      );
      edges[p] = edgeFor(d.targetSharpe / Math.sqrt(periodsPerYear), moments);
    }
  }
  const { closes, positions } = simulate(edges);
  const series = closes.map((close, s) =>
    buildSeries(
      names[s] as string,
      venueOf[s] as string,
      close,
      s,
      calendar,
      regimes,
      noise,
      sigma[s] as Float64Array,
      {
        value: (symbolsTraits[s] as { value: number }).value,
        spread: (symbolsTraits[s] as { spread: number }).spread * (2 + venues.indexOf(venueOf[s] as string)),
      },
    ),
  );
  const planted = drafts.map((d, p): PlantedPattern => {
    const target = series[d.target] as BarSeries;
    const pos = positions[p] as Float64Array;
    const fee = fees[target.venue] as VenueFees;
    const costs = new Float64Array(n);
    for (let j = 1; j < n; j++) {
      const change = Math.abs((pos[j] as number) - (pos[j - 1] as number));
      costs[j] = change * ((fee.feeBps + fee.slippageBps) / 10_000 + (target.spread[j - 1] as number) / 2);
    }
    const vol = sigma[d.target] as Float64Array;
    const mask = active[p] as Uint8Array;
    const edge = edges[p] as number;
    return {
      id: `P${p + 1}`,
      kind: d.kind,
      symbol: target.symbol,
      venue: target.venue,
      description: describePattern(d, edge),
      rule: d.rule,
      activeIn: d.activeIn,
      edge,
      targetSharpe: d.targetSharpe,
      expectedSharpe: expectedSharpeOf(pos, vol, mask, edge, periodsPerYear),
      expectedNetSharpe: expectedSharpeOf(pos, vol, mask, edge, periodsPerYear, costs),
    };
  });
  return { series, regimes, planted, fees, volatility: sigma, barsPerDay: calendar.barsPerDay, periodsPerYear };
}

function plantedKinds(planted: number | PatternKind[]): PatternKind[] {
  if (Array.isArray(planted)) {
    for (const kind of planted) if (!PatternKinds.includes(kind)) throw new RangeError(`unknown pattern kind ${kind}`);
    return planted;
  }
  if (!(Number.isInteger(planted) && planted >= 0)) throw new RangeError("planted must be an integer ≥ 0");
  return Array.from({ length: planted }, (_, p) => PatternKinds[p % PatternKinds.length] as PatternKind);
}

function defaultFees(k: number): VenueFees {
  return { feeBps: 0.5 * (k + 1), slippageBps: 0.5 + 0.25 * k };
}

function activeMask(regimes: Int8Array, activeIn: ActiveIn): Uint8Array {
  const mask = new Uint8Array(regimes.length);
  for (let j = 0; j < regimes.length; j++) mask[j] = activeIn === "always" || isTrending(regimes[j] as number) ? 1 : 0;
  return mask;
}

function drawNoise(n: number, S: number, normal: () => number): Noise {
  const noise: Noise = { factor: new Float64Array(n), idiosyncratic: [], range: [], volume: [], spread: [] };
  for (let s = 0; s < S; s++) {
    noise.idiosyncratic.push(new Float64Array(n));
    noise.range.push(new Float64Array(2 * n));
    noise.volume.push(new Float64Array(n));
    noise.spread.push(new Float64Array(n));
  }
  for (let j = 0; j < n; j++) {
    noise.factor[j] = normal();
    for (let s = 0; s < S; s++) {
      (noise.idiosyncratic[s] as Float64Array)[j] = normal();
      (noise.range[s] as Float64Array)[2 * j] = normal();
      (noise.range[s] as Float64Array)[2 * j + 1] = normal();
      (noise.volume[s] as Float64Array)[j] = normal();
      (noise.spread[s] as Float64Array)[j] = normal();
    }
  }
  return noise;
}

/**
 * The bars around the closes: open = the previous close; high and low beyond them by half a
 * bar's volatility times |normal|; volume log-normal around the symbol's traded value a day (shares =
 * value / price, so dollar volume does not drift with the price), higher at the
 * session's ends, in volatile regimes and on big moves; the relative spread log-normal around
 * `spreadBps` (the venue's and the symbol's), wider in volatile regimes. None of these carries an edge.
 */
function buildSeries(
  symbol: string,
  venue: string,
  close: Float64Array,
  s: number,
  calendar: TradingCalendar,
  regimes: Int8Array,
  noise: Noise,
  sigma: Float64Array,
  level: { value: number; spread: number },
): BarSeries {
  const n = close.length;
  const open = new Float64Array(n);
  const high = new Float64Array(n);
  const low = new Float64Array(n);
  const volume = new Float64Array(n);
  const spread = new Float64Array(n);
  const range = noise.range[s] as Float64Array;
  const vn = noise.volume[s] as Float64Array;
  const sn = noise.spread[s] as Float64Array;
  const perDay = calendar.barsPerDay;
  for (let j = 0; j < n; j++) {
    const c = close[j] as number;
    const o = j === 0 ? c : (close[j - 1] as number);
    const vol = sigma[j] as number;
    open[j] = o;
    high[j] = Math.max(o, c) * (1 + 0.5 * vol * Math.abs(range[2 * j] as number));
    low[j] = Math.min(o, c) * Math.max(0.5, 1 - 0.5 * vol * Math.abs(range[2 * j + 1] as number));
    const volatile = isVolatile(regimes[j] as number);
    // A U-shaped day: busiest at the open and the close.
    const x = perDay > 1 ? ((j % perDay) / (perDay - 1)) * 2 - 1 : 0;
    const move = j === 0 ? 0 : Math.abs(c / o - 1) / vol;
    volume[j] = Math.round(
      (level.value / perDay / c) *
        (1 + 0.8 * x * x) *
        (volatile ? 1.6 : 1) *
        Math.exp(0.3 * (vn[j] as number)) *
        (1 + 0.3 * move),
    );
    spread[j] = (level.spread / 10_000) * (volatile ? 1.8 : 1) * Math.exp(0.2 * (sn[j] as number));
  }
  return new BarSeries(symbol, venue, { t: calendar.t, open, high, low, close, volume, spread });
}
