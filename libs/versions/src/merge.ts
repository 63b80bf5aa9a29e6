/**
 * Rollback patches and three-way merges of a strategy's descriptive fields.
 *
 * A merge goes field by field, where a field is a key path through objects
 * (`name`, `template.params.lookback`, `template.id`); a list (`tags`,
 * `venues`, `parents`) is one field, merged whole, because an element's index
 * does not identify it (an insertion shifts every later one). A field changed
 * on one side only takes that side's value; changed on both sides to the same
 * value, that value; changed on both sides differently, a conflict.
 */
import { type MergeConflict, MUTABLE_FIELDS, type MutableField, type StrategyPatch } from "@stratreg/protocol";
import { deepEqual, formatPath, isPlainObject } from "./diff.js";

/** The descriptive fields of a strategy (what rollback restores and merge merges). */
export type StrategyFields = { [F in MutableField]?: unknown };

/** The descriptive fields of `strategy`, nothing else. */
export function mutableFieldsOf(strategy: Record<string, unknown>): StrategyFields {
  const out: Record<string, unknown> = {};
  for (const field of MUTABLE_FIELDS) if (strategy[field] !== undefined) out[field] = strategy[field];
  return out as StrategyFields;
}

/**
 * The update patch that makes every descriptive field of `current` equal to
 * `target`'s: only the fields that differ (empty when none does). Lifecycle
 * state, version and times are not descriptive: a rollback leaves them alone.
 */
export function rollbackPatch(current: Record<string, unknown>, target: Record<string, unknown>): StrategyPatch {
  const patch: Record<string, unknown> = {};
  for (const field of MUTABLE_FIELDS) {
    // A field the old version did not have (an `origin` stored later) cannot be unset by an update.
    if (target[field] !== undefined && !deepEqual(current[field], target[field])) patch[field] = target[field];
  }
  return patch as StrategyPatch;
}

/** The outcome of a three-way merge: the merged fields, or every conflict. */
export interface MergeResult {
  merged: StrategyFields;
  conflicts: MergeConflict[];
}

function mergeValue(
  base: unknown,
  ours: unknown,
  theirs: unknown,
  at: Array<string | number>,
  conflicts: MergeConflict[],
): unknown {
  if (deepEqual(ours, theirs)) return ours;
  if (deepEqual(base, ours)) return theirs;
  if (deepEqual(base, theirs)) return ours;
  if (isPlainObject(ours) && isPlainObject(theirs)) {
    const b = isPlainObject(base) ? base : {};
    const out: Record<string, unknown> = {};
    const keys = [...new Set([...Object.keys(b), ...Object.keys(ours), ...Object.keys(theirs)])].sort();
    for (const key of keys) {
      const value = mergeValue(b[key], ours[key], theirs[key], [...at, key], conflicts);
      if (value !== undefined) out[key] = value;
    }
    return out;
  }
  conflicts.push({ path: formatPath(at), base: base ?? null, ours: ours ?? null, theirs: theirs ?? null });
  return ours;
}

/**
 * Merges `theirs` (a branch) into `ours` (main's current fields), both changed
 * from `base` (the version the branch started from). `conflicts` lists every
 * field changed on both sides differently; `merged` is only meaningful when
 * it is empty.
 */
export function merge3(base: StrategyFields, ours: StrategyFields, theirs: StrategyFields): MergeResult {
  const conflicts: MergeConflict[] = [];
  const merged: Record<string, unknown> = {};
  for (const field of MUTABLE_FIELDS) {
    const value = mergeValue(base[field], ours[field], theirs[field], [field], conflicts);
    if (value !== undefined) merged[field] = value;
  }
  return { merged: merged as StrategyFields, conflicts };
}
