/**
 * @stratreg/search-service: a process that follows every partition log into
 * search indexes and answers filter, full-text and similarity queries on
 * `<cluster>.search.<op>` (docs/adr/014).
 * @module
 */
export { loadConfig, type SearchConfig } from "./config.js";
export {
  breeding,
  dynasties,
  dynastyRun,
  family,
  familyPerformance,
  type GenealogyDoc,
  isRoot,
  lineage,
  type Pedigree,
  walkLineage,
} from "./genealogy.js";
export { topK } from "./heap.js";
export { answers, createSearchMachine, SearchEvents, type SearchState, SearchStates } from "./machine.js";
export { runQuery, runSimilar } from "./query.js";
export { SEARCH_VERSION, SearchProcess } from "./search.js";
export { StrategyDoc, StrategyIndex } from "./strategies.js";
