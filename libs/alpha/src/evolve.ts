/**
 * One generation of the genetic search. Fitness comes from outside (the miner supplies the
 * training-window Sharpe ratio with its penalties) and is asked for a whole batch at once, so
 * the caller may spread it over workers; everything else is here and deterministic for a seed.
 *
 * Each individual is ranked two ways:
 * - adjusted = fitness − parsimony·size: the figure elitism keeps and `best` reports, so the best
 *   strategy found is never lost and, between two equally fit, the smaller wins (bloat is the
 *   usual way genetic programs overfit: more nodes, more ways to fit noise);
 * - score = adjusted + noveltyWeight·novelty: the figure tournaments compare, so an individual
 *   that bets differently from the crowd and the archive gets to breed even when it is not yet
 *   the fittest, and the population does not collapse onto one idea in many spellings.
 */
import type { Expr } from "./ast.js";
import { checkGrammar, type GrammarOptions } from "./generate.js";
import { type Behaviour, EMPTY_ARCHIVE, type NoveltyArchive, noveltyScore, prepareBehaviour } from "./novelty.js";
import type { Rng } from "./rng.js";
import { print } from "./text.js";
import { check, size as sizeOf } from "./tree.js";
import { crossover, DEFAULT_MUTATION_WEIGHTS, type MutationWeights, mutate } from "./variation.js";

/** What the fitness function says about one strategy. */
export interface Evaluation {
  /** To be maximised. NaN or −∞ means unusable (no trades, say): it ranks last. */
  readonly fitness: number;
  /** The strategy's behaviour on the training window (its net returns), for novelty. */
  readonly behaviour?: ArrayLike<number>;
}

/**
 * Evaluates a batch of distinct strategies, in order, synchronously or not. The batch never
 * holds the same canonical text twice; across generations, caching by text is the caller's.
 */
export type FitnessFunction = (batch: readonly Expr[]) => readonly Evaluation[] | Promise<readonly Evaluation[]>;

/** How a generation is bred. Only `rng`, `assets` and `maxDepth` are required. */
export interface EvolveOptions extends GrammarOptions {
  /** The generator; pass the same one from generation to generation. */
  readonly rng: Rng;
  /** Size of the next generation (default: that of this one). */
  readonly size?: number;
  /** The best this many distinct strategies (by adjusted fitness) pass on unchanged (default 1). */
  readonly elitism?: number;
  /** Individuals drawn per tournament (default 4). */
  readonly tournamentSize?: number;
  /** Share of offspring bred by crossover (default 0.7). */
  readonly crossoverRate?: number;
  /** Share bred by mutation (default 0.25); the rest are copies of tournament winners. */
  readonly mutationRate?: number;
  /** Weights of the kinds of mutation (default {@link DEFAULT_MUTATION_WEIGHTS}). */
  readonly mutationWeights?: MutationWeights;
  /** Fitness taken off per node (default 0.002). */
  readonly parsimony?: number;
  /** Weight of novelty in tournaments (default 0: none). */
  readonly noveltyWeight?: number;
  /** Neighbours novelty averages over (default 10). */
  readonly noveltyNeighbours?: number;
  /** The archive from the previous generation (default empty). */
  readonly archive?: NoveltyArchive;
  /** Most behaviours the archive keeps, the oldest leaving first (default 200). */
  readonly archiveSize?: number;
  /** The most novel strategies of each generation that enter the archive (default 2). */
  readonly archiveAdditions?: number;
}

/** An individual of the evaluated generation. */
export interface Scored {
  readonly expr: Expr;
  readonly text: string;
  readonly fitness: number;
  readonly size: number;
  /** Mean behavioural distance to its nearest neighbours; 0 without a behaviour. */
  readonly novelty: number;
  /** fitness − parsimony·size, −∞ when the fitness is unusable. */
  readonly adjusted: number;
  /** adjusted + noveltyWeight·novelty: what tournaments compare. */
  readonly score: number;
}

/** Figures of the evaluated generation. */
export interface GenerationStats {
  /** Distinct strategies sent to the fitness function. */
  readonly evaluated: number;
  /** The individual with the highest adjusted fitness. */
  readonly best: Scored;
  /** Mean and median of the usable fitness values (NaN when none is usable). */
  readonly meanFitness: number;
  readonly medianFitness: number;
  /** Individuals whose fitness was unusable. */
  readonly unusable: number;
  readonly meanSize: number;
  readonly maxSize: number;
  /** Distinct texts / individuals: 1 when no two are the same. */
  readonly diversity: number;
  readonly meanNovelty: number;
}

/** The result of one step: the next generation and what was learnt about this one. */
export interface Generation {
  /** The next generation, elites first. */
  readonly population: Expr[];
  /** This generation scored, best adjusted fitness first. */
  readonly scored: Scored[];
  readonly stats: GenerationStats;
  /** The archive to pass to the next step. */
  readonly archive: NoveltyArchive;
}

function rate(value: number | undefined, fallback: number, name: string): number {
  const v = value ?? fallback;
  if (!(Number.isFinite(v) && v >= 0)) throw new RangeError(`${name} must be a number ≥ 0, got ${v}`);
  return v;
}

function count(value: number | undefined, fallback: number, name: string, min = 0): number {
  const v = value ?? fallback;
  if (!(Number.isInteger(v) && v >= min)) throw new RangeError(`${name} must be an integer ≥ ${min}, got ${v}`);
  return v;
}

/** Best first: adjusted fitness, then the smaller tree, then the text (so ties break the same way every run). */
function byAdjusted(a: Scored, b: Scored): number {
  return b.adjusted - a.adjusted || a.size - b.size || (a.text < b.text ? -1 : a.text > b.text ? 1 : 0);
}

/**
 * Evaluates `population` (strategies: position-typed trees) with `fitness`, scores it, and breeds
 * the next generation: elites, then offspring of tournament winners by crossover, mutation or
 * copy. Throws a RangeError for bad options or an answer of the wrong length from `fitness`,
 * an ExpressionError for an invalid strategy.
 */
export async function evolve(
  population: readonly Expr[],
  fitness: FitnessFunction,
  options: EvolveOptions,
): Promise<Generation> {
  checkGrammar(options);
  if (population.length === 0) throw new RangeError("evolve needs a non-empty population");
  const size = count(options.size, population.length, "size", 1);
  const elitism = count(options.elitism, 1, "elitism");
  const tournamentSize = count(options.tournamentSize, 4, "tournamentSize", 1);
  const crossoverRate = rate(options.crossoverRate, 0.7, "crossoverRate");
  const mutationRate = rate(options.mutationRate, 0.25, "mutationRate");
  if (crossoverRate + mutationRate > 1) throw new RangeError("crossoverRate + mutationRate must be ≤ 1");
  const parsimony = rate(options.parsimony, 0.002, "parsimony");
  const noveltyWeight = rate(options.noveltyWeight, 0, "noveltyWeight");
  const neighbours = count(options.noveltyNeighbours, 10, "noveltyNeighbours", 1);
  const archiveSize = count(options.archiveSize, 200, "archiveSize");
  const archiveAdditions = count(options.archiveAdditions, 2, "archiveAdditions");
  const archive = options.archive ?? EMPTY_ARCHIVE;
  const { rng } = options;

  for (const expr of population) check(expr, "position");
  const texts = population.map(print);
  const distinct = [...new Map(texts.map((text, i) => [text, population[i] as Expr])).entries()];
  const evaluations = await fitness(distinct.map(([, expr]) => expr));
  if (evaluations.length !== distinct.length) {
    throw new RangeError(`the fitness function answered ${evaluations.length} evaluations for ${distinct.length}`);
  }
  const byText = new Map<string, { evaluation: Evaluation; behaviour: Behaviour | undefined }>();
  distinct.forEach(([text], i) => {
    const evaluation = evaluations[i] as Evaluation;
    const behaviour = evaluation.behaviour === undefined ? undefined : prepareBehaviour(evaluation.behaviour);
    byText.set(text, { evaluation, behaviour });
  });

  const behaviours = texts.map((text) => byText.get(text)?.behaviour);
  const archived = archive.entries.map((entry) => entry.behaviour);
  const scored: Scored[] = population.map((expr, i) => {
    const text = texts[i] as string;
    const { evaluation } = byText.get(text) as { evaluation: Evaluation };
    const behaviour = behaviours[i];
    const others = behaviours.filter((b, j): b is Behaviour => j !== i && b !== undefined).concat(archived);
    const novelty = behaviour === undefined ? 0 : noveltyScore(behaviour, others, neighbours);
    const size = sizeOf(expr);
    const usable = Number.isFinite(evaluation.fitness) || evaluation.fitness === Number.POSITIVE_INFINITY;
    const adjusted = usable ? evaluation.fitness - parsimony * size : Number.NEGATIVE_INFINITY;
    return {
      expr,
      text,
      fitness: evaluation.fitness,
      size,
      novelty,
      adjusted,
      score: adjusted + noveltyWeight * novelty,
    };
  });

  const tournament = (): Expr => {
    let winner = scored[rng.int(scored.length)] as Scored;
    for (let i = 1; i < tournamentSize; i++) {
      const challenger = scored[rng.int(scored.length)] as Scored;
      if (challenger.score > winner.score) winner = challenger;
    }
    return winner.expr;
  };

  const ranked = [...scored].sort(byAdjusted);
  const next: Expr[] = [];
  const elites = new Set<string>();
  for (const individual of ranked) {
    if (next.length >= Math.min(elitism, size)) break;
    if (elites.has(individual.text) || individual.adjusted === Number.NEGATIVE_INFINITY) continue;
    elites.add(individual.text);
    next.push(individual.expr);
  }
  const weights = options.mutationWeights ?? DEFAULT_MUTATION_WEIGHTS;
  while (next.length < size) {
    const draw = rng.next();
    if (draw < crossoverRate) next.push(crossover(tournament(), tournament(), rng, options));
    else if (draw < crossoverRate + mutationRate) next.push(mutate(tournament(), rng, options, weights));
    else next.push(tournament());
  }

  return {
    population: next,
    scored: ranked,
    stats: statsOf(ranked, distinct.length),
    archive: grow(archive, ranked, byText, archiveAdditions, archiveSize),
  };
}

function statsOf(ranked: readonly Scored[], evaluated: number): GenerationStats {
  const usable = ranked
    .filter((s) => s.adjusted !== Number.NEGATIVE_INFINITY)
    .map((s) => s.fitness)
    .sort((a, b) => a - b);
  const mid = usable.length / 2;
  const median =
    usable.length === 0
      ? Number.NaN
      : usable.length % 2 === 1
        ? (usable[Math.floor(mid)] as number)
        : ((usable[mid - 1] as number) + (usable[mid] as number)) / 2;
  const mean = (values: readonly number[]): number =>
    values.length === 0 ? Number.NaN : values.reduce((sum, v) => sum + v, 0) / values.length;
  return {
    evaluated,
    best: ranked[0] as Scored,
    meanFitness: mean(usable),
    medianFitness: median,
    unusable: ranked.length - usable.length,
    meanSize: mean(ranked.map((s) => s.size)),
    maxSize: Math.max(...ranked.map((s) => s.size)),
    diversity: new Set(ranked.map((s) => s.text)).size / ranked.length,
    meanNovelty: mean(ranked.map((s) => s.novelty)),
  };
}

/** The archive with this generation's most novel strategies added and the oldest beyond the cap dropped. */
function grow(
  archive: NoveltyArchive,
  ranked: readonly Scored[],
  byText: ReadonlyMap<string, { behaviour: Behaviour | undefined }>,
  additions: number,
  cap: number,
): NoveltyArchive {
  const known = new Set(archive.entries.map((entry) => entry.text));
  const added: { text: string; behaviour: Behaviour }[] = [];
  const candidates = [...ranked].sort((a, b) => b.novelty - a.novelty || byAdjusted(a, b));
  for (const individual of candidates) {
    if (added.length >= additions) break;
    const behaviour = byText.get(individual.text)?.behaviour;
    if (behaviour === undefined || known.has(individual.text)) continue;
    known.add(individual.text);
    added.push({ text: individual.text, behaviour });
  }
  const entries = [...archive.entries, ...added];
  return { entries: entries.slice(Math.max(0, entries.length - cap)) };
}
