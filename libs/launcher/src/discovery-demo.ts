/**
 * The discovery part of the demo: a synthetic market with patterns planted in
 * it (libs/market) is imported bar by bar into discovery's market-data stream,
 * then one discovery run mines it, validates what it finds and registers the
 * survivors as candidate strategies, which the demo lists beside the patterns
 * that were planted.
 */
import type { DiscoveryClient } from "@stratreg/client";
import { type BarSeries, generateMarket } from "@stratreg/market";
import { ErrorCodes, type RunProgress, StratregError } from "@stratreg/protocol";

/** The demo's market: four symbols, twelve years of daily bars, three patterns planted. */
export const DEMO_MARKET = { seed: 11, symbols: 4, bars: 3000, planted: 3, sharpe: [2.5, 3.5] as [number, number] };

/** How long the demo waits for a risk guard to announce the trading state before it gives up. */
const GUARD_WAIT_MS = 20_000;

function barsOf(series: BarSeries) {
  return Array.from({ length: series.length }, (_, i) => {
    const bar = series.bar(i);
    const { spread, ...rest } = bar;
    return spread === undefined || !Number.isFinite(spread) ? rest : bar;
  });
}

/** Imports the demo market, runs discovery on it within `budgetMs`, and prints what it found. */
export async function runDiscoveryDemo(
  discovery: DiscoveryClient,
  budgetMs: number,
  say: (line: string) => void,
): Promise<RunProgress | undefined> {
  const market = generateMarket({ ...DEMO_MARKET, mode: "planted" });
  let appended = 0;
  for (const series of market.series) {
    appended += (await discovery.importSeries(barsOf(series), { timeoutMs: 30_000 })).appended;
  }
  say(
    `discovery: imported ${appended} daily bars of ${market.series.length} symbols (a synthetic market with ${market.planted.length} planted patterns)`,
  );
  for (const pattern of market.planted) say(`  planted  ${pattern.description}`);
  let runId: string | undefined;
  const ends = new Map<string, RunProgress>();
  let ended: (progress: RunProgress) => void = () => undefined;
  const finishedRun = new Promise<RunProgress>((resolve) => {
    ended = resolve;
  });
  // Followed before the run starts, so that not even an early end is missed.
  const follower = discovery.followProgress((progress) => {
    if (progress.outcome === undefined) return;
    ends.set(progress.runId, progress);
    if (progress.runId === runId) ended(progress);
  });
  await follower.ready;
  const until = performance.now() + GUARD_WAIT_MS;
  let started: RunProgress;
  for (;;) {
    try {
      started = await discovery.run({ budgetMs, population: 150, generations: 10 });
      break;
    } catch (err) {
      // Discovery runs only once a risk guard has announced the trading state.
      if (!(err instanceof StratregError) || err.code !== ErrorCodes.TradingHalted || performance.now() > until) {
        throw err;
      }
      await new Promise((resolve) => setTimeout(resolve, 500));
    }
  }
  say(
    `  run ${started.runId} started (budget ${Math.round(budgetMs / 1000)} s): mining, then validation on held-out bars`,
  );
  runId = started.runId;
  const early = ends.get(runId);
  if (early !== undefined) ended(early);
  const finished = await finishedRun;
  follower.stop();
  const { candidates } = await discovery.candidates({ runId: started.runId, limit: 20 });
  say(
    `  run ${finished.outcome}: ${finished.evaluated} candidates evaluated, ${candidates.length} passed validation and were registered as candidates`,
  );
  for (const c of candidates) {
    const interval = c.report.estimate.sharpeInterval;
    const range = interval === null ? "" : ` [${interval[0].toFixed(1)}, ${interval[1].toFixed(1)}]`;
    say(`  found    ${c.id} on ${c.target}: ${c.expression}  test Sharpe ${c.report.test.sharpe?.toFixed(2)}${range}`);
  }
  return finished;
}
