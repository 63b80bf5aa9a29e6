/**
 * The partition log format. Each partition is one subject of the cluster's log
 * stream; each message on it is one log entry, encoded as standard msgpack:
 *
 *   { v: 1, op, cid?, at, member, ids: string[], recs: bin[], rejected?, note? }
 *
 * `recs[i]` is the complete stored form (standard msgpack bytes) of strategy
 * `ids[i]` after the command: applying an entry is an upsert of those bytes, so
 * replay needs no knowledge of what the command was. `op` and `rejected` record
 * what the command was and whom it turned away, so that a retried command id
 * gets the same reply even from a shard that only replayed the log.
 */
import { decode, encode } from "./codec.js";
import type { BatchRejection } from "./messages.js";
import { PartitionOps } from "./subjects.js";

/** The log format version this build writes and reads. */
export const LOG_FORMAT_VERSION = 1;

/** Kinds of log entries. */
export const LogOps = {
  Register: PartitionOps.Register,
  RegisterBatch: PartitionOps.RegisterBatch,
  Update: PartitionOps.Update,
  Retire: PartitionOps.Retire,
} as const;
export type LogOp = (typeof LogOps)[keyof typeof LogOps];
const LOG_OPS: ReadonlySet<string> = new Set(Object.values(LogOps));

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
  /** Free text the command carried, e.g. a retirement reason. */
  note?: string;
}

/** Encodes a log entry. */
export function encodeLogEntry(entry: LogEntry): Uint8Array {
  return encode(entry);
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
