/**
 * The partition log format. Each partition is one subject of the cluster's log
 * stream; each message on it is one log entry, encoded as standard msgpack:
 *
 *   { v: 1, op, cid?, at, member, ids: string[], recs: bin[], rejected?, note? }
 *
 * `recs[i]` is the complete stored form (standard msgpack bytes) of strategy
 * `ids[i]` after the command, always as a bin 32 (`0xc6`, 4-byte length): applying
 * an entry is an upsert of those bytes, so replay needs no knowledge of what the
 * command was, and a shard can keep a large entry as it is, as a slab of its
 * byte arena (see docs/adr/003). `ids` and `recs` come last, in that order. `op` and `rejected` record
 * what the command was and whom it turned away, so that a retried command id
 * gets the same reply even from a shard that only replayed the log.
 *
 * Two kinds carry no command: `epoch`, the first entry a new owner appends
 * (its `epoch` field fences every earlier owner, whose next append then fails),
 * and `snapshot`, the layout of a partition snapshot (stored in the object
 * store, never in the log). Every entry written by an owner states its epoch.
 * A reader skips kinds it does not know (a newer writer's), so a rolling
 * upgrade never stalls on them; see {@link readLogEntry}.
 */
import { decode, encode } from "./codec.js";
import type { BatchRejection } from "./messages.js";
import { readStr, strLength, strStart } from "./msgpack-read.js";
import { MsgpackScanner } from "./msgpack-scan.js";
import { PartitionOps } from "./subjects.js";

/** The log format version this build writes and reads. */
export const LOG_FORMAT_VERSION = 1;

/** Kinds of log entries. */
export const LogOps = {
  Register: PartitionOps.Register,
  RegisterBatch: PartitionOps.RegisterBatch,
  Update: PartitionOps.Update,
  Retire: PartitionOps.Retire,
  /** Performance reports: `recs[i]` is the report applied to strategy `ids[i]` (not its stored form). */
  Report: PartitionOps.Report,
  /** A lifecycle move: `recs[0]` is the strategy after it; `lc` in the head says which move. */
  Transition: PartitionOps.Transition,
  /** Evidence attached: `recs[0]` is the strategy with the evidence's summary. */
  AttachEvidence: PartitionOps.AttachEvidence,
  /** A new owner took the partition: fences every owner of a lower epoch. */
  Epoch: "epoch",
  /** A whole partition at one log sequence (the snapshot format; never appended to the log). */
  Snapshot: "snapshot",
} as const;
export type LogOp = (typeof LogOps)[keyof typeof LogOps];
const LOG_OPS: ReadonlySet<string> = new Set(Object.values(LogOps));

/**
 * Command ids remembered in a snapshot, as segments: `[until, keys, seqs]`, where
 * `keys` are the sorted 53-bit hashes of the ids and `seqs` the log sequences of
 * their entries, both little-endian float64 arrays, and `until` (ms) is when the
 * newest was accepted. A hash only names a candidate entry; its `cid` decides.
 */
export type CommandSegments = Array<[until: number, keys: Uint8Array, seqs: Uint8Array]>;

/** A lifecycle move as a log entry's head records it (what its lifecycle event says). */
export interface LogMove {
  event: string;
  from: string;
  to: string;
  by: string;
  reason?: string;
  /** A refused validation or activation: the gates that refused it. */
  gates?: unknown;
}

/** One entry of a partition log. */
export interface LogEntry {
  v: number;
  op: LogOp;
  /** The command id the entry was written for (also its JetStream message id). */
  cid?: string;
  /** When the owner accepted the command, ms since the Unix epoch (by the owner's clock). */
  at: number;
  /** The shard member that wrote the entry. */
  member: string;
  ids: string[];
  recs: Uint8Array[];
  rejected?: BatchRejection[];
  /** What else the command answered (e.g. a report's duplicates and gaps), for a retry's reply. */
  outcome?: Record<string, unknown>;
  /** Snapshots: each strategy's performance state (see the shard's performance book). */
  perf?: unknown;
  /** Free text the command carried, e.g. a retirement reason. */
  note?: string;
  /** Lifecycle moves: which, from and to what state, by whom, why (and a failed gate evaluation). */
  lc?: LogMove;
  /** The writer's ownership epoch (absent in entries written before epochs existed). */
  epoch?: number;
  /** Snapshots: the log sequence the snapshot covers (every entry up to it is in it). */
  seq?: number;
  /** Snapshots: the command ids still inside the de-duplication window. */
  cmds?: CommandSegments;
}

/** The fields of a log entry other than `ids` and `recs`. */
export type LogEntryHead = Omit<LogEntry, "ids" | "recs">;

/** An encoded log entry and where its strategies are in it. */
export interface LogEntryLayout {
  bytes: Buffer;
  /** The entry's kind; a string this build does not know for a newer writer's kinds (see {@link isKnownLogOp}). */
  op: string;
  cid: string | undefined;
  /** The writer's epoch, 0 when the entry has none. */
  epoch: number;
  /** Wall-clock time the entry was written at (ms). */
  at: number;
  /** The strategy ids, as fresh strings. */
  ids: string[];
  /** Offset in `bytes` of each strategy's bin 32 header (`0xc6`, then a 4-byte big-endian length). */
  records: number[];
  /** The records as values, when the writer already had them decoded (never read from the bytes). */
  values?: unknown[];
  /** The entry's other fields, when the writer or reader has them at hand. */
  head?: Partial<LogEntryHead>;
}

const BIN32 = 0xc6;
const KEY_IDS = Buffer.from(encode("ids"));
const KEY_RECS = Buffer.from(encode("recs"));

function arrayHeader32(out: Buffer, at: number, length: number): number {
  out[at] = 0xdd;
  out.writeUInt32BE(length, at + 1);
  return at + 5;
}

/**
 * The strategies of a log entry being written: each one's id and stored form,
 * written straight into the entry's buffer (nothing is copied twice).
 */
export interface EntryItems {
  readonly count: number;
  /** Bytes of the `i`-th id as a msgpack str, header included. */
  idLength(i: number): number;
  /** Writes the `i`-th id as a msgpack str at `at` in `out`. */
  writeId(i: number, out: Buffer, at: number): void;
  /** The `i`-th id as a flat string; `out[start, end)` holds its UTF-8 bytes in the entry. */
  id(i: number, out: Buffer, start: number, end: number): string;
  /** Bytes of the `i`-th stored form. */
  recordLength(i: number): number;
  /** Writes the `i`-th stored form at `at` in `out`. */
  writeRecord(i: number, out: Buffer, at: number): void;
}

/** Bytes of the msgpack str header of a string of `n` UTF-8 bytes. */
export function strHeaderLength(n: number): number {
  return n < 32 ? 1 : n < 256 ? 2 : n < 65536 ? 3 : 5;
}

/** Writes the msgpack str header of a string of `n` UTF-8 bytes at `at`; returns the position after it. */
export function writeStrHeader(out: Buffer, at: number, n: number): number {
  if (n < 32) {
    out[at] = 0xa0 | n;
    return at + 1;
  }
  if (n < 256) {
    out[at] = 0xd9;
    out[at + 1] = n;
    return at + 2;
  }
  if (n < 65536) {
    out[at] = 0xda;
    out.writeUInt16BE(n, at + 1);
    return at + 3;
  }
  out[at] = 0xdb;
  out.writeUInt32BE(n, at + 1);
  return at + 5;
}

/** Log entry items of ids and stored forms given as values. */
export function entryItemsOf(ids: string[], recs: Uint8Array[]): EntryItems {
  if (ids.length !== recs.length) throw new Error("log entry ids and recs do not match");
  const idLengths = ids.map((id) => Buffer.byteLength(id, "utf8"));
  return {
    count: ids.length,
    idLength: (i) => {
      const n = idLengths[i] as number;
      return strHeaderLength(n) + n;
    },
    writeId: (i, out, at) => {
      out.write(ids[i] as string, writeStrHeader(out, at, idLengths[i] as number), "utf8");
    },
    // Read back from the entry: flat strings that pin no decoded buffer.
    id: (_i, out, start, end) => out.toString("utf8", start, end),
    recordLength: (i) => (recs[i] as Uint8Array).length,
    writeRecord: (i, out, at) => {
      out.set(recs[i] as Uint8Array, at);
    },
  };
}

/**
 * Encodes a log entry in one buffer: the head, then `ids`, then each record as a
 * bin 32 written straight into place (a spliced strategy is never copied twice).
 */
export function encodeLogEntry(head: LogEntryHead, ids: string[], recs: Uint8Array[]): LogEntryLayout {
  return encodeEntry(head, entryItemsOf(ids, recs));
}

/** Encodes a log entry of `items` in one buffer (see {@link encodeLogEntry}). */
export function encodeEntry(head: LogEntryHead, items: EntryItems): LogEntryLayout {
  const headBytes = Buffer.from(encode(head));
  const headKeys = headBytes[0] as number;
  if (headKeys < 0x80 || headKeys > 0x8d) throw new Error("log entry head must be a small map");
  const count = items.count;
  let length = headBytes.length + KEY_IDS.length + 5 + KEY_RECS.length + 5;
  for (let i = 0; i < count; i++) length += items.idLength(i) + 5 + items.recordLength(i);
  const out = Buffer.allocUnsafeSlow(length);
  headBytes.copy(out, 0);
  out[0] = headKeys + 2;
  let pos = headBytes.length;
  pos += KEY_IDS.copy(out, pos);
  pos = arrayHeader32(out, pos, count);
  const ids: string[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = items.idLength(i);
    items.writeId(i, out, pos);
    readStr(out, pos);
    ids[i] = items.id(i, out, strStart, strStart + strLength);
    pos += n;
  }
  pos += KEY_RECS.copy(out, pos);
  pos = arrayHeader32(out, pos, count);
  const records: number[] = new Array(count);
  for (let i = 0; i < count; i++) {
    const n = items.recordLength(i);
    records[i] = pos;
    out[pos] = BIN32;
    out.writeUInt32BE(n, pos + 1);
    items.writeRecord(i, out, pos + 5);
    pos += 5 + n;
  }
  return { bytes: out, op: head.op, cid: head.cid, epoch: head.epoch ?? 0, at: head.at, ids, records };
}

/** The bytes of the bin 32 at `at` in `bytes` (a view). */
export function bin32At(bytes: Buffer, at: number): Buffer {
  return bytes.subarray(at + 5, at + 5 + bytes.readUInt32BE(at + 1));
}

/** The stored bytes of the `i`-th strategy of an encoded entry (a view). */
export function recordAt(layout: LogEntryLayout, i: number): Buffer {
  return bin32At(layout.bytes, layout.records[i] as number);
}

/** Whether `op` is a kind of entry this build applies. */
export function isKnownLogOp(op: string): op is LogOp {
  return LOG_OPS.has(op);
}

/**
 * Where the strategies of an encoded entry are, without decoding them (replay),
 * and its head. Throws if the bytes are not a log entry of this format version.
 * An entry of a kind this build does not know comes back with its `op` as
 * written and no strategies: the caller skips it (with a warning).
 */
export function readLogEntry(bytes: Buffer): LogEntryLayout & { head: Partial<LogEntryHead> } {
  const scanner = new MsgpackScanner(bytes);
  const header = scanner.mapHeader(0);
  if (header === undefined) throw new Error("log entry is not a msgpack map");
  let p = header.start;
  const head: Record<string, unknown> = {};
  let ids: string[] | undefined;
  let records: number[] | undefined;
  for (let i = 0; i < header.count; i++) {
    const key = scanner.string(p);
    p = scanner.skip(p);
    const end = scanner.skip(p);
    if (key === "ids") {
      ids = scanner.arrayItems(p).map(([start]) => {
        const id = scanner.string(start);
        if (id === undefined) throw new Error("log entry id is not a string");
        return id;
      });
    } else if (key === "recs") {
      records = scanner.arrayItems(p).map(([start]) => {
        if (bytes[start] !== BIN32) throw new Error("log entry record is not a bin 32");
        return start;
      });
    } else if (key !== undefined && key !== "__proto__") {
      head[key] = decode(bytes.subarray(p, end));
    }
    p = end;
  }
  if (head.v !== LOG_FORMAT_VERSION) throw new Error(`log format version ${String(head.v)} is not supported`);
  if (typeof head.op !== "string") throw new Error("log entry has no op");
  const op = head.op;
  const cid = typeof head.cid === "string" ? head.cid : undefined;
  const epoch = typeof head.epoch === "number" ? head.epoch : 0;
  const at = typeof head.at === "number" ? head.at : 0;
  if (!LOG_OPS.has(op)) return { bytes, op, cid, epoch, at, ids: [], records: [], head };
  if (ids === undefined || records === undefined || ids.length !== records.length) {
    throw new Error("log entry ids and recs do not match");
  }
  return { bytes, op, cid, epoch, at, ids, records, head };
}

/** Decodes a log entry; throws if the bytes are not one this build can apply. */
export function decodeLogEntry(bytes: Uint8Array): LogEntry {
  const entry = decode(bytes) as Partial<LogEntry> | null;
  if (entry === null || typeof entry !== "object") throw new Error("log entry is not a msgpack map");
  if (entry.v !== LOG_FORMAT_VERSION) throw new Error(`log format version ${String(entry.v)} is not supported`);
  if (typeof entry.op !== "string" || !LOG_OPS.has(entry.op))
    throw new Error(`unknown log entry op ${String(entry.op)}`);
  if (!Array.isArray(entry.ids) || !Array.isArray(entry.recs) || entry.ids.length !== entry.recs.length) {
    throw new Error("log entry ids and recs do not match");
  }
  return entry as LogEntry;
}
