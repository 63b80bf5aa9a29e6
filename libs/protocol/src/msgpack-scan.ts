/**
 * A strict, allocation-free walker over standard msgpack bytes. The codec uses
 * it to find where each strategy of a request starts and ends, so a shard can
 * store the bytes it was sent instead of re-encoding every strategy (encoding
 * is the most expensive step of bulk registration; see docs/adr/003). It also
 * refuses extension types, which standard msgpack peers could not read back.
 */

/** Thrown when bytes are not well-formed standard msgpack. */
export class MsgpackScanError extends Error {
  override name = "MsgpackScanError";
}

import { isUtf8 } from "node:buffer";

const textDecoder = new TextDecoder("utf-8", { fatal: true });

/** Walks msgpack values in `bytes`. Positions are byte offsets into `bytes`. */
export class MsgpackScanner {
  /** Map entries seen by {@link skip} so far (to spot maps that repeat a key: see checkStrategyMap). */
  mapEntries = 0;

  /**
   * `validated`: the bytes already passed a full check (compileBytesCheck), so
   * strings need not be checked for UTF-8 again.
   */
  constructor(
    readonly bytes: Uint8Array,
    private readonly validated = false,
  ) {}

  private u8(pos: number): number {
    const b = this.bytes[pos];
    if (b === undefined) throw new MsgpackScanError(`truncated msgpack at byte ${pos}`);
    return b;
  }

  private u16(pos: number): number {
    return (this.u8(pos) << 8) | this.u8(pos + 1);
  }

  private u32(pos: number): number {
    return ((this.u8(pos) << 24) >>> 0) + ((this.u8(pos + 1) << 16) | (this.u8(pos + 2) << 8) | this.u8(pos + 3));
  }

  private checkEnd(end: number): number {
    if (end > this.bytes.length)
      throw new MsgpackScanError(`truncated msgpack: value ends at ${end} of ${this.bytes.length}`);
    return end;
  }

  /** Checks that `len` bytes at `start` are valid UTF-8 and returns the position after them. */
  private text(start: number, len: number): number {
    const end = start + len;
    const bytes = this.bytes;
    if (end > bytes.length) throw new MsgpackScanError(`truncated msgpack: string ends at ${end} of ${bytes.length}`);
    if (this.validated) return end;
    // Most strings are ASCII: only strings with a high byte go through the full check.
    for (let i = start; i < end; i++) {
      if ((bytes[i] as number) > 0x7f) {
        if (!isUtf8(bytes.subarray(start, end))) {
          throw new MsgpackScanError(`string at byte ${start} is not valid UTF-8`);
        }
        break;
      }
    }
    return end;
  }

  /** If the value at `pos` is a map, its entry count and the position of its first key. */
  mapHeader(pos: number): { count: number; start: number } | undefined {
    const b = this.u8(pos);
    if (b >= 0x80 && b <= 0x8f) return { count: b & 0x0f, start: pos + 1 };
    if (b === 0xde) return { count: this.u16(pos + 1), start: pos + 3 };
    if (b === 0xdf) return { count: this.u32(pos + 1), start: pos + 5 };
    return undefined;
  }

  /** If the value at `pos` is an array, its length and the position of its first item. */
  arrayHeader(pos: number): { count: number; start: number } | undefined {
    const b = this.u8(pos);
    if (b >= 0x90 && b <= 0x9f) return { count: b & 0x0f, start: pos + 1 };
    if (b === 0xdc) return { count: this.u16(pos + 1), start: pos + 3 };
    if (b === 0xdd) return { count: this.u32(pos + 1), start: pos + 5 };
    return undefined;
  }

  /** If the value at `pos` is a string, its text. */
  string(pos: number): string | undefined {
    const b = this.u8(pos);
    let len: number;
    let start: number;
    if (b >= 0xa0 && b <= 0xbf) {
      len = b & 0x1f;
      start = pos + 1;
    } else if (b === 0xd9) {
      len = this.u8(pos + 1);
      start = pos + 2;
    } else if (b === 0xda) {
      len = this.u16(pos + 1);
      start = pos + 3;
    } else if (b === 0xdb) {
      len = this.u32(pos + 1);
      start = pos + 5;
    } else {
      return undefined;
    }
    try {
      return textDecoder.decode(this.bytes.subarray(start, this.checkEnd(start + len)));
    } catch (err) {
      if (err instanceof MsgpackScanError) throw err;
      throw new MsgpackScanError(`string at byte ${start} is not valid UTF-8`);
    }
  }

  /** The position just after the value at `pos`. Throws on extension types and bad bytes. */
  skip(pos: number): number {
    const bytes = this.bytes;
    const length = bytes.length;
    let pending = 1;
    let p = pos;
    while (pending > 0) {
      pending--;
      if (p >= length) throw new MsgpackScanError(`truncated msgpack at byte ${p}`);
      const b = bytes[p] as number;
      if (b < 0x80 || b >= 0xe0) {
        p += 1; // fixint
      } else if (b < 0x90) {
        pending += 2 * (b & 0x0f); // fixmap
        this.mapEntries += b & 0x0f;
        p += 1;
      } else if (b < 0xa0) {
        pending += b & 0x0f; // fixarray
        p += 1;
      } else if (b < 0xc0) {
        p = this.text(p + 1, b & 0x1f); // fixstr
      } else {
        switch (b) {
          case 0xc0:
          case 0xc2:
          case 0xc3:
            p += 1;
            break;
          case 0xcc:
          case 0xd0:
            p += 2;
            break;
          case 0xcd:
          case 0xd1:
            p += 3;
            break;
          case 0xca:
          case 0xce:
          case 0xd2:
            p += 5;
            break;
          case 0xcb:
          case 0xcf:
          case 0xd3:
            p += 9;
            break;
          case 0xc4:
            p += 2 + this.u8(p + 1);
            break;
          case 0xc5:
            p += 3 + this.u16(p + 1);
            break;
          case 0xc6:
            p += 5 + this.u32(p + 1);
            break;
          case 0xd9:
            p = this.text(p + 2, this.u8(p + 1));
            break;
          case 0xda:
            p = this.text(p + 3, this.u16(p + 1));
            break;
          case 0xdb:
            p = this.text(p + 5, this.u32(p + 1));
            break;
          case 0xdc:
            pending += this.u16(p + 1);
            p += 3;
            break;
          case 0xdd:
            pending += this.u32(p + 1);
            p += 5;
            break;
          case 0xde:
            pending += 2 * this.u16(p + 1);
            this.mapEntries += this.u16(p + 1);
            p += 3;
            break;
          case 0xdf:
            pending += 2 * this.u32(p + 1);
            this.mapEntries += this.u32(p + 1);
            p += 5;
            break;
          default:
            // 0xc1 is never used; 0xc7-0xc9 and 0xd4-0xd8 are extension types.
            throw new MsgpackScanError(`msgpack type 0x${b.toString(16)} at byte ${p} is not standard msgpack data`);
        }
      }
    }
    return this.checkEnd(p);
  }

  /** The position of the value stored under `key` in the map at `pos`, if present. */
  mapValue(pos: number, key: string): number | undefined {
    const header = this.mapHeader(pos);
    if (header === undefined) return undefined;
    let p = header.start;
    for (let i = 0; i < header.count; i++) {
      const k = this.string(p);
      p = this.skip(p);
      if (k === key) return p;
      p = this.skip(p);
    }
    return undefined;
  }

  /**
   * The `[start, end, mapEntries)` of each item of the array at `pos`: its byte
   * range and how many map entries it holds at any depth.
   */
  arrayItems(pos: number): Array<[number, number, number]> {
    const header = this.arrayHeader(pos);
    if (header === undefined) throw new MsgpackScanError(`expected an array at byte ${pos}`);
    const items: Array<[number, number, number]> = new Array(header.count);
    let p = header.start;
    for (let i = 0; i < header.count; i++) {
      const entries = this.mapEntries;
      const end = this.skip(p);
      items[i] = [p, end, this.mapEntries - entries];
      p = end;
    }
    return items;
  }
}
