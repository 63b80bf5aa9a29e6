/**
 * The command ids a partition has logged within the de-duplication window,
 * each with the log sequence of its entry (a retry is answered from that
 * entry) and when it was accepted. Kept by time, not by count: a retry hours
 * later is still recognised. Carried in snapshots, so it survives restarts and
 * hand-offs.
 */
import type { RememberedCommand } from "@stratreg/protocol";
import { ownedAscii } from "./store/partition-store.js";

export class CommandWindow {
  private readonly seqs = new Map<string, number>();
  /** Insertion-ordered, so the oldest are first. */
  private readonly accepted = new Map<string, number>();

  /** @param retainMs how long a command id is remembered (the window plus the clock skew allowed). */
  constructor(private readonly retainMs: number) {}

  get size(): number {
    return this.seqs.size;
  }

  /** The log sequence of `cid`'s entry, if remembered. */
  seqOf(cid: string): number | undefined {
    return this.seqs.get(cid);
  }

  remember(cid: string, seq: number, at: number, now = Date.now()): void {
    if (now - at > this.retainMs) return;
    const key = ownedAscii(cid);
    this.seqs.set(key, seq);
    this.accepted.delete(key);
    this.accepted.set(key, at);
    this.prune(now);
  }

  /** Forgets command ids accepted longer ago than the retention. */
  prune(now = Date.now()): void {
    for (const [cid, at] of this.accepted) {
      if (now - at <= this.retainMs) break;
      this.accepted.delete(cid);
      this.seqs.delete(cid);
    }
  }

  /** The oldest remembered entry's sequence: the log must keep it and everything after. */
  oldestSeq(): number | undefined {
    let oldest: number | undefined;
    for (const seq of this.seqs.values()) if (oldest === undefined || seq < oldest) oldest = seq;
    return oldest;
  }

  /** Every remembered command, for a snapshot. */
  entries(): RememberedCommand[] {
    const out: RememberedCommand[] = [];
    for (const [cid, at] of this.accepted) out.push([cid, this.seqs.get(cid) as number, at]);
    return out;
  }
}
