/**
 * @stratreg/discovery: mines market data for trading patterns, validates them against
 * overfitting and registers the survivors as candidate strategies.
 * @module
 */

// Validation: proving a candidate is not overfit before anything is published.
export {
  type BootstrapIntervals,
  type BootstrapMethod,
  BootstrapMethods,
  type BootstrapOptions,
  bootstrapIntervals,
  DEFAULT_RESAMPLES,
  defaultBlockLength,
  type MeanTest,
  meanPValue,
} from "./validation/bootstrap.js";
export { capacityOf } from "./validation/capacity.js";
export { boundEvidence, coarsenEvidence, EVIDENCE_MAX_BYTES, tradeReturns } from "./validation/evidence.js";
export { type RegimeLabels, regimeResults, walkForward } from "./validation/heldout.js";
export { type Perturbation, perturbations, type SeriesScale } from "./validation/perturb.js";
export {
  holm,
  resamplesFor,
  type ScreenContext,
  type ScreenedCandidate,
  type Screening,
  screenCandidates,
} from "./validation/screen.js";
export {
  checkSplits,
  chronologicalSplits,
  MIN_SPLIT_BARS,
  positionsOf,
  type SplitOptions,
  type Splits,
  sliceMarket,
  windowOf,
} from "./validation/splits.js";
export {
  DEFAULT_VALIDATION_THRESHOLDS,
  resolveThresholds,
  type ValidationThresholds,
} from "./validation/thresholds.js";
export {
  DEFAULT_PARTICIPATION,
  type SearchTrials,
  type ValidationContext,
  validateCandidate,
} from "./validation/validate.js";
