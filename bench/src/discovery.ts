/**
 * Figures of the miner's candidate evaluation, no NATS involved: 10,000 hourly bars of three
 * symbols (libs/market's synthetic random walk), candidates drawn by ramped half-and-half up to
 * depth 6 reading all three, each evaluated once as a search evaluates most of them (parsed,
 * compiled, run, judged: train net Sharpe, trades, exposure, sketch):
 *
 * - one core, in process: evaluations per second and each evaluation's median and p99;
 * - the evaluation pool on every core, at batches of 100 and of 500 candidates (a generation's
 *   new candidates), beside the one-core figure.
 *
 * Every candidate timed is new to the thread that evaluates it: a warm-up batch of others first
 * lets V8 optimise the shared kernels, as the first generation of a search does.
 */
import { performance } from "node:perf_hooks";
import { parse, print, Rng, rampedHalfAndHalf, size } from "@stratreg/alpha";
import { EvaluationPool, InProcessEvaluator, marketFromData, type TrainingWindow } from "@stratreg/discovery";
import { align, generateMarket } from "@stratreg/market";
import { fmt, tableRow } from "./table.js";

const BARS = 10_000;
const ASSETS = 3;
const POOL_BATCHES = [100, 500] as const;

/** The figures of one run. */
export interface DiscoveryFigures {
  bars: number;
  assets: number;
  /** Mean nodes of the candidates timed. */
  meanNodes: number;
  /** One core, in process. */
  inProcess: { candidates: number; perSecond: number; p50Us: number; p99Us: number };
  /** The pool on every core, per batch size. */
  pool: { threads: number; batch: number; candidates: number; perSecond: number }[];
}

function quantile(sorted: readonly number[], q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? Number.NaN;
}

/** `count` distinct candidate texts, none of them in `taken` (which they join). */
function candidates(count: number, rng: Rng, assets: readonly string[], taken: Set<string>): string[] {
  const out: string[] = [];
  while (out.length < count) {
    for (const expr of rampedHalfAndHalf(200, rng, { assets, maxDepth: 6 })) {
      const text = print(expr);
      if (out.length < count && !taken.has(text)) {
        taken.add(text);
        out.push(text);
      }
    }
  }
  return out;
}

/** Measures every figure. */
export async function discoveryFigures(say: (line: string) => void, quick: boolean): Promise<DiscoveryFigures> {
  const synthetic = generateMarket({ seed: 1, bars: BARS, symbols: ASSETS, venues: ["V1"], barMs: 3_600_000 });
  const market = marketFromData(align(synthetic.series));
  const window: TrainingWindow = {
    market,
    target: "AAA",
    costs: { feeBps: 1, slippageBps: 1, periodsPerYear: synthetic.periodsPerYear },
  };
  const names = market.assets.map((a) => a.name);
  const rng = new Rng(2024);
  const taken = new Set<string>();
  const timedCount = quick ? 600 : 2000;

  say(`discovery: ${BARS.toLocaleString("en-US")} bars × ${ASSETS} assets; one core, in process…`);
  const evaluator = new InProcessEvaluator(window);
  evaluator.evaluate(candidates(300, rng, names, taken));
  const timed = candidates(timedCount, rng, names, taken);
  const latencies: number[] = [];
  for (const text of timed) {
    const began = performance.now();
    evaluator.evaluate([text]);
    latencies.push((performance.now() - began) * 1000);
  }
  const totalUs = latencies.reduce((s, x) => s + x, 0);
  latencies.sort((a, b) => a - b);
  const meanNodes = timed.reduce((s, text) => s + size(parse(text)), 0) / timed.length;

  const pool = new EvaluationPool(window);
  const poolFigures: DiscoveryFigures["pool"] = [];
  try {
    say(`discovery: the pool on ${pool.threads} threads…`);
    await pool.evaluate(candidates(200 * pool.threads, rng, names, taken));
    for (const batch of POOL_BATCHES) {
      const batches = Math.max(2, Math.round((quick ? 1500 : 5000) / batch));
      const texts = candidates(batch * batches, rng, names, taken);
      const began = performance.now();
      for (let b = 0; b < batches; b++) await pool.evaluate(texts.slice(b * batch, (b + 1) * batch));
      const seconds = (performance.now() - began) / 1000;
      poolFigures.push({ threads: pool.threads, batch, candidates: texts.length, perSecond: texts.length / seconds });
    }
  } finally {
    await pool.close();
  }
  return {
    bars: BARS,
    assets: ASSETS,
    meanNodes,
    inProcess: {
      candidates: timed.length,
      perSecond: timed.length / (totalUs / 1e6),
      p50Us: quantile(latencies, 0.5),
      p99Us: quantile(latencies, 0.99),
    },
    pool: poolFigures,
  };
}

const row = (cells: [string, string, string, string]) => tableRow(cells, [66, -12, 30, -6]);

/** The discovery figures as a markdown table. */
export function discoveryTable(f: DiscoveryFigures): string {
  const one = f.inProcess;
  const lines = [
    row(["discovery figure", "value", "baseline", "ratio"]),
    row(["---", "---", "---", "---"]),
    row([
      `candidate evaluations, ${fmt(f.bars)} bars × ${f.assets} assets, one core (/s)`,
      fmt(one.perSecond),
      `mean ${fmt(f.meanNodes, 1)} nodes, ${fmt(one.candidates)} timed`,
      "",
    ]),
    row(["  per evaluation p50 / p99 (µs)", `${fmt(one.p50Us)} / ${fmt(one.p99Us)}`, "target < 1,000 each", ""]),
    ...f.pool.map((p) =>
      row([
        `evaluation pool, ${p.threads} threads, batches of ${p.batch} (/s)`,
        fmt(p.perSecond),
        `${fmt(one.perSecond)} one core`,
        fmt(p.perSecond / one.perSecond, 2),
      ]),
    ),
  ];
  return `${lines.join("\n")}\n`;
}
