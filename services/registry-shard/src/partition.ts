/**
 * One partition owned by this shard: its in-memory state, rebuilt from its
 * latest snapshot and the log after it, and the bounded serial queue its
 * writes go through (a write reads state, appends one fenced log entry, then
 * applies it; two writes never interleave).
 *
 * It answers only while its lease is fresh, and stops for good (`lost`) when it
 * learns that another owner has taken the partition: a fenced append, a higher
 * epoch in the log, or the lease watch.
 */
import { performance } from "node:perf_hooks";
import type { Lease } from "@stratreg/fencing";
import {
  decode,
  ErrorCodes,
  encodeEntry,
  encodeLogEntry,
  type HistoryReply,
  isKnownLogOp,
  type LifecycleEventMessage,
  LOG_FORMAT_VERSION,
  type LogEntryLayout,
  LogOps,
  readLogEntry,
  recordAt,
  UnavailableError,
  ValidationError,
} from "@stratreg/protocol";
import { type LoggedReport, PerformanceBook } from "@stratreg/replica";
import type { Logger } from "pino";
import { CommandWindow, loadSegments, storeSegments } from "./commands.js";
import { EVENT_DUPLICATE_WINDOW_MS, eventsOf, REPUBLISH_MAX } from "./lifecycle/events.js";
import type { LifecycleServices } from "./lifecycle/gates.js";
import { PartitionRankings } from "./performance/rankings.js";
import { FencedError, type PartitionLog } from "./store/log.js";
import { PartitionStore } from "./store/partition-store.js";
import type { SnapshotStore } from "./store/snapshots.js";

/** Entries with at least this many strategies are kept whole as arena slabs; smaller ones are copied. */
const ADOPT_MIN_RECORDS = 16;
/** How often a new owner re-reads the log when its epoch marker is fenced by a late write of the old owner. */
const CLAIM_ATTEMPTS = 5;
/** How often an owner forgets expired command ids between snapshots. */
const PRUNE_EVERY_MS = 1000;
/** Recent command ids past this many are sealed into a segment between snapshots too. */
const SEAL_COMMANDS_AT = 4096;

/** `bytes` as a Buffer that owns its whole memory (copied only if it is a view of something larger). */
function owned(bytes: Buffer): Buffer {
  if (bytes.byteOffset === 0 && bytes.byteLength === bytes.buffer.byteLength) return bytes;
  const copy = Buffer.allocUnsafeSlow(bytes.length);
  bytes.copy(copy);
  return copy;
}

/** Tunables of every partition of a shard. */
export interface PartitionSettings {
  /** Most writes waiting in one partition's queue; past it, OVERLOADED. */
  queueMax: number;
  /** How long a command id is recognised as a retry, ms. */
  commandWindowMs: number;
  /** How far a command's `issued` time may be ahead of this shard's clock, ms. */
  maxClockSkewMs: number;
  /** The least log (bytes) after which a snapshot may be taken (docs/adr/020 says when one is). */
  snapshotMinBytes: number;
  /** How many strategies each published top-k list holds. */
  topkDepth: number;
  /**
   * How long after it was written the log keeps an entry a snapshot covers, ms: the log is the
   * history (performance history and the versions copy read it). 0 keeps only what recovery and
   * retried commands need (tests).
   */
  retentionMs: number;
}

/** What a partition needs from the shard around it. */
export interface PartitionContext {
  readonly log: PartitionLog;
  readonly snapshots: SnapshotStore;
  readonly member: string;
  readonly partitions: number;
  /** Largest log entry the server accepts, bytes. */
  readonly maxEntryBytes: number;
  /** Largest reply body the server delivers, bytes. */
  readonly maxReplyBytes: number;
  readonly settings: PartitionSettings;
  readonly logger: Logger;
  /** The lifecycle's stores, event publisher and trading state (absent: lifecycle operations are refused). */
  readonly lifecycle?: LifecycleServices;
  /** Reads a strategy's history (its partition's reports, which the log keeps for the retention). */
  readonly history: (query: {
    partition: number;
    id: string;
    from: number;
    to: number;
    maxPoints: number;
  }) => Promise<HistoryReply>;
}

/** The caller's deadline passed while its write waited: nobody is listening, so nothing is answered. */
export class DroppedError extends Error {
  override name = "DroppedError";
}

/** The log holds a newer epoch than our lease: another shard took the partition after us. */
export class NewerOwnerError extends UnavailableError {
  override name = "NewerOwnerError";
  constructor(partition: number, epoch: number) {
    super(ErrorCodes.NotOwner, `partition ${partition} has a newer owner (epoch ${epoch})`);
  }
}

/** The partition is no longer ours: the request is left to the new owner, unanswered. */
export class NotOursError extends Error {
  override name = "NotOursError";
}

export class Partition {
  readonly store = new PartitionStore();
  /** Performance of the strategies that have reported, rebuilt from the log like the store. */
  readonly performance = new PerformanceBook((id) => this.store.get(id));
  readonly rankings: PartitionRankings;
  /** Stream sequence of the last log entry applied. */
  lastSeq = 0;
  /** Log sequence the latest snapshot covers. */
  snapshotSeq = 0;
  /** Our epoch once the partition is claimed; the highest epoch seen in the log before that. */
  epoch = 0;
  /** Set once another owner took over: nothing more is answered or written. */
  lost = false;
  /** Writes waiting or running. */
  queued = 0;
  private queue: Promise<unknown> = Promise.resolve();
  private readonly commands: CommandWindow;
  private stale = false;
  private bytesSinceSnapshot = 0;
  /** Size of the snapshot the state was loaded from or last saved (0: none). */
  private snapshotBytes = 0;
  private prunedAt = 0;
  private snapshotting = false;
  /** Called once when the partition learns it was taken over. */
  onLost: (reason: string) => void = () => undefined;
  /** Called, once claimed, with strategies whose maturity phase is due for a look after their reports. */
  onMaturityDue: (ids: Set<string>) => void = () => undefined;

  /** The lease this partition is claimed under; undefined while it is only warming. */
  private held: Lease | undefined;
  /** The snapshot is read and the log replayed up to some point: a claim only reads what came after. */
  private warmed = false;
  /** Sequence of the snapshot this state was loaded from (0: none). */
  private loadedFrom = 0;
  /** Claimed: entries applied from now on are ours and their lifecycle events published at once. */
  private claimed = false;
  /** Recent entries read before the claim: their events are published again once claimed (see lifecycle/events.ts). */
  private unpublished: LifecycleEventMessage[] = [];

  constructor(
    readonly id: number,
    readonly context: PartitionContext,
    lease?: Lease,
  ) {
    this.held = lease;
    const { commandWindowMs, maxClockSkewMs } = context.settings;
    this.commands = new CommandWindow(commandWindowMs + maxClockSkewMs);
    this.rankings = new PartitionRankings(id, this.performance, context.settings.topkDepth);
  }

  /** The lease the partition is claimed under (only a claimed partition serves). */
  get lease(): Lease {
    if (this.held === undefined) throw new Error(`partition ${this.id} is not claimed`);
    return this.held;
  }

  /** Whether requests may be answered now: ours, and the lease fresh. */
  answering(): boolean {
    return !this.lost && this.held?.fresh() === true;
  }

  /**
   * Reads the latest snapshot and replays the log after it, without a lease: a
   * shard warms the partitions it is about to take while their owner still
   * serves them, so that taking one only needs the entries written since.
   */
  async warm(signal?: AbortSignal): Promise<void> {
    if (this.warmed) return;
    const snapshot = await this.context.snapshots.latest(this.id);
    if (snapshot !== undefined) {
      this.restore(snapshot.bytes);
      this.loadedFrom = snapshot.pointer.seq;
    }
    await this.replay(signal);
    this.warmed = true;
  }

  /** Loads (or finishes warming) the partition and appends our epoch marker under the lease it was made with. */
  load(signal?: AbortSignal): Promise<void> {
    return this.claim(this.lease, signal);
  }

  /** Takes the partition under `lease`: reads the log up to its head, then appends the epoch marker that fences every earlier owner. */
  async claim(lease: Lease, signal?: AbortSignal): Promise<void> {
    this.held = lease;
    await this.warm(signal);
    for (let attempt = 1; ; attempt++) {
      await this.replay(signal);
      // A snapshot taken twice while we read may have let the log drop entries we had not read yet.
      const pointer = await this.context.snapshots.pointer(this.id);
      if (pointer !== undefined && pointer.pointer.prev > this.loadedFrom) {
        throw new UnavailableError(ErrorCodes.Unavailable, `partition ${this.id} was compacted while it loaded`);
      }
      if (this.epoch > lease.epoch) throw new NewerOwnerError(this.id, this.epoch);
      // Our own marker, appended by an attempt whose acknowledgement was lost: the claim is done.
      if (this.epoch === lease.epoch) {
        this.claimed = true;
        this.publishUnpublished();
        return;
      }
      const marker = encodeLogEntry(
        { v: LOG_FORMAT_VERSION, op: LogOps.Epoch, at: Date.now(), member: this.context.member, epoch: lease.epoch },
        [],
        [],
      );
      try {
        const { seq } = await this.context.log.append(this.id, marker.bytes, this.lastSeq);
        this.apply(marker, seq);
        this.claimed = true;
        this.publishUnpublished();
        return;
      } catch (err) {
        // The previous owner's last write landed after we read the log: read it too, then claim again.
        if (!(err instanceof FencedError) || attempt >= CLAIM_ATTEMPTS) throw err;
      }
    }
  }

  private restore(bytes: Buffer): void {
    const entry = readLogEntry(bytes);
    if (entry.op !== LogOps.Snapshot) throw new Error(`partition ${this.id}: snapshot has kind ${entry.op}`);
    this.store.adopt(owned(bytes), entry.ids, entry.records);
    this.snapshotBytes = bytes.length;
    const { seq, cmds, perf } = entry.head;
    if (perf instanceof Uint8Array) this.performance.restore(perf);
    this.lastSeq = typeof seq === "number" ? seq : 0;
    this.snapshotSeq = this.lastSeq;
    this.epoch = entry.epoch;
    this.commands.restore(loadSegments(cmds));
  }

  private async replay(signal?: AbortSignal): Promise<void> {
    this.lastSeq = await this.context.log.replay(this.id, this.lastSeq, (entry, seq) => this.apply(entry, seq), signal);
  }

  /** Applies one log entry: reports to the performance book; otherwise an upsert of each record it carries. */
  apply(entry: LogEntryLayout, seq: number): void {
    const { bytes, ids, records } = entry;
    if (!isKnownLogOp(entry.op)) {
      this.context.logger.warn({ partition: this.id, seq, op: entry.op }, "skipping a log entry of an unknown kind");
    } else if (entry.op === LogOps.Report) {
      const reports = (entry.values as LoggedReport[] | undefined) ?? records.map((_, i) => decode(recordAt(entry, i)));
      this.performance.applyReports(ids, reports as LoggedReport[]);
      // Phases a replay passes were settled by the moves logged then; only an owner makes new ones.
      const due = this.performance.takeMaturityDue();
      if (this.claimed && due.size > 0) this.onMaturityDue(due);
    } else {
      if (records.length >= ADOPT_MIN_RECORDS) this.store.adopt(owned(bytes), ids, records);
      else
        records.forEach((_, i) => {
          this.store.put(ids[i] as string, recordAt(entry, i));
        });
      for (const id of ids) this.performance.touch(id);
    }
    this.publishEvents(entry, seq);
    if (entry.epoch > this.epoch) this.epoch = entry.epoch;
    this.lastSeq = seq;
    this.bytesSinceSnapshot += bytes.length;
    if (entry.cid !== undefined) this.commands.remember(entry.cid, seq, entry.at);
    this.tendCommands();
  }

  /** Command ids remembered as strings, not yet sealed into hashes. */
  get recentCommands(): number {
    return this.commands.recentSize;
  }

  /**
   * Between snapshots, forgets expired command ids once a second and seals the
   * recent ones into 16-byte hashes once there are many, as a snapshot does:
   * hours of commands kept as strings would not fit in memory.
   */
  private tendCommands(): void {
    const now = Date.now();
    if (now - this.prunedAt < PRUNE_EVERY_MS) return;
    this.prunedAt = now;
    this.commands.prune(now);
    if (this.commands.recentSize >= SEAL_COMMANDS_AT) this.commands.seal();
  }

  /**
   * Publishes an entry's lifecycle events once the partition is ours; before
   * that, keeps the recent ones (a previous owner may have died before it
   * published them; the stream drops the copies of those it did publish).
   */
  private publishEvents(entry: LogEntryLayout, seq: number): void {
    const events = this.context.lifecycle?.events;
    if (events === undefined || entry.op === LogOps.Report || entry.op === LogOps.Epoch) return;
    if (this.claimed) {
      events.publish(eventsOf(this.id, seq, this.withHead(entry)));
      return;
    }
    // Well inside the duplicate window, so that a copy the stream already holds is still recognised.
    if (entry.at < Date.now() - EVENT_DUPLICATE_WINDOW_MS / 2) return;
    // The events, not the entry: an entry may be a whole batch's bytes.
    this.unpublished.push(...eventsOf(this.id, seq, this.withHead(entry)));
    if (this.unpublished.length > REPUBLISH_MAX) this.unpublished.splice(0, this.unpublished.length - REPUBLISH_MAX);
  }

  /** The entry with its head (a replayed entry's is read from its bytes only when an event needs it). */
  private withHead(entry: LogEntryLayout): LogEntryLayout {
    if (entry.head !== undefined) return entry;
    return readLogEntry(entry.bytes);
  }

  private publishUnpublished(): void {
    const events = this.context.lifecycle?.events;
    const pending = this.unpublished;
    this.unpublished = [];
    events?.publish(pending);
  }

  /**
   * Log sequences that may hold the entry written for command `cid`: exact for
   * recent commands, candidates to check against each entry's cid for older ones.
   */
  commandSeqs(cid: string | undefined): number[] {
    return cid === undefined ? [] : this.commands.seqsOf(cid);
  }

  /**
   * Runs `command` after every write queued before it, unless the queue is full
   * (OVERLOADED at once) or the caller's deadline (monotonic ms) has passed by
   * the time its turn comes (dropped, unanswered). If an earlier append failed
   * without a definite answer, the partition first catches up with its log.
   */
  write<T>(command: () => Promise<T>, deadline = Number.POSITIVE_INFINITY): Promise<T> {
    const { queueMax } = this.context.settings;
    if (this.queued >= queueMax) {
      return Promise.reject(
        new UnavailableError(ErrorCodes.Overloaded, `partition ${this.id} has ${this.queued} writes waiting`, {
          details: { queued: this.queued, retryAfterMs: Math.min(1000, 10 + this.queued * 2) },
        }),
      );
    }
    this.queued++;
    const run = async (): Promise<T> => {
      try {
        if (this.lost) throw new NotOursError();
        if (performance.now() > deadline) throw new DroppedError();
        if (this.stale) await this.catchUp();
        if (!this.answering()) throw new NotOursError();
        return await command();
      } finally {
        this.queued--;
      }
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
        // The entry was written before: read the log before the next write.
        this.stale = true;
      } else {
        this.apply(entry, appended.seq);
        this.maybeSnapshot();
      }
      return appended;
    } catch (err) {
      if (err instanceof FencedError) {
        // Only another owner appends to our partition: it has taken over.
        this.stepDown("fenced: another owner appended to the log");
        throw new NotOursError();
      }
      // We do not know whether our entry landed: read the log before the next write.
      // A refusal before sending changes nothing.
      if (!(err instanceof ValidationError)) this.stale = true;
      throw err;
    }
  }

  /** Stops answering for good; the ownership actor is told. */
  stepDown(reason: string): void {
    if (this.lost) return;
    this.lost = true;
    this.context.logger.warn(
      { partition: this.id, epoch: this.held?.epoch, reason },
      "partition taken over; stepping down",
    );
    this.onLost(reason);
  }

  private async catchUp(): Promise<void> {
    try {
      await this.replay();
    } catch (err) {
      throw new UnavailableError(ErrorCodes.Unavailable, `partition ${this.id} could not read its log`, { cause: err });
    }
    this.stale = false;
    if (this.epoch > this.lease.epoch) {
      this.stepDown(`epoch ${this.epoch} in the log`);
      throw new NotOursError();
    }
  }

  /** Bytes of log entries applied since the last snapshot: what the next owner would replay. */
  get unsnapshottedBytes(): number {
    return this.bytesSinceSnapshot;
  }

  /**
   * Takes a snapshot in the background once at least half of what a new owner
   * would read (the last snapshot and the log since) no longer describes the
   * state: replacing it then at least halves a recovery. A partition that only
   * grows is not rewritten, since its log is no longer than its state; one that
   * is updated snapshots each time its log has grown by about its state's size.
   */
  private maybeSnapshot(): void {
    if (this.snapshotting || this.bytesSinceSnapshot < this.context.settings.snapshotMinBytes) return;
    const state = Math.max(this.store.liveBytes, this.snapshotBytes);
    if (this.snapshotBytes + this.bytesSinceSnapshot < 2 * state) return;
    void this.snapshot().catch((err: unknown) => {
      this.context.logger.warn({ partition: this.id, err }, "snapshot failed; the log keeps everything");
    });
  }

  /**
   * Writes a snapshot of the state as it is now, then drops the log entries it
   * covers, except those a retried command may still need.
   */
  async snapshot(): Promise<void> {
    if (this.snapshotting || this.lost) return;
    this.snapshotting = true;
    try {
      const seq = this.lastSeq;
      const strategies = this.store.size;
      const bytes = encodeEntry(
        {
          v: LOG_FORMAT_VERSION,
          op: LogOps.Snapshot,
          at: Date.now(),
          member: this.context.member,
          epoch: this.lease.epoch,
          seq,
          cmds: storeSegments(this.commands.seal()),
          perf: this.performance.save(),
        },
        this.store.entryItems(),
      ).bytes;
      this.bytesSinceSnapshot = 0;
      this.snapshotBytes = bytes.length;
      const saved = await this.context.snapshots.save(
        this.id,
        { seq, strategies, epoch: this.lease.epoch, at: Date.now() },
        bytes,
      );
      if (saved === undefined) return;
      this.snapshotSeq = Math.max(this.snapshotSeq, seq);
      // Drop only what the previous snapshot covers (a shard loading from it still finds the rest),
      // never the log's head (the fence needs it), nor an entry a retry may ask for, nor one
      // younger than the retention (the history and the versions copy read the log).
      this.commands.prune();
      const covered = Math.min(saved.prev, seq, this.commands.oldestSeq() ?? seq);
      if (!this.answering() || covered <= 1) return;
      try {
        const { retentionMs } = this.context.settings;
        const keepFrom =
          retentionMs === 0 ? covered : await this.context.log.firstSince(this.id, Date.now() - retentionMs, covered);
        if (this.answering()) await this.context.log.compact(this.id, keepFrom);
      } catch (err) {
        this.context.logger.warn(
          { err, partition: this.id, snapshotSeq: seq },
          "the snapshot stands, but letting the log go behind it failed; the log keeps more until the next",
        );
      }
    } finally {
      this.snapshotting = false;
    }
  }
}

/** Whether `err` means the request should go unanswered (the caller gave up, or the partition moved). */
export function isUnanswered(err: unknown): boolean {
  return err instanceof DroppedError || err instanceof NotOursError;
}
