/**
 * Whole discovery runs, no NATS involved (services/discovery's `discoverOffline`, the pipeline
 * the service runs): 12 symbols × 10,000 daily bars, a search of 200 × 12 generations per
 * series, on every core.
 *
 * - Planted: ten patterns of known edge planted in the market: the run's time, what it
 *   evaluated, and its yield — the planted patterns recovered (a published pattern whose
 *   held-out positions move with the planted rule's, |ρ| ≥ 0.5) and the candidates published.
 * - Noise: pure random walks of the same size, several seeds: the runs that published anything
 *   (false discoveries), with the 95 % Clopper–Pearson upper bound of that rate.
 */
import { performance } from "node:perf_hooks";
import { parse } from "@stratreg/alpha";
import { discoverOffline, marketFromData, positionsOf } from "@stratreg/discovery";
import { align, evaluateRule, generateMarket } from "@stratreg/market";
import { correlation } from "@stratreg/quant";

const BARS = 10_000;
const SYMBOLS = 12;
const SEARCH = { population: 200, generations: 12 };

/** The figures of whole runs. */
export interface DiscoveryRunFigures {
  planted: { seconds: number; evaluated: number; planted: number; recovered: number; published: number };
  noise: { runs: number; publishing: number; upper95: number; secondsPerRun: number };
}

/** The one-sided 95 % Clopper–Pearson upper bound after `k` events in `n` trials. */
function upperBound(k: number, n: number): number {
  const cdf = (p: number) => {
    let sum = 0;
    let term = (1 - p) ** n;
    for (let i = 0; i <= k; i++) {
      sum += term;
      term *= ((n - i) / (i + 1)) * (p / (1 - p));
    }
    return sum;
  };
  let lo = k / n;
  let hi = 1;
  for (let i = 0; i < 60; i++) {
    const mid = (lo + hi) / 2;
    if (cdf(mid) > 0.05) lo = mid;
    else hi = mid;
  }
  return hi;
}

/** Runs the planted market once and `noiseRuns` random walks. */
export async function discoveryRunFigures(
  say: (line: string) => void,
  noiseRuns: number,
): Promise<DiscoveryRunFigures> {
  const market = generateMarket({ seed: 3, bars: BARS, symbols: SYMBOLS, planted: 10 });
  say(`discovery: a full run on ${SYMBOLS} symbols × ${BARS} bars with ${market.planted.length} planted patterns…`);
  let t = performance.now();
  const { result, found } = await discoverOffline(market.series, { seed: 3, ...SEARCH, fees: market.fees });
  const seconds = (performance.now() - t) / 1000;
  const data = align(market.series);
  const full = marketFromData(data);
  const trainEnd = Math.floor(data.t.length / 2);
  const recoveredPatterns = market.planted.filter((planted) => {
    const venue = planted.rule.target.split("@")[1] as string;
    const rule = evaluateRule(planted.rule, data, { costs: market.fees[venue] });
    return found.some(
      (d) =>
        d.target === planted.rule.target &&
        correlation(
          positionsOf(parse(d.expression), full).subarray(trainEnd, data.t.length - 1),
          rule.positions.subarray(trainEnd + 1),
        ) >= 0.5,
    );
  });
  const recovered = recoveredPatterns.length;
  for (const missed of market.planted.filter((p) => !recoveredPatterns.includes(p))) {
    say(`discovery: not recovered: ${missed.description} (net Sharpe ${missed.expectedNetSharpe.toFixed(2)} planted)`);
  }
  let publishing = 0;
  t = performance.now();
  for (let seed = 1; seed <= noiseRuns; seed++) {
    say(`discovery: random walk ${seed} of ${noiseRuns}…`);
    const noise = generateMarket({ seed: 5000 + seed, bars: BARS, symbols: SYMBOLS, mode: "random-walk" });
    const run = await discoverOffline(noise.series, { seed, ...SEARCH, fees: noise.fees });
    if (run.found.length > 0) publishing++;
  }
  return {
    planted: {
      seconds,
      evaluated: result.evaluated,
      planted: market.planted.length,
      recovered,
      published: found.length,
    },
    noise: {
      runs: noiseRuns,
      publishing,
      upper95: upperBound(publishing, noiseRuns),
      secondsPerRun: (performance.now() - t) / 1000 / Math.max(1, noiseRuns),
    },
  };
}

/** The figures as a markdown table. */
export function discoveryRunTable(f: DiscoveryRunFigures): string {
  const rows = [
    "| discovery run (12 symbols × 10,000 daily bars, 200 × 12 generations per symbol) | value |",
    "| --- | --- |",
    `| planted market: run time (s) | ${f.planted.seconds.toFixed(1)} |`,
    `| planted market: candidates evaluated | ${f.planted.evaluated.toLocaleString("en-US")} |`,
    `| planted market: patterns recovered / planted | ${f.planted.recovered} / ${f.planted.planted} |`,
    `| planted market: candidates published | ${f.planted.published} |`,
    `| random walks: runs that published anything / runs | ${f.noise.publishing} / ${f.noise.runs} |`,
    `| random walks: false-discovery rate, 95 % upper bound | ${(f.noise.upper95 * 100).toFixed(1)} % |`,
    `| random walks: time per run (s) | ${f.noise.secondsPerRun.toFixed(1)} |`,
  ];
  return `${rows.join("\n")}\n`;
}
