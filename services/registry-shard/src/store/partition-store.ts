/**
 * The in-memory state of one partition: strategy id → stored bytes, ordered by
 * id (a B+ tree, so listing with a cursor is a range scan).
 */
import BTreeModule from "sorted-btree";
import { type ArenaHandle, ByteArena } from "./arena.js";

// sorted-btree is CommonJS: under Node its class is the module's `default` property;
// bundlers (vitest) already unwrap it.
const BTree =
  (BTreeModule as unknown as { default?: typeof BTreeModule.default }).default ??
  (BTreeModule as unknown as typeof BTreeModule.default);

/**
 * A fresh, flat copy of an id. Strings decoded from msgpack are often slices of
 * one large string; keeping a slice as a key would keep the whole source alive.
 * Ids and command ids are ASCII (see their patterns), so a latin1 round trip is exact.
 */
export function ownedAscii(id: string): string {
  return Buffer.from(id, "latin1").toString("latin1");
}

/** Strategies of one partition. */
export class PartitionStore {
  private readonly index = new BTree<string, ArenaHandle>();
  private readonly arena = new ByteArena();

  /** Number of strategies. */
  get size(): number {
    return this.index.size;
  }

  has(id: string): boolean {
    return this.index.has(id);
  }

  /** The stored bytes of `id` (a view: copy before keeping it past the next write). */
  get(id: string): Uint8Array | undefined {
    const handle = this.index.get(id);
    return handle === undefined ? undefined : this.arena.get(handle);
  }

  /** Inserts or replaces the stored bytes of `id`. */
  put(id: string, bytes: Uint8Array): void {
    const previous = this.index.get(id);
    const handle = this.arena.put(bytes);
    if (previous === undefined) {
      this.index.set(ownedAscii(id), handle);
    } else {
      this.arena.free(previous);
      this.index.set(id, handle);
    }
    if (this.arena.wantsCompaction) this.compact();
  }

  /**
   * Inserts or replaces strategies that sit, bin-32 framed at `offsets`, in one
   * large buffer (a log entry) by keeping the buffer itself. `ids` must be flat
   * strings (as readLogEntry and encodeLogEntry give them).
   */
  adopt(slab: Buffer, ids: string[], offsets: number[]): void {
    const handles = this.arena.adopt(slab, offsets);
    ids.forEach((id, i) => {
      const previous = this.index.get(id);
      if (previous !== undefined) this.arena.free(previous);
      this.index.set(id, handles[i] as number);
    });
    if (this.arena.wantsCompaction) this.compact();
  }

  /** Up to `limit` strategies with ids after `cursor` (or from the start), in id order. */
  page(cursor: string | null | undefined, limit: number): { ids: string[]; records: Uint8Array[]; more: boolean } {
    const ids: string[] = [];
    const records: Uint8Array[] = [];
    let more = false;
    for (const [id, handle] of this.index.entries(cursor ?? undefined)) {
      if (id === cursor) continue;
      if (ids.length === limit) {
        more = true;
        break;
      }
      ids.push(id);
      records.push(this.arena.get(handle));
    }
    return { ids, records, more };
  }

  /** Every strategy, in id order (views: encode them before the next write). */
  all(): { ids: string[]; records: Uint8Array[] } {
    const ids: string[] = [];
    const records: Uint8Array[] = [];
    for (const [id, handle] of this.index.entries()) {
      ids.push(id);
      records.push(this.arena.get(handle));
    }
    return { ids, records };
  }

  /** Bytes of memory held by stored strategies. */
  get capacityBytes(): number {
    return this.arena.capacityBytes;
  }

  private compact(): void {
    this.arena.compact((relocate) => {
      this.index.editAll((_id, handle) => ({ value: relocate(handle) }));
    });
  }
}
