/**
 * The copy: reads the partition logs (the stream `<cluster>-log`, which the
 * shards keep for the retention period after their snapshots cover an entry)
 * and writes each stored version of each strategy once into the versions
 * stream, on the strategy's own subject. A version message's id is
 * `<id>@<version>`, so a copy that starts again from an older position, or a
 * second process copying too, is de-duplicated by the server within its
 * window, and by readers (versions ascend on a subject) after it.
 *
 * Where the copy stands (the last log sequence copied) is saved in KV every
 * `checkpointMs`, so a restart reads on from there instead of from the
 * beginning.
 *
 * Every message of the log stream is a log entry, so the sequences the copy
 * meets are consecutive, unless entries left the log before the copy read
 * them (the copy was further behind than the retention): a gap, counted and
 * logged (the versions in it are not known).
 */
import {
  type ConsumerMessages,
  DeliverPolicy,
  type JetStreamClient,
  type JetStreamManager,
  type JsMsg,
  type PubAck,
} from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import {
  decode,
  encode,
  type LogMove,
  LogOps,
  readLogEntry,
  recordAt,
  type Strategy,
  versionSubject,
} from "@stratreg/protocol";
import { encodeVersionRecord } from "./records.js";

const CURSOR_KEY = "cursor";
/** Log entries in flight from the consumer at once. */
const WINDOW_ENTRIES = 64;
/** Version publishes awaited together. */
const PUBLISH_BATCH = 256;
/** Log entries read again after a cursor saved by the copy that read the former history stream. */
const FORMER_COPY_MARGIN = PUBLISH_BATCH + WINDOW_ENTRIES;

/** Log entry kinds whose records are stored strategies (a new version each). */
const VERSION_OPS: ReadonlySet<string> = new Set([
  LogOps.Register,
  LogOps.RegisterBatch,
  LogOps.Update,
  LogOps.Retire,
  LogOps.Transition,
  LogOps.AttachEvidence,
]);

/**
 * Where the copy stands, as saved. `origin` is the last log sequence copied
 * (0: none yet); `seq` holds the same, where a copy that read a separate
 * history stream kept that stream's sequence. A saved cursor of either kind is
 * read from `origin`, the former kind less a margin (see `start`).
 */
interface Cursor {
  seq: number;
  origin: number;
}

/** What the copy has done, for the status endpoint. */
export interface CopyProgress {
  /** The last log sequence copied. */
  seq: number;
  /** Log entries not yet copied, at the last one received. */
  pending: number;
  /** Versions written to the versions stream by this process (duplicates included). */
  written: number;
  /** Log entries that left a partition log before the copy read them. */
  gaps: number;
}

export interface CopyOptions {
  logStream: string;
  versionsStream: string;
  cluster: string;
  checkpointMs: number;
  warn: (fields: Record<string, unknown>, message: string) => void;
  /** Called after each batch is stored, with the entries still pending. */
  onProgress: (pending: number) => void;
}

/** A lifecycle move as a log line says it: `candidate → backtesting: reason`. */
function moveText(move: LogMove): string {
  return `${move.from} → ${move.to}${move.reason === undefined ? "" : `: ${move.reason}`}`;
}

/** Copies every version from the partition logs into the versions stream, from where it last stood. */
export class VersionCopy {
  readonly progress: CopyProgress = { seq: 0, pending: Number.POSITIVE_INFINITY, written: 0, gaps: 0 };
  private cursor: Cursor = { seq: 0, origin: 0 };
  /** The last log sequence received (copied or not yet stored), for finding gaps. */
  private seen = 0;
  private savedSeq = 0;
  private savedAt = 0;
  private messages: ConsumerMessages | undefined;
  private loop: Promise<void> | undefined;
  private stopped = false;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly state: KV,
    private readonly options: CopyOptions,
  ) {}

  /** Reads the saved position and starts copying from the entry after it. */
  async start(): Promise<void> {
    const saved = await this.state.get(CURSOR_KEY);
    if (saved !== null && saved.operation === "PUT") {
      const { seq, origin } = decode(saved.value) as Cursor;
      // A cursor of the former copy (`seq` a history sequence) could be saved with `origin` past
      // versions whose publish failed: read those entries again (a copy twice is dropped).
      const from = seq === origin ? origin : Math.max(0, origin - FORMER_COPY_MARGIN);
      this.cursor = { seq: from, origin: from };
      this.savedSeq = from;
    }
    this.seen = this.cursor.origin;
    this.progress.seq = this.cursor.seq;
    const info = await this.jsm.streams.info(this.options.logStream);
    if (info.state.messages === 0 || info.state.last_seq <= this.cursor.seq) this.progress.pending = 0;
    const consumer = await this.js.consumers.get(this.options.logStream, {
      deliver_policy: DeliverPolicy.StartSequence,
      opt_start_seq: Math.max(1, this.cursor.seq + 1),
    });
    const messages = await consumer.consume({ max_messages: WINDOW_ENTRIES });
    this.messages = messages;
    this.loop = this.follow(messages);
    if (this.progress.pending === 0) this.options.onProgress(0);
  }

  private async follow(messages: AsyncIterable<JsMsg>): Promise<void> {
    let acks: Array<Promise<PubAck>> = [];
    let last: JsMsg | undefined;
    const flush = async () => {
      if (last === undefined) return;
      await Promise.all(acks);
      acks = [];
      this.cursor = { seq: last.seq, origin: last.seq };
      this.progress.seq = last.seq;
      this.progress.pending = last.info.pending;
      last = undefined;
      await this.checkpoint(false);
      this.options.onProgress(this.progress.pending);
    };
    try {
      for await (const msg of messages) {
        if (this.stopped) break;
        if (msg.seq <= this.cursor.seq) continue;
        this.copy(msg, acks);
        last = msg;
        if (acks.length >= PUBLISH_BATCH || msg.info.pending === 0) await flush();
      }
      await flush();
    } catch (err) {
      if (!this.stopped) this.options.warn({ err }, "copying versions from the partition logs stopped");
    } finally {
      // Not copying any more: what the logs hold beyond its position is unknown.
      this.progress.pending = Number.POSITIVE_INFINITY;
    }
  }

  /** Publishes the versions one log entry holds. */
  private copy(msg: JsMsg, acks: Array<Promise<PubAck>>): void {
    if (this.seen > 0 && msg.seq > this.seen + 1) {
      this.progress.gaps++;
      this.options.warn(
        { from: this.seen + 1, to: msg.seq - 1 },
        "log entries left the partition logs before the copy read them: their versions are not kept",
      );
    }
    this.seen = msg.seq;
    let entry: ReturnType<typeof readLogEntry>;
    try {
      const data = msg.data;
      entry = readLogEntry(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    } catch (err) {
      this.options.warn({ err, logSeq: msg.seq }, "a log entry could not be read; skipped");
      return;
    }
    if (!VERSION_OPS.has(entry.op)) return;
    const move = entry.head.lc;
    entry.ids.forEach((id, i) => {
      const record = recordAt(entry, i);
      const strategy = decode(record) as Strategy;
      if (typeof strategy?.version !== "number") return;
      const bytes = encodeVersionRecord({
        id,
        version: strategy.version,
        at: entry.at,
        op: entry.op,
        by: move?.by,
        note: move !== undefined ? moveText(move) : entry.head.note,
        cid: entry.cid,
        logSeq: msg.seq,
        strategy: record,
      });
      acks.push(
        this.js.publish(versionSubject(this.options.cluster, id), bytes, { msgID: `${id}@${strategy.version}` }),
      );
      this.progress.written++;
    });
  }

  /** Saves where the copy stands (at most every `checkpointMs` unless `force`). */
  private async checkpoint(force: boolean): Promise<void> {
    if (this.cursor.seq === this.savedSeq) return;
    if (!force && performance.now() - this.savedAt < this.options.checkpointMs) return;
    this.savedAt = performance.now();
    try {
      // Two processes copying keep whichever position was saved last: either is safe to start from.
      await this.state.put(CURSOR_KEY, encode(this.cursor));
      this.savedSeq = this.cursor.seq;
    } catch (err) {
      this.options.warn({ err }, "saving the copy's position failed; it will be tried again");
    }
  }

  /** Stops copying and saves the position reached. */
  async stop(): Promise<void> {
    this.stopped = true;
    await this.messages?.close();
    await this.loop;
    await this.checkpoint(true);
  }
}
