/**
 * Byte arena: stores many small byte strings (encoded strategies) in large
 * shared slabs. A Buffer per strategy costs ~400 bytes of bookkeeping on top of
 * its ~400 bytes of data; a slab offset costs a number. Handles are plain
 * numbers, so an index can hold a million of them cheaply (see docs/adr/003).
 */

const LENGTH_PREFIX = 4;
const MIN_SLAB = 64 * 1024;
const MAX_SLAB = 1024 * 1024;
/** Handles are `slab * SLAB_SPAN + offset`; no slab is larger than this. */
const SLAB_SPAN = 2 ** 26;

/** An opaque reference to bytes stored in a {@link ByteArena}. */
export type ArenaHandle = number;

/** Append-only slabs of length-prefixed byte strings, with dead-space accounting for compaction. */
export class ByteArena {
  private slabs: Buffer[] = [];
  private offset = 0;
  private deadBytes = 0;
  private usedBytes = 0;

  /** Copies `bytes` into the arena. */
  put(bytes: Uint8Array): ArenaHandle {
    const need = bytes.length + LENGTH_PREFIX;
    if (need > SLAB_SPAN) throw new RangeError(`cannot store ${bytes.length} bytes in one arena entry`);
    let slab = this.slabs[this.slabs.length - 1];
    if (slab === undefined || slab.length - this.offset < need) {
      const previous = slab?.length ?? MIN_SLAB / 2;
      slab = Buffer.allocUnsafeSlow(Math.max(need, Math.min(previous * 2, MAX_SLAB)));
      this.slabs.push(slab);
      this.offset = 0;
    }
    const at = this.offset;
    slab.writeUInt32LE(bytes.length, at);
    slab.set(bytes, at + LENGTH_PREFIX);
    this.offset = at + need;
    this.usedBytes += need;
    return (this.slabs.length - 1) * SLAB_SPAN + at;
  }

  /** A view of the bytes behind `handle` (valid until the next {@link compact}). */
  get(handle: ArenaHandle): Uint8Array {
    const slab = this.slabs[Math.floor(handle / SLAB_SPAN)];
    if (slab === undefined) throw new RangeError(`no arena entry at ${handle}`);
    const at = handle % SLAB_SPAN;
    const length = slab.readUInt32LE(at);
    return slab.subarray(at + LENGTH_PREFIX, at + LENGTH_PREFIX + length);
  }

  /** Marks the bytes behind `handle` as garbage. */
  free(handle: ArenaHandle): void {
    this.deadBytes += this.get(handle).length + LENGTH_PREFIX;
  }

  /** Bytes of slab memory held. */
  get capacityBytes(): number {
    let total = 0;
    for (const slab of this.slabs) total += slab.length;
    return total;
  }

  /** Whether more than half of the written bytes are garbage (and it is worth copying the rest). */
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
    this.offset = 0;
    this.deadBytes = 0;
    this.usedBytes = 0;
    live((handle) => this.put(old.get(handle)));
  }
}
