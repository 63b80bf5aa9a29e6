/**
 * A thread of the evaluation pool: piscina loads this file in each worker. `workerData` holds the
 * shared training market and the settings; each task is a share of a batch of candidate texts,
 * answered as one packed Float64Array whose buffer is transferred, not copied. Compiled candidates
 * stay cached by text in the thread (alpha's compile cache), so one bred again is not compiled again.
 */
import { move, transferableSymbol, valueSymbol, workerData } from "piscina";
import {
  evaluateCandidate,
  type PackedEvaluations,
  packEvaluations,
  type TrainingContext,
  type TrainingSettings,
  trainingContext,
} from "./evaluation.js";
import { marketFromShared, type SharedMarket } from "./market.js";

/** What the pool hands every worker at start. */
export interface WorkerSetup {
  readonly market: SharedMarket;
  readonly settings: TrainingSettings;
}

/** A share of a batch: texts judged under the pool's settings, or under those given (another target). */
export type WorkerTask = readonly string[] | { readonly texts: readonly string[]; readonly settings: TrainingSettings };

/** Windows prepared so far, by their settings: the pool's, and one per other target asked for. */
const contexts = new Map<string, TrainingContext>();

/** The window under `settings`, prepared on first use: the pool checked it already, so this does not fail. */
function contextOf(settings: TrainingSettings): TrainingContext {
  const key = JSON.stringify(settings);
  let context = contexts.get(key);
  if (context === undefined) {
    context = trainingContext({ ...settings, market: marketFromShared((workerData as WorkerSetup).market) });
    contexts.set(key, context);
  }
  return context;
}

/** Evaluates a share of a batch; the answer's buffer moves to the pool's thread. */
export default function evaluateShare(task: WorkerTask): unknown {
  const { texts, settings } = Array.isArray(task)
    ? { texts: task as readonly string[], settings: (workerData as WorkerSetup).settings }
    : (task as Exclude<WorkerTask, readonly string[]>);
  const ready = contextOf(settings);
  const packed = packEvaluations(
    texts.map((text) => evaluateCandidate(String(text), ready)),
    ready.blocks,
  );
  return move({
    get [transferableSymbol]() {
      return [packed.values.buffer];
    },
    get [valueSymbol](): PackedEvaluations {
      return packed;
    },
  });
}
