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

let context: TrainingContext | undefined;

/** The window, prepared on the first task: the pool checked it already, so this does not fail. */
function contextOf(): TrainingContext {
  if (context === undefined) {
    const setup = workerData as WorkerSetup;
    context = trainingContext({ ...setup.settings, market: marketFromShared(setup.market) });
  }
  return context;
}

/** Evaluates a share of a batch; the answer's buffer moves to the pool's thread. */
export default function evaluateShare(texts: readonly string[]): unknown {
  const ready = contextOf();
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
