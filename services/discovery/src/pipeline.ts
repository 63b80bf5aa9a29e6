/**
 * One discovery run over aligned market data, without I/O of its own: for each
 * traded series, mine the train window (mining/), screen the shortlist on the
 * validation window with Holm's correction, validate the survivors on the test
 * window (validation/), and hand every pattern that passes to the caller's
 * `candidate` hook; then synthesise children of discovered strategies and put
 * them through the same screen and validation.
 *
 * The miner never sees past the train window: its worker pool holds only
 * those bars. The validation window chooses among the shortlist; the test
 * window is looked at once per survivor, with a Bonferroni correction over the
 * survivors and the Deflated Sharpe Ratio over every candidate the miner tried.
 *
 * The remaining budget is shared equally among the series still to mine, so a
 * run with a short budget still looks at every series. A checkpoint after each
 * generation and each series lets a stopped run resume where it was.
 */
import type { Costs } from "@stratreg/alpha";
import type { MarketData, VenueFees } from "@stratreg/market";
import type { CandidateMessage, RunPhase, RunProgress, RunRequest, ValidationReport } from "@stratreg/protocol";
import { DiscoveryLimits, RunPhases } from "@stratreg/protocol";
import { judgeCandidates, SAME_BET_CORRELATION } from "./judge.js";
import type { MiningCheckpoint } from "./mining/checkpoint.js";
import { marketFromData, marketWindow } from "./mining/market.js";
import { EvaluationPool } from "./mining/pool.js";
import { type MiningResult, mine } from "./mining/search.js";
import type { SearchTrials } from "./mining/trials.js";
import { scanMarket } from "./scanner.js";
import { seedsFor } from "./seeds.js";
import type { CandidateDraft } from "./store/candidates.js";
import { synthesise } from "./synthesis.js";
import { chronologicalSplits } from "./validation/splits.js";

/** Costs of a venue the caller gives none for: 1 bp of fees and 2 bp of slippage per unit traded. */
export const DEFAULT_VENUE_FEES: VenueFees = { feeBps: 1, slippageBps: 2 };

/** Depth of mined expressions (keeps their text within a template parameter's 256 characters). */
export const MAX_DEPTH = 5;

/** Texts whose fitness a search caches (and its checkpoint carries): enough for a few hundred generations of 200. */
export const CACHE_SIZE = 20_000;

/** Rejected reports a result keeps. */
export const REJECTED_KEPT = 50;

/** Where a run is, to resume it. */
export interface PipelineCheckpoint {
  request: RunRequest;
  seed: number;
  /** Series finished. */
  done: string[];
  evaluated: number;
  /** The series being mined, and the miner's checkpoint. */
  current?: { target: string; mining: MiningCheckpoint };
}

/** What the pipeline tells its caller. */
export interface PipelineHooks {
  progress(update: Partial<RunProgress> & { phase?: RunPhase }): void;
  /** Where the run is; `milestone` after a series is done (worth saving at once), else after a generation. */
  checkpoint(state: PipelineCheckpoint, milestone: boolean): Promise<void>;
  /** A pattern passed validation: register it (undefined when it was known already). */
  candidate(draft: CandidateDraft): Promise<CandidateMessage | undefined>;
}

/** How a run searches. */
export interface PipelineOptions {
  runId: string;
  seed?: number | undefined;
  population?: number | undefined;
  generations?: number | undefined;
  synthesis: boolean;
  /** Wall-clock end of the run, ms since the epoch. */
  deadline: number;
  /** Worker threads (0: every core). */
  threads: number;
  signal: AbortSignal;
  /** The scanner's regime of each aligned bar. */
  regimes?: { labels: ArrayLike<number>; names: readonly string[] };
  /** Discovered strategies registered before (synthesis combines them with this run's). */
  registered?: readonly CandidateMessage[];
  resume?: PipelineCheckpoint | undefined;
  request: RunRequest;
  fees?: Record<string, VenueFees>;
  hooks: PipelineHooks;
}

/** What mining and judging one series did. */
export interface SeriesResult {
  target: string;
  evaluated: number;
  generations: number;
  /** Train Sharpe ratio of the shortlist's best. */
  bestTrainSharpe: number | null;
  judged: { shortlisted: number; screened: number; passed: number; repeats: number; published: number };
}

/** What a run did. */
export interface PipelineResult {
  aborted: boolean;
  targets: string[];
  evaluated: number;
  /** Shortlisted, passed the screen, passed validation. */
  shortlisted: number;
  screened: number;
  validated: number;
  /** For the survivors of the screen that failed validation: how many failed each check. */
  failedChecks: Record<string, number>;
  /** The reports of the latest of those (at most {@link REJECTED_KEPT}), to see why. */
  rejected: ValidationReport[];
  /** Each series mined, in order. */
  series: SeriesResult[];
  /** Candidates handed to the `candidate` hook, registered or known already. */
  found: Array<{ draft: CandidateDraft; message: CandidateMessage | undefined }>;
}

/** The annualisation factor of bars this far apart: 252 trading days of however many bars a day holds. */
export function periodsPerYear(t: Float64Array): number {
  const n = t.length;
  if (n < 2) return 252;
  const days = new Set<number>();
  for (let i = 0; i < n; i++) days.add(Math.floor((t[i] as number) / 86_400_000));
  return 252 * Math.max(1, Math.round(n / days.size));
}

function threads(options: PipelineOptions): number | undefined {
  return options.threads > 0 ? options.threads : undefined;
}

function seedOf(runId: string): number {
  let h = 2166136261;
  for (let i = 0; i < runId.length; i++) h = Math.imul(h ^ runId.charCodeAt(i), 16777619) >>> 0;
  return h;
}

/** Runs discovery over `data` (aligned series), calling the hooks as it goes. */
export async function runPipeline(data: MarketData, options: PipelineOptions): Promise<PipelineResult> {
  const { hooks, signal } = options;
  const market = marketFromData(data);
  const targets = market.assets.map((a) => a.name);
  const keyOf = new Map(market.assets.map((a, j) => [a.name, data.keys[j] as string]));
  const nameOf = new Map([...keyOf].map(([name, key]) => [key, name]));
  const splits = chronologicalSplits(market.length);
  const train = marketWindow(market, 0, splits.trainEnd);
  // The seeds' lead-lag and weekday findings come from a scan of the train bars only: a finding
  // made on all of them would carry the held-out bars into the search.
  const trainScan = scanMarket(trainingData(data, splits.trainEnd));
  const annual = periodsPerYear(data.t);
  const seed = options.resume?.seed ?? options.seed ?? seedOf(options.runId);
  const done = new Set(options.resume?.done ?? []);
  const result: PipelineResult = {
    aborted: false,
    targets: targets.map((t) => keyOf.get(t) as string),
    evaluated: options.resume?.evaluated ?? 0,
    shortlisted: 0,
    screened: 0,
    validated: 0,
    failedChecks: {},
    rejected: [],
    series: [],
    found: [],
  };
  hooks.progress({ phase: RunPhases.Mining, targets: result.targets, targetsDone: done.size });
  const costsOf = (asset: string): Costs => {
    const venue = (keyOf.get(asset) as string).split("@")[1] as string;
    const fees = options.fees?.[venue] ?? DEFAULT_VENUE_FEES;
    return { feeBps: fees.feeBps, slippageBps: fees.slippageBps, periodsPerYear: annual };
  };
  const context = (target: string) => ({
    market,
    target,
    splits,
    costs: costsOf(target),
    regimes: options.regimes,
    seed,
  });
  const checkpoint = (current?: PipelineCheckpoint["current"]) =>
    hooks.checkpoint(
      {
        request: options.request,
        seed,
        done: [...done],
        evaluated: result.evaluated,
        ...(current === undefined ? {} : { current }),
      },
      current === undefined,
    );

  // One pool of worker threads for every series of the run: threads start once.
  let workers: EvaluationPool | undefined;
  const pool = (): EvaluationPool => {
    workers ??= new EvaluationPool({
      market: train,
      target: targets[0] as string,
      costs: costsOf(targets[0] as string),
      maxThreads: threads(options),
    });
    return workers;
  };
  try {
    await mineEach();
  } finally {
    await workers?.close();
  }

  async function mineEach(): Promise<void> {
    for (const [index, target] of targets.entries()) {
      const key = keyOf.get(target) as string;
      if (done.has(key)) continue;
      if (signal.aborted || Date.now() >= options.deadline) break;
      const remaining = targets.length - done.size;
      const targetDeadline = Date.now() + (options.deadline - Date.now()) / Math.max(1, remaining);
      hooks.progress({ phase: RunPhases.Mining, target: key, generation: 0, bestTrainSharpe: null });
      const resume = options.resume?.current?.target === key ? options.resume.current.mining : undefined;
      const before = result.evaluated;
      const mined: MiningResult = await mine({
        evaluator: pool().forTarget(target, costsOf(target)),
        seed: seed + index,
        populationSize: options.population ?? 200,
        generations: options.generations ?? 12,
        maxDepth: MAX_DEPTH,
        assets: targets,
        cacheSize: CACHE_SIZE,
        seeds: seedsFor(target, key, trainScan, (k) => nameOf.get(k)),
        deadlineMs: Math.max(0, targetDeadline - Date.now()),
        signal,
        ...(resume === undefined ? {} : { resume }),
        onProgress: (g) => {
          result.evaluated = before + g.evaluated;
          hooks.progress({
            generation: g.generation,
            evaluated: result.evaluated,
            bestTrainSharpe: Number.isFinite(g.bestFitness) ? g.bestFitness : null,
          });
        },
        onCheckpoint: (state) => checkpoint({ target: key, mining: state }),
      });
      result.evaluated = before + mined.evaluated;
      if (signal.aborted) break;
      hooks.progress({ phase: RunPhases.Validating, evaluated: result.evaluated });
      const judged = await judge(
        mined.shortlist.map((s) => s.text),
        target,
        { count: Math.max(1, mined.trials.count), sharpeVariance: mined.trials.sharpeVariance },
        () => ({ origin: "mined", parents: [], note: `mined, run ${options.runId}` }),
      );
      result.series.push({
        target: key,
        evaluated: mined.evaluated,
        generations: mined.generations,
        bestTrainSharpe: mined.shortlist[0]?.trainSharpe ?? null,
        judged,
      });
      done.add(key);
      await checkpoint();
      hooks.progress({ phase: RunPhases.Mining, targetsDone: done.size });
    }
  }

  if (options.synthesis && !signal.aborted && Date.now() < options.deadline) {
    hooks.progress({ phase: RunPhases.Synthesising, target: null });
    const byId = new Map<string, CandidateMessage | CandidateDraft>();
    for (const c of options.registered ?? []) byId.set(c.id, c);
    for (const f of result.found) if (f.message !== undefined) byId.set(f.message.id, f.message);
    const combined = [...byId.values()].filter((c) => result.targets.includes(c.target));
    const children = synthesise(
      combined.map((c) => ({ id: (c as CandidateMessage).id, expression: c.expression, target: c.target })),
      { seed, assets: targets, maxDepth: MAX_DEPTH, max: 40 },
    );
    const byTarget = new Map<string, typeof children>();
    for (const child of children) byTarget.set(child.target, [...(byTarget.get(child.target) ?? []), child]);
    for (const [key, group] of byTarget) {
      if (signal.aborted || Date.now() >= options.deadline) break;
      const target = nameOf.get(key) as string;
      const origin = new Map(group.map((c) => [c.expression, c]));
      // The children's parents were each the best of a search: the children count those trials too.
      const parentIds = new Set(group.flatMap((c) => c.parents));
      const parentTrials = combined
        .filter((c) => parentIds.has((c as CandidateMessage).id))
        .reduce((sum, c) => sum + (c.report.trials?.count ?? 0), 0);
      await judge(
        group.map((c) => c.expression),
        target,
        { count: group.length + parentTrials, sharpeVariance: null },
        (text) => {
          const child = origin.get(text);
          return {
            origin: "synthesised",
            parents: child?.parents ?? [],
            note: `synthesised (${child?.how}) from ${child?.parents.join(" and ")}, run ${options.runId}`,
          };
        },
        combined.filter((c) => parentIds.has((c as CandidateMessage).id)).map((c) => c.expression),
      );
    }
  }
  result.aborted = signal.aborted;
  hooks.progress({ phase: RunPhases.Publishing, target: null, evaluated: result.evaluated });
  return result;

  /**
   * Judges `texts` on `target` (those of `parents` made from them), hands what passes to the
   * `candidate` hook, and records it all. Validation stops at the run's deadline.
   */
  async function judge(
    texts: readonly string[],
    target: string,
    trials: Pick<SearchTrials, "count" | "sharpeVariance">,
    describe: (text: string) => { origin: CandidateDraft["origin"]; parents: string[]; note: string },
    parents: readonly string[] = [],
  ): Promise<SeriesResult["judged"]> {
    const key = keyOf.get(target) as string;
    const known = [...(options.registered ?? []), ...result.found.map((f) => f.draft)]
      .filter((c) => c.target === key && !parents.includes(c.expression))
      .map((c) => c.expression);
    // A strategy's expression is a template parameter of at most 256 characters: longer ones are not judged.
    const fitting = texts.filter((text) => text.length <= DiscoveryLimits.expressionMaxLength);
    const judgement = await judgeCandidates(
      fitting,
      context(target),
      trials,
      known,
      () => signal.aborted || Date.now() >= options.deadline,
      SAME_BET_CORRELATION,
      parents,
    );
    result.shortlisted += judgement.shortlisted;
    result.screened += judgement.screened;
    for (const report of judgement.rejected) {
      for (const check of report.checks) {
        if (!check.passed) result.failedChecks[check.name] = (result.failedChecks[check.name] ?? 0) + 1;
      }
      result.rejected.push(report);
      if (result.rejected.length > REJECTED_KEPT) result.rejected.shift();
    }
    let published = 0;
    for (const report of judgement.passed) {
      if (signal.aborted) break;
      result.validated++;
      const described = describe(report.expression);
      const draft: CandidateDraft = {
        runId: options.runId,
        origin: described.origin,
        expression: report.expression,
        target: key,
        family: familyOf(key),
        parents: described.parents,
        report,
        summary: `${described.note}; ${summaryOf(report)}`,
      };
      const message = await hooks.candidate(draft);
      if (message !== undefined) published++;
      result.found.push({ draft, message });
    }
    return {
      shortlisted: judgement.shortlisted,
      screened: judgement.screened,
      passed: judgement.passed.length,
      repeats: judgement.repeats,
      published,
    };
  }
}

/** Aligned data cut to its first `end` bars (views, not copies). */
function trainingData(data: MarketData, end: number): MarketData {
  return {
    t: data.t.subarray(0, end),
    keys: data.keys,
    series: data.series.map((s) => s.slice(0, end)),
    closes: data.closes.map((c) => c.subarray(0, end)),
    filled: data.filled.map((f) => f.subarray(0, end)),
  };
}

/** The family of the strategies discovered on one traded series (their lineage in the search). */
export function familyOf(key: string): string {
  return `discovered:${key}`;
}

function summaryOf(report: ValidationReport): string {
  const sharpe = report.test.sharpe === null ? "n/a" : report.test.sharpe.toFixed(2);
  const interval = report.estimate.sharpeInterval;
  const range =
    interval === null
      ? ""
      : ` (${report.estimate.level * 100} %: ${interval[0].toFixed(2)} to ${interval[1].toFixed(2)})`;
  return `test Sharpe ${sharpe}${range} net of ${report.estimate.feeBps} bp fees and ${report.estimate.slippageBps} bp slippage`;
}
