/**
 * The command ids a partition has logged within the de-duplication window,
 * each with the log sequence of its entry (a retry is answered from that
 * entry). Kept by time, not by count: a retry hours later is still recognised.
 * Carried in snapshots, so it survives restarts and hand-offs.
 *
 * Hours of commands can be millions of ids, so only the newest (since the last
 * snapshot, or the last few thousand) are kept as strings. Older ones are sealed
 * into segments of sorted 53-bit hashes with their sequences (16 bytes a command,
 * no strings, written into a snapshot as two typed arrays), at most
 * {@link MAX_SEGMENTS} of them. A hash may collide, so a lookup only
 * names a candidate entry: the caller checks that entry's command id.
 */
import { murmur3 } from "@stratreg/protocol";
import { ownedAscii } from "./store/partition-store.js";

/** A sealed run of commands: sorted hashes, their entries' sequences, and when the newest was accepted. */
export interface CommandSegment {
  /** Acceptance time (ms) of the newest command in the segment: the segment expires with it. */
  until: number;
  keys: Float64Array;
  seqs: Float64Array;
}

/**
 * Sealed segments kept apart at most: each write of a new command looks its id up
 * in every one. Past this, the two adjacent segments smallest together are merged.
 */
export const MAX_SEGMENTS = 16;

const SEED_HIGH = 0;
const SEED_LOW = 0x9747b28c;

/** A 53-bit hash of a command id (exact as a double). Ids are ASCII, so latin1 is their UTF-8. */
export function commandKey(cid: string): number {
  const bytes = Buffer.from(cid, "latin1");
  return murmur3(bytes, SEED_HIGH) * 2 ** 21 + (murmur3(bytes, SEED_LOW) >>> 11);
}

/** Every sequence in `segment` whose command hashes to `key` (hashes can collide). */
function find(segment: CommandSegment, key: number, out: number[]): void {
  const { keys } = segment;
  let lo = 0;
  let hi = keys.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if ((keys[mid] as number) < key) lo = mid + 1;
    else hi = mid;
  }
  for (let i = lo; i < keys.length && keys[i] === key; i++) out.push(segment.seqs[i] as number);
}

export class CommandWindow {
  /** Commands since the last seal, oldest first. */
  private recent = new Map<string, { seq: number; at: number }>();
  /** Sealed segments, oldest first. */
  private segments: CommandSegment[] = [];

  /** @param retainMs how long a command id is remembered (the window plus the clock skew allowed). */
  constructor(private readonly retainMs: number) {}

  /** Commands remembered as strings (since the last seal). */
  get recentSize(): number {
    return this.recent.size;
  }

  /** Commands remembered. */
  get size(): number {
    return this.recent.size + this.segments.reduce((n, s) => n + s.keys.length, 0);
  }

  /**
   * The log sequences that may hold `cid`'s entry, newest first: exact for a recent
   * command, candidates (to check against each entry's cid) for sealed ones.
   */
  seqsOf(cid: string): number[] {
    const recent = this.recent.get(cid);
    if (recent !== undefined) return [recent.seq];
    const out: number[] = [];
    if (this.segments.length === 0) return out;
    const key = commandKey(cid);
    for (let i = this.segments.length - 1; i >= 0; i--) find(this.segments[i] as CommandSegment, key, out);
    return out;
  }

  remember(cid: string, seq: number, at: number, now = Date.now()): void {
    if (now - at > this.retainMs) return;
    const key = ownedAscii(cid);
    this.recent.delete(key);
    this.recent.set(key, { seq, at });
  }

  /** Forgets commands accepted longer ago than the retention (sealed segments go whole). */
  prune(now = Date.now()): void {
    for (const [cid, { at }] of this.recent) {
      if (now - at <= this.retainMs) break;
      this.recent.delete(cid);
    }
    this.segments = this.segments.filter((s) => now - s.until <= this.retainMs);
  }

  /** The oldest remembered entry's sequence: the log must keep it and everything after. */
  oldestSeq(): number | undefined {
    let oldest: number | undefined;
    for (const segment of this.segments) {
      for (const seq of segment.seqs) if (oldest === undefined || seq < oldest) oldest = seq;
    }
    for (const { seq } of this.recent.values()) if (oldest === undefined || seq < oldest) oldest = seq;
    return oldest;
  }

  /** Turns the recent commands into a sealed segment and returns every segment (for a snapshot). */
  seal(): CommandSegment[] {
    if (this.recent.size > 0) {
      const entries = [...this.recent].map(([cid, { seq, at }]) => ({ key: commandKey(cid), seq, at }));
      entries.sort((a, b) => a.key - b.key);
      this.segments.push({
        until: entries.reduce((max, e) => Math.max(max, e.at), 0),
        keys: Float64Array.from(entries, (e) => e.key),
        seqs: Float64Array.from(entries, (e) => e.seq),
      });
      this.recent = new Map();
      while (this.segments.length > MAX_SEGMENTS) this.mergeSmallestPair();
    }
    return this.segments;
  }

  /**
   * Merges the two adjacent segments smallest together: adjacent, so that a
   * merged segment spans a short stretch of time and expires soon after its
   * parts would have; smallest, so that merging costs little.
   */
  private mergeSmallestPair(): void {
    let at = 0;
    for (let i = 1; i + 1 < this.segments.length; i++) {
      const size = (i: number) => (this.segments[i] as CommandSegment).keys.length;
      if (size(i) + size(i + 1) < size(at) + size(at + 1)) at = i;
    }
    const a = this.segments[at] as CommandSegment;
    const b = this.segments[at + 1] as CommandSegment;
    const keys = new Float64Array(a.keys.length + b.keys.length);
    const seqs = new Float64Array(keys.length);
    let i = 0;
    let j = 0;
    for (let k = 0; k < keys.length; k++) {
      const fromA = j >= b.keys.length || (i < a.keys.length && (a.keys[i] as number) <= (b.keys[j] as number));
      keys[k] = fromA ? (a.keys[i] as number) : (b.keys[j] as number);
      seqs[k] = fromA ? (a.seqs[i++] as number) : (b.seqs[j++] as number);
    }
    this.segments.splice(at, 2, { until: Math.max(a.until, b.until), keys, seqs });
  }

  /** Adds segments read from a snapshot (before any command is remembered). */
  restore(segments: CommandSegment[], now = Date.now()): void {
    this.segments.push(...segments.filter((s) => now - s.until <= this.retainMs));
  }
}

/** A segment as it is written in a snapshot's head: `[until, keys bytes, seqs bytes]`. */
export type StoredSegment = [until: number, keys: Uint8Array, seqs: Uint8Array];

/** Segments to their snapshot form (the bytes of the typed arrays, little-endian as on every platform stratreg runs on). */
export function storeSegments(segments: CommandSegment[]): StoredSegment[] {
  const bytes = (a: Float64Array) => new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
  return segments.map((s) => [s.until, bytes(s.keys), bytes(s.seqs)]);
}

/** Segments from their snapshot form (copied: typed arrays need aligned memory). */
export function loadSegments(stored: unknown): CommandSegment[] {
  if (!Array.isArray(stored)) return [];
  const floats = (b: Uint8Array) => new Float64Array(Uint8Array.from(b).buffer);
  return (stored as StoredSegment[]).map(([until, keys, seqs]) => ({ until, keys: floats(keys), seqs: floats(seqs) }));
}
