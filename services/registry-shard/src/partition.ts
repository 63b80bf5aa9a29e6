/**
 * One partition owned by this shard: its in-memory state, rebuilt from its log,
 * and the serial queue its writes go through (a write reads state, appends one
 * fenced log entry, then applies it; two writes never interleave).
 */
import { ErrorCodes, type LogEntryLayout, recordAt, UnavailableError, ValidationError } from "@stratreg/protocol";
import type { Logger } from "pino";
import { FencedError, type PartitionLog } from "./store/log.js";
import { ownedAscii, PartitionStore } from "./store/partition-store.js";

/** Most recent command ids remembered per partition, for replies to retried commands. */
const REMEMBERED_COMMANDS = 1024;
/** Entries with at least this many strategies are kept whole as arena slabs; smaller ones are copied. */
const ADOPT_MIN_RECORDS = 16;

/** `bytes` as a Buffer that owns its whole memory (copied only if it is a view of something larger). */
function owned(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

/** What a partition needs from the shard around it. */
export interface PartitionContext {
  readonly log: PartitionLog;
  readonly member: string;
  readonly partitions: number;
  /** Largest log entry the server accepts, bytes. */
  readonly maxEntryBytes: number;
  /** Largest reply body the server delivers, bytes. */
  readonly maxReplyBytes: number;
  readonly logger: Logger;
}

export class Partition {
  readonly store = new PartitionStore();
  /** Stream sequence of the last log entry applied. */
  lastSeq = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly commands = new Map<string, number>();
  private stale = false;

  constructor(
    readonly id: number,
    readonly context: PartitionContext,
  ) {}

  /** Replays the whole log into memory. */
  async load(): Promise<void> {
    this.lastSeq = await this.context.log.replay(this.id, this.lastSeq, (entry, seq) => this.apply(entry, seq));
  }

  /** Applies one log entry: an upsert of each record it carries. */
  apply(entry: LogEntryLayout, seq: number): void {
    const { bytes, ids, records } = entry;
    if (records.length >= ADOPT_MIN_RECORDS) {
      this.store.adopt(owned(bytes), ids, records);
    } else {
      records.forEach((_, i) => {
        this.store.put(ids[i] as string, recordAt(entry, i));
      });
    }
    this.lastSeq = seq;
    if (entry.cid !== undefined) this.remember(entry.cid, seq);
  }

  /** Log sequence of the entry written for command `cid`, if this partition remembers it. */
  commandSeq(cid: string | undefined): number | undefined {
    return cid === undefined ? undefined : this.commands.get(cid);
  }

  /**
   * Runs `command` after every write queued before it. If an earlier append
   * failed without a definite answer, the partition first catches up with its log.
   */
  write<T>(command: () => Promise<T>): Promise<T> {
    const run = async (): Promise<T> => {
      if (this.stale) await this.catchUp();
      return command();
    };
    const result = this.queue.then(run, run);
    this.queue = result.catch(() => undefined);
    return result;
  }

  /** Resolves when every queued write has finished. */
  idle(): Promise<void> {
    return this.queue.then(() => undefined);
  }

  /**
   * Appends `entry` (fenced on the last applied sequence) and applies it. Returns
   * the sequence, and whether JetStream already held this command id (then
   * nothing new was applied and the caller answers from the original entry).
   */
  async append(entry: LogEntryLayout): Promise<{ seq: number; duplicate: boolean }> {
    try {
      const appended = await this.context.log.append(this.id, entry.bytes, this.lastSeq, entry.cid);
      if (appended.duplicate) {
        // The entry was written before (perhaps by another owner): read the log before the next write.
        this.stale = true;
      } else {
        this.apply(entry, appended.seq);
      }
      return appended;
    } catch (err) {
      // Someone else wrote (fenced), or we do not know whether our entry landed:
      // either way, read the log before the next write. A refusal before sending changes nothing.
      if (!(err instanceof ValidationError)) this.stale = true;
      if (err instanceof FencedError) {
        this.context.logger.warn(
          { partition: this.id, expected: this.lastSeq },
          "partition log moved under us; catching up",
        );
      }
      throw err;
    }
  }

  private async catchUp(): Promise<void> {
    try {
      this.lastSeq = await this.context.log.replay(this.id, this.lastSeq, (entry, seq) => this.apply(entry, seq));
    } catch (err) {
      throw new UnavailableError(ErrorCodes.Unavailable, `partition ${this.id} could not read its log`, { cause: err });
    }
    this.stale = false;
  }

  private remember(cid: string, seq: number): void {
    this.commands.delete(cid);
    this.commands.set(ownedAscii(cid), seq);
    if (this.commands.size > REMEMBERED_COMMANDS) {
      const oldest = this.commands.keys().next().value;
      if (oldest !== undefined) this.commands.delete(oldest);
    }
  }
}
