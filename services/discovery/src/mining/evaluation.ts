/**
 * One candidate judged on the training window: its net Sharpe ratio trading the target asset, how
 * often it trades, how often it is in the market, and a sketch of how its returns fell over time
 * (what novelty and the shortlist's near-duplicate test compare). The same function runs in the
 * pool's workers and in process, so a figure never depends on where it was computed.
 *
 * The cost model and the timing are alpha's `evaluatePositions`, computed here in one pass without
 * its full set of metrics: those cost about 0.6 ms on 10,000 bars, more than running the candidate
 * itself, and the search needs only the Sharpe ratio (quant's, so it is the registry's). A test
 * holds the two equal.
 */
import { assetReturns, type Costs, checkMarket, compile, type Market, parse } from "@stratreg/alpha";
import { sharpe } from "@stratreg/quant";

/** Fewest trades of a usable candidate, by default: below it a Sharpe ratio is a handful of lucky bets. */
export const DEFAULT_MIN_TRADES = 20;
/** Most blocks of a behaviour sketch, and the default. */
export const MAX_SKETCH_BLOCKS = 256;

/** How candidates are judged: the traded asset, its costs, and what makes a candidate usable. */
export interface TrainingSettings {
  /** Name of the traded asset in the market. */
  readonly target: string;
  readonly costs: Costs;
  /** A candidate with fewer trades is unusable (default {@link DEFAULT_MIN_TRADES}). */
  readonly minTrades?: number;
  /** Blocks of the behaviour sketch, 1 to {@link MAX_SKETCH_BLOCKS} (the default). */
  readonly sketchBlocks?: number;
}

/** The training market and how candidates are judged on it. */
export interface TrainingWindow extends TrainingSettings {
  readonly market: Market;
}

/** What the training window says about one candidate. */
export interface TrainEvaluation {
  /** The candidate's text, as it was asked for. */
  readonly text: string;
  /**
   * The train net Sharpe ratio when the candidate is usable; NaN when it is not: it failed to
   * parse or run, traded fewer than the minimum, was never in the market, or its Sharpe ratio is
   * undefined.
   */
  readonly fitness: number;
  /** Annualised Sharpe ratio of the net returns (NaN when undefined or the candidate failed). */
  readonly sharpe: number;
  /** Bars at which the position changed. */
  readonly trades: number;
  /** Share of periods with a position. */
  readonly exposure: number;
  /**
   * The net returns summed over consecutive blocks of periods (as many blocks as settings say, or
   * periods if fewer): a small picture of when the candidate earned. Empty when it failed.
   */
  readonly sketch: Float64Array;
  /** Why the candidate could not be run (a parse or type error, say); undefined otherwise. */
  readonly error: string | undefined;
}

/** Anything that evaluates candidates for one target: the worker pool, or the same work in process. */
export interface CandidateEvaluator {
  /** The traded asset. */
  readonly target: string;
  /** Every asset of the training market, which candidates may read. */
  readonly assets: readonly string[];
  /** Evaluations of `texts`, in order. */
  evaluate(texts: readonly string[]): Promise<readonly TrainEvaluation[]> | readonly TrainEvaluation[];
}

/** A training window made ready: the target's returns computed once, a scratch buffer for net returns. */
export interface TrainingContext {
  readonly market: Market;
  readonly returns: Float64Array;
  readonly costPerUnit: number;
  readonly periodsPerYear: number;
  readonly minTrades: number;
  readonly blocks: number;
  readonly net: Float64Array;
}

/**
 * Checks a training window and prepares it. RangeError for an unusable market, a target it does
 * not hold, negative or non-finite costs, or settings out of range.
 */
export function trainingContext(window: TrainingWindow): TrainingContext {
  const { market, costs } = window;
  checkMarket(market);
  for (const key of ["feeBps", "slippageBps"] as const) {
    if (!(Number.isFinite(costs[key]) && costs[key] >= 0))
      throw new RangeError(`${key} must be ≥ 0, got ${costs[key]}`);
  }
  if (!(Number.isFinite(costs.periodsPerYear) && costs.periodsPerYear > 0)) {
    throw new RangeError(`periodsPerYear must be a positive number, got ${costs.periodsPerYear}`);
  }
  const minTrades = window.minTrades ?? DEFAULT_MIN_TRADES;
  if (!(Number.isInteger(minTrades) && minTrades >= 0))
    throw new RangeError(`minTrades must be a count, got ${minTrades}`);
  const blocks = window.sketchBlocks ?? MAX_SKETCH_BLOCKS;
  if (!(Number.isInteger(blocks) && blocks >= 1 && blocks <= MAX_SKETCH_BLOCKS)) {
    throw new RangeError(`sketchBlocks must be an integer in [1, ${MAX_SKETCH_BLOCKS}], got ${blocks}`);
  }
  const periods = Math.max(market.length - 1, 0);
  return {
    market,
    returns: assetReturns(market, window.target),
    costPerUnit: (costs.feeBps + costs.slippageBps) / 10_000,
    periodsPerYear: costs.periodsPerYear,
    minTrades,
    blocks: Math.min(blocks, periods),
    net: new Float64Array(periods),
  };
}

function failed(text: string, error: unknown): TrainEvaluation {
  const message = error instanceof Error ? `${error.name}: ${error.message}` : String(error);
  return {
    text,
    fitness: Number.NaN,
    sharpe: Number.NaN,
    trades: 0,
    exposure: 0,
    sketch: new Float64Array(0),
    error: message,
  };
}

/**
 * Evaluates one candidate (a strategy's text) on a prepared window. Never throws: a text that does
 * not parse, does not type as a position or does not run is an unusable evaluation with an error.
 */
export function evaluateCandidate(text: string, context: TrainingContext): TrainEvaluation {
  try {
    return judge(text, compile(parse(text, "position"))(context.market), context);
  } catch (error) {
    return failed(text, error);
  }
}

function judge(text: string, positions: Float64Array, context: TrainingContext): TrainEvaluation {
  const { returns, costPerUnit, net } = context;
  const n = positions.length;
  let trades = 0;
  let exposed = 0;
  let held = 0;
  for (let j = 1; j < n; j++) {
    const p = positions[j - 1] as number;
    if (!(p >= -1 && p <= 1)) throw new RangeError(`position ${j - 1} is ${p}, not in [-1, 1]`);
    let r = returns[j] as number;
    // A missing close earns nothing, as in evaluatePositions.
    if (Number.isNaN(r)) r = 0;
    const traded = Math.abs(p - held);
    if (traded > 0) trades++;
    if (p !== 0) exposed++;
    net[j - 1] = p * r - costPerUnit * traded;
    held = p;
  }
  const periods = net.length;
  const sketch = new Float64Array(context.blocks);
  for (let b = 0; b < context.blocks; b++) {
    const end = Math.floor(((b + 1) * periods) / context.blocks);
    let sum = 0;
    for (let j = Math.floor((b * periods) / context.blocks); j < end; j++) sum += net[j] as number;
    sketch[b] = sum;
  }
  const exposure = periods > 0 ? exposed / periods : 0;
  const ratio = sharpe(net, { periodsPerYear: context.periodsPerYear });
  const usable = trades >= context.minTrades && exposure > 0 && Number.isFinite(ratio);
  return { text, fitness: usable ? ratio : Number.NaN, sharpe: ratio, trades, exposure, sketch, error: undefined };
}

/** Evaluates `texts` on `window`, in this thread: what each worker of the pool does with its share. */
export function evaluateInProcess(texts: readonly string[], window: TrainingWindow): TrainEvaluation[] {
  const context = trainingContext(window);
  return texts.map((text) => evaluateCandidate(text, context));
}

/** A {@link CandidateEvaluator} in this thread: for small searches, tests, and the one-core figure. */
export class InProcessEvaluator implements CandidateEvaluator {
  readonly target: string;
  readonly assets: readonly string[];
  readonly #context: TrainingContext;

  /** Prepares the window once (RangeError as {@link trainingContext}). */
  constructor(window: TrainingWindow) {
    this.#context = trainingContext(window);
    this.target = window.target;
    this.assets = window.market.assets.map((a) => a.name);
  }

  /** Evaluations of `texts`, in order. */
  evaluate(texts: readonly string[]): TrainEvaluation[] {
    return texts.map((text) => evaluateCandidate(text, this.#context));
  }
}

/** Numbers per candidate in a packed batch before its sketch: fitness, sharpe, trades, exposure. */
const HEAD = 4;

/**
 * A batch of evaluations as one Float64Array (per candidate: fitness, sharpe, trades, exposure,
 * then `blocks` of sketch) and the errors by index: what a worker sends back, transferring the
 * buffer rather than cloning a hundred small arrays.
 */
export interface PackedEvaluations {
  readonly blocks: number;
  readonly values: Float64Array;
  readonly errors: readonly (readonly [index: number, message: string])[];
}

/** Packs evaluations whose sketches have `blocks` blocks (failed ones have none). */
export function packEvaluations(evaluations: readonly TrainEvaluation[], blocks: number): PackedEvaluations {
  const stride = HEAD + blocks;
  const values = new Float64Array(stride * evaluations.length);
  const errors: [number, string][] = [];
  evaluations.forEach((e, i) => {
    const at = i * stride;
    values[at] = e.fitness;
    values[at + 1] = e.sharpe;
    values[at + 2] = e.trades;
    values[at + 3] = e.exposure;
    if (e.error !== undefined) errors.push([i, e.error]);
    else values.set(e.sketch, at + HEAD);
  });
  return { blocks, values, errors };
}

/**
 * The evaluations of `texts` back from a packed batch. Each sketch is copied out (a few hundred
 * bytes): a view would keep the whole batch's buffer alive for as long as one sketch is cached.
 */
export function unpackEvaluations(texts: readonly string[], packed: PackedEvaluations): TrainEvaluation[] {
  const stride = HEAD + packed.blocks;
  if (packed.values.length !== stride * texts.length) {
    throw new RangeError(`a packed batch of ${packed.values.length} values does not hold ${texts.length} evaluations`);
  }
  const errors = new Map(packed.errors);
  return texts.map((text, i) => {
    const at = i * stride;
    const error = errors.get(i);
    return {
      text,
      fitness: packed.values[at] as number,
      sharpe: packed.values[at + 1] as number,
      trades: packed.values[at + 2] as number,
      exposure: packed.values[at + 3] as number,
      sketch: error === undefined ? packed.values.slice(at + HEAD, at + stride) : new Float64Array(0),
      error,
    };
  });
}
