/**
 * Evaluation speed of compiled strategies: `npx tsc -b && node libs/alpha/bench/evaluate.mjs`.
 * 10,000 hourly bars of three assets; strategies of depth 4 to 6 drawn by ramped half-and-half.
 * One core (a compiled strategy is one synchronous loop). Prints the figures as JSON.
 */
import { compile, depth, interpret, parse, Rng, rampedHalfAndHalf, size } from "../dist/mod.js";

const BARS = 10_000;
const STRATEGIES = 300;
const WARM_RUNS = 30;

function market(seed) {
  const rng = new Rng(seed);
  const t = Float64Array.from({ length: BARS }, (_, i) => Date.UTC(2023, 0, 1) + i * 3_600_000);
  const assets = ["AAA", "BBB", "CCC"].map((name) => {
    const close = new Float64Array(BARS);
    const volume = new Float64Array(BARS);
    let price = 100;
    for (let i = 0; i < BARS; i++) {
      price *= 1 + 0.004 * rng.normal();
      close[i] = price;
      volume[i] = Math.round(1e5 * (1 + rng.next()));
    }
    const open = close.map((c, i) => (i > 0 ? (close[i - 1] ?? c) : c));
    const high = close.map((c, i) => Math.max(c, open[i] ?? c) * 1.001);
    const low = close.map((c, i) => Math.min(c, open[i] ?? c) * 0.999);
    return { name, open, high, low, close, volume };
  });
  return { length: BARS, t, assets };
}

function quantile(sorted, q) {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))];
}

const m = market(1);
const rng = new Rng(2024);
const strategies = [];
while (strategies.length < STRATEGIES) {
  for (const expr of rampedHalfAndHalf(100, rng, { assets: ["AAA", "BBB", "CCC"], maxDepth: 6 })) {
    if (depth(expr) >= 4 && strategies.length < STRATEGIES) strategies.push(expr);
  }
}

const cold = [];
const warm = [];
for (const expr of strategies) {
  let start = performance.now();
  const run = compile(expr);
  run(m);
  cold.push(performance.now() - start);
  for (let i = 0; i < 3; i++) run(m);
  start = performance.now();
  for (let i = 0; i < WARM_RUNS; i++) run(m);
  warm.push((performance.now() - start) / WARM_RUNS);
}
cold.sort((a, b) => a - b);
warm.sort((a, b) => a - b);

const example = parse(
  "long_short(and(crosses_above(ema(close(AAA), 10), sma(close(AAA), 50)), gt(zscore(volume(AAA), 20), 1)), lt(rsi(close(BBB), 10), 30))",
);
const compiled = compile(example);
for (let i = 0; i < 20; i++) compiled(m);
let start = performance.now();
for (let i = 0; i < 200; i++) compiled(m);
const exampleMs = (performance.now() - start) / 200;
start = performance.now();
interpret(example, m);
const interpretedMs = performance.now() - start;

const mean = (xs) => xs.reduce((s, x) => s + x, 0) / xs.length;
console.log(
  JSON.stringify(
    {
      node: process.version,
      bars: BARS,
      strategies: STRATEGIES,
      meanNodes: Number(mean(strategies.map(size)).toFixed(1)),
      warmMs: {
        median: Number(quantile(warm, 0.5).toFixed(3)),
        p90: Number(quantile(warm, 0.9).toFixed(3)),
        max: Number(warm[warm.length - 1].toFixed(3)),
      },
      evaluationsPerSecond: Math.round(1000 / quantile(warm, 0.5)),
      coldMs: { median: Number(quantile(cold, 0.5).toFixed(3)), p90: Number(quantile(cold, 0.9).toFixed(3)) },
      example: {
        text: "long_short(and(crosses_above(ema…), gt(zscore…)), lt(rsi…))",
        nodes: size(example),
        compiledMs: Number(exampleMs.toFixed(3)),
        interpretedMs: Number(interpretedMs.toFixed(1)),
      },
    },
    null,
    2,
  ),
);
