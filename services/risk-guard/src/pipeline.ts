/**
 * Group commit: the active guard's one ordered pipeline to its log. Records
 * are decided and applied in memory at once (so the next check sees them) and
 * queued; whenever fewer than `appendsInFlight` appends are in flight,
 * everything queued goes out as one entry, and each waiting reply is released
 * when that entry is acknowledged. The guard is the log's only writer, so each
 * append can state the sequence the one before it will get (the fence), and
 * batching hides the round trips: under load an entry carries every record
 * that arrived while the earlier ones were being stored.
 *
 * A failed append ends the pipeline: nothing queued or in flight is answered as
 * done, and the guard, whose memory now holds effects the log may not, steps
 * down and rebuilds from the log.
 */
import { ErrorCodes, type RiskLogKind, RiskLogKinds, UnavailableError } from "@stratreg/protocol";
import { encodeEntry, type RiskRecord } from "./book/records.js";

/** Where entries go: the fenced append. */
export interface Appender {
  append(kind: RiskLogKind, bytes: Uint8Array, expectedLastSeq: number): Promise<number>;
}

interface Waiting {
  kind: RiskLogKind;
  record: RiskRecord;
  done: (seq: number) => void;
  failed: (err: unknown) => void;
}

/** Pipeline limits. */
export interface PipelineLimits {
  /** Most records in one entry. */
  recordsPerEntry: number;
  /** Most records queued and in flight; past it `submit` refuses with OVERLOADED. */
  queueMax: number;
  /** Most appends in flight at once (each expecting the sequence the one before it will get). */
  appendsInFlight: number;
}

export class CommitPipeline {
  private queue: Waiting[] = [];
  /** Records and appends in flight. */
  private inFlight = 0;
  private batchesInFlight = 0;
  private failure: unknown;
  /** Entries appended and records carried, for status and the bench. */
  readonly stats = { entries: 0, records: 0, largest: 0 };

  constructor(
    private readonly appender: Appender,
    private readonly epoch: number,
    /** The sequence the next append must follow. */
    private lastSeq: number,
    private readonly limits: PipelineLimits,
    private readonly onFailure: (err: unknown) => void,
  ) {
    this.sentSeq = lastSeq;
  }

  /** The sequence the last append sent will have once stored. */
  private sentSeq: number;

  /** The log sequence of the last acknowledged entry. */
  get committedSeq(): number {
    return this.lastSeq;
  }

  /** Records queued or in flight. */
  get depth(): number {
    return this.queue.length + this.inFlight;
  }

  /** Whether another record would be refused. */
  get full(): boolean {
    return this.depth >= this.limits.queueMax;
  }

  /**
   * Queues a record already applied in memory; resolves with its entry's
   * sequence once stored. A record of kind `state` (a trading-state change) goes
   * in an entry of its own on its own subject, which a process starting up reads
   * as the subject's last entry; everything else is batched.
   */
  submit(record: RiskRecord, kind: RiskLogKind = RiskLogKinds.Entries): Promise<number> {
    return new Promise<number>((done, failed) => this.enqueue(record, kind, done, failed));
  }

  /**
   * {@link submit} with callbacks instead of a promise: `done` runs synchronously when the entry
   * is acknowledged, for every record of the entry in one go, so their replies leave in one write.
   */
  enqueue(record: RiskRecord, kind: RiskLogKind, done: (seq: number) => void, failed: (err: unknown) => void): void {
    if (this.failure !== undefined) {
      failed(this.failure);
      return;
    }
    this.submitted++;
    this.queue.push({ kind, record, done, failed });
    this.flush();
  }

  /** Resolves once everything submitted so far is stored (or the pipeline failed). */
  barrier(): Promise<void> {
    if (this.settled >= this.submitted || this.failure !== undefined) return Promise.resolve();
    return new Promise((resolve) => this.barriers.push({ target: this.submitted, resolve }));
  }

  /** Records submitted, and stored or failed, since the start (what barriers wait on). */
  private submitted = 0;
  private settled = 0;
  private barriers: Array<{ target: number; resolve: () => void }> = [];

  private settle(n: number): void {
    this.settled += n;
    if (this.barriers.length === 0) return;
    const waiting = this.barriers;
    this.barriers = [];
    for (const b of waiting) {
      if (b.target <= this.settled || this.failure !== undefined) b.resolve();
      else this.barriers.push(b);
    }
  }

  private flush(): void {
    while (this.batchesInFlight < this.limits.appendsInFlight && this.queue.length > 0 && this.failure === undefined) {
      this.send();
    }
  }

  /** Appends the next batch, expecting the sequence the one before it will get. */
  private send(): void {
    const kind = (this.queue[0] as Waiting).kind;
    let n = 1;
    if (kind === RiskLogKinds.Entries) {
      const max = Math.min(this.queue.length, this.limits.recordsPerEntry);
      while (n < max && (this.queue[n] as Waiting).kind === RiskLogKinds.Entries) n++;
    }
    const batch = n === this.queue.length ? this.queue : this.queue.slice(0, n);
    this.queue = batch === this.queue ? [] : this.queue.slice(n);
    this.inFlight += batch.length;
    this.batchesInFlight++;
    // This guard is the log's only writer: an append that succeeds gets the next sequence, so the
    // one after it can already expect that. If one fails, every later one fails its expectation too.
    const expected = this.sentSeq++;
    const records = batch.map((w) => w.record);
    this.appender.append(kind, encodeEntry({ e: this.epoch, r: records }), expected).then(
      (seq) => {
        this.inFlight -= batch.length;
        this.batchesInFlight--;
        if (seq !== expected + 1) {
          this.failBatch(
            batch,
            new UnavailableError(ErrorCodes.Unavailable, `the risk log stored an entry at ${seq}, not ${expected + 1}`),
          );
          return;
        }
        this.lastSeq = seq;
        this.stats.entries++;
        this.stats.records += records.length;
        this.stats.largest = Math.max(this.stats.largest, records.length);
        for (const w of batch) w.done(seq);
        this.settle(batch.length);
        this.flush();
      },
      (err: unknown) => {
        this.inFlight -= batch.length;
        this.batchesInFlight--;
        this.failBatch(batch, err);
      },
    );
  }

  private failBatch(batch: Waiting[], err: unknown): void {
    for (const w of batch) w.failed(this.failure ?? err);
    this.fail(err);
    this.settle(batch.length);
  }

  /** Ends the pipeline: everything queued fails with `err`, later submits too. */
  fail(err: unknown): void {
    if (this.failure !== undefined) return;
    this.failure = err ?? new UnavailableError(ErrorCodes.Unavailable, "the risk log pipeline stopped");
    this.onFailure(this.failure);
    const queued = this.queue;
    this.queue = [];
    for (const w of queued) w.failed(this.failure);
    this.settle(queued.length);
  }
}
