/**
 * @stratreg/discovery: mines market data for trading patterns, validates them against
 * overfitting and registers the survivors as candidate strategies.
 * @module
 */

export { type DiscoveryConfig, loadConfig } from "./config.js";
// The service: a run over aligned bars, the scanner, judging, synthesis, the process.
export { DISCOVERY_VERSION, Discovery } from "./discovery.js";
export { type Judgement, judgeCandidates, SAME_BET_CORRELATION, SAME_CHILD_CORRELATION } from "./judge.js";
export {
  createDiscoveryMachine,
  type DiscoveryContext,
  type DiscoveryEvent,
  DiscoveryEvents,
  type DiscoveryState,
  DiscoveryStates,
  mayRun,
} from "./machine.js";
// The miner: genetic search for patterns on a training window, its evaluation pool and checkpoints.
export {
  CHECKPOINT_VERSION,
  type MiningCheckpoint,
  type SketchEntry,
} from "./mining/checkpoint.js";
export { MiningError, type MiningErrorCode, MiningErrorCodes } from "./mining/errors.js";
export {
  type CandidateEvaluator,
  DEFAULT_MIN_TRADES,
  evaluateInProcess,
  InProcessEvaluator,
  MAX_SKETCH_BLOCKS,
  type TrainEvaluation,
  type TrainingSettings,
  type TrainingWindow,
} from "./mining/evaluation.js";
export { marketFromData, marketFromShared, marketWindow, type SharedMarket, shareMarket } from "./mining/market.js";
export { EvaluationPool, type EvaluationPoolOptions, MAX_CHUNK_SIZE, workerFile } from "./mining/pool.js";
export {
  DEFAULT_CACHE_SIZE,
  DEFAULT_PARSIMONY,
  type MineOptions,
  type MiningProgress,
  type MiningResult,
  mine,
  type StopReason,
  StopReasons,
} from "./mining/search.js";
export {
  DEFAULT_MAX_CORRELATION,
  DEFAULT_SHORTLIST_SIZE,
  type ShortlistedCandidate,
} from "./mining/shortlist.js";
export type { SearchTrials, SharpeMoments } from "./mining/trials.js";
export { discoverOffline, type OfflineRun } from "./offline.js";
export {
  CACHE_SIZE,
  DEFAULT_VENUE_FEES,
  familyOf,
  MAX_DEPTH,
  type PipelineCheckpoint,
  type PipelineHooks,
  type PipelineOptions,
  type PipelineResult,
  periodsPerYear,
  REJECTED_KEPT,
  runPipeline,
  type SeriesResult,
} from "./pipeline.js";
export { type ScanReport, scanMarket } from "./scanner.js";
export { seedsFor } from "./seeds.js";
export { type CandidateDraft, candidateId, DISCOVERED_PATTERN_TEMPLATE } from "./store/candidates.js";
export { ensembles, type SynthesisChild, type SynthesisParent, synthesise } from "./synthesis.js";
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
  windowOf,
} from "./validation/splits.js";
export {
  DEFAULT_VALIDATION_THRESHOLDS,
  resolveThresholds,
  type ValidationThresholds,
} from "./validation/thresholds.js";
export {
  DEFAULT_PARTICIPATION,
  type ValidationContext,
  validateCandidate,
} from "./validation/validate.js";
