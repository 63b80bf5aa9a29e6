/**
 * A search's state between generations, and the same as plain data (a checkpoint: strings,
 * numbers, arrays and objects only, so msgpack or JSON can store it; an unusable fitness is null
 * there, as quant's evidence summaries write an undefined figure). Resuming from a checkpoint
 * continues exactly where the search was: the same generator state, the same caches in the same
 * order, the same archive and shortlist, so the rest of the run is the run it would have been.
 */
import { type Expr, type NoveltyArchive, parse, prepareBehaviour, print, Rng } from "@stratreg/alpha";
import { MiningError, MiningErrorCodes } from "./errors.js";
import type { Shortlist, ShortlistedCandidate } from "./shortlist.js";
import type { SharpeMoments } from "./trials.js";

/** The version of the checkpoint layout this code writes and reads. */
export const CHECKPOINT_VERSION = 1;

/** A text and its behaviour sketch, as plain numbers. */
export interface SketchEntry {
  readonly text: string;
  readonly sketch: number[];
}

/** A search's state after a generation, as plain data. */
export interface MiningCheckpoint {
  readonly version: typeof CHECKPOINT_VERSION;
  /** The traded asset: a checkpoint resumes only a search for the same target. */
  readonly target: string;
  /** Generations evaluated so far. */
  readonly generation: number;
  /** The next generation to evaluate, as canonical texts. */
  readonly population: string[];
  /** The generator's four words (alpha's `Rng.state()`). */
  readonly rng: [number, number, number, number];
  /** Distinct candidates evaluated and the moments of their usable Sharpe ratios. */
  readonly trials: SharpeMoments;
  /** The novelty archive, oldest first, with the raw sketches its behaviours are prepared from. */
  readonly archive: SketchEntry[];
  /** Texts evaluated → fitness (null: unusable), least recently used first; capped. */
  readonly cache: { readonly texts: string[]; readonly fitness: (number | null)[] };
  /** Behaviour sketches kept for texts bred again, least recently used first; capped. */
  readonly sketches: SketchEntry[];
  /** The shortlist, best first, with its sketches. */
  readonly shortlist: (ShortlistedCandidate & { readonly sketch: number[] })[];
}

/** The state of a search between generations. */
export interface SearchState {
  generation: number;
  population: Expr[];
  rng: Rng;
  trials: SharpeMoments;
  archive: NoveltyArchive;
  /** Raw sketches of the archive's texts (the archive holds them prepared). */
  archiveSketches: Map<string, Float64Array>;
  /** Text → fitness (NaN: unusable), in order of last use. */
  cache: Map<string, number>;
  /** Text → behaviour sketch, in order of last use. */
  sketches: Map<string, Float64Array>;
  shortlist: Shortlist;
}

/** Moves `key` to the most recent end of `map` with `value`, dropping the least recent beyond `cap`. */
export function remember<V>(map: Map<string, V>, key: string, value: V, cap: number): void {
  map.delete(key);
  map.set(key, value);
  while (map.size > cap) map.delete(map.keys().next().value as string);
}

/** The state as a checkpoint of a search for `target`. */
export function checkpointOf(state: SearchState, target: string): MiningCheckpoint {
  const archive = state.archive.entries.map(({ text }) => ({
    text,
    sketch: Array.from(state.archiveSketches.get(text) ?? []),
  }));
  return {
    version: CHECKPOINT_VERSION,
    target,
    generation: state.generation,
    population: state.population.map(print),
    rng: state.rng.state(),
    trials: { ...state.trials },
    archive,
    cache: {
      texts: [...state.cache.keys()],
      fitness: [...state.cache.values()].map((f) => (Number.isNaN(f) ? null : f)),
    },
    sketches: [...state.sketches].map(([text, sketch]) => ({ text, sketch: Array.from(sketch) })),
    shortlist: state.shortlist.sketched().map((c) => ({ ...c, sketch: Array.from(c.sketch) })),
  };
}

function mismatch(message: string, cause?: unknown): MiningError {
  return new MiningError(MiningErrorCodes.CHECKPOINT_MISMATCH, message, { cause });
}

/**
 * The state a checkpoint holds, for a search of `target` whose shortlist has `shortlist`'s
 * settings (an empty one, filled here). A MiningError CHECKPOINT_MISMATCH for another version or
 * target, or a checkpoint that is not one.
 */
export function stateFromCheckpoint(checkpoint: MiningCheckpoint, target: string, shortlist: Shortlist): SearchState {
  if (checkpoint?.version !== CHECKPOINT_VERSION) {
    throw mismatch(`checkpoint version ${checkpoint?.version}, this miner reads ${CHECKPOINT_VERSION}`);
  }
  if (checkpoint.target !== target)
    throw mismatch(`the checkpoint is of a search for ${checkpoint.target}, not ${target}`);
  try {
    const population = checkpoint.population.map((text) => parse(text, "position"));
    if (population.length === 0) throw new RangeError("the population is empty");
    const archiveSketches = new Map(checkpoint.archive.map((e) => [e.text, Float64Array.from(e.sketch)]));
    const archive: NoveltyArchive = {
      entries: checkpoint.archive.map((e) => ({ text: e.text, behaviour: prepareBehaviour(e.sketch) })),
    };
    const { texts, fitness } = checkpoint.cache;
    if (texts.length !== fitness.length) throw new RangeError("the cache's texts and fitness differ in length");
    const cache = new Map(texts.map((text, i) => [text, fitness[i] ?? Number.NaN]));
    const sketches = new Map(checkpoint.sketches.map((e) => [e.text, Float64Array.from(e.sketch)]));
    // Members are best first and mutually distinct, so offering them in order rebuilds the same list.
    for (const member of checkpoint.shortlist) shortlist.offer({ ...member, sketch: Float64Array.from(member.sketch) });
    return {
      generation: checkpoint.generation,
      population,
      rng: Rng.fromState(checkpoint.rng),
      trials: { ...checkpoint.trials },
      archive,
      archiveSketches,
      cache,
      sketches,
      shortlist,
    };
  } catch (error) {
    throw mismatch(`the checkpoint cannot be read: ${(error as Error).message}`, error);
  }
}
