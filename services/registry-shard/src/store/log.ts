/**
 * The partition logs in JetStream: one stream per cluster, one subject per
 * partition. Appends are fenced (`expect.lastSubjectSequence`). The JetStream
 * message id of an entry is `<partition>.<cid>`, so a command id reused in
 * another partition is another command; the shards' own command window (hours,
 * in partition state and snapshots) is what makes retries exactly-once, the
 * stream's short duplicate window only guards a lost append acknowledgement.
 *
 * The stream has no age or size limits: entries are removed only by
 * {@link PartitionLog.compact}, and only those a snapshot covers.
 */
import {
  JetStreamApiCodes,
  JetStreamApiError,
  type JetStreamClient,
  type JetStreamManager,
  StorageType,
} from "@nats-io/jetstream";
import { InvalidArgumentError, nanos } from "@nats-io/transport-node";
import { ensureStream, readSubject } from "@stratreg/fencing";
import {
  type ClusterSubjects,
  decodeLogEntry,
  ErrorCodes,
  type LogEntry,
  type LogEntryLayout,
  readLogEntry,
  StratregError,
  UnavailableError,
  ValidationError,
} from "@stratreg/protocol";

/** How long JetStream remembers a message id for de-duplication. */
export const DUPLICATE_WINDOW_MS = 120_000;

/** Entries a replay reads one by one before it opens a consumer for the rest. */
const DIRECT_READS = 8;

/** The append found another writer's entry at the head of the partition log. */
export class FencedError extends StratregError {
  override name = "FencedError";
  constructor(partition: number, expected: number, cause: unknown) {
    super(
      ErrorCodes.NotOwner,
      `partition ${partition} was written by another owner (expected last sequence ${expected})`,
      {
        cause,
        retryable: true,
      },
    );
  }
}

/** Result of an append. */
export interface Appended {
  seq: number;
  /** JetStream had already stored this command id: `seq` is the original entry. */
  duplicate: boolean;
}

/** Creates the log stream if it does not exist yet. */
export async function ensureLogStream(
  jsm: JetStreamManager,
  subjects: ClusterSubjects,
  replicas: number,
): Promise<void> {
  const info = await ensureStream(jsm, {
    name: subjects.logStream,
    subjects: [subjects.logAll],
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: nanos(DUPLICATE_WINDOW_MS),
    allow_direct: true,
  });
  if (!info.config.subjects?.includes(subjects.logAll)) {
    throw new StratregError(
      ErrorCodes.ConfigMismatch,
      `stream ${subjects.logStream} exists but does not capture ${subjects.logAll}`,
    );
  }
}

/** Reads and appends the partition logs of one cluster. */
export class PartitionLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly subjects: ClusterSubjects,
    private readonly appendTimeoutMs = 5000,
    private readonly replayIdleMs = 10_000,
  ) {}

  /**
   * Appends `bytes` to `partition`'s log, provided its last entry is still
   * `expectedLastSeq` (0 for an empty log). Throws FencedError when it is not.
   */
  async append(partition: number, bytes: Uint8Array, expectedLastSeq: number, cid?: string): Promise<Appended> {
    try {
      const ack = await this.js.publish(this.subjects.log(partition), bytes, {
        msgID: cid === undefined ? undefined : `${partition}.${cid}`,
        expect: { lastSubjectSequence: expectedLastSeq },
        timeout: this.appendTimeoutMs,
      });
      return { seq: ack.seq, duplicate: ack.duplicate };
    } catch (err) {
      if (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) {
        throw new FencedError(partition, expectedLastSeq, err);
      }
      if (err instanceof InvalidArgumentError) {
        // Refused by the client before sending (e.g. over max_payload): nothing was written.
        throw new ValidationError(ErrorCodes.PayloadTooLarge, `log entry not sent: ${err.message}`, { cause: err });
      }
      throw new UnavailableError(
        ErrorCodes.Unavailable,
        `log append for partition ${partition} failed: ${String(err)}`,
        {
          cause: err,
        },
      );
    }
  }

  /** Sequence of the last entry of `partition`'s log, 0 if it has none. */
  async lastSeq(partition: number): Promise<number> {
    const msg = await this.jsm.streams.getMessage(this.subjects.logStream, {
      last_by_subj: this.subjects.log(partition),
    });
    return msg?.seq ?? 0;
  }

  /** The entry at stream sequence `seq`. */
  async entryAt(seq: number): Promise<LogEntry> {
    const msg = await this.jsm.streams.getMessage(this.subjects.logStream, { seq });
    if (msg === null) throw new UnavailableError(ErrorCodes.Unavailable, `log entry ${seq} is gone`);
    return decodeLogEntry(msg.data);
  }

  /**
   * Calls `apply` for every entry of `partition`'s log after `afterSeq`, up to the
   * entry that was last when the replay started, in order. Returns the last
   * sequence applied (or `afterSeq` if there was nothing newer).
   */
  async replay(
    partition: number,
    afterSeq: number,
    apply: (entry: LogEntryLayout, seq: number) => void,
    signal?: AbortSignal,
  ): Promise<number> {
    const target = await this.lastSeq(partition);
    if (target <= afterSeq) return afterSeq;
    const subject = this.subjects.log(partition);
    // A short tail (the usual case after a snapshot, or one batch entry) is read by direct gets:
    // a consumer costs several round trips to create and delete before it delivers anything.
    let read = afterSeq;
    for (let i = 0; i < DIRECT_READS && read < target; i++) {
      if (signal?.aborted) break;
      const msg = await this.jsm.direct.getMessage(this.subjects.logStream, { next_by_subj: subject, seq: read + 1 });
      if (msg === null) break;
      const data = msg.data;
      apply(readLogEntry(Buffer.from(data.buffer, data.byteOffset, data.byteLength)), msg.seq);
      read = msg.seq;
    }
    if (read >= target) return read;
    afterSeq = read;
    const last = await readSubject(
      this.js,
      this.subjects.logStream,
      subject,
      afterSeq + 1,
      target,
      (data, seq) => apply(readLogEntry(data), seq),
      this.replayIdleMs,
      signal,
    );
    if (signal?.aborted)
      throw new UnavailableError(ErrorCodes.Unavailable, `replay of partition ${partition} abandoned`);
    if (last.seq < target) {
      throw new UnavailableError(
        ErrorCodes.Unavailable,
        `replay of partition ${partition} ${last.stalled ? "stalled" : "ended"} at ${last.seq}, before ${target}`,
      );
    }
    return last.seq;
  }

  /**
   * Where the retention cuts `partition`'s log below `before`: a sequence after every entry
   * written before `sinceMs` and at or before the first written since (`before` when every entry
   * below it is older). Purging below it keeps every younger entry. A bisection by direct gets,
   * so a log of a million entries costs about twenty reads. It takes the server's stamps to rise
   * with the sequence; a leader change between hosts whose clocks differ, or this host's clock
   * against the server's, moves the cut by that difference, which a retention of days absorbs.
   */
  async firstSince(partition: number, sinceMs: number, before: number): Promise<number> {
    const subject = this.subjects.log(partition);
    const next = (seq: number) => this.jsm.direct.getMessage(this.subjects.logStream, { next_by_subj: subject, seq });
    const first = await next(1);
    if (first === null || first.seq >= before) return before;
    if (first.time.getTime() >= sinceMs) return first.seq;
    // The entry at `older` is older than `sinceMs`; the answer is in (older, keep].
    let older = first.seq;
    let keep = before;
    while (keep - older > 1) {
      const mid = Math.floor((older + keep) / 2);
      const msg = await next(mid);
      if (msg === null || msg.seq >= keep) keep = mid;
      else if (msg.time.getTime() < sinceMs) older = msg.seq;
      else keep = msg.seq;
    }
    return keep;
  }

  /**
   * Removes `partition`'s entries before `keepFrom` (exclusive). The caller
   * guarantees a snapshot covers them and that no retried command still needs them.
   */
  async compact(partition: number, keepFrom: number): Promise<number> {
    if (keepFrom <= 1) return 0;
    const purged = await this.jsm.streams.purge(this.subjects.logStream, {
      filter: this.subjects.log(partition),
      seq: keepFrom,
    });
    return purged.purged;
  }
}
