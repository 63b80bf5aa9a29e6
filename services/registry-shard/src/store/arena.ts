/**
 * Byte arena: stores many small byte strings (encoded strategies) in large
 * shared slabs. A Buffer per strategy costs ~400 bytes of bookkeeping on top of
 * its ~400 bytes of data; a slab offset costs a number. Handles are plain
 * numbers, so an index can hold a million of them cheaply (docs/adr/003).
 *
 * Each entry is a msgpack bin 32: `0xc6`, a 4-byte big-endian length, the bytes.
 * That is exactly how a log entry holds its strategies, so a large log entry can
 * be adopted as a slab as it is, without copying a strategy (see `adopt`).
 */

import { bin32At } from "@stratreg/protocol";

const BIN32 = 0xc6;
const HEADER = 5;
const MIN_SLAB = 64 * 1024;
const MAX_SLAB = 1024 * 1024;
/** Handles are `slab * SLAB_SPAN + offset`; no slab is larger than this. */
const SLAB_SPAN = 2 ** 26;

/** An opaque reference to bytes stored in a {@link ByteArena}. */
export type ArenaHandle = number;

/** Slabs of bin-32 framed byte strings, with dead-space accounting for compaction. */
export class ByteArena {
  private slabs: Buffer[] = [];
  /** Index of the slab `put` appends to, or -1. */
  private writable = -1;
  private offset = 0;
  private deadBytes = 0;
  private usedBytes = 0;

  /** Copies `bytes` into the arena. */
  put(bytes: Uint8Array): ArenaHandle {
    const need = bytes.length + HEADER;
    if (need > SLAB_SPAN) throw new RangeError(`cannot store ${bytes.length} bytes in one arena entry`);
    let slab = this.slabs[this.writable];
    if (slab === undefined || slab.length - this.offset < need) {
      const previous = slab?.length ?? MIN_SLAB / 2;
      slab = Buffer.allocUnsafeSlow(Math.max(need, Math.min(previous * 2, MAX_SLAB)));
      this.slabs.push(slab);
      this.writable = this.slabs.length - 1;
      this.offset = 0;
    }
    const at = this.offset;
    slab[at] = BIN32;
    slab.writeUInt32BE(bytes.length, at + 1);
    slab.set(bytes, at + HEADER);
    this.offset = at + need;
    this.usedBytes += need;
    return this.writable * SLAB_SPAN + at;
  }

  /**
   * Takes `slab` as it is: `offsets` are positions of bin-32 entries in it. The
   * rest of the slab (whatever surrounds the entries) counts as garbage.
   */
  adopt(slab: Buffer, offsets: number[]): ArenaHandle[] {
    if (slab.length > SLAB_SPAN) throw new RangeError(`cannot adopt a slab of ${slab.length} bytes`);
    const index = this.slabs.length;
    this.slabs.push(slab);
    let live = 0;
    const handles = offsets.map((at) => {
      if (slab[at] !== BIN32) throw new RangeError(`no arena entry at offset ${at} of the adopted slab`);
      live += HEADER + slab.readUInt32BE(at + 1);
      return index * SLAB_SPAN + at;
    });
    this.usedBytes += slab.length;
    this.deadBytes += slab.length - live;
    return handles;
  }

  /** A view of the bytes behind `handle` (valid until the next {@link compact}). */
  get(handle: ArenaHandle): Uint8Array {
    const slab = this.slabs[Math.floor(handle / SLAB_SPAN)];
    if (slab === undefined) throw new RangeError(`no arena entry at ${handle}`);
    return bin32At(slab, handle % SLAB_SPAN);
  }

  /** The length of the bytes behind `handle`. */
  lengthOf(handle: ArenaHandle): number {
    const slab = this.slabs[Math.floor(handle / SLAB_SPAN)];
    if (slab === undefined) throw new RangeError(`no arena entry at ${handle}`);
    return slab.readUInt32BE((handle % SLAB_SPAN) + 1);
  }

  /** Copies the bytes behind `handle` to `out` at `at` (no view is made). */
  copyTo(handle: ArenaHandle, out: Buffer, at: number): void {
    const slab = this.slabs[Math.floor(handle / SLAB_SPAN)];
    if (slab === undefined) throw new RangeError(`no arena entry at ${handle}`);
    const start = (handle % SLAB_SPAN) + HEADER;
    slab.copy(out, at, start, start + slab.readUInt32BE(start - 4));
  }

  /** Marks the bytes behind `handle` as garbage. */
  free(handle: ArenaHandle): void {
    const slab = this.slabs[Math.floor(handle / SLAB_SPAN)];
    if (slab === undefined) throw new RangeError(`no arena entry at ${handle}`);
    this.deadBytes += HEADER + slab.readUInt32BE((handle % SLAB_SPAN) + 1);
  }

  /** Bytes of slab memory held. */
  get capacityBytes(): number {
    let total = 0;
    for (const slab of this.slabs) total += slab.length;
    return total;
  }

  /** Bytes of the live entries (headers included): what a snapshot of them would copy. */
  get liveBytes(): number {
    return this.usedBytes - this.deadBytes;
  }

  /** Whether more than half of the held bytes are garbage (and it is worth copying the rest). */
  get wantsCompaction(): boolean {
    return this.usedBytes > MAX_SLAB && this.deadBytes * 2 > this.usedBytes;
  }

  /**
   * Copies the live entries into fresh slabs. `live` yields every live handle and
   * takes its new one; afterwards old handles are invalid.
   */
  compact(live: (relocate: (handle: ArenaHandle) => ArenaHandle) => void): void {
    const old = new ByteArena();
    old.slabs = this.slabs;
    this.slabs = [];
    this.writable = -1;
    this.offset = 0;
    this.deadBytes = 0;
    this.usedBytes = 0;
    live((handle) => this.put(old.get(handle)));
  }
}
