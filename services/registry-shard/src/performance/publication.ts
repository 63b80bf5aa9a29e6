/**
 * What one partition has published of its rankings, and the delta to the next
 * publication: strategies that entered its lists or changed, those that left,
 * the lists that changed, numbered per owner epoch (0, full, for an owner's first).
 */
import type { PublishedEntry, TopKPublication } from "@stratreg/protocol";

/** The rankings as they are now, for the next publication. */
export interface RankingsNow {
  /** Every list, by key, best first. */
  lists: Map<string, string[]>;
  /** Members of each non-empty list scope. */
  sizes: Record<string, number>;
  /** Strategies re-ranked since the last publication (their entries must be sent again if listed). */
  changed: ReadonlySet<string>;
  /** A strategy's entry as it is now. */
  entryOf(id: string): PublishedEntry;
}

const sameIds = (a: readonly string[], b: readonly string[]) =>
  a.length === b.length && a.every((id, i) => b[i] === id);

export class TopKPublications {
  private entries = new Map<string, PublishedEntry>();
  private lists = new Map<string, string[]>();
  private sizes: Record<string, number> = {};
  private n = -1;
  private seq = 0;
  private at = 0;
  /** The epoch of the last publication (−1 before any). */
  epoch = -1;

  constructor(readonly partition: number) {}

  /**
   * The publication of `now` by the owner at `epoch` (a delta against the last
   * one, or full when the epoch is new), recorded as the last; undefined when
   * nothing changed and no heartbeat is due.
   */
  next(epoch: number, seq: number, heartbeat: boolean, now: RankingsNow): TopKPublication | undefined {
    const full = epoch !== this.epoch;
    const members = new Set<string>();
    for (const ids of now.lists.values()) for (const id of ids) members.add(id);
    const entries: PublishedEntry[] = [];
    const next = new Map<string, PublishedEntry>();
    for (const id of members) {
      const previous = this.entries.get(id);
      const entry = previous !== undefined && !now.changed.has(id) ? previous : now.entryOf(id);
      next.set(id, entry);
      if (full || entry !== previous) entries.push(entry);
    }
    const removed = full ? [] : [...this.entries.keys()].filter((id) => !members.has(id));
    const lists: Record<string, string[]> = {};
    for (const [key, ids] of now.lists) {
      const before = this.lists.get(key);
      if (full || before === undefined || !sameIds(before, ids)) lists[key] = ids;
    }
    const droppedLists = full ? [] : [...this.lists.keys()].filter((key) => !now.lists.has(key));
    const changed =
      full || entries.length > 0 || removed.length > 0 || droppedLists.length > 0 || Object.keys(lists).length > 0;
    if (!changed && !heartbeat) return undefined;
    this.n = full ? 0 : this.n + 1;
    this.epoch = epoch;
    this.entries = next;
    this.lists = now.lists;
    this.sizes = now.sizes;
    this.seq = seq;
    this.at = Date.now();
    return this.publication({ full, entries, removed, lists, droppedLists, sizes: changed ? now.sizes : {} });
  }

  /** The last publication as a whole (what a ranker that missed a delta asks for), or undefined before the first. */
  current(): TopKPublication | undefined {
    if (this.n < 0) return undefined;
    return this.publication({
      full: true,
      entries: [...this.entries.values()],
      removed: [],
      lists: Object.fromEntries(this.lists),
      droppedLists: [],
      sizes: this.sizes,
    });
  }

  private publication(
    body: Pick<TopKPublication, "full" | "entries" | "removed" | "lists" | "droppedLists" | "sizes">,
  ): TopKPublication {
    return { v: 1, partition: this.partition, epoch: this.epoch, n: this.n, seq: this.seq, at: this.at, ...body };
  }
}
