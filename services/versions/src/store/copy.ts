/**
 * The copy: reads the history stream (`<cluster>-history`, which the server
 * fills from every partition log and keeps for the retention period whatever
 * the logs' compaction does) and writes each stored version of each strategy
 * once into the versions stream, on the strategy's own subject. A version
 * message's id is `<id>@<version>`, so a copy that starts again from an older
 * position, or a second process copying too, is de-duplicated by the server
 * within its window, and by readers (versions ascend on a subject) after it.
 *
 * Where the copy stands (the history sequence, and the last log sequence it
 * saw) is saved in KV every `checkpointMs`, so a restart reads on from there
 * instead of from the beginning.
 *
 * The history sources the whole log stream, in order, and each copy says
 * which log sequence it was (`Nats-Stream-Source`). So the log sequences the
 * copy meets are consecutive, unless entries left the log before the history
 * copied them: a gap, counted and logged (the versions in it are not known).
 * (The writers' `Nats-Expected-Last-Subject-Sequence` would name each entry's
 * predecessor, but nats-server 2.10 drops it from sourced messages. 2.9.10 keeps
 * it, and checks it: the history stops taking entries at one whose predecessor
 * it does not hold; see ADR 016.)
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

const SOURCE_HEADER = "Nats-Stream-Source";
const CURSOR_KEY = "cursor";
/** History entries in flight from the consumer at once. */
const WINDOW_ENTRIES = 64;
/** Version publishes awaited together. */
const PUBLISH_BATCH = 256;

/** Log entry kinds whose records are stored strategies (a new version each). */
const VERSION_OPS: ReadonlySet<string> = new Set([
  LogOps.Register,
  LogOps.RegisterBatch,
  LogOps.Update,
  LogOps.Retire,
  LogOps.Transition,
  LogOps.AttachEvidence,
]);

/** Where the copy stands, as saved. */
interface Cursor {
  /** The last history sequence copied. */
  seq: number;
  /** The last log-stream sequence seen (0: none yet). */
  origin: number;
}

/** What the copy has done, for the status endpoint. */
export interface CopyProgress {
  /** The last history sequence copied. */
  seq: number;
  /** History entries not yet copied, at the last one received. */
  pending: number;
  /** Versions written to the versions stream by this process (duplicates included). */
  written: number;
  /** Log entries that left a partition log before the history copied them. */
  gaps: number;
}

export interface CopyOptions {
  historyStream: string;
  versionsStream: string;
  cluster: string;
  checkpointMs: number;
  warn: (fields: Record<string, unknown>, message: string) => void;
  /** Called after each batch is stored, with the entries still pending. */
  onProgress: (pending: number) => void;
}

function originSeq(msg: JsMsg): number | undefined {
  const source = msg.headers?.get(SOURCE_HEADER);
  if (source === undefined || source === "") return undefined;
  const seq = Number(source.split(" ")[1]);
  return Number.isInteger(seq) ? seq : undefined;
}

/** A lifecycle move as a log line says it: `candidate → backtesting: reason`. */
function moveText(move: LogMove): string {
  return `${move.from} → ${move.to}${move.reason === undefined ? "" : `: ${move.reason}`}`;
}

/** Copies every version from the history stream into the versions stream, from where it last stood. */
export class VersionCopy {
  readonly progress: CopyProgress = { seq: 0, pending: Number.POSITIVE_INFINITY, written: 0, gaps: 0 };
  private cursor: Cursor = { seq: 0, origin: 0 };
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
      this.cursor = decode(saved.value) as Cursor;
      this.savedSeq = this.cursor.seq;
    }
    this.progress.seq = this.cursor.seq;
    const info = await this.jsm.streams.info(this.options.historyStream);
    if (info.state.messages === 0 || info.state.last_seq <= this.cursor.seq) this.progress.pending = 0;
    const consumer = await this.js.consumers.get(this.options.historyStream, {
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
      this.cursor.seq = last.seq;
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
      if (!this.stopped) this.options.warn({ err }, "copying versions from the history stopped");
    } finally {
      // Not copying any more: what the history holds beyond its position is unknown.
      this.progress.pending = Number.POSITIVE_INFINITY;
    }
  }

  /** Publishes the versions one history entry holds. */
  private copy(msg: JsMsg, acks: Array<Promise<PubAck>>): void {
    const origin = originSeq(msg);
    if (origin !== undefined) {
      if (this.cursor.origin > 0 && origin > this.cursor.origin + 1) {
        this.progress.gaps++;
        this.options.warn(
          { from: this.cursor.origin + 1, to: origin - 1, historySeq: msg.seq },
          "log entries left the partition logs before the history copied them: their versions are not kept",
        );
      }
      if (origin > this.cursor.origin) this.cursor.origin = origin;
    }
    let entry: ReturnType<typeof readLogEntry>;
    try {
      const data = msg.data;
      entry = readLogEntry(Buffer.from(data.buffer, data.byteOffset, data.byteLength));
    } catch (err) {
      this.options.warn({ err, historySeq: msg.seq }, "a history entry could not be read; skipped");
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
        historySeq: msg.seq,
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
