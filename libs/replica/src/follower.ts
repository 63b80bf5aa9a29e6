/**
 * A replica of some partitions, kept current from the partition logs: what a
 * client's near-cache and the search service stand on.
 *
 * It loads each partition's latest snapshot, reads each partition's entries
 * after it on that partition's subject alone, then follows the log stream with
 * one ordered consumer from where the stream stood, applying entries in order.
 * (The log keeps what snapshots cover for the history's retention: one
 * consumer from the oldest snapshot would deliver every partition's history,
 * only for the follower to skip it.) The log is the truth, so ownership moves
 * need nothing special: a fenced owner's write never reaches the log, and a new
 * owner's epoch marker is just another entry.
 *
 * **Gaps.** Every append states the sequence it expects before it on its
 * subject (`Nats-Expected-Last-Subject-Sequence`, kept with the message), so
 * each entry names its predecessor. An entry whose predecessor is not the last
 * one applied means entries were compacted away under a replica that lagged
 * behind a snapshot: the partition is loaded again from its latest snapshot
 * (or, for a replica without snapshots, dropped by the target).
 *
 * **Freshness.** Every `probeMs` the follower asks its consumer how much is
 * pending. An answer of "nothing pending" to a question sent at time t, once
 * every message delivered before it is applied, means the replica holds every
 * entry stored before t: so a write acknowledged before t is visible. `lag()`
 * reports the time since the newest such t and the entries pending at the last
 * answer; a reader compares them with its bound.
 */
import {
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
} from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { ChunkedSnapshots, readSubject } from "@stratreg/fencing";
import { type ClusterSubjects, type LogEntryLayout, LogOps, readLogEntry } from "@stratreg/protocol";

/** Log entries the follower keeps in flight. */
const WINDOW_ENTRIES = 32;
/** Snapshots loaded at once when a follower starts. */
const SNAPSHOT_CONCURRENCY = 8;
/** Times a partition is loaded again in a row before the follower gives up on a chain it cannot close. */
const RELOAD_ATTEMPTS = 3;
const EXPECTED_HEADER = "Nats-Expected-Last-Subject-Sequence";
/** A partition's catch-up read that receives nothing for this long ends; the live follow finds what it missed. */
const CATCH_UP_IDLE_MS = 10_000;

/** What a follower feeds: the replica's own state. */
export interface ReplicaTarget {
  /**
   * Replaces everything `partition` held with a snapshot's strategies, or with
   * nothing when `snapshot` is undefined (no snapshot, or a replica that keeps none).
   */
  restore(partition: number, snapshot: LogEntryLayout | undefined): void;
  /** Applies one log entry of `partition` at stream sequence `seq` (entries of unknown kinds included: skip them). */
  apply(partition: number, entry: LogEntryLayout, seq: number): void;
}

/** Options of a {@link LogFollower}. */
export interface FollowerOptions {
  /** Partitions to follow; all of them when omitted. */
  partitions?: readonly number[];
  /** The cluster's partition count. */
  partitionCount: number;
  /**
   * Load each partition's snapshot and every entry after it (a full replica), or
   * follow only entries from now on (a replica that fills itself otherwise). Default true.
   */
  snapshots?: boolean;
  /** How often to ask how much is pending, ms. Default 100. */
  probeMs?: number;
  /** Called once the snapshots are loaded, before following starts (e.g. to say so). */
  onLoaded?: () => Promise<void> | void;
  /** Told each time the replica is known to hold everything stored before `at` (by `performance.now()`). */
  onFresh?: (at: number) => void;
  /** Told about gaps, reloads and failed probes. */
  warn?: (fields: Record<string, unknown>, message: string) => void;
}

/** How far behind the log a replica is. */
export interface ReplicaLag {
  /** Entries the log held for the replica that it had not applied, at the last answer. */
  entries: number;
  /** Ms since the newest moment the replica was known to hold every entry stored before it (Infinity before the first). */
  ms: number;
  /** Stream sequence of the last entry applied. */
  seq: number;
}

/** Keeps a {@link ReplicaTarget} current from the partition logs. */
export class LogFollower {
  private readonly wanted: Uint8Array;
  private readonly applied: Float64Array;
  private readonly reloads: Uint8Array;
  /** Whether `applied` of a partition is known, so that its next entry must follow on from it. */
  private readonly chained: Uint8Array;
  private readonly snapshots: boolean;
  private readonly probeMs: number;
  private readonly subjectPrefix: string;
  private messages: ConsumerMessages | undefined;
  private probeTimer: NodeJS.Timeout | undefined;
  private stopped = false;
  private lastSeq = 0;
  /** The last message received: its consumer and delivery sequence (to match a probe's answer). */
  private lastConsumer = "";
  private lastDelivered = 0;
  private freshAt = Number.NEGATIVE_INFINITY;
  private pending = Number.POSITIVE_INFINITY;
  private readonly freshWaiters: Array<() => void> = [];
  /** A probe answered "nothing pending" while messages it counted were still on their way. */
  private claim: { asked: number; consumer: string; delivered: number } | undefined;
  private probing = false;
  /** Entries the target failed to apply (skipped). */
  failed = 0;
  /** Following ended (stopped, or the consumer failed). */
  ended = false;
  private reader: ChunkedSnapshots | undefined;
  private loop: Promise<void> | undefined;

  constructor(
    private readonly nc: NatsConnection,
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly subjects: ClusterSubjects,
    private readonly target: ReplicaTarget,
    private readonly options: FollowerOptions,
  ) {
    const count = options.partitionCount;
    this.wanted = new Uint8Array(count);
    for (const p of options.partitions ?? Array.from({ length: count }, (_, i) => i)) this.wanted[p] = 1;
    this.applied = new Float64Array(count);
    this.reloads = new Uint8Array(count);
    this.chained = new Uint8Array(count).fill(1);
    this.snapshots = options.snapshots ?? true;
    this.probeMs = options.probeMs ?? 100;
    this.subjectPrefix = subjects.log(0).slice(0, -1);
  }

  /** The partitions followed, in order. */
  get partitions(): number[] {
    const out: number[] = [];
    this.wanted.forEach((w, p) => {
      if (w === 1) out.push(p);
    });
    return out;
  }

  /** Loads the snapshots (unless told not to) and starts following; resolves once the replica is first fresh. */
  async start(): Promise<void> {
    let from: number;
    if (this.snapshots) {
      this.reader = await ChunkedSnapshots.openReader(this.js, this.subjects.snapshotBucket);
      const partitions = this.partitions;
      for (let i = 0; i < partitions.length; i += SNAPSHOT_CONCURRENCY) {
        await Promise.all(partitions.slice(i, i + SNAPSHOT_CONCURRENCY).map((p) => this.load(p)));
      }
      const head = (await this.jsm.streams.info(this.subjects.logStream)).state.last_seq;
      for (let i = 0; i < partitions.length; i += SNAPSHOT_CONCURRENCY) {
        await Promise.all(partitions.slice(i, i + SNAPSHOT_CONCURRENCY).map((p) => this.catchUp(p)));
      }
      from = head + 1;
    } else {
      const info = await this.jsm.streams.info(this.subjects.logStream);
      // Where each partition stands is learnt from its first entry (its predecessor is not missing: nothing was held).
      from = info.state.last_seq + 1;
      this.chained.fill(0);
    }
    await this.options.onLoaded?.();
    this.lastSeq = from - 1;
    const consumer = await this.js.consumers.get(this.subjects.logStream, {
      filter_subjects: this.filter(),
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: from,
    });
    // A count, not bytes: with max_bytes, a pull whose next entry (a batch of ~400 KB) does not fit what
    // is left of it stalled until the ordered consumer reset itself (45 s here). Entries are at most
    // max_payload (1 MB), so 32 in flight bound memory all the same.
    this.messages = await consumer.consume({ max_messages: WINDOW_ENTRIES });
    const fresh = new Promise<void>((resolve) => this.freshWaiters.push(resolve));
    this.loop = this.follow(this.messages);
    this.probeTimer = setInterval(() => void this.probe(consumer), this.probeMs);
    void this.probe(consumer);
    await fresh;
    if (this.ended && !this.stopped)
      throw new Error("following the partition logs ended before the replica was current");
  }

  /** How far behind the log the replica is now. */
  lag(): ReplicaLag {
    return { entries: this.pending, ms: performance.now() - this.freshAt, seq: this.lastSeq };
  }

  /** When (by `performance.now()`) the replica was last known to hold every entry stored before that moment. */
  get freshSince(): number {
    return this.freshAt;
  }

  /** The log sequence `partition` has been applied up to. */
  appliedSeq(partition: number): number {
    return this.applied[partition] ?? 0;
  }

  /** Stops following. */
  async stop(): Promise<void> {
    this.stopped = true;
    clearInterval(this.probeTimer);
    await this.messages?.close();
    await this.loop;
    for (const waiter of this.freshWaiters.splice(0)) waiter();
  }

  private filter(): string | string[] {
    const partitions = this.partitions;
    if (partitions.length === this.options.partitionCount) return this.subjects.logAll;
    if (partitions.length === 1) return this.subjects.log(partitions[0] as number);
    // Several filter subjects on one consumer need nats-server 2.10; before it, follow all and skip.
    const [major = 0, minor = 0] = (this.nc.info?.version ?? "0.0.0").split(".").map(Number);
    if (major > 2 || (major === 2 && minor >= 10)) return partitions.map((p) => this.subjects.log(p));
    return this.subjects.logAll;
  }

  private async load(partition: number): Promise<void> {
    const latest = await (this.reader as ChunkedSnapshots).latest(`p${partition}`);
    if (latest === undefined) {
      this.target.restore(partition, undefined);
      this.applied[partition] = 0;
      return;
    }
    const entry = readLogEntry(latest.bytes);
    if (entry.op !== LogOps.Snapshot) throw new Error(`partition ${partition}: snapshot has kind ${entry.op}`);
    this.target.restore(partition, entry);
    this.applied[partition] = typeof entry.head.seq === "number" ? entry.head.seq : 0;
  }

  /** Applies `partition`'s entries after the ones applied, up to its last, read on its subject alone. */
  private async catchUp(partition: number): Promise<void> {
    const subject = this.subjects.log(partition);
    const last = await this.jsm.streams.getMessage(this.subjects.logStream, { last_by_subj: subject });
    const applied = this.applied[partition] as number;
    if (last === null || last.seq <= applied) return;
    const read = await readSubject(
      this.js,
      this.subjects.logStream,
      subject,
      applied + 1,
      last.seq,
      (data, seq, _at, msg) => this.take(partition, seq, msg.headers?.get(EXPECTED_HEADER), data),
      CATCH_UP_IDLE_MS,
    );
    if (read.seq < last.seq) {
      this.options.warn?.(
        { partition, read: read.seq, last: last.seq },
        "reading a partition's entries after its snapshot stalled; following the log goes on from there",
      );
    }
  }

  private async follow(messages: ConsumerMessages): Promise<void> {
    try {
      for await (const msg of messages) {
        if (this.stopped) break;
        await this.receive(msg);
      }
    } catch (err) {
      if (!this.stopped) this.options.warn?.({ err }, "following the partition logs failed");
    } finally {
      // Following has ended: it will never be fresh again, and a start still waiting must not hang.
      clearInterval(this.probeTimer);
      this.freshAt = Number.NEGATIVE_INFINITY;
      this.ended = true;
      for (const waiter of this.freshWaiters.splice(0)) waiter();
    }
  }

  /** Applies one entry of `partition` (a replay of one already applied is skipped), loading the partition again first if entries before it are missing. */
  private async take(partition: number, seq: number, expected: string | undefined, data: Uint8Array): Promise<void> {
    if (seq <= (this.applied[partition] as number)) return;
    const before = expected === undefined || expected === "" ? undefined : Number(expected);
    if (this.chained[partition] === 0) this.chained[partition] = 1;
    else if (before !== undefined && before !== this.applied[partition]) await this.reload(partition, before, seq);
    if (seq <= (this.applied[partition] as number)) return;
    try {
      this.target.apply(partition, readLogEntry(Buffer.from(data.buffer, data.byteOffset, data.byteLength)), seq);
    } catch (err) {
      // One entry the target cannot take must not stop every partition: skip it, loudly.
      this.failed++;
      this.options.warn?.({ err, partition, seq }, "a log entry could not be applied; skipped");
    }
    this.applied[partition] = seq;
    this.reloads[partition] = 0;
  }

  private async receive(msg: JsMsg): Promise<void> {
    const seq = msg.seq;
    const partition = Number(msg.subject.slice(this.subjectPrefix.length));
    if (this.wanted[partition] === 1) await this.take(partition, seq, msg.headers?.get(EXPECTED_HEADER), msg.data);
    this.lastSeq = seq;
    // Counted as received only now, once applied (a reload above may have taken a while): a probe
    // answered meanwhile must not call the replica fresh.
    this.lastConsumer = msg.info.consumer;
    this.lastDelivered = msg.info.deliverySequence;
    const claim = this.claim;
    if (claim !== undefined && claim.consumer === this.lastConsumer && this.lastDelivered >= claim.delivered) {
      this.claim = undefined;
      this.fresh(claim.asked);
    }
  }

  private fresh(asked: number): void {
    if (this.ended) return;
    if (asked > this.freshAt) {
      this.freshAt = asked;
      this.options.onFresh?.(asked);
    }
    this.pending = 0;
    for (const waiter of this.freshWaiters.splice(0)) waiter();
  }

  /** Entries before `seq` are missing for `partition` (compacted under us): load it again. */
  private async reload(partition: number, before: number, seq: number): Promise<void> {
    this.options.warn?.(
      { partition, applied: this.applied[partition], before, seq },
      "entries of a partition were compacted before the replica read them: loading it again",
    );
    if (!this.snapshots) {
      this.target.restore(partition, undefined);
      this.applied[partition] = before;
      return;
    }
    for (;;) {
      try {
        await this.load(partition);
        if ((this.applied[partition] as number) >= before) return;
      } catch (err) {
        this.options.warn?.({ err, partition }, "loading a partition's snapshot failed");
      }
      const attempts = (this.reloads[partition] as number) + 1;
      this.reloads[partition] = attempts;
      if (attempts >= RELOAD_ATTEMPTS || this.stopped) {
        // No snapshot covers the gap: apply on from here rather than stall every partition.
        this.options.warn?.({ partition, before }, "no snapshot covers the missing entries");
        this.applied[partition] = Math.max(this.applied[partition] as number, before);
        return;
      }
      await new Promise((resolve) => setTimeout(resolve, 50 * attempts));
    }
  }

  private async probe(consumer: { info(cached?: boolean): Promise<import("@nats-io/jetstream").ConsumerInfo> }) {
    if (this.stopped || this.probing) return;
    this.probing = true;
    const asked = performance.now();
    try {
      const info = await consumer.info(false);
      if (info.num_pending !== 0) {
        this.pending = info.num_pending;
        return;
      }
      // Every message this consumer delivered before answering must have been applied first.
      const delivered = info.delivered.consumer_seq;
      const received = info.name === this.lastConsumer ? this.lastDelivered : 0;
      if (received >= delivered) this.fresh(asked);
      else {
        this.pending = delivered - received;
        this.claim = { asked, consumer: info.name, delivered };
      }
    } catch (err) {
      if (!this.stopped) this.options.warn?.({ err }, "asking the log consumer what is pending failed");
    } finally {
      this.probing = false;
    }
  }
}
