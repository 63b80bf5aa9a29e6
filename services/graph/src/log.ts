/**
 * The graph's log: one JetStream stream (`<cluster>-graph`, subject
 * `<cluster>.graphlog`) that only the leader appends to, every append stating
 * the sequence it expects to follow (`expect.lastSequence`). A leader that lost
 * its lease, or was paused while another took over, has its next append
 * refused: two leaders can never both have edges accepted, so the cycle check
 * of the one whose appends succeed saw every edge there is.
 */
import { type JetStreamClient, type JetStreamManager, StorageType } from "@nats-io/jetstream";
import { appendFenced, ensureStream, readSubject } from "@stratreg/fencing";
import {
  type CascadeAction,
  type ClusterSubjects,
  decode,
  ErrorCodes,
  encode,
  type GraphNode,
  UnavailableError,
} from "@stratreg/protocol";

/** One request's edge change: `from → to[i]` added (link) or removed (unlink). */
export interface EdgeChange {
  t: "link" | "unlink";
  from: string;
  to: string[];
  by: string;
  /** The request's command id: a retry of it is answered with this change. */
  cid?: string;
}

/** What the log holds, one record per message. */
export type GraphEntry =
  /** A new leader's first append: it fences every older one. */
  | { t: "epoch"; epoch: number; member: string; at: number }
  /** Edge changes decided together (one append for every request in hand), applied in order. */
  | { t: "edges"; changes: EdgeChange[]; at: number }
  /**
   * A cascade decided: its root's move, then every strategy that depended on it, transitively,
   * at this point of the log, suspended, each exactly once. The targets are not stored: the
   * graph at this record names them, the same for every reader of the log.
   */
  | {
      t: "cascade";
      id: string;
      action: CascadeAction;
      by: string;
      reason: string;
      at: number;
      /** The request's command id: a retry of it is answered with this cascade's outcome. */
      cid?: string;
    }
  /** The cascade logged at `seq` finished; every target not `skipped` was suspended. */
  | { t: "done"; seq: number; skipped: Array<GraphNode & { state: string }>; at: number }
  /** Every link and unlink up to `upTo` is on the shards. */
  | { t: "projected"; upTo: number; at: number };

/** Creates the log stream if it is not there yet. */
export async function ensureGraphLog(
  jsm: JetStreamManager,
  subjects: ClusterSubjects,
  replicas: number,
): Promise<void> {
  await ensureStream(jsm, {
    name: subjects.graphLogStream,
    subjects: [subjects.graphLog],
    storage: StorageType.File,
    num_replicas: Math.max(1, replicas),
    allow_direct: true,
  });
}

export class GraphLog {
  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly subjects: ClusterSubjects,
    private readonly appendTimeoutMs = 5000,
  ) {}

  /** Appends `entry` provided the log's last sequence is still `expectedLastSeq`; returns its sequence. */
  async append(entry: GraphEntry, expectedLastSeq: number): Promise<number> {
    return appendFenced(
      this.js,
      "graph log",
      this.subjects.graphLog,
      encode(entry),
      expectedLastSeq,
      this.appendTimeoutMs,
    );
  }

  /** When the log's stream was created, in base 36 ms: tells one incarnation of the log from another. */
  async incarnation(): Promise<string> {
    const info = await this.jsm.streams.info(this.subjects.graphLogStream);
    return Date.parse(info.created).toString(36);
  }

  /** The log's last sequence (0 when empty). */
  async lastSeq(): Promise<number> {
    const info = await this.jsm.streams.info(this.subjects.graphLogStream);
    return info.state.last_seq;
  }

  /** Reads every entry after `fromSeq` up to the last one now, in order; returns the last sequence read. */
  async readAll(fromSeq: number, onEntry: (entry: GraphEntry, seq: number) => void): Promise<number> {
    const target = await this.lastSeq();
    if (target <= fromSeq) return fromSeq;
    const { seq, stalled } = await readSubject(
      this.js,
      this.subjects.graphLogStream,
      this.subjects.graphLog,
      fromSeq + 1,
      target,
      (data, at) => onEntry(decode(data) as GraphEntry, at),
      10_000,
    );
    if (stalled || seq < target) {
      throw new UnavailableError(ErrorCodes.Unavailable, `reading the graph log stalled at ${seq} of ${target}`, {
        retryable: true,
      });
    }
    return seq;
  }
}
