/**
 * @stratreg/fencing: what makes a singleton writer safe: leases taken and renewed
 * by compare-and-set in a NATS KV bucket and judged by the taker's own monotonic
 * clock, and ordered reads of a JetStream subject for replaying a fenced log.
 * Registry shards hold one lease per partition; the risk guard holds one.
 * @module
 */

/** Leases by compare-and-set on a KV key's revision; expiry by the taker's own clock. */
export { Lease, LeaseTable, type LeaseTimings, type LeaseValue } from "./lease.js";
/** An ordered read of one subject of a stream, bounded in flight, ending when it stalls. */
export { readSubject } from "./read.js";
/** Snapshots of a log's state in chunks in a KV bucket, with a pointer that only moves forwards. */
export { CHUNK_BYTES, ChunkedSnapshots, SnapshotError, type SnapshotPointer } from "./snapshots.js";
/** A log's stream, created once by whichever process gets there first. */
export { appendFenced, ensureStream, FencedAppendError } from "./stream.js";
