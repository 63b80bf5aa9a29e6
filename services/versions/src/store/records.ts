/**
 * The versions stream (`<cluster>-versions`, subjects `<cluster>.ver.<base64url(id)>`):
 * one message per stored version of a strategy, and notes that say what made a
 * version when the log entry cannot (a rollback, a merge, and who asked). The
 * one reader and writer of that format.
 *
 *   version: { v: 1, kind: "version", id, version, at, op, by?, note?, hseq, strategy: bin }
 *   note:    { v: 1, kind: "note", id, version, op, by, note? }
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { StorageType } from "@nats-io/jetstream";
import { nanos } from "@nats-io/transport-node";
import { ensureStream, readSubject } from "@stratreg/fencing";
import {
  decode,
  ErrorCodes,
  encode,
  type Strategy,
  UnavailableError,
  versionSubject,
  versionsStream,
} from "@stratreg/protocol";

const RECORD_FORMAT = 1;

/** One stored version, as the copy wrote it. */
export interface VersionRecord {
  id: string;
  version: number;
  at: number;
  /** The log entry's kind. */
  op: string;
  by?: string | undefined;
  note?: string | undefined;
  /** The history stream sequence it was copied from. */
  historySeq: number;
  /** The stored strategy's msgpack bytes, as the log held them. */
  strategy: Uint8Array;
}

/** What made a version, said by the versions service that made it (the log entry has no `by`). */
export interface VersionNote {
  id: string;
  version: number;
  op: string;
  by: string;
  note?: string;
}

/** Encodes a version message. */
export function encodeVersionRecord(record: VersionRecord): Uint8Array {
  const out: Record<string, unknown> = {
    v: RECORD_FORMAT,
    kind: "version",
    id: record.id,
    version: record.version,
    at: record.at,
    op: record.op,
    hseq: record.historySeq,
  };
  if (record.by !== undefined) out.by = record.by;
  if (record.note !== undefined) out.note = record.note;
  out.strategy = record.strategy;
  return encode(out);
}

/** A strategy's versions as kept: each version once, ascending, with its notes applied. */
export interface KeptVersion {
  version: number;
  at: number;
  op: string;
  by?: string;
  note?: string;
  strategy: Strategy;
}

/** Creates the versions stream if it is not there: file storage, no limits, the cluster's replicas. */
export function ensureVersionsStream(jsm: JetStreamManager, cluster: string, replicas: number) {
  return ensureStream(jsm, {
    name: versionsStream(cluster),
    subjects: [`${cluster}.ver.>`],
    storage: StorageType.File,
    num_replicas: replicas,
    duplicate_window: nanos(2 * 60_000),
  });
}

/** Reads and writes one cluster's versions stream. */
export class VersionsStore {
  private readonly stream: string;

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly cluster: string,
    private readonly idleMs = 5000,
  ) {
    this.stream = versionsStream(cluster);
  }

  /** Every version of `id` kept, ascending (empty when none is). */
  async read(id: string): Promise<KeptVersion[]> {
    const subject = versionSubject(this.cluster, id);
    const last = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject }).catch(() => null);
    if (last === null) return [];
    const versions: KeptVersion[] = [];
    const notes: VersionNote[] = [];
    const read = await readSubject(
      this.js,
      this.stream,
      subject,
      1,
      last.seq,
      (data) => {
        const message = decode(data) as Record<string, unknown>;
        if (message.v !== RECORD_FORMAT) return;
        if (message.kind === "note") notes.push(message as unknown as VersionNote);
        else if (message.kind === "version") {
          const version = message.version as number;
          // A copy started again (or a second process) may have written a version twice after the window.
          if (versions.length > 0 && version <= (versions.at(-1) as KeptVersion).version) return;
          const kept: KeptVersion = {
            version,
            at: message.at as number,
            op: message.op as string,
            strategy: decode(message.strategy as Uint8Array) as Strategy,
          };
          if (typeof message.by === "string") kept.by = message.by;
          if (typeof message.note === "string") kept.note = message.note;
          versions.push(kept);
        }
      },
      this.idleMs,
    );
    if (read.stalled) {
      throw new UnavailableError(ErrorCodes.Unavailable, `reading the versions of ${id} stalled`, { retryable: true });
    }
    for (const note of notes) {
      const kept = versions.find((v) => v.version === note.version);
      if (kept === undefined) continue;
      kept.op = note.op;
      kept.by = note.by;
      if (note.note !== undefined) kept.note = note.note;
    }
    return versions;
  }

  /** Says what made version `note.version` (a rollback, a merge) and who asked. Written once per version. */
  async note(note: VersionNote): Promise<void> {
    const message: Record<string, unknown> = { v: RECORD_FORMAT, kind: "note", ...note };
    await this.js.publish(versionSubject(this.cluster, note.id), encode(message), {
      msgID: `${note.id}@${note.version}/note`,
    });
  }
}
