/**
 * @stratreg/ranker: the ranker as a library, for embedding and tests. The
 * process entry is `@stratreg/ranker/main`.
 * @module
 */

/** The ranker's settings, and how they are read from the environment and flags. */
export { loadConfig, type RankerConfig } from "./config.js";
/** The ranker's lifecycle machine (pure), its states and events. */
export {
  createRankerMachine,
  type RankerEvent,
  RankerEvents,
  type RankerState,
  RankerStates,
} from "./machine.js";
/** The answers to `top` and `rank` over the partitions' views, and their pure pieces. */
export {
  DEFAULT_QUERY_SETTINGS,
  type LocalCandidates,
  localCandidates,
  mergeTop,
  type PartitionAsker,
  type QuerySettings,
  qualify,
  queryKey,
  RankingQueries,
} from "./query.js";
/** The running ranker: `Ranker.start(config, logger)`, `stop()`, `status()`. */
export { RANKER_VERSION, Ranker, type RankerStatus } from "./ranker.js";
/** Edge validation of the ranker's requests. */
export { parseRankerRequest, type RankerRequest, RankerRequestBodies } from "./request.js";
/** Bounded scatter-gather (OVERLOADED past its limit). */
export { DEFAULT_SCATTER_LIMITS, type Gathered, Scatter, type ScatterLimits } from "./scatter.js";
/** Endpoint registration with the NATS services framework. */
export { RANKER_QUEUE, RankerCounters, type RankerHandlers, registerRankerService } from "./service.js";
/** Per-partition views rebuilt from the top-k publications. */
export { type ApplyOutcome, ApplyOutcomes, asPublication, type PartitionView, PartitionViews } from "./view.js";
