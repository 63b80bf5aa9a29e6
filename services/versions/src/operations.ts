/**
 * What each version-control operation does: read the kept versions, branches
 * and tags, ask the shard for the current version, and write through the shard
 * (rollback and merge are ordinary `update`s, fenced on the current version and
 * carrying the caller's command id). The diff and merge logic is libs/versions.
 */
import type { StratregClient } from "@stratreg/client";
import {
  type Branch,
  ConflictError,
  ErrorCodes,
  type FieldChange,
  MAIN,
  MUTABLE_FIELDS,
  NotFoundError,
  type Ref,
  type Strategy,
  UnavailableError,
  ValidationError,
  type VersionEntry,
  VersionLimits,
  type VersionLogReply,
  type VersionOps,
  type VersionRequestBody,
  type VersionTag,
} from "@stratreg/protocol";
import { diff, merge3, mutableFieldsOf, rollbackPatch } from "@stratreg/versions";
import type { KeptVersion, VersionsStore } from "./store/records.js";
import type { BranchStore, TagStore } from "./store/refs.js";

/** Versions listed by `log` when the request gives no limit. */
const LOG_DEFAULT = 50;

/** The request body of an op, by the op's key in VersionOps. */
type Body<K extends keyof typeof VersionOps> = VersionRequestBody<(typeof VersionOps)[K]>;

/** What the caller of an operation passes along: its deadline, and for writes its command. */
export interface CallContext {
  timeoutMs: number;
  cid?: string | undefined;
  issued?: number | undefined;
}

/** One state of a strategy a ref names. */
interface Resolved {
  /** The ref as a person reads it: `7`, `main (9)`, `branch:fast`, `tag:prod (4)`. */
  label: string;
  version: number | null;
  /** The strategy at that version (nil for a branch head). */
  strategy: Strategy | null;
  /** The fields a diff compares. */
  content: Record<string, unknown>;
}

/** What the copy can say about a strategy's versions reaching the versions stream. */
export interface CopyReach {
  /** History entries the copy has not stored yet (infinite while it is not running). */
  pending(): number;
  /** Whether a version made at `at` (ms) is one the history holds: made after it was created, within its retention. */
  covers(at: number): boolean;
}

/** The copy's reach over partition logs created at `createdMs` that keep each entry for `retentionMs` after it was written. */
export function copyReach(pending: () => number, createdMs: number, retentionMs: number): CopyReach {
  return {
    pending,
    covers: (at) => at >= createdMs && at > Date.now() - retentionMs,
  };
}

export class VersionControl {
  constructor(
    private readonly store: VersionsStore,
    private readonly branches: BranchStore,
    private readonly tags: TagStore,
    private readonly client: StratregClient,
    private readonly copy: CopyReach,
  ) {}

  private current(id: string, call: CallContext): Promise<Strategy> {
    return this.client.get(id, { timeoutMs: call.timeoutMs });
  }

  /** Strategy `id` at `version`: from the kept versions, else the shard's current when it is that one. */
  private async version(id: string, version: number, call: CallContext, kept?: KeptVersion[]): Promise<Strategy> {
    const versions = kept ?? (await this.store.read(id));
    const found = versions.find((v) => v.version === version);
    if (found !== undefined) return found.strategy;
    const current = await this.current(id, call);
    if (current.version === version) return current;
    if (version > current.version) {
      throw new NotFoundError(`strategy ${id} has no version ${version}: it is at ${current.version}`, {
        field: "body.version",
        details: { id, version, current: current.version },
      });
    }
    const oldest = versions[0]?.version;
    // Nothing kept yet of a strategy whose current version the history holds, while the copy has
    // history left to store (or is not running): its versions are on their way, not gone.
    if (oldest === undefined && this.copy.pending() > 0 && this.copy.covers(current.updatedAt)) {
      throw notCopiedYet(id, version);
    }
    if (oldest === undefined || version < oldest) {
      throw new NotFoundError(`version ${version} of ${id} is older than the history kept`, {
        field: "body.version",
        details: { id, version, oldest: oldest ?? null },
      });
    }
    throw notCopiedYet(id, version);
  }

  private async resolve(
    id: string,
    ref: Ref,
    field: string,
    call: CallContext,
    kept?: Promise<KeptVersion[]>,
  ): Promise<Resolved> {
    const ofStrategy = (label: string, strategy: Strategy): Resolved => ({
      label,
      version: strategy.version,
      strategy,
      content: { ...mutableFieldsOf(strategy as unknown as Record<string, unknown>), state: strategy.state },
    });
    if (typeof ref === "number") return ofStrategy(String(ref), await this.version(id, ref, call, await kept));
    if (ref === MAIN) {
      const current = await this.current(id, call);
      return ofStrategy(`main (${current.version})`, current);
    }
    const [kind, name] = [ref.slice(0, ref.indexOf(":")), ref.slice(ref.indexOf(":") + 1)];
    if (kind === "tag") {
      const tag = await this.tags.get(id, name);
      if (tag === undefined)
        throw new NotFoundError(`strategy ${id} has no tag ${name}`, { field, details: { id, tag: name } });
      return ofStrategy(`${ref} (${tag.version})`, await this.version(id, tag.version, call, await kept));
    }
    const { branch } = await this.branches.get(id, name);
    return { label: ref, version: null, strategy: null, content: { ...branch.fields } };
  }

  async log(body: Body<"Log">, call: CallContext): Promise<VersionLogReply & { current: number | null }> {
    // The kept history answers even while the strategy's shard does not; only `current` is then unknown.
    let shardError: unknown;
    const [kept, current, tags] = await Promise.all([
      this.store.read(body.id),
      this.current(body.id, call).catch((err: unknown) => {
        if (!(err instanceof NotFoundError)) shardError = err;
        return undefined;
      }),
      this.tags.list(body.id),
    ]);
    if (kept.length === 0 && current === undefined) {
      if (shardError !== undefined) throw shardError;
      throw new NotFoundError(`no strategy ${body.id}`, { field: "body.id", details: { id: body.id } });
    }
    const tagsOf = new Map<number, string[]>();
    for (const tag of tags) tagsOf.set(tag.version, [...(tagsOf.get(tag.version) ?? []), tag.tag].sort());
    const before = body.before ?? Number.POSITIVE_INFINITY;
    const limit = body.limit ?? LOG_DEFAULT;
    const older = kept.filter((v) => v.version < before).reverse();
    const page = older.slice(0, limit);
    const versions = page.map((v): VersionEntry => {
      const entry: VersionEntry = {
        version: v.version,
        at: v.at,
        op: v.op,
        state: v.strategy.state,
        tags: tagsOf.get(v.version) ?? [],
      };
      if (v.by !== undefined) entry.by = v.by;
      if (v.note !== undefined) entry.note = v.note;
      return entry;
    });
    return {
      id: body.id,
      versions,
      next: older.length > page.length ? (page.at(-1) as KeptVersion).version : null,
      oldest: kept[0]?.version ?? null,
      current: current?.version ?? null,
    };
  }

  async show(body: Body<"Show">, call: CallContext): Promise<Record<string, unknown>> {
    const resolved = await this.resolve(body.id, body.version, "body.version", call);
    if (resolved.strategy !== null)
      return { id: body.id, ref: resolved.label, version: resolved.version, strategy: resolved.strategy };
    const { branch } = await this.branches.get(body.id, String(body.version).slice("branch:".length));
    return { id: body.id, ref: resolved.label, version: null, branch };
  }

  async diff(body: Body<"Diff">, call: CallContext): Promise<Record<string, unknown>> {
    // One read of the kept versions serves both sides.
    const kept = this.store.read(body.id);
    kept.catch(() => undefined);
    const [from, to] = await Promise.all([
      this.resolve(body.id, body.from, "body.from", call, kept),
      this.resolve(body.id, body.to, "body.to", call, kept),
    ]);
    // A branch head has no lifecycle: compare states only between versions.
    const fields: string[] =
      from.strategy !== null && to.strategy !== null ? [...MUTABLE_FIELDS, "state"] : [...MUTABLE_FIELDS];
    const changes: FieldChange[] = diff(from.content, to.content, fields);
    return { id: body.id, from: from.label, to: to.label, fromVersion: from.version, toVersion: to.version, changes };
  }

  /**
   * A new version whose descriptive fields equal version `body.version`'s: an
   * update of only the fields that differ, fenced on the current version. The
   * lifecycle state is not rolled back (moves have their own rules and gates).
   */
  async rollback(
    body: Body<"Rollback">,
    call: CallContext,
    note: (version: number, changed: string[]) => Promise<void>,
  ) {
    const [kept, current] = await Promise.all([this.store.read(body.id), this.current(body.id, call)]);
    // Sent again after it was applied: the first answer, before any check of the state it changed.
    const made = await this.madeBy(body.id, call, kept);
    if (made !== undefined) return { ...made, rolledBack: true, from: body.version };
    const target = await this.version(body.id, body.version, call, kept);
    if (body.expectedVersion !== undefined && body.expectedVersion !== current.version) {
      throw conflict(body.id, body.expectedVersion, current.version);
    }
    const patch = rollbackPatch(
      current as unknown as Record<string, unknown>,
      target as unknown as Record<string, unknown>,
    );
    const changed = Object.keys(patch);
    if (changed.length === 0) return { strategy: current, rolledBack: false, from: body.version, changed };
    const strategy = await this.client.update(body.id, body.expectedVersion ?? current.version, patch, {
      timeoutMs: call.timeoutMs,
      cid: call.cid,
      issued: call.issued,
    });
    await note(strategy.version, changed);
    return { strategy, rolledBack: true, from: body.version, changed };
  }

  /**
   * The version this very command made, if the copy holds one, and the fields
   * it changed: a rollback or merge sent again after it was applied answers as
   * the first attempt did (before the copy has it, the shard's own command
   * window still applies it once).
   */
  private async madeBy(
    id: string,
    call: CallContext,
    kept?: KeptVersion[],
  ): Promise<{ strategy: Strategy; changed: string[] } | undefined> {
    if (call.cid === undefined) return undefined;
    const versions = kept ?? (await this.store.read(id));
    const made = versions.find((v) => v.cid === call.cid);
    if (made === undefined) return undefined;
    if (made.changed !== undefined) return { strategy: made.strategy, changed: made.changed };
    const before = versions.find((v) => v.version === made.version - 1)?.strategy;
    const changed = before === undefined ? [] : Object.keys(rollbackPatch(asRecord(before), asRecord(made.strategy)));
    return { strategy: made.strategy, changed };
  }

  async branchCreate(body: Body<"BranchCreate">, call: CallContext): Promise<{ branch: Branch }> {
    if (body.name === MAIN) {
      throw new ValidationError(ErrorCodes.InvalidField, "main names the strategy itself, not a branch", {
        field: "body.name",
      });
    }
    const [start, existing] = await Promise.all([
      body.from === undefined ? this.current(body.id, call) : this.version(body.id, body.from, call),
      this.branches.list(body.id),
    ]);
    if (existing.length >= VersionLimits.branchesMax) {
      throw new ValidationError(
        ErrorCodes.InvalidField,
        `strategy ${body.id} has ${existing.length} branches, the most it may have; delete one first`,
        { field: "body.name", details: { branches: existing.length, max: VersionLimits.branchesMax } },
      );
    }
    const now = Date.now();
    const branch: Branch = {
      id: body.id,
      name: body.name,
      base: start.version,
      version: 1,
      fields: mutableFieldsOf(start as unknown as Record<string, unknown>) as Branch["fields"],
      createdAt: now,
      updatedAt: now,
      by: body.by,
    };
    await this.branches.create(branch);
    return { branch };
  }

  async branchList(body: Body<"BranchList">): Promise<{ id: string; branches: Branch[] }> {
    return { id: body.id, branches: await this.branches.list(body.id) };
  }

  /** A branch, and its edits since its base. */
  async branchShow(body: Body<"BranchShow">, call: CallContext): Promise<{ branch: Branch; changes: FieldChange[] }> {
    const { branch } = await this.branches.get(body.id, body.name);
    const base = await this.version(body.id, branch.base, call);
    const changes = diff(mutableFieldsOf(base as unknown as Record<string, unknown>), branch.fields, MUTABLE_FIELDS);
    return { branch, changes };
  }

  async branchUpdate(body: Body<"BranchUpdate">): Promise<{ branch: Branch }> {
    const { branch, revision } = await this.branches.get(body.id, body.name);
    if (branch.version !== body.expectedVersion) {
      throw new ConflictError(
        ErrorCodes.Conflict,
        `branch ${body.name} of ${body.id} is at version ${branch.version}, not ${body.expectedVersion}`,
        { details: { id: body.id, branch: body.name, expected: body.expectedVersion, actual: branch.version } },
      );
    }
    const next: Branch = {
      ...branch,
      fields: { ...branch.fields, ...body.patch } as Branch["fields"],
      version: branch.version + 1,
      updatedAt: Date.now(),
      by: body.by,
    };
    await this.branches.replace(next, revision, body.expectedVersion);
    return { branch: next };
  }

  async branchDelete(body: Body<"BranchDelete">): Promise<{ id: string; deleted: string }> {
    const { branch } = await this.branches.get(body.id, body.name);
    if (body.expectedVersion !== undefined && branch.version !== body.expectedVersion) {
      throw new ConflictError(
        ErrorCodes.Conflict,
        `branch ${body.name} of ${body.id} is at version ${branch.version}, not ${body.expectedVersion}`,
        { details: { id: body.id, branch: body.name, expected: body.expectedVersion, actual: branch.version } },
      );
    }
    await this.branches.delete(body.id, body.name);
    return { id: body.id, deleted: body.name };
  }

  /**
   * Three-way merge of a branch into main, field by field: base is the version
   * the branch started from (or last merged as), ours main's current, theirs
   * the branch. Conflicts are CONFLICT with every one in `details.conflicts`,
   * and nothing is written. A clean merge is one update of main; the branch
   * then continues from the version it made.
   */
  async merge(body: Body<"Merge">, call: CallContext, note: (version: number, changed: string[]) => Promise<void>) {
    const { branch, revision } = await this.branches.get(body.id, body.branch);
    const made = await this.madeBy(body.id, call);
    if (made !== undefined) return { ...made, merged: true, branch };
    const [base, ours] = await Promise.all([this.version(body.id, branch.base, call), this.current(body.id, call)]);
    if (body.expectedVersion !== undefined && body.expectedVersion !== ours.version) {
      throw conflict(body.id, body.expectedVersion, ours.version);
    }
    const oursFields = mutableFieldsOf(ours as unknown as Record<string, unknown>);
    const { merged, conflicts } = merge3(
      mutableFieldsOf(base as unknown as Record<string, unknown>),
      oursFields,
      branch.fields,
    );
    if (conflicts.length > 0) {
      throw new ConflictError(
        ErrorCodes.Conflict,
        `branch ${body.branch} conflicts with ${body.id} version ${ours.version} in ${conflicts.map((c) => c.path).join(", ")}`,
        { details: { id: body.id, branch: body.branch, base: branch.base, ours: ours.version, conflicts } },
      );
    }
    const patch = rollbackPatch(oursFields, merged);
    const changed = Object.keys(patch);
    if (changed.length === 0) return { strategy: ours, merged: false, changed, branch };
    const strategy = await this.client.update(body.id, ours.version, patch, {
      timeoutMs: call.timeoutMs,
      cid: call.cid,
      issued: call.issued,
    });
    await note(strategy.version, changed);
    const next: Branch = {
      ...branch,
      base: strategy.version,
      fields: merged as Branch["fields"],
      version: branch.version + 1,
      updatedAt: Date.now(),
      mergedAs: strategy.version,
    };
    // An edit of the branch that raced the merge wins; its next merge starts from the old base again.
    await this.branches.replace(next, revision, branch.version).catch(() => undefined);
    return { strategy, merged: true, changed, branch: next };
  }

  async tag(body: Body<"Tag">, call: CallContext): Promise<{ id: string; tag: VersionTag }> {
    await this.version(body.id, body.version, call);
    const value: VersionTag = { tag: body.tag, version: body.version, at: Date.now() };
    if (body.by !== undefined) value.by = body.by;
    return { id: body.id, tag: await this.tags.put(body.id, value, body.force === true) };
  }

  async untag(body: Body<"Untag">): Promise<{ id: string; removed: VersionTag }> {
    return { id: body.id, removed: await this.tags.delete(body.id, body.tag) };
  }
}

const asRecord = (strategy: Strategy) => strategy as unknown as Record<string, unknown>;

function conflict(id: string, expected: number, actual: number): ConflictError {
  return new ConflictError(ErrorCodes.Conflict, `strategy ${id} is at version ${actual}, not ${expected}`, {
    details: { id, expected, actual },
  });
}

function notCopiedYet(id: string, version: number): UnavailableError {
  return new UnavailableError(ErrorCodes.Unavailable, `version ${version} of ${id} is not copied yet`, {
    retryable: true,
    details: { id, version },
  });
}
