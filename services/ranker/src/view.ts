/**
 * The ranker's view of every partition: what the partition's owner last
 * published on `<cluster>.topk.<p>`, rebuilt from a full publication and the
 * deltas numbered after it. Publications are stamped {partition, owner epoch,
 * n}: a lower epoch than the one held is a stale owner (ignored), a delta that
 * does not follow the held one means something was lost (resync: ask the owner
 * for a full one). Deltas that arrive while a resync is under way are kept and
 * replayed on top of the full one, so a partition that publishes faster than a
 * round trip still catches up. A partition is never dropped while ownership
 * moves: the old owner's view is kept until the new owner's first publication
 * replaces it, and one partition's strategies live in one view only.
 */
import { performance } from "node:perf_hooks";
import type { PublishedEntry, TopKPublication } from "@stratreg/protocol";

/** What {@link PartitionViews.apply} did with a publication. */
export const ApplyOutcomes = {
  /** The view now reflects it. */
  Applied: "applied",
  /** Stale (lower epoch) or already held: nothing changed. */
  Ignored: "ignored",
  /** It does not follow the held view: ask the partition's owner for a full publication. */
  Resync: "resync",
} as const;
export type ApplyOutcome = (typeof ApplyOutcomes)[keyof typeof ApplyOutcomes];

/** One partition as the ranker holds it. */
export interface PartitionView {
  readonly partition: number;
  epoch: number;
  /** Number of the last publication applied, within the epoch. */
  n: number;
  /** Log sequence the rankings reflect. */
  seq: number;
  /** When the partition computed it (the shard's clock, ms since the Unix epoch). */
  at: number;
  /** When the last publication was applied (this process's monotonic clock, ms). */
  heardAt: number;
  /** The published strategies, by id. */
  readonly entries: Map<string, PublishedEntry>;
  /** The published lists by list key: ids, best first. */
  readonly lists: Map<string, string[]>;
  /** How many strategies each list's scope holds (a list is complete when it holds them all). */
  readonly sizes: Map<string, number>;
}

/** Most deltas kept per partition while waiting for a full publication. */
const PENDING_MAX = 64;

/** Every partition's view, and which partitions need a full publication. */
export class PartitionViews {
  private readonly views: Array<PartitionView | undefined>;
  /** Deltas that came while a resync was wanted, by partition, to replay on top of the full one. */
  private readonly pending = new Map<number, TopKPublication[]>();
  private changes = 0;

  constructor(
    readonly partitions: number,
    readonly staleMs = 3000,
    private readonly now: () => number = () => performance.now(),
  ) {
    this.views = new Array<PartitionView | undefined>(partitions).fill(undefined);
  }

  /** Grows on every change of any view's rankings (answers cached before a change are out of date). */
  get version(): number {
    return this.changes;
  }

  /** The view of `partition`, if one is held. */
  get(partition: number): PartitionView | undefined {
    return this.views[partition];
  }

  /** Whether a resync of `partition` is wanted (deltas are waiting for a full publication). */
  resyncWanted(partition: number): boolean {
    return this.pending.has(partition);
  }

  /**
   * Applies one publication (pushed, or a `topk` reply). A full one of the same
   * or a higher epoch replaces the view (unless it is older than the held one of
   * that epoch); a delta applies only on top of publication n − 1 of the same
   * epoch. Anything of a lower epoch, or already held, is ignored.
   */
  apply(publication: TopKPublication): ApplyOutcome {
    const { partition } = publication;
    if (!Number.isInteger(partition) || partition < 0 || partition >= this.partitions) return ApplyOutcomes.Ignored;
    const held = this.views[partition];
    if (held !== undefined && publication.epoch < held.epoch) return ApplyOutcomes.Ignored;
    if (publication.full) {
      if (held !== undefined && publication.epoch === held.epoch && publication.n < held.n) {
        return ApplyOutcomes.Ignored;
      }
      this.replace(publication);
      this.replayPending(partition);
      return ApplyOutcomes.Applied;
    }
    if (held !== undefined && publication.epoch === held.epoch) {
      if (publication.n <= held.n) return ApplyOutcomes.Ignored;
      if (publication.n === held.n + 1) {
        this.patch(held, publication);
        this.replayPending(partition);
        return ApplyOutcomes.Applied;
      }
    }
    this.keepPending(publication);
    return ApplyOutcomes.Resync;
  }

  /** Partitions whose view is not held, or was last heard of more than `staleMs` ago, in order. */
  missing(now = this.now()): number[] {
    const out: number[] = [];
    this.views.forEach((view, partition) => {
      if (view === undefined || now - view.heardAt > this.staleMs) out.push(partition);
    });
    return out;
  }

  /** The oldest `at` of the views held (null when none is). */
  oldestAt(): number | null {
    let oldest: number | null = null;
    for (const view of this.views) {
      if (view !== undefined && (oldest === null || view.at < oldest)) oldest = view.at;
    }
    return oldest;
  }

  private replace(publication: TopKPublication): void {
    const view: PartitionView = {
      partition: publication.partition,
      epoch: publication.epoch,
      n: publication.n,
      seq: publication.seq,
      at: publication.at,
      heardAt: this.now(),
      entries: new Map(publication.entries.map((entry) => [entry[0], entry])),
      lists: new Map(Object.entries(publication.lists)),
      sizes: new Map(Object.entries(publication.sizes)),
    };
    this.views[publication.partition] = view;
    this.changes++;
  }

  private patch(view: PartitionView, delta: TopKPublication): void {
    view.n = delta.n;
    view.seq = delta.seq;
    view.at = delta.at;
    view.heardAt = this.now();
    const changed =
      delta.entries.length > 0 ||
      delta.removed.length > 0 ||
      delta.droppedLists.length > 0 ||
      Object.keys(delta.lists).length > 0 ||
      Object.keys(delta.sizes).length > 0;
    if (!changed) return;
    for (const id of delta.removed) view.entries.delete(id);
    for (const entry of delta.entries) view.entries.set(entry[0], entry);
    for (const key of delta.droppedLists) {
      view.lists.delete(key);
      view.sizes.delete(key);
    }
    for (const [key, ids] of Object.entries(delta.lists)) view.lists.set(key, ids);
    for (const [key, size] of Object.entries(delta.sizes)) view.sizes.set(key, size);
    this.changes++;
  }

  private keepPending(delta: TopKPublication): void {
    if (delta.full) return;
    let waiting = this.pending.get(delta.partition);
    if (waiting === undefined) {
      waiting = [];
      this.pending.set(delta.partition, waiting);
    }
    // Only the newest epoch's deltas can follow the full publication the resync brings.
    const newest = waiting[0]?.epoch ?? delta.epoch;
    if (delta.epoch > newest) waiting.length = 0;
    else if (delta.epoch < newest) return;
    waiting.push(delta);
    if (waiting.length > PENDING_MAX) waiting.shift();
  }

  /**
   * Applies the kept deltas that follow the view, in order; drops those it
   * already reflects. Deltas past a gap stay kept (a resync is still wanted).
   */
  private replayPending(partition: number): void {
    const waiting = this.pending.get(partition);
    const view = this.views[partition];
    if (waiting === undefined || view === undefined) return;
    waiting.sort((a, b) => a.n - b.n);
    const rest: TopKPublication[] = [];
    for (const delta of waiting) {
      if (delta.epoch < view.epoch || (delta.epoch === view.epoch && delta.n <= view.n)) continue;
      if (delta.epoch === view.epoch && delta.n === view.n + 1) this.patch(view, delta);
      else rest.push(delta);
    }
    if (rest.length === 0) this.pending.delete(partition);
    else this.pending.set(partition, rest);
  }
}

const isInt = (x: unknown): x is number => Number.isInteger(x);
const isRecord = (x: unknown): x is Record<string, unknown> => x !== null && typeof x === "object" && !Array.isArray(x);

/**
 * `value` as a publication when it has a publication's shape (a shard's bug or
 * a stranger publishing on the subject must not corrupt a view), else undefined.
 * Unknown fields are ignored: a newer shard may add some.
 */
export function asPublication(value: unknown): TopKPublication | undefined {
  if (!isRecord(value)) return undefined;
  const { partition, epoch, n, seq, at, full, entries, removed, lists, droppedLists, sizes } = value;
  if (!isInt(partition) || !isInt(epoch) || !isInt(n) || typeof seq !== "number" || typeof at !== "number") {
    return undefined;
  }
  if (typeof full !== "boolean" || !Array.isArray(entries) || !Array.isArray(removed)) return undefined;
  if (!isRecord(lists) || !isRecord(sizes) || !Array.isArray(droppedLists)) return undefined;
  for (const entry of entries) {
    if (!Array.isArray(entry) || entry.length < 11 || typeof entry[0] !== "string") return undefined;
    if (!Array.isArray(entry[3]) || !Array.isArray(entry[4])) return undefined;
    if (!Array.isArray(entry[9]) || !isRecord(entry[10])) return undefined;
  }
  for (const ids of Object.values(lists)) if (!Array.isArray(ids)) return undefined;
  for (const size of Object.values(sizes)) if (typeof size !== "number") return undefined;
  return value as unknown as TopKPublication;
}
