/**
 * Snapshots of the whole risk book (libs/fencing's chunked snapshots, KV `C-risk-snapshots`, under
 * the name `book`). The log stays whole (it is the decision ledger): a snapshot only shortens what
 * a guard starting up reads.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import { ChunkedSnapshots } from "@stratreg/fencing";
import { type ClusterSubjects, decode, encode } from "@stratreg/protocol";
import type { Logger } from "pino";
import { type BookState, type Retention, RiskBook } from "../book/book.js";

/** The name of the book's snapshots in their bucket. */
const SNAPSHOT_NAME = "book";

/** What a snapshot's pointer says besides where it is. */
interface SnapshotMeta {
  /** Records applied to the book when it was taken. */
  records: number;
}

/** Records applied to `book` so far, of every kind. */
export function appliedRecords(book: RiskBook): number {
  let n = 0;
  for (const count of Object.values(book.applied)) n += count ?? 0;
  return n;
}

export class BookSnapshots {
  private constructor(
    private readonly chunks: ChunkedSnapshots<SnapshotMeta>,
    private readonly logger: Logger,
  ) {}

  /** Opens (creating if needed) the snapshot bucket. */
  static async open(js: JetStreamClient, subjects: ClusterSubjects, replicas: number, logger: Logger) {
    return new BookSnapshots(
      await ChunkedSnapshots.open<SnapshotMeta>(js, subjects.riskSnapshotBucket, replicas),
      logger,
    );
  }

  /** The latest snapshot's book and the log sequence it covers; undefined when there is none or it cannot be read. */
  async latest(retention: Retention): Promise<{ book: RiskBook; seq: number } | undefined> {
    const snapshot = await this.chunks.latest(SNAPSHOT_NAME).catch((err: unknown) => {
      this.logger.warn({ err }, "the book's snapshot could not be read; replaying the whole log");
      return undefined;
    });
    if (snapshot === undefined) return undefined;
    return { book: RiskBook.fromState(decode(snapshot.bytes) as BookState, retention), seq: snapshot.pointer.seq };
  }

  /** Stores `book` as the state after log sequence `seq`; false (and logged) when it could not. */
  async save(book: RiskBook, seq: number): Promise<boolean> {
    const records = appliedRecords(book);
    const bytes = encode(book.toState());
    try {
      await this.chunks.save(SNAPSHOT_NAME, { seq, epoch: book.epoch, at: Date.now(), records }, bytes);
      this.logger.info({ seq, records, bytes: bytes.length }, "risk book snapshot stored");
      return true;
    } catch (err) {
      this.logger.warn({ err }, "risk book snapshot failed; the log still holds everything");
      return false;
    }
  }
}
