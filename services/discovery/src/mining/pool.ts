/**
 * The evaluation pool: candidate evaluation spread over worker threads (piscina), for one training
 * window. The market is put in shared memory once and every worker reads it in place; a batch is
 * cut into shares small enough that every thread stays busy to the end of it and large enough
 * that a share's round trip (tens of microseconds) is small beside its work (about a millisecond a
 * candidate on 10,000 bars).
 *
 * Workers run built JavaScript: from `dist/` this file finds `./worker.js` beside it; run from the
 * TypeScript sources (the tests), it finds the package's `dist/mining/worker.js`, so the package
 * must have been built (`npx tsc -b`) and a missing build is said so plainly.
 */
import { existsSync } from "node:fs";
import { availableParallelism } from "node:os";
import { fileURLToPath } from "node:url";
import type { Costs, Market } from "@stratreg/alpha";
import { Piscina } from "piscina";
import { MiningError, MiningErrorCodes } from "./errors.js";
import {
  type CandidateEvaluator,
  type PackedEvaluations,
  type TrainEvaluation,
  type TrainingSettings,
  trainingContext,
  unpackEvaluations,
} from "./evaluation.js";
import { marketFromShared, type SharedMarket, shareMarket } from "./market.js";
import type { WorkerSetup, WorkerTask } from "./worker.js";

/** Largest share of a batch sent to one worker at a time, by default. */
export const MAX_CHUNK_SIZE = 64;
/** Shares per thread a batch is cut into, by default, so a slow share does not leave threads idle at the end. */
const SHARES_PER_THREAD = 4;

/** The pool's training window and its size. */
export interface EvaluationPoolOptions extends TrainingSettings {
  /** The training market; a {@link SharedMarket} is used as it is, a `Market` is copied into shared memory once. */
  readonly market: Market | SharedMarket;
  /** Worker threads (default `os.availableParallelism()`). */
  readonly maxThreads?: number;
  /**
   * Candidates per task; by default a batch is cut into about four shares per thread, of 1 to
   * {@link MAX_CHUNK_SIZE} candidates each.
   */
  readonly chunkSize?: number;
}

/**
 * The built worker file: `./worker.js` beside `from` when it is there (running from `dist/`), else
 * the package's `dist/mining/worker.js` (running from `src/`). A MiningError WORKER_NOT_BUILT when
 * neither exists.
 */
export function workerFile(from: string | URL = import.meta.url): URL {
  const candidates = [new URL("./worker.js", from), new URL("../../dist/mining/worker.js", from)];
  const found = candidates.find((url) => existsSync(fileURLToPath(url)));
  if (found === undefined) {
    throw new MiningError(
      MiningErrorCodes.WORKER_NOT_BUILT,
      `no built worker at ${candidates.map((url) => fileURLToPath(url)).join(" or ")}: run npx tsc -b`,
    );
  }
  return found;
}

function isShared(market: Market | SharedMarket): market is SharedMarket {
  return "buffer" in market;
}

/**
 * Evaluates candidates for one target on one training window, on worker threads. Results are those
 * of {@link evaluateInProcess} on the same window, number for number. A candidate that fails is an
 * unusable evaluation; only a dead worker rejects a batch (WORKER_FAILED, retryable: the pool
 * replaces the worker). Call {@link EvaluationPool.close} when done.
 */
export class EvaluationPool implements CandidateEvaluator {
  readonly target: string;
  readonly assets: readonly string[];
  /** Worker threads. */
  readonly threads: number;
  readonly #chunkSize: number | undefined;
  readonly #settings: TrainingSettings;
  readonly #shared: SharedMarket;
  #pool: Piscina<WorkerTask, PackedEvaluations> | undefined;

  /**
   * Starts the workers. RangeError for a window {@link trainingContext} refuses or bad sizes;
   * MiningError WORKER_NOT_BUILT when the worker has not been built.
   */
  constructor(options: EvaluationPoolOptions) {
    const threads = options.maxThreads ?? availableParallelism();
    if (!(Number.isInteger(threads) && threads >= 1)) throw new RangeError(`maxThreads must be ≥ 1, got ${threads}`);
    const chunkSize = options.chunkSize;
    if (chunkSize !== undefined && !(Number.isInteger(chunkSize) && chunkSize >= 1)) {
      throw new RangeError(`chunkSize must be ≥ 1, got ${chunkSize}`);
    }
    const shared = isShared(options.market) ? options.market : shareMarket(options.market);
    const settings: TrainingSettings = {
      target: options.target,
      costs: { ...options.costs },
      minTrades: options.minTrades,
      sketchBlocks: options.sketchBlocks,
    };
    // Checked here, in the caller's thread, so a bad window is an exception now, not a dead worker later.
    trainingContext({ ...settings, market: marketFromShared(shared) });
    const setup: WorkerSetup = { market: shared, settings };
    this.#settings = settings;
    this.#shared = shared;
    this.target = options.target;
    this.assets = shared.names;
    this.threads = threads;
    this.#chunkSize = chunkSize;
    this.#pool = new Piscina({
      filename: workerFile().href,
      minThreads: threads,
      maxThreads: threads,
      workerData: setup,
    });
    // Piscina emits 'error' for a worker that fails between tasks; unheard, it would end the
    // process. The pool replaces such a worker, and a task it was running rejects on its own.
    this.#pool.on("error", () => undefined);
  }

  /** Candidates per task for a batch of `count`. */
  chunkSizeFor(count: number): number {
    return (
      this.#chunkSize ?? Math.min(MAX_CHUNK_SIZE, Math.max(1, Math.ceil(count / (this.threads * SHARES_PER_THREAD))))
    );
  }

  /**
   * Evaluations of `texts`, in order. Rejects with a MiningError: POOL_CLOSED after `close`,
   * WORKER_FAILED when a worker died on a share.
   */
  evaluate(texts: readonly string[]): Promise<TrainEvaluation[]> {
    return this.#evaluate(texts, undefined);
  }

  /**
   * The same workers judging candidates that trade `target` at `costs` instead: one pool serves
   * every series of a run, so its threads start (and compile what they read) once. RangeError for
   * an asset the training market does not have.
   */
  forTarget(target: string, costs: Costs): CandidateEvaluator {
    const settings: TrainingSettings = { ...this.#settings, target, costs: { ...costs } };
    trainingContext({ ...settings, market: marketFromShared(this.#shared) });
    return { target, assets: this.assets, evaluate: (texts) => this.#evaluate(texts, settings) };
  }

  async #evaluate(texts: readonly string[], settings: TrainingSettings | undefined): Promise<TrainEvaluation[]> {
    const pool = this.#pool;
    if (pool === undefined) throw new MiningError(MiningErrorCodes.POOL_CLOSED, "the evaluation pool is closed");
    if (texts.length === 0) return [];
    const size = this.chunkSizeFor(texts.length);
    const shares: string[][] = [];
    for (let at = 0; at < texts.length; at += size) shares.push(texts.slice(at, at + size));
    let answers: PackedEvaluations[];
    try {
      answers = await Promise.all(
        shares.map((share) => pool.run(settings === undefined ? share : { texts: share, settings })),
      );
    } catch (error) {
      if (this.#pool === undefined) {
        throw new MiningError(MiningErrorCodes.POOL_CLOSED, "the evaluation pool was closed during a batch", {
          cause: error,
        });
      }
      throw new MiningError(MiningErrorCodes.WORKER_FAILED, "a worker failed a share of the batch", { cause: error });
    }
    return shares.flatMap((share, i) => unpackEvaluations(share, answers[i] as PackedEvaluations));
  }

  /** Stops the workers (a batch in flight rejects). Closing twice is harmless. */
  async close(): Promise<void> {
    const pool = this.#pool;
    this.#pool = undefined;
    await pool?.destroy();
  }
}
