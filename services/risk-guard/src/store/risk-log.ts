/**
 * The risk guard's log: one JetStream stream the active guard alone writes.
 * Every append states the stream sequence it expects to follow
 * (`expect.lastSequence`), so a guard that lost its lease, or was paused while
 * another took over, fails its next append and steps down: two guards can
 * never both have their decisions accepted. A new leader's first append is an
 * epoch marker, which fences the old one at once.
 *
 * A standby follows the stream as it grows (an ordered consumer) and so holds
 * the leader's state within milliseconds; taking over means reading the tail
 * it has not seen yet, then appending the marker.
 */
import { DeliverPolicy, type JetStreamClient, type JetStreamManager, StorageType } from "@nats-io/jetstream";
import { appendFenced, ensureStream, readSubject } from "@stratreg/fencing";
import { type ClusterSubjects, ErrorCodes, type RiskLogKind, UnavailableError } from "@stratreg/protocol";
import type { Logger } from "pino";
import { decodeEntry, type RiskEntry } from "../book/records.js";

/** Creates the risk log stream if it is not there yet. */
export async function ensureRiskLog(jsm: JetStreamManager, subjects: ClusterSubjects, replicas: number): Promise<void> {
  await ensureStream(jsm, {
    name: subjects.riskLogStream,
    subjects: [subjects.riskLogAll],
    storage: StorageType.File,
    num_replicas: Math.max(1, replicas),
    allow_direct: true,
  });
}

/** Appends to and reads the risk log. */
export class RiskLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly subjects: ClusterSubjects,
    private readonly logger: Logger,
    private readonly appendTimeoutMs = 5000,
  ) {}

  /** Appends `bytes` under `kind`, provided the log's last entry is still `expectedLastSeq`; returns its sequence. */
  async append(kind: RiskLogKind, bytes: Uint8Array, expectedLastSeq: number): Promise<number> {
    return appendFenced(this.js, "risk log", this.subjects.riskLog(kind), bytes, expectedLastSeq, this.appendTimeoutMs);
  }

  /** The last sequence of the log (0 when empty). */
  async lastSeq(): Promise<number> {
    const info = await this.jsm.streams.info(this.subjects.riskLogStream);
    return info.state.last_seq;
  }

  /** Applies every entry after `afterSeq` up to the last one now, in order; returns the last sequence applied. */
  async catchUp(
    afterSeq: number,
    apply: (entry: RiskEntry, seq: number) => void,
    signal?: AbortSignal,
  ): Promise<number> {
    const target = await this.lastSeq();
    if (target <= afterSeq) return afterSeq;
    const read = await readSubject(
      this.js,
      this.subjects.riskLogStream,
      this.subjects.riskLogAll,
      afterSeq + 1,
      target,
      (data, seq) => this.deliver(data, seq, apply),
      10_000,
      signal,
    );
    if (read.seq < target) {
      throw new UnavailableError(
        ErrorCodes.Unavailable,
        `risk log read ${read.stalled ? "stalled" : "ended"} at ${read.seq}, before ${target}`,
      );
    }
    return read.seq;
  }

  /**
   * Follows the log from after `afterSeq` as it grows, applying each entry,
   * until `signal` aborts. Resolves with the last sequence applied.
   */
  async follow(afterSeq: number, apply: (entry: RiskEntry, seq: number) => void, signal: AbortSignal): Promise<number> {
    let last = afterSeq;
    if (signal.aborted) return last;
    const consumer = await this.js.consumers.get(this.subjects.riskLogStream, {
      filter_subjects: this.subjects.riskLogAll,
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: afterSeq + 1,
    });
    const messages = await consumer.consume({ max_bytes: 4 * 1024 * 1024 });
    // An abort while the consumer was being set up must still end the read (it is looked at only
    // when a message arrives otherwise, and an idle log brings none).
    const abort = () => void messages.close();
    signal.addEventListener("abort", abort);
    if (signal.aborted) abort();
    try {
      for await (const msg of messages) {
        if (signal.aborted) break;
        if (msg.seq <= last) continue;
        this.deliver(msg.data, msg.seq, apply);
        last = msg.seq;
      }
    } finally {
      signal.removeEventListener("abort", abort);
      await messages.close();
    }
    return last;
  }

  private deliver(data: Uint8Array, seq: number, apply: (entry: RiskEntry, seq: number) => void): void {
    const { entry, skipped } = decodeEntry(data);
    if (skipped > 0) this.logger.warn({ seq, skipped }, "skipped risk log records of kinds this guard does not know");
    apply(entry, seq);
  }
}
