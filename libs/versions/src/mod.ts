/**
 * @stratreg/versions: version control of strategies as pure functions, no I/O.
 * The versions service (services/versions) calls them; so can anyone holding
 * two versions.
 * @module
 */

/** Field-level differences (`template.params.lookback`, `venues[1].symbols[0]`) and applying them. */
export { applyDiff, deepEqual, diff, formatPath, isPlainObject } from "./diff.js";
/** Rollback patches and three-way merges, conflicts field by field. */
export { type MergeResult, merge3, mutableFieldsOf, rollbackPatch, type StrategyFields } from "./merge.js";
