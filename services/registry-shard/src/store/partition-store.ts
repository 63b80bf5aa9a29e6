/**
 * The in-memory state of one partition: strategy id → stored bytes, ordered by
 * id (a B+ tree, so listing with a cursor is a range scan).
 */
import { type EntryItems, strHeaderLength, writeStrHeader } from "@stratreg/protocol";
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

/**
 * Strategies of one partition: a hash index from id to its bytes' place in the
 * arena (gets and registration's existence checks are one lookup), and the ids
 * in order beside it (a B+ tree of keys only, for listing with a cursor). New
 * ids join the ordered index when a listing next needs it: registration pays a
 * hash insert per strategy, and a listing after a bulk load sorts once.
 */
export class PartitionStore {
  private readonly handles = new Map<string, ArenaHandle>();
  private readonly order = new BTree<string, undefined>();
  /** Ids added since the ordered index was last brought up to date. */
  private unordered: string[] = [];
  private readonly arena = new ByteArena();

  /** Number of strategies. */
  get size(): number {
    return this.handles.size;
  }

  has(id: string): boolean {
    return this.handles.has(id);
  }

  /** The stored bytes of `id` (a view: copy before keeping it past the next write). */
  get(id: string): Uint8Array | undefined {
    const handle = this.handles.get(id);
    return handle === undefined ? undefined : this.arena.get(handle);
  }

  /** Inserts or replaces the stored bytes of `id`. */
  put(id: string, bytes: Uint8Array): void {
    this.place(id, this.arena.put(bytes), true);
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
      this.place(id, handles[i] as number, false);
    });
    if (this.arena.wantsCompaction) this.compact();
  }

  /** Points `id` at `handle`, freeing what it pointed at; `copyId`: the id may be a slice of a larger string. */
  private place(id: string, handle: ArenaHandle, copyId: boolean): void {
    const previous = this.handles.get(id);
    if (previous === undefined) {
      const key = copyId ? ownedAscii(id) : id;
      this.handles.set(key, handle);
      this.unordered.push(key);
    } else {
      this.arena.free(previous);
      this.handles.set(id, handle);
    }
  }

  /** Up to `limit` strategies with ids after `cursor` (or from the start), in id order. */
  page(cursor: string | null | undefined, limit: number): { ids: string[]; records: Uint8Array[]; more: boolean } {
    const ids: string[] = [];
    const records: Uint8Array[] = [];
    let more = false;
    for (const id of this.ordered().keys(cursor ?? undefined)) {
      if (id === cursor) continue;
      if (ids.length === limit) {
        more = true;
        break;
      }
      ids.push(id);
      records.push(this.arena.get(this.handles.get(id) as ArenaHandle));
    }
    return { ids, records, more };
  }

  /** The ordered index, with every id added since it was last used. */
  private ordered(): InstanceType<typeof BTree<string, undefined>> {
    if (this.unordered.length > 0) {
      // Sorted first: inserting in order touches each leaf once.
      for (const id of this.unordered.sort()) this.order.set(id, undefined);
      this.unordered = [];
    }
    return this.order;
  }

  /**
   * Every strategy, in the order they were first stored, as log entry items (a
   * snapshot's), written straight from the arena. Write them before the next
   * change to the store.
   */
  entryItems(): EntryItems {
    const ids: string[] = new Array(this.handles.size);
    const handles: ArenaHandle[] = new Array(this.handles.size);
    let n = 0;
    for (const [id, handle] of this.handles) {
      ids[n] = id;
      handles[n++] = handle;
    }
    const arena = this.arena;
    // Ids are ASCII (their pattern): a byte per character.
    return {
      count: n,
      idLength: (i) => strHeaderLength((ids[i] as string).length) + (ids[i] as string).length,
      writeId: (i, out, at) => {
        const id = ids[i] as string;
        out.write(id, writeStrHeader(out, at, id.length), "latin1");
      },
      id: (i) => ids[i] as string,
      recordLength: (i) => arena.lengthOf(handles[i] as ArenaHandle),
      writeRecord: (i, out, at) => {
        arena.copyTo(handles[i] as ArenaHandle, out, at);
      },
    };
  }

  /** Bytes of the stored strategies themselves (what a snapshot copies). */
  get liveBytes(): number {
    return this.arena.liveBytes;
  }

  private compact(): void {
    this.arena.compact((relocate) => {
      for (const [id, handle] of this.handles) this.handles.set(id, relocate(handle));
    });
  }
}
