/**
 * A whole discovery run over bars in hand, without NATS: scan, mine on worker threads, judge,
 * synthesise, and collect what would be registered. What the acceptance tests and the benchmark
 * run; the service runs the same pipeline with its hooks on the registry and the streams.
 */
import { align, type BarSeries, type VenueFees } from "@stratreg/market";
import type { CandidateMessage } from "@stratreg/protocol";
import { type PipelineResult, runPipeline } from "./pipeline.js";
import { scanMarket } from "./scanner.js";
import type { CandidateDraft } from "./store/candidates.js";

/** How an offline run searches. Budgeted in generations (and a deadline far off by default). */
export interface OfflineRun {
  seed: number;
  population: number;
  generations: number;
  synthesis?: boolean;
  /** Costs per venue (a synthetic market's own). */
  fees?: Record<string, VenueFees>;
  /** Wall-clock budget, ms (default an hour: in practice, the generations decide). */
  budgetMs?: number;
  /** Worker threads (default every core). */
  threads?: number;
  /** Discovered strategies registered before: known bets, and parents for synthesis. */
  registered?: readonly CandidateMessage[];
}

/** Runs discovery over `series` (aligned first); returns the result and the candidates it would register. */
export async function discoverOffline(
  series: readonly BarSeries[],
  run: OfflineRun,
): Promise<{ result: PipelineResult; found: CandidateDraft[] }> {
  const data = align(series);
  const scan = scanMarket(data);
  const found: CandidateDraft[] = [];
  const result = await runPipeline(data, {
    runId: `offline-${run.seed}`,
    seed: run.seed,
    population: run.population,
    generations: run.generations,
    synthesis: run.synthesis ?? false,
    deadline: Date.now() + (run.budgetMs ?? 3_600_000),
    threads: run.threads ?? 0,
    signal: new AbortController().signal,
    regimes: { labels: scan.labels, names: scan.regimeNames },
    request: {},
    ...(run.fees === undefined ? {} : { fees: run.fees }),
    ...(run.registered === undefined ? {} : { registered: run.registered }),
    hooks: {
      progress: () => undefined,
      checkpoint: async () => undefined,
      candidate: async (draft) => {
        found.push(draft);
        return undefined;
      },
    },
  });
  return { result, found };
}
