/**
 * The synthetic market: deterministic per seed, a random walk with nothing to find, and planted
 * patterns whose ideal rules earn what the generator says they will.
 *
 * Tolerances are in standard errors of an annualised Sharpe ratio estimated from n returns
 * when the per-period Sharpe ratio is small, SE = √(A/n): 0.42 on the default 10,000 hourly
 * bars (A = 1,764), 0.16 on 10,000 daily ones. The seeds are fixed, so each test gives the same
 * answer every run; the bounds are wide enough that another seed would pass too.
 */
import { correlation } from "@stratreg/quant";
import { describe, expect, test } from "vitest";
import type { BarSeries } from "./bars.js";
import { DAY_MS, dayOfWeek, HOUR_MS, hourOfDay } from "./calendar.js";
import { generateMarket, isTrending, isVolatile, REGIME_NAMES, Regimes, type SyntheticMarket } from "./generator.js";
import { MAX_EDGE, PatternKinds } from "./planted.js";
import { evaluateRule } from "./rules.js";

function standardError(market: SyntheticMarket): number {
  return Math.sqrt(market.periodsPerYear / ((market.series[0] as BarSeries).length - 1));
}

/** Typed arrays equal value by value (vitest's deep equality is slow on long ones). */
function same(a: ArrayLike<number> | undefined, b: ArrayLike<number> | undefined): boolean {
  if (a === undefined || b === undefined || a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (!Object.is(a[i], b[i])) return false;
  return true;
}

function lagged(a: Float64Array, b: Float64Array, lag: number): number {
  return correlation(a.subarray(0, a.length - lag), b.subarray(lag));
}

describe("generateMarket: shape and determinism", () => {
  test("the same seed gives the same market, another seed another", () => {
    const one = generateMarket({ seed: 5, mode: "planted", bars: 3000 });
    const again = generateMarket({ seed: 5, mode: "planted", bars: 3000 });
    const other = generateMarket({ seed: 6, mode: "planted", bars: 3000 });
    expect(same(again.regimes, one.regimes)).toBe(true);
    expect(again.planted).toEqual(one.planted);
    for (const [s, series] of one.series.entries()) {
      const twin = again.series[s] as BarSeries;
      for (const column of ["t", "open", "high", "low", "close", "volume", "spread"] as const) {
        expect(same(twin[column], series[column]), column).toBe(true);
      }
    }
    expect(same(other.series[0]?.close, one.series[0]?.close)).toBe(false);
    expect(other.planted).not.toEqual(one.planted);
  });

  test("symbols on venues round-robin, hourly bars in the session on weekdays, consistent bars", () => {
    const market = generateMarket({ bars: 2000, barMs: HOUR_MS });
    expect(market.series.map((s) => s.key)).toEqual(["AAA@V1", "BBB@V2", "CCC@V3", "DDD@V1", "EEE@V2", "FFF@V3"]);
    expect(market.barsPerDay).toBe(7);
    expect(market.periodsPerYear).toBe(252 * 7);
    expect(Object.keys(market.fees)).toEqual(["V1", "V2", "V3"]);
    const t = (market.series[0] as BarSeries).t;
    expect(market.series.every((s) => s.t === t)).toBe(true);
    expect(t[0]).toBe(Date.UTC(2020, 0, 6, 14));
    const onCalendar = Array.from(t).every(
      (x) => dayOfWeek(x) >= 1 && dayOfWeek(x) <= 5 && hourOfDay(x) >= 14 && hourOfDay(x) < 21,
    );
    expect(onCalendar).toBe(true);
    for (const s of market.series) {
      const bad: number[] = [];
      for (let i = 0; i < s.length; i++) {
        const [o, h, l, c, v, spread] = [
          s.open[i],
          s.high[i],
          s.low[i],
          s.close[i],
          s.volume[i],
          s.spread[i],
        ] as number[];
        const ok =
          (h as number) >= Math.max(o as number, c as number) &&
          (l as number) <= Math.min(o as number, c as number) &&
          (l as number) > 0 &&
          Number.isInteger(v) &&
          (v as number) > 0 &&
          (spread as number) > 0 &&
          (spread as number) < 0.01 &&
          (i === 0 || o === s.close[i - 1]);
        if (!ok) bad.push(i);
      }
      expect(bad, s.key).toEqual([]);
    }
  });

  test("daily bars are one per weekday at midnight UTC, with weekday calendar patterns", () => {
    // `planted` alone means a planted market.
    const market = generateMarket({ barMs: DAY_MS, bars: 300, planted: ["calendar"] });
    expect(market.barsPerDay).toBe(1);
    expect(market.periodsPerYear).toBe(252);
    const t = (market.series[0] as BarSeries).t;
    expect(t[1] as number).toBe((t[0] as number) + DAY_MS);
    expect(t[5] as number).toBe((t[4] as number) + 3 * DAY_MS); // Friday to Monday
    expect(Array.from(t.subarray(0, 20), (x) => x % DAY_MS).every((x) => x === 0)).toBe(true);
    expect(market.planted[0]?.rule.feature).toBe("weekday");
  });

  test("bad options are refused", () => {
    expect(() => generateMarket({ mode: "planted", planted: 6 })).toThrow(/at least 7 symbols/);
    expect(() => generateMarket({ mode: "planted", planted: ["lead-lag"], symbols: ["A"] })).toThrow(
      /at least 2 symbols/,
    );
    expect(() => generateMarket({ mode: "planted", planted: ["wave" as "momentum"] })).toThrow(/unknown pattern kind/);
    expect(() => generateMarket({ barMs: 11 * 60_000 })).toThrow(/must divide the session/);
    expect(() => generateMarket({ bars: 1 })).toThrow(/bars/);
    expect(() => generateMarket({ mode: "random-walk", planted: 2 })).toThrow(/nothing planted/);
    expect(() => generateMarket({ weekdays: [7] })).toThrow(/weekdays/);
    expect(() => generateMarket({ weekdays: [] })).toThrow(/weekdays/);
    expect(() => generateMarket({ fees: { V1: { feeBps: 1, slippageBps: 1 } } })).toThrow(/no fees for venue V2/);
  });
});

describe("generateMarket: regimes", () => {
  test("volatility and trend switch with persistence; volatile bars are 2.5× as volatile", () => {
    const market = generateMarket({ seed: 3, bars: 40_000, barMs: HOUR_MS });
    const { regimes } = market;
    expect(REGIME_NAMES[Regimes.volatileRanging]).toBe("volatile-ranging");
    let volatileBars = 0;
    let volatilitySwitches = 0;
    let trendSwitches = 0;
    for (let j = 0; j < regimes.length; j++) {
      if (isVolatile(regimes[j] as number)) volatileBars++;
      if (j > 0 && isVolatile(regimes[j] as number) !== isVolatile(regimes[j - 1] as number)) volatilitySwitches++;
      if (j > 0 && isTrending(regimes[j] as number) !== isTrending(regimes[j - 1] as number)) trendSwitches++;
    }
    // Stationary share 30 / (70 + 30); mean spell 70 and 30 days of 7 bars, so a switch per ~245 bars.
    expect(volatileBars / regimes.length).toBeGreaterThan(0.15);
    expect(volatileBars / regimes.length).toBeLessThan(0.45);
    expect(volatilitySwitches).toBeGreaterThan(40_000 / 245 / 2);
    expect(volatilitySwitches).toBeLessThan((40_000 / 245) * 2);
    expect(trendSwitches).toBeGreaterThan(40_000 / 840 / 2);
    expect(trendSwitches).toBeLessThan((40_000 / 840) * 2);

    const r = (market.series[0] as BarSeries).returns();
    const squares = [0, 0];
    const counts = [0, 0];
    for (let j = 1; j < regimes.length; j++) {
      const v = isVolatile(regimes[j] as number) ? 1 : 0;
      squares[v] = (squares[v] as number) + (r[j - 1] as number) ** 2;
      counts[v] = (counts[v] as number) + 1;
    }
    const ratio = Math.sqrt(
      (squares[1] as number) / (counts[1] as number) / ((squares[0] as number) / (counts[0] as number)),
    );
    expect(ratio).toBeGreaterThan(2.3);
    expect(ratio).toBeLessThan(2.7);
    expect((market.volatility[0] as Float64Array)[regimes.indexOf(1)]).toBeCloseTo(
      2.5 * ((market.volatility[0] as Float64Array)[regimes.indexOf(0)] as number),
      15,
    );
  });
});

describe("generateMarket: a random walk has nothing to find", () => {
  const market = generateMarket({ seed: 7 });
  // Returns in units of their true volatility: volatility regimes alone spread sample
  // correlations of raw returns by √(E[σ⁴]/E[σ²]²) ≈ 1.4 more than 1/√n.
  const returns = market.series.map((s, k) => {
    const vol = market.volatility[k] as Float64Array;
    return s.returns().map((r, j) => r / (vol[j + 1] as number));
  });
  const n = (returns[0] as Float64Array).length;
  // Under independence a sample correlation is then about N(0, 1/n); 4/√n is a generous bound for
  // the 30 autocorrelations and 90 cross-correlations tested (each exceeds it with probability 6e-5).
  const bound = 4 / Math.sqrt(n);

  test("no autocorrelation at lags 1–5", () => {
    for (const r of returns) for (let lag = 1; lag <= 5; lag++) expect(Math.abs(lagged(r, r, lag))).toBeLessThan(bound);
  });

  test("no lead-lag at lags 1–3 between any two symbols, though they move together within a bar", () => {
    for (const a of returns) {
      for (const b of returns) {
        if (a === b) continue;
        expect(correlation(a, b)).toBeGreaterThan(0.05); // the market factor
        for (let lag = 1; lag <= 3; lag++) expect(Math.abs(lagged(a, b, lag))).toBeLessThan(bound);
      }
    }
  });

  test("the ideal rules of a planted market of the same seed earn nothing beyond noise here", () => {
    const planted = generateMarket({ seed: 7, mode: "planted" });
    const se = standardError(market);
    for (const pattern of planted.planted) {
      const replay = evaluateRule(pattern.rule, market.series, { periodsPerYear: market.periodsPerYear });
      expect(Math.abs(replay.sharpe), pattern.kind).toBeLessThan(3.5 * se);
    }
  });

  test("it is the planted market's noise: series no pattern touches are the same", () => {
    const planted = generateMarket({ seed: 7, mode: "planted" });
    const targets = new Set(planted.planted.map((p) => `${p.symbol}@${p.venue}`));
    expect(targets.size).toBe(5);
    for (const [s, series] of planted.series.entries()) {
      const twin = market.series[s] as BarSeries;
      expect(same(series.close, twin.close), series.key).toBe(!targets.has(series.key));
    }
  });
});

describe("generateMarket: planted patterns", () => {
  test("one of each kind, realistic edges, on distinct targets, a lead-lag source with no edge of its own", () => {
    const market = generateMarket({ seed: 1, mode: "planted" });
    expect(market.planted.map((p) => p.kind)).toEqual([...PatternKinds]);
    expect(market.planted.map((p) => p.id)).toEqual(["P1", "P2", "P3", "P4", "P5"]);
    for (const p of market.planted) {
      expect(p.rule.target).toBe(`${p.symbol}@${p.venue}`);
      expect(p.targetSharpe).toBeGreaterThanOrEqual(1.5);
      expect(p.targetSharpe).toBeLessThanOrEqual(2.5);
      // Two calibration passes land the expected Sharpe ratio on its target.
      expect(Math.abs(p.expectedSharpe - p.targetSharpe)).toBeLessThan(0.1);
      expect(p.edge).toBeGreaterThan(0);
      expect(p.edge).toBeLessThan(MAX_EDGE / 2);
      expect(p.expectedNetSharpe).toBeLessThan(p.expectedSharpe);
      expect(p.description).toContain(p.rule.target);
    }
    const leadLag = market.planted.find((p) => p.kind === "lead-lag");
    expect(market.planted.map((p) => p.rule.target)).not.toContain(leadLag?.rule.source);
    expect(market.planted.find((p) => p.kind === "momentum")?.activeIn).toBe("trending");
  });

  // Each configuration's planted rules must earn their stated Sharpe ratio within 3.5 standard errors.
  test.each([
    ["10,000 hourly bars", { seed: 1, barMs: HOUR_MS }],
    ["10,000 daily bars", { seed: 2, barMs: DAY_MS }],
    ["50,000 hourly bars", { seed: 3, bars: 50_000, barMs: HOUR_MS }],
  ])("the ideal rule earns the stated Sharpe ratio, gross and net: %s", (_, options) => {
    const market = generateMarket({ mode: "planted", ...options });
    const se = standardError(market);
    for (const p of market.planted) {
      const gross = evaluateRule(p.rule, market.series, { periodsPerYear: market.periodsPerYear });
      const net = evaluateRule(p.rule, market.series, {
        periodsPerYear: market.periodsPerYear,
        costs: market.fees[p.venue],
      });
      expect(
        Math.abs(gross.sharpe - p.expectedSharpe),
        `${p.kind} gross ${gross.sharpe} vs ${p.expectedSharpe}`,
      ).toBeLessThan(3.5 * se);
      expect(
        Math.abs(net.sharpe - p.expectedNetSharpe),
        `${p.kind} net ${net.sharpe} vs ${p.expectedNetSharpe}`,
      ).toBeLessThan(3.5 * se);
      // Detectable at this length: at least three standard errors from zero.
      expect(gross.sharpe / se, p.kind).toBeGreaterThan(3);
    }
  });

  test("over many seeds the stated Sharpe ratio is unbiased and its error is about √(A/n)", () => {
    const errors: number[] = [];
    for (let seed = 100; seed < 116; seed++) {
      const market = generateMarket({ seed, mode: "planted", bars: 6000 });
      const se = standardError(market);
      for (const p of market.planted) {
        const replay = evaluateRule(p.rule, market.series, { periodsPerYear: market.periodsPerYear });
        errors.push((replay.sharpe - p.expectedSharpe) / se);
      }
    }
    const mean = errors.reduce((a, b) => a + b, 0) / errors.length;
    const sd = Math.sqrt(errors.reduce((a, b) => a + (b - mean) ** 2, 0) / (errors.length - 1));
    // 80 errors in standard-error units: their mean is within 3.5/√80 ≈ 0.4 of 0, their sd near 1.
    expect(Math.abs(mean)).toBeLessThan(3.5 / Math.sqrt(errors.length));
    expect(sd).toBeGreaterThan(0.7);
    expect(sd).toBeLessThan(1.3);
  });

  test("momentum pays in trending regimes only", () => {
    const market = generateMarket({
      seed: 4,
      mode: "planted",
      planted: ["momentum"],
      bars: 30_000,
      sharpe: [2.5, 2.5],
    });
    const pattern = market.planted[0];
    if (pattern === undefined) throw new Error("no pattern");
    const { returns } = evaluateRule(pattern.rule, market.series);
    const parts = { trending: [] as number[], ranging: [] as number[] };
    for (let j = 1; j < market.regimes.length; j++) {
      (isTrending(market.regimes[j] as number) ? parts.trending : parts.ranging).push(returns[j - 1] as number);
    }
    const tStat = (x: number[]) => {
      const m = x.reduce((a, b) => a + b, 0) / x.length;
      const sd = Math.sqrt(x.reduce((a, b) => a + (b - m) ** 2, 0) / (x.length - 1));
      return (m / sd) * Math.sqrt(x.length);
    };
    expect(tStat(parts.trending)).toBeGreaterThan(6);
    expect(Math.abs(tStat(parts.ranging))).toBeLessThan(3.5);
  });
});
