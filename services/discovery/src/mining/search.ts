/**
 * The miner: a genetic search for strategies trading one target asset, on a training window.
 * Alpha breeds the generations; this runs them under a budget, evaluates each generation's new
 * candidates in one batch (the pool spreads it over the cores), caches evaluations by text across
 * generations, keeps the shortlist and the trials validation deflates by, and checkpoints after
 * every generation so a long search survives a restart.
 *
 * Fitness is the train net Sharpe ratio (NaN when unusable), adjusted by parsimony; behaviours for
 * novelty are the evaluations' sketches. Counting trials: every distinct text evaluated is one,
 * usable or not. A text dropped from the (capped) cache and bred again is counted again, which
 * can only overstate the trials and so deflates more, never less.
 */
import { performance } from "node:perf_hooks";
import {
  check,
  EMPTY_ARCHIVE,
  type Evaluation,
  type Expr,
  evolve,
  type FitnessFunction,
  parse,
  print,
  Rng,
  rampedHalfAndHalf,
  size as sizeOf,
} from "@stratreg/alpha";
import { checkpointOf, type MiningCheckpoint, remember, type SearchState, stateFromCheckpoint } from "./checkpoint.js";
import type { CandidateEvaluator, TrainEvaluation } from "./evaluation.js";
import {
  DEFAULT_MAX_CORRELATION,
  DEFAULT_SHORTLIST_SIZE,
  rankCandidates,
  Shortlist,
  type ShortlistedCandidate,
  type SketchedCandidate,
} from "./shortlist.js";
import { addTrial, NO_TRIALS, type SearchTrials, trialsOf } from "./trials.js";

/** Fitness taken off per node of a tree, by default (alpha's default). */
export const DEFAULT_PARSIMONY = 0.002;
/** Texts whose fitness the cache keeps, by default. */
export const DEFAULT_CACHE_SIZE = 50_000;

/** Why a search stopped. */
export const StopReasons = {
  /** It ran the generations asked for. */
  GENERATIONS: "generations",
  /** It evaluated the budget of candidates. */
  EVALUATIONS: "evaluations",
  /** Its time ran out. */
  DEADLINE: "deadline",
  /** Its signal was aborted. */
  ABORTED: "aborted",
} as const;
/** One of {@link StopReasons}. */
export type StopReason = (typeof StopReasons)[keyof typeof StopReasons];

/** Where a search is, after each generation. */
export interface MiningProgress {
  readonly target: string;
  /** Generations evaluated so far (those before a resume included). */
  readonly generation: number;
  /** Distinct candidates evaluated so far. */
  readonly evaluated: number;
  /** Train Sharpe ratio of this generation's best (by adjusted fitness); NaN when none was usable. */
  readonly bestFitness: number;
  readonly bestText: string;
  /** Since this call of `mine` began. */
  readonly elapsedMs: number;
}

/** A search. Only `evaluator` and `seed` are required. */
export interface MineOptions {
  /** Evaluates candidates on the training window: an `EvaluationPool`, or an `InProcessEvaluator`. */
  readonly evaluator: CandidateEvaluator;
  /** Seed of the search's generator: the same seed and options give the same search. */
  readonly seed: number;
  /** Individuals per generation (default 200). */
  readonly populationSize?: number;
  /** Generations to evaluate in all, those before a resume included (default 30). */
  readonly generations?: number;
  /** Largest tree depth (default 5). */
  readonly maxDepth?: number;
  /** Assets the terminals may read (default every asset of the evaluator's market: cross-asset terms). */
  readonly assets?: readonly string[];
  /** Fitness taken off per node (default {@link DEFAULT_PARSIMONY}). */
  readonly parsimony?: number;
  /** Weight of behavioural novelty in tournaments (default 0.2). */
  readonly noveltyWeight?: number;
  /** Distinct best individuals carried over unchanged (default 2). */
  readonly elitism?: number;
  /** Alpha's breeding settings (its defaults when left out). */
  readonly tournamentSize?: number;
  readonly crossoverRate?: number;
  readonly mutationRate?: number;
  readonly noveltyNeighbours?: number;
  readonly archiveSize?: number;
  readonly archiveAdditions?: number;
  /** Stop once this many distinct candidates were evaluated (checked between generations). */
  readonly maxEvaluations?: number;
  /** Stop once this many milliseconds have passed since the call (checked between generations). */
  readonly deadlineMs?: number;
  /** Stop when aborted; the generation under way is finished and kept. */
  readonly signal?: AbortSignal;
  /** Called after each generation. */
  readonly onProgress?: (progress: MiningProgress) => void;
  /** Called after each generation with the state as plain data; the search waits for it. */
  readonly onCheckpoint?: (checkpoint: MiningCheckpoint) => void | Promise<void>;
  /**
   * Expressions the first generation starts with (canonical texts; what does not parse, is not a
   * position or repeats is left out), at most half of it: the rest is random. Ignored on resume.
   */
  readonly seeds?: readonly string[];
  /** A checkpoint to continue from (of a search for the same target, with the same options). */
  readonly resume?: MiningCheckpoint;
  /** Candidates in the shortlist (default 20). */
  readonly shortlistSize?: number;
  /** |correlation| of sketches from which two candidates are near-duplicates (default 0.9). */
  readonly maxCorrelation?: number;
  /** Texts whose fitness is cached (default {@link DEFAULT_CACHE_SIZE}). */
  readonly cacheSize?: number;
  /** Usable texts whose sketch is cached (default twice the population); one bred again without it is re-run. */
  readonly sketchCacheSize?: number;
}

/** What a search found. */
export interface MiningResult {
  readonly target: string;
  /** Distinct candidates evaluated (= trials.count). */
  readonly evaluated: number;
  /** What validation deflates the selected Sharpe ratio by. */
  readonly trials: SearchTrials;
  /** Generations evaluated, those before a resume included. */
  readonly generations: number;
  readonly stoppedBy: StopReason;
  /** The best candidates that are mutually not near-duplicates, best first. */
  readonly shortlist: ShortlistedCandidate[];
}

function integer(value: number | undefined, fallback: number, name: string, min: number): number {
  const v = value ?? fallback;
  if (!(Number.isInteger(v) && v >= min)) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/**
 * Runs a genetic search for the evaluator's target and returns its shortlist and trials. Stops
 * after `generations`, or earlier when the budget is spent or the signal aborted (between
 * generations: what was found so far is returned). RangeError for bad options; a MiningError
 * CHECKPOINT_MISMATCH for a checkpoint of another search; the evaluator's errors pass through.
 */
export async function mine(options: MineOptions): Promise<MiningResult> {
  const { evaluator, signal } = options;
  const target = evaluator.target;
  const populationSize = integer(options.populationSize, 200, "populationSize", 1);
  const generations = integer(options.generations, 30, "generations", 0);
  const maxEvaluations = options.maxEvaluations ?? Number.POSITIVE_INFINITY;
  const deadlineMs = options.deadlineMs ?? Number.POSITIVE_INFINITY;
  if (!(maxEvaluations >= 0)) throw new RangeError(`maxEvaluations must be ≥ 0, got ${maxEvaluations}`);
  if (!(deadlineMs >= 0)) throw new RangeError(`deadlineMs must be ≥ 0, got ${deadlineMs}`);
  const cacheSize = integer(options.cacheSize, DEFAULT_CACHE_SIZE, "cacheSize", 1);
  const sketchCacheSize = integer(options.sketchCacheSize, 2 * populationSize, "sketchCacheSize", 1);
  const parsimony = options.parsimony ?? DEFAULT_PARSIMONY;
  const grammar = { assets: options.assets ?? evaluator.assets, maxDepth: options.maxDepth ?? 5 };
  const shortlist = new Shortlist(
    options.shortlistSize ?? DEFAULT_SHORTLIST_SIZE,
    options.maxCorrelation ?? DEFAULT_MAX_CORRELATION,
  );
  const state: SearchState =
    options.resume === undefined
      ? freshState(options.seed, populationSize, grammar, shortlist, options.seeds ?? [])
      : stateFromCheckpoint(options.resume, target, shortlist);
  const started = performance.now();

  /** Sketches of the generation being evaluated, by text: where the archive's newcomers come from. */
  let generationSketches = new Map<string, Float64Array>();
  const fitness: FitnessFunction = async (batch) => {
    const texts = batch.map(print);
    const hit = (text: string): boolean => {
      const f = state.cache.get(text);
      return f !== undefined && (Number.isNaN(f) || state.sketches.has(text));
    };
    const asked = texts.filter((text) => !hit(text));
    const answers = asked.length === 0 ? [] : await evaluator.evaluate(asked);
    if (answers.length !== asked.length) {
      throw new RangeError(`the evaluator answered ${answers.length} evaluations for ${asked.length}`);
    }
    const newcomers: SketchedCandidate[] = [];
    const answered = new Map<string, TrainEvaluation>();
    for (const [i, answer] of answers.entries()) answered.set(asked[i] as string, answer);
    const evaluations = texts.map((text, i): Evaluation => {
      const answer = answered.get(text);
      if (answer !== undefined) {
        const usable = Number.isFinite(answer.fitness);
        if (!state.cache.has(text)) {
          state.trials = addTrial(state.trials, answer.fitness, usable);
          if (usable) newcomers.push(candidateOf(answer, sizeOf(batch[i] as Expr), parsimony));
        }
        remember(state.cache, text, answer.fitness, cacheSize);
        if (usable) remember(state.sketches, text, answer.sketch, sketchCacheSize);
      } else {
        remember(state.cache, text, state.cache.get(text) as number, cacheSize);
        const sketch = state.sketches.get(text);
        if (sketch !== undefined) remember(state.sketches, text, sketch, sketchCacheSize);
      }
      const f = state.cache.get(text) as number;
      const sketch = Number.isNaN(f) ? undefined : (answer?.sketch ?? state.sketches.get(text));
      if (sketch !== undefined) generationSketches.set(text, sketch);
      return { fitness: f, behaviour: sketch };
    });
    // Best first, so that of two equal near-duplicates the same one stays whatever the batch order.
    for (const candidate of newcomers.sort(rankCandidates)) state.shortlist.offer(candidate);
    return evaluations;
  };

  let stoppedBy: StopReason = StopReasons.GENERATIONS;
  for (;;) {
    if (state.generation >= generations) break;
    if (signal?.aborted === true) {
      stoppedBy = StopReasons.ABORTED;
      break;
    }
    if (state.trials.count >= maxEvaluations) {
      stoppedBy = StopReasons.EVALUATIONS;
      break;
    }
    if (performance.now() - started >= deadlineMs) {
      stoppedBy = StopReasons.DEADLINE;
      break;
    }
    generationSketches = new Map();
    const generation = await evolve(state.population, fitness, {
      ...grammar,
      rng: state.rng,
      size: populationSize,
      elitism: options.elitism ?? 2,
      tournamentSize: options.tournamentSize,
      crossoverRate: options.crossoverRate,
      mutationRate: options.mutationRate,
      parsimony,
      noveltyWeight: options.noveltyWeight ?? 0.2,
      noveltyNeighbours: options.noveltyNeighbours,
      archive: state.archive,
      archiveSize: options.archiveSize,
      archiveAdditions: options.archiveAdditions,
    });
    state.population = generation.population;
    state.archive = generation.archive;
    state.archiveSketches = new Map(
      generation.archive.entries.map(({ text }) => [
        text,
        state.archiveSketches.get(text) ?? (generationSketches.get(text) as Float64Array),
      ]),
    );
    state.generation++;
    if (options.onCheckpoint !== undefined) await options.onCheckpoint(checkpointOf(state, target));
    options.onProgress?.({
      target,
      generation: state.generation,
      evaluated: state.trials.count,
      bestFitness: generation.stats.best.fitness,
      bestText: generation.stats.best.text,
      elapsedMs: performance.now() - started,
    });
  }
  return {
    target,
    evaluated: state.trials.count,
    trials: trialsOf(state.trials),
    generations: state.generation,
    stoppedBy,
    shortlist: state.shortlist.candidates(),
  };
}

function candidateOf(answer: TrainEvaluation, size: number, parsimony: number): SketchedCandidate {
  return {
    text: answer.text,
    trainSharpe: answer.fitness,
    trades: answer.trades,
    exposure: answer.exposure,
    size,
    adjusted: answer.fitness - parsimony * size,
    sketch: answer.sketch,
  };
}

function freshState(
  seed: number,
  populationSize: number,
  grammar: { assets: readonly string[]; maxDepth: number },
  shortlist: Shortlist,
  seeds: readonly string[],
): SearchState {
  const rng = new Rng(seed);
  const seeded = new Map<string, Expr>();
  for (const text of seeds) {
    if (seeded.size >= Math.floor(populationSize / 2)) break;
    try {
      const expr = parse(text);
      check(expr, "position");
      seeded.set(print(expr), expr);
    } catch {
      // A seed that is not a position in this language is no seed.
    }
  }
  return {
    generation: 0,
    population: [...seeded.values(), ...rampedHalfAndHalf(populationSize - seeded.size, rng, grammar)],
    rng,
    trials: NO_TRIALS,
    archive: EMPTY_ARCHIVE,
    archiveSketches: new Map(),
    cache: new Map(),
    sketches: new Map(),
    shortlist,
  };
}
