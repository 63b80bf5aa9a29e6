/**
 * Reply shapes of the version-control ops (`<cluster>.versions.<op>`, answered by
 * any versions process; docs/protocol.md, _Version control_). The calls are
 * methods of {@link StratregClient}: `versionLog`, `showVersion`, `diffVersions`,
 * `rollback`, `createBranch`, `branches`, `branch`, `editBranch`, `deleteBranch`,
 * `merge`, `tagVersion`, `untagVersion`.
 */
import type { Branch, FieldChange, Strategy, VersionLogReply, VersionTag } from "@stratreg/protocol";

/** `log`: versions newest first; `current` is the shard's current version (the copy may be a moment behind it). */
export type VersionLog = VersionLogReply & { current: number | null };

/** `show`: the strategy at a version (or a branch head, as the branch). */
export interface ShownVersion {
  id: string;
  /** The ref as a person reads it: `7`, `main (9)`, `tag:prod (4)`, `branch:fast`. */
  ref: string;
  version: number | null;
  strategy?: Strategy;
  branch?: Branch;
}

/** `diff`: field-level changes taking `from` to `to`. */
export interface VersionDiff {
  id: string;
  from: string;
  to: string;
  fromVersion: number | null;
  toVersion: number | null;
  changes: FieldChange[];
}

/** `rollback`: the new version (or, when nothing differed, the current one with `rolledBack: false`). */
export interface RollbackResult {
  strategy: Strategy;
  rolledBack: boolean;
  from: number;
  /** The fields the rollback changed. */
  changed: string[];
}

/** `merge`: main's new version and the branch after it (`merged: false` when the branch had nothing new). */
export interface MergeOutcome {
  strategy: Strategy;
  merged: boolean;
  changed: string[];
  branch: Branch;
}

/** `branch-show`: a branch and its edits since its base. */
export interface BranchView {
  branch: Branch;
  changes: FieldChange[];
}

export type { Branch, FieldChange, VersionTag };
