/**
 * Version control on the wire: `<cluster>.versions.<op>`, answered by any
 * versions process (queue group `versions`). Every accepted change of a
 * strategy is an immutable version; a versions process copies each one, once,
 * into a stream of its own (one subject per strategy) from the partition logs,
 * which keep every entry for the history's retention (docs/adr/016, 018).
 */
import { type Static, Type } from "@sinclair/typebox";
import { type Strategy, StrategyIdSchema, StrategyPatchSchema } from "./strategy.js";

/** Operations of the versions service. */
export const VersionOps = {
  /** A strategy's versions, newest first. */
  Log: "log",
  /** A strategy as it was at one version. */
  Show: "show",
  /** Field-level differences between two refs (versions, main, a branch head, a tag). */
  Diff: "diff",
  /** A new version whose descriptive fields equal an old version's. */
  Rollback: "rollback",
  /** Start an experiment branch from a version. */
  BranchCreate: "branch-create",
  BranchList: "branch-list",
  BranchShow: "branch-show",
  /** Edit a branch (compare-and-set on its own version counter). */
  BranchUpdate: "branch-update",
  BranchDelete: "branch-delete",
  /** Three-way merge of a branch into main: one update, or every conflict, field by field. */
  Merge: "merge",
  /** Name one version of one strategy. */
  Tag: "tag",
  Untag: "untag",
  /** The process's progress through the history and its requests. */
  Status: "status",
} as const;
export type VersionOp = (typeof VersionOps)[keyof typeof VersionOps];

/** Ops that change something: `cid` and `issued` are required (they reach the shard as the update's). */
export const VERSION_WRITE_OPS: ReadonlySet<VersionOp> = new Set<VersionOp>([VersionOps.Rollback, VersionOps.Merge]);

/** Name under which versions processes register with the NATS services framework. */
export const VERSIONS_SERVICE_NAME = "stratreg-versions";

/** `<cluster>.versions.<op>`. */
export function versionsSubject(cluster: string, op: VersionOp): string {
  return `${cluster}.versions.${op}`;
}

/** The versions stream: one message per stored version (and note), `<cluster>.ver.<base64url(id)>`. */
export function versionsStream(cluster: string): string {
  return `${cluster}-versions`;
}

/** Subject of strategy `id`'s versions in the versions stream (ids may hold dots, so base64url). */
export function versionSubject(cluster: string, id: string): string {
  return `${cluster}.ver.${Buffer.from(id, "utf8").toString("base64url")}`;
}

/** KV buckets of the versions service. */
export const versionBuckets = (cluster: string) => ({
  /** `<base64url(id)>.<base64url(branch)>`: one branch (msgpack {@link Branch}). */
  branches: `${cluster}-branches`,
  /** `<base64url(id)>`: every tag of one strategy (msgpack `{ tags: { <tag>: VersionTag } }`). */
  tags: `${cluster}-tags`,
  /** `cursor`: how far through the partition logs the copy has gone. */
  state: `${cluster}-versions-state`,
});

/** Limits of version-control requests. */
export const VersionLimits = {
  /** Most versions one log page lists. */
  logMax: 1000,
  /** Branch and tag names. */
  namePattern: "^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$",
  /** Most branches of one strategy. */
  branchesMax: 64,
} as const;

/** The branch name that means the strategy's current version. */
export const MAIN = "main";

/**
 * A ref names one state of a strategy: a version number, `main` (its current
 * version, asked of the shard), `branch:<name>` (a branch's head) or
 * `tag:<name>` (the version a tag names).
 */
export const RefSchema = Type.Union([
  Type.Integer({ minimum: 1 }),
  Type.String({ pattern: `^(main|(branch|tag):[A-Za-z0-9][A-Za-z0-9._-]{0,63})$` }),
]);
export type Ref = Static<typeof RefSchema>;

const NameSchema = Type.String({ pattern: VersionLimits.namePattern });
const BySchema = Type.String({ minLength: 1, maxLength: 64 });

/** Request bodies, by op. */
export const VersionRequestBodies = {
  [VersionOps.Log]: Type.Object(
    {
      id: StrategyIdSchema,
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: VersionLimits.logMax })),
      /** Only versions below this one (the previous page's `next`). */
      before: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
  [VersionOps.Show]: Type.Object({ id: StrategyIdSchema, version: RefSchema }, { additionalProperties: false }),
  [VersionOps.Diff]: Type.Object(
    { id: StrategyIdSchema, from: RefSchema, to: RefSchema },
    { additionalProperties: false },
  ),
  [VersionOps.Rollback]: Type.Object(
    {
      id: StrategyIdSchema,
      version: Type.Integer({ minimum: 1 }),
      by: BySchema,
      /** The current version the caller saw: CONFLICT if another change came first. */
      expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
  [VersionOps.BranchCreate]: Type.Object(
    {
      id: StrategyIdSchema,
      name: NameSchema,
      /** The version it starts from (default: the current one). */
      from: Type.Optional(Type.Integer({ minimum: 1 })),
      by: BySchema,
    },
    { additionalProperties: false },
  ),
  [VersionOps.BranchList]: Type.Object({ id: StrategyIdSchema }, { additionalProperties: false }),
  [VersionOps.BranchShow]: Type.Object({ id: StrategyIdSchema, name: NameSchema }, { additionalProperties: false }),
  [VersionOps.BranchUpdate]: Type.Object(
    {
      id: StrategyIdSchema,
      name: NameSchema,
      /** The branch version the edit is made on: CONFLICT if the branch moved since. */
      expectedVersion: Type.Integer({ minimum: 1 }),
      patch: StrategyPatchSchema,
      by: BySchema,
    },
    { additionalProperties: false },
  ),
  [VersionOps.BranchDelete]: Type.Object(
    { id: StrategyIdSchema, name: NameSchema, expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })) },
    { additionalProperties: false },
  ),
  [VersionOps.Merge]: Type.Object(
    {
      id: StrategyIdSchema,
      branch: NameSchema,
      by: BySchema,
      /** Main's version the caller saw: CONFLICT if main moved since. */
      expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
  [VersionOps.Tag]: Type.Object(
    {
      id: StrategyIdSchema,
      version: Type.Integer({ minimum: 1 }),
      tag: NameSchema,
      by: Type.Optional(BySchema),
      /** Move the tag if it names another version already. */
      force: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  [VersionOps.Untag]: Type.Object({ id: StrategyIdSchema, tag: NameSchema }, { additionalProperties: false }),
  [VersionOps.Status]: Type.Object({}, { additionalProperties: false }),
} as const;

/** The request body of `op`. */
export type VersionRequestBody<Op extends VersionOp> = Static<(typeof VersionRequestBodies)[Op]>;

/** One field-level difference. `path` is `name`, `template.params.lookback`, `venues[1].symbols[0]`. */
export interface FieldChange {
  path: string;
  /** The same path as keys and indexes. */
  at: Array<string | number>;
  kind: "added" | "removed" | "changed";
  old?: unknown;
  new?: unknown;
}

/** One field both sides of a merge changed, differently. Absent values are nil. */
export interface MergeConflict {
  path: string;
  base: unknown;
  ours: unknown;
  theirs: unknown;
}

/** One entry of a strategy's log. */
export interface VersionEntry {
  version: number;
  /** When the owning shard accepted the change (ms since the Unix epoch). */
  at: number;
  /** What made it: `register`, `update`, `transition`, `retire`, `attach-evidence`, `rollback`, `merge`. */
  op: string;
  /** Who, when known (lifecycle moves, rollbacks, merges). */
  by?: string;
  /** A lifecycle move's event, a retirement's reason, a rollback's source, a merge's branch. */
  note?: string;
  /** The lifecycle state after it. */
  state: string;
  tags: string[];
}

/** A `log` reply. */
export interface VersionLogReply {
  id: string;
  versions: VersionEntry[];
  /** The `before` of the next page, nil on the last. */
  next: number | null;
  /** Versions earlier than every one kept (older than the history's retention when the copy first read the log). */
  oldest: number | null;
}

/** A branch: an experiment on a strategy's descriptive fields, with its own version counter. */
export interface Branch {
  id: string;
  name: string;
  /** The strategy version it started from (after a merge: the version the merge made). */
  base: number;
  /** Its own counter: 1 at creation, +1 per edit and merge. */
  version: number;
  /** Its descriptive fields as edited. */
  fields: Pick<Strategy, MutableField>;
  createdAt: number;
  updatedAt: number;
  by: string;
  /** The strategy version its last merge made. */
  mergedAs?: number;
}

/** A tag: a name for one version of one strategy. */
export interface VersionTag {
  tag: string;
  version: number;
  at: number;
  by?: string;
}

/**
 * The descriptive fields a quant sets and changes (what rollback restores and merge merges).
 * Not `dependencies`: those are edges of the dependency graph, changed only through the graph
 * service, which keeps it acyclic (docs/adr/017); a diff still shows them.
 */
export const MUTABLE_FIELDS = [
  "name",
  "description",
  "tags",
  "owner",
  "family",
  "parents",
  "origin",
  "template",
  "venues",
] as const;
export type MutableField = (typeof MUTABLE_FIELDS)[number];
