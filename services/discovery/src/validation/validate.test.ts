/**
 * What a user of the validation stage sees: a real planted edge passes with an honest estimate;
 * the best of many tries on noise, a pattern that stopped working, and a threshold fitted to a
 * narrow band each fail, on the check that should catch them.
 */
import {
  type AssetBars,
  backtest,
  type Costs,
  type Expr,
  type Market,
  parse,
  print,
  Rng,
  rampedHalfAndHalf,
} from "@stratreg/alpha";
import {
  generateMarket,
  type PlantedPattern,
  REGIME_NAMES,
  rulePositions,
  type SyntheticMarket,
} from "@stratreg/market";
import { decode, encode, type ValidationCheckName, type ValidationReport } from "@stratreg/protocol";
import { checkEvidence, summariseEvidence, volatility } from "@stratreg/quant";
import { describe, expect, test } from "vitest";
import type { ValidationContext as Context } from "./validate.js";

type SearchTrials = Context["trials"];

import { marketWindow } from "../mining/market.js";
import { chronologicalSplits, type Splits } from "./splits.js";
import { type ValidationContext, validateCandidate } from "./validate.js";

const reports: ValidationReport[] = [];

function validated(expr: Expr, ctx: ValidationContext): ValidationReport {
  const report = validateCandidate(expr, ctx);
  reports.push(report);
  return report;
}

function checkOf(report: ValidationReport, name: ValidationCheckName) {
  const found = report.checks.find((c) => c.name === name);
  if (found === undefined) throw new Error(`no ${name} check`);
  return found;
}

function failed(report: ValidationReport): string[] {
  return report.checks.filter((c) => !c.passed).map((c) => c.name);
}

/** The synthetic market's series as the language's market, each symbol an asset. */
function marketOf(synthetic: SyntheticMarket): Market {
  const first = synthetic.series[0];
  if (first === undefined) throw new Error("no series");
  const assets = synthetic.series.map(({ symbol, open, high, low, close, volume }) => ({
    name: symbol,
    open,
    high,
    low,
    close,
    volume,
  }));
  return { length: first.length, t: first.t, assets };
}

/**
 * What a miner would have tried: distinct random strategies evaluated on the train window. The
 * count and the variance of their Sharpe ratios are the trials the DSR deflates by.
 */
function randomSearch(market: Market, target: string, splits: Splits, costs: Costs, seed: number, size: number) {
  const train = marketWindow(market, 0, splits.trainEnd);
  const assets = market.assets.map((a) => a.name);
  const tried = new Map<string, { expr: Expr; sharpe: number }>();
  for (const expr of rampedHalfAndHalf(size, new Rng(seed), { assets, maxDepth: 5 })) {
    const result = backtest(expr, train, target, costs);
    // Too few trades to mean anything: the miner's fitness leaves those out too.
    if (result.trades >= 20 && Number.isFinite(result.sharpe)) tried.set(print(expr), { expr, sharpe: result.sharpe });
  }
  const all = [...tried.values()];
  const sharpes = all.map((c) => c.sharpe);
  const best = all.reduce((a, c) => (c.sharpe > a.sharpe ? c : a));
  const trials: SearchTrials = { count: all.length, sharpeVariance: volatility(sharpes, { periodsPerYear: 1 }) ** 2 };
  return { best, trials };
}

/** The planted lead–lag rule as an expression: hold sign(source's return `lag` bars back) × sign. */
function leadLagExpr(p: PlantedPattern): Expr {
  const source = p.rule.source.split("@")[0] as string;
  // The rule's position over bar j is the language's position at bar j − 1 (which earns bar j's move).
  const move = p.rule.lag === 1 ? `returns(${source})` : `lag(returns(${source}), ${p.rule.lag - 1})`;
  const [long, short] = p.rule.sign > 0 ? ["gt", "lt"] : ["lt", "gt"];
  return parse(`long_short(${long}(${move}, 0), ${short}(${move}, 0))`);
}

/**
 * The planted rule's expected annualised net Sharpe ratio over the test window, as the
 * generator defines it for the whole market (PlantedPattern.expectedNetSharpe): mean(m)/sd·√A,
 * m_j = κσ_j·p_j² less bar j's costs (fees, slippage and half the spread), noise p_j²σ_j².
 */
function expectedNetSharpeOn(synthetic: SyntheticMarket, p: PlantedPattern, from: number, to: number): number {
  const target = synthetic.series.findIndex((s) => s.symbol === p.symbol);
  const series = synthetic.series[target];
  const source = synthetic.series.find((s) => s.key === p.rule.source);
  const sigma = synthetic.volatility[target];
  const fee = synthetic.fees[p.venue];
  if (series === undefined || source === undefined || sigma === undefined || fee === undefined)
    throw new Error("no series");
  const positions = rulePositions(p.rule, source, series);
  let sum = 0;
  let squares = 0;
  for (let j = from + 1; j < to; j++) {
    const q = positions[j] as number;
    const s = sigma[j] as number;
    const change = Math.abs(q - (positions[j - 1] as number));
    const m =
      p.edge * s * q * q - change * ((fee.feeBps + fee.slippageBps) / 10_000 + (series.spread[j - 1] as number) / 2);
    sum += m;
    squares += q * q * s * s + m * m;
  }
  const periods = to - from - 1;
  const mean = sum / periods;
  return (mean / Math.sqrt(squares / periods - mean * mean)) * Math.sqrt(synthetic.periodsPerYear);
}

describe("a planted edge", () => {
  // Seed 26 plants the lead–lag pattern on a symbol whose traded value stays large enough for
  // the default capacity (100,000 at 1 % participation of a bar's value, a reversal moving 2):
  // most symbols of the generator trade too little value by the end of 32 years for that.
  const synthetic = generateMarket({ seed: 26, bars: 8000, symbols: 4, planted: ["lead-lag"] });
  const planted = synthetic.planted[0] as PlantedPattern;
  const market = marketOf(synthetic);
  const splits = chronologicalSplits(market.length);
  const targetSeries = synthetic.series.find((s) => s.symbol === planted.symbol) as SyntheticMarket["series"][number];
  const fees = synthetic.fees[planted.venue] as { feeBps: number; slippageBps: number };
  // The language charges a constant cost per unit traded: the venue's fee and slippage, and
  // half the symbol's mean quoted spread, which the generator charges bar by bar.
  let spread = 0;
  for (const s of targetSeries.spread) spread += s;
  const halfSpreadBps = (spread / targetSeries.spread.length / 2) * 10_000;
  const costs: Costs = {
    feeBps: fees.feeBps,
    slippageBps: fees.slippageBps + halfSpreadBps,
    periodsPerYear: synthetic.periodsPerYear,
  };
  const { trials } = randomSearch(market, planted.symbol, splits, costs, 1, 150);
  const ctx: ValidationContext = {
    market,
    target: planted.symbol,
    splits,
    costs,
    regimes: { labels: synthetic.regimes, names: REGIME_NAMES },
    trials,
    tested: 3,
    seed: 7,
  };

  test("passes every check, and its estimate brackets the edge's expected net Sharpe ratio on the test window", () => {
    const report = validated(leadLagExpr(planted), ctx);
    expect(failed(report)).toEqual([]);
    expect(report.passed).toBe(true);
    expect(report.checks.map((c) => c.name)).toEqual([
      "trades",
      "testSharpe",
      "testPValue",
      "deflatedSharpe",
      "walkForward",
      "parameterStability",
      "regimes",
      "netReturn",
      "capacity",
    ]);
    expect(checkOf(report, "testPValue").threshold).toBeCloseTo(0.05 / 3, 15);
    const expected = expectedNetSharpeOn(synthetic, planted, splits.validationEnd, splits.bars);
    const [lo, hi] = report.estimate.sharpeInterval as [number, number];
    expect(lo).toBeLessThan(expected);
    expect(hi).toBeGreaterThan(expected);
    expect(report.estimate).toMatchObject({ level: 0.9, feeBps: costs.feeBps, participation: 0.01 });
    // The position reverses about every other bar: a turnover near one unit a bar, 252 a year.
    expect(report.estimate.turnoverPerYear).toBeGreaterThan(150);
    expect(report.estimate.turnoverPerYear).toBeLessThan(350);
    expect(report.regimes.map((r) => r.regime)).toEqual([...REGIME_NAMES]);
    expect(report.splits.test).toMatchObject({ from: splits.validationEnd, to: splits.bars });
  });

  test("attaches evidence the registry's gates read as this report does", () => {
    const report = validated(leadLagExpr(planted), ctx);
    const evidence = report.evidence as Parameters<typeof checkEvidence>[0];
    expect(checkEvidence(evidence)).toBeUndefined();
    expect(encode(evidence).length).toBeLessThan(300_000);
    const summary = summariseEvidence(evidence, { monteCarloRuns: 100 });
    expect(summary.folds).toBe(report.folds.length);
    expect(summary.positiveFolds).toBe(report.folds.filter((f) => f.netReturn > 0).length);
    expect(summary.outOfSampleSharpe).toBeCloseTo(report.heldOut.sharpe as number, 1);
    expect(summary.perturbation.runs).toBe(report.perturbations.length);
    expect(summary.regimes.map((r) => r.regime).sort()).toEqual([...REGIME_NAMES].sort());
    expect(summary.trials).toBe(trials.count);
  });

  test("is the same report for the same seed, and thresholds can be overridden", () => {
    const expr = leadLagExpr(planted);
    expect(validateCandidate(expr, ctx)).toEqual(reports[0]);
    const strict = validated(expr, {
      ...ctx,
      thresholds: { minCapacity: 1e12, minTrades: 1e6, folds: 4, alpha: 0.01 },
      participation: 0.05,
    });
    expect(failed(strict)).toEqual(["trades", "capacity"]);
    expect(checkOf(strict, "capacity").threshold).toBe(1e12);
    expect(checkOf(strict, "trades").threshold).toBe(1e6);
    expect(checkOf(strict, "testPValue").threshold).toBeCloseTo(0.01 / 3, 15);
    expect(strict.folds).toHaveLength(4);
    expect(strict.estimate.participation).toBe(0.05);
    // Five times the participation, five times the capacity.
    expect(strict.estimate.capacity).toBeCloseTo(5 * (reports[0]?.estimate.capacity as number), 6);
    expect(() => validateCandidate(expr, { ...ctx, thresholds: { alpha: 2 } })).toThrow(/alpha/);
  });
});

test("the best of many random candidates on a random walk fails: its train Sharpe ratio does not survive deflation", () => {
  const synthetic = generateMarket({ seed: 8, bars: 6000, symbols: 3 });
  const market = marketOf(synthetic);
  const splits = chronologicalSplits(market.length);
  const costs: Costs = { feeBps: 0.5, slippageBps: 0.5, periodsPerYear: synthetic.periodsPerYear };
  const { best, trials } = randomSearch(market, "AAA", splits, costs, 3, 300);
  // Selection bias: the best of a few hundred tries looks good on the data it was picked on.
  expect(best.sharpe).toBeGreaterThan(0.5);
  const report = validated(best.expr, {
    market,
    target: "AAA",
    splits,
    costs,
    regimes: { labels: synthetic.regimes, names: REGIME_NAMES },
    trials,
    tested: 1,
    seed: 1,
  });
  expect(report.passed).toBe(false);
  expect(checkOf(report, "deflatedSharpe").passed).toBe(false);
  expect(checkOf(report, "testPValue").passed).toBe(false);
});

/** Daily bars of AAA (a random walk) and BBB, whose return into bar i is `edge(i)`·sign(AAA's return into bar i − 1) plus noise. */
function leadLagMarket(n: number, edge: (i: number) => number, seed: number): Market {
  const rng = new Rng(seed);
  const t = Float64Array.from({ length: n }, (_, i) => Date.UTC(2000, 0, 3) + i * 86_400_000);
  const aaa = Array.from({ length: n }, () => 0.01 * rng.normal());
  const bbb = aaa.map((_, i) => (i > 0 ? edge(i) * Math.sign(aaa[i - 1] as number) : 0) + 0.01 * rng.normal());
  const bars = (name: string, returns: number[]): AssetBars => {
    const close = new Float64Array(n);
    let price = 100;
    returns.forEach((r, i) => {
      price *= i > 0 ? 1 + r : 1;
      close[i] = price;
    });
    return { name, open: close, high: close, low: close, close, volume: close.map(() => 1e6) };
  };
  return { length: n, t, assets: [bars("AAA", aaa), bars("BBB", bbb)] };
}

const DAILY: Costs = { feeBps: 1, slippageBps: 1, periodsPerYear: 252 };
const FEW_TRIALS: SearchTrials = { count: 20, sharpeVariance: 0.1 };

test("a pattern that paid only in the train window fails on the held-out data", () => {
  const n = 3000;
  const splits = chronologicalSplits(n);
  const market = leadLagMarket(n, (i) => (i < splits.trainEnd ? 0.004 : 0), 12);
  const report = validated(parse("long_short(gt(returns(AAA), 0), lt(returns(AAA), 0))"), {
    market,
    target: "BBB",
    splits,
    costs: DAILY,
    trials: FEW_TRIALS,
    tested: 1,
    seed: 2,
  });
  // It was real where it was found…
  expect(checkOf(report, "deflatedSharpe").passed).toBe(true);
  expect(report.train.sharpe).toBeGreaterThan(3);
  // …and it is gone: what it earns out of sample is noise less the costs of trading every day.
  expect(report.passed).toBe(false);
  expect(failed(report)).toEqual(expect.arrayContaining(["testPValue", "walkForward"]));
  expect(report.checks.some((c) => c.name === "regimes")).toBe(false);
  expect(report.regimes).toEqual([]);
});

test("a threshold fitted to a narrow band fails the stability check", () => {
  // BBB rises after AAA's 10-bar z-score closes in [1, 1.1), and only then.
  const n = 6000;
  const rng = new Rng(21);
  const t = Float64Array.from({ length: n }, (_, i) => Date.UTC(2000, 0, 3) + i * 86_400_000);
  const aaa = leadLagMarket(n, () => 0, 21).assets[0] as AssetBars;
  const z = new Float64Array(n);
  for (let i = 9; i < n; i++) {
    const window = aaa.close.subarray(i - 9, i + 1);
    const mean = window.reduce((a, b) => a + b, 0) / 10;
    const sd = Math.sqrt(window.reduce((a, b) => a + (b - mean) ** 2, 0) / 9);
    z[i] = ((aaa.close[i] as number) - mean) / sd;
  }
  const close = new Float64Array(n);
  let price = 100;
  for (let i = 0; i < n; i++) {
    const inBand = i > 0 && (z[i - 1] as number) >= 1 && (z[i - 1] as number) < 1.1;
    price *= i > 0 ? 1 + (inBand ? 0.01 : 0) + 0.01 * rng.normal() : 1;
    close[i] = price;
  }
  const bbb: AssetBars = { name: "BBB", open: close, high: close, low: close, close, volume: aaa.volume };
  const market: Market = { length: n, t, assets: [aaa, bbb] };
  const band = "signal(and(gt(zscore(close(AAA), 10), 1), lt(zscore(close(AAA), 10), 1.1)))";
  const report = validated(parse(band), {
    market,
    target: "BBB",
    splits: chronologicalSplits(n),
    costs: DAILY,
    trials: FEW_TRIALS,
    tested: 1,
    seed: 3,
  });
  // The band is real: it earns on the test split.
  expect(checkOf(report, "testSharpe").passed).toBe(true);
  const stability = checkOf(report, "parameterStability");
  expect(stability.passed).toBe(false);
  expect(stability.value).toBeLessThan(0.5);
  expect(stability.note).toMatch(/^worst of \d+: /);
  // Raising the lower bound to 1.1 leaves an empty band: it never trades, and earns nothing.
  const emptied = report.perturbations.find((p) => p.param === "gt#2.c" && p.to > 1);
  expect(emptied).toMatchObject({ sharpe: 0, ratio: 0 });
  expect(report.perturbations.some((p) => p.note?.includes("not an allowed window"))).toBe(true);
});

test("a candidate that never trades out of sample has null figures, never NaN, and fails", () => {
  const n = 1200;
  const market = leadLagMarket(n, () => 0, 30);
  const report = validated(parse("signal(gt(close(AAA), 1000000))"), {
    market,
    target: "BBB",
    splits: chronologicalSplits(n),
    costs: DAILY,
    trials: FEW_TRIALS,
    tested: 1,
    seed: 4,
  });
  expect(report.passed).toBe(false);
  expect(report.test).toEqual({ periods: 299, sharpe: null, trades: 0 });
  expect(report.estimate).toMatchObject({ sharpe: null, sharpeInterval: null, capacity: null, annualReturn: 0 });
  expect(checkOf(report, "capacity")).toMatchObject({ value: null, passed: false });
  expect(checkOf(report, "parameterStability")).toMatchObject({ value: null, passed: false });
});

test("refuses inputs it cannot judge", () => {
  const market = leadLagMarket(1000, () => 0, 31);
  const expr = parse("long_short(gt(returns(AAA), 0), lt(returns(AAA), 0))");
  const ctx = {
    market,
    target: "BBB",
    splits: chronologicalSplits(1000),
    costs: DAILY,
    trials: FEW_TRIALS,
    tested: 1,
    seed: 1,
  };
  expect(() => validateCandidate(expr, { ...ctx, target: "ZZZ" })).toThrow(/no asset ZZZ/);
  expect(() => validateCandidate(expr, { ...ctx, splits: { bars: 1000, trainEnd: 500, validationEnd: 950 } })).toThrow(
    /test split has 50 bars/,
  );
  expect(() => validateCandidate(expr, { ...ctx, trials: { count: 0, sharpeVariance: 1 } })).toThrow(/trials.count/);
  expect(() => validateCandidate(expr, { ...ctx, tested: 0 })).toThrow(/tested/);
  expect(() => validateCandidate(expr, { ...ctx, regimes: { labels: new Int8Array(10), names: ["a"] } })).toThrow(
    /one per bar/,
  );
  expect(() => validateCandidate(parse("gt(close(AAA), 1)"), ctx)).toThrow(/position/);
});

test("no report holds a NaN or an infinity, and each survives msgpack unchanged", () => {
  expect(reports.length).toBeGreaterThanOrEqual(6);
  const bad: string[] = [];
  const walk = (value: unknown, path: string): void => {
    if (typeof value === "number") {
      if (!Number.isFinite(value)) bad.push(`${path} = ${value}`);
    } else if (value !== null && typeof value === "object") {
      for (const [k, v] of Object.entries(value)) walk(v, `${path}.${k}`);
    }
  };
  for (const report of reports) {
    walk(report, report.expression);
    expect(decode(encode(report))).toEqual(report);
  }
  expect(bad).toEqual([]);
});
