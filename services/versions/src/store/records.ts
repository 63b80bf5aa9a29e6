/**
 * The versions stream (`<cluster>-versions`, subjects `<cluster>.ver.<base64url(id)>`):
 * one message per stored version of a strategy, and notes that say what made a
 * version when the log entry cannot (a rollback, a merge, and who asked). The
 * one reader and writer of that format.
 *
 *   version: { v: 1, kind: "version", id, version, at, op, by?, note?, cid?, hseq, strategy: bin }
 *   note:    { v: 1, kind: "note", id, version, op, by, note?, changed? }
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
  /** The command id of the write that made it. */
  cid?: string | undefined;
  /** The log sequence it was copied from (written as `hseq`: a history sequence in records copied before the log was the history). */
  logSeq: number;
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
  /** The fields the rollback or merge changed, so that a retry answers the same without the version before. */
  changed?: string[];
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
    hseq: record.logSeq,
  };
  if (record.by !== undefined) out.by = record.by;
  if (record.note !== undefined) out.note = record.note;
  if (record.cid !== undefined) out.cid = record.cid;
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
  /** The command id of the write that made it. */
  cid?: string;
  /** The fields a rollback or merge changed, as its note says. */
  changed?: string[];
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

/** The versions of one strategy read so far, up to stream sequence `seq`. */
interface CachedVersions {
  seq: number;
  versions: KeptVersion[];
  notes: VersionNote[];
}

/** Reads and writes one cluster's versions stream. */
export class VersionsStore {
  private readonly stream: string;
  /** Strategies whose versions were read lately, least recently read first. */
  private readonly cache = new Map<string, CachedVersions>();

  constructor(
    private readonly js: JetStreamClient,
    private readonly jsm: JetStreamManager,
    private readonly cluster: string,
    /** Strategies whose versions stay cached (each kept version is its decoded strategy). */
    private readonly cacheMax = 4096,
    private readonly idleMs = 5000,
  ) {
    this.stream = versionsStream(cluster);
  }

  /**
   * Every version of `id` kept, ascending (empty when none is). One direct get
   * of the subject's last message says whether the versions cached for `id` are
   * still all of them; only what came after them is read (an ordered consumer
   * filtered to the subject).
   */
  async read(id: string): Promise<KeptVersion[]> {
    const subject = versionSubject(this.cluster, id);
    const last = await this.jsm.streams.getMessage(this.stream, { last_by_subj: subject }).catch(() => null);
    if (last === null) return [];
    let cached = this.cache.get(id);
    this.cache.delete(id);
    if (cached === undefined) cached = { seq: 0, versions: [], notes: [] };
    if (cached.seq < last.seq) {
      const entry = cached;
      const read = await readSubject(
        this.js,
        this.stream,
        subject,
        entry.seq + 1,
        last.seq,
        (data) => this.take(entry, decode(data) as Record<string, unknown>),
        this.idleMs,
      );
      if (read.stalled) {
        throw new UnavailableError(ErrorCodes.Unavailable, `reading the versions of ${id} stalled`, {
          retryable: true,
        });
      }
      entry.seq = last.seq;
    }
    // Most recently read last: the first key is the one to let go.
    this.cache.set(id, cached);
    if (this.cache.size > this.cacheMax) this.cache.delete(this.cache.keys().next().value as string);
    const byVersion = new Map(cached.notes.map((note) => [note.version, note]));
    return cached.versions.map((kept) => {
      const note = byVersion.get(kept.version);
      if (note === undefined) return kept;
      const noted: KeptVersion = { ...kept, op: note.op, by: note.by };
      if (note.note !== undefined) noted.note = note.note;
      if (Array.isArray(note.changed)) noted.changed = note.changed;
      return noted;
    });
  }

  private take(entry: CachedVersions, message: Record<string, unknown>): void {
    if (message.v !== RECORD_FORMAT) return;
    if (message.kind === "note") entry.notes.push(message as unknown as VersionNote);
    if (message.kind !== "version") return;
    const version = message.version as number;
    // A copy started again (or a second process) may have written a version twice after the window.
    if (entry.versions.length > 0 && version <= (entry.versions.at(-1) as KeptVersion).version) return;
    const kept: KeptVersion = {
      version,
      at: message.at as number,
      op: message.op as string,
      strategy: decode(message.strategy as Uint8Array) as Strategy,
    };
    if (typeof message.by === "string") kept.by = message.by;
    if (typeof message.note === "string") kept.note = message.note;
    if (typeof message.cid === "string") kept.cid = message.cid;
    entry.versions.push(kept);
  }

  /** Says what made version `note.version` (a rollback, a merge) and who asked. Written once per version. */
  async note(note: VersionNote): Promise<void> {
    const message: Record<string, unknown> = { v: RECORD_FORMAT, kind: "note", ...note };
    await this.js.publish(versionSubject(this.cluster, note.id), encode(message), {
      msgID: `${note.id}@${note.version}/note`,
    });
  }
}
