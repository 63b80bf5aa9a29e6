/**
 * Partition snapshots: the whole state of a partition at one log sequence, in
 * the log-entry layout (kind `snapshot`), stored by libs/fencing's chunked
 * snapshots under the partition's name (`p<partition>`) in the cluster's
 * snapshot bucket.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import { ChunkedSnapshots, type SnapshotPointer as Pointer, SnapshotError } from "@stratreg/fencing";
import { type ClusterSubjects, ErrorCodes, UnavailableError } from "@stratreg/protocol";

/** What the pointer of a partition says about its latest snapshot. */
export type SnapshotPointer = Pointer<{ strategies: number }>;

const nameOf = (partition: number) => `p${partition}`;

/** Failures of the snapshot store as the shard's own retryable error. */
async function unavailable<T>(work: Promise<T>): Promise<T> {
  try {
    return await work;
  } catch (err) {
    if (err instanceof SnapshotError) throw new UnavailableError(ErrorCodes.Unavailable, err.message, { cause: err });
    throw err;
  }
}

export class SnapshotStore {
  private constructor(private readonly chunks: ChunkedSnapshots<{ strategies: number }>) {}

  /** Opens (creating if needed) the snapshot bucket. */
  static async open(js: JetStreamClient, subjects: ClusterSubjects, replicas: number): Promise<SnapshotStore> {
    return new SnapshotStore(
      await ChunkedSnapshots.open<{ strategies: number }>(js, subjects.snapshotBucket, replicas),
    );
  }

  /** The pointer of `partition`'s latest snapshot and its revision, if it has one. */
  pointer(partition: number): Promise<{ pointer: SnapshotPointer; revision: number } | undefined> {
    return this.chunks.pointer(nameOf(partition));
  }

  /** The latest snapshot of `partition`: its pointer and bytes. */
  latest(partition: number): Promise<{ pointer: SnapshotPointer; bytes: Buffer } | undefined> {
    return unavailable(this.chunks.latest(nameOf(partition)));
  }

  /** Stores a snapshot and moves the pointer to it, unless a snapshot of the same or a later sequence is there. */
  save(
    partition: number,
    pointer: { seq: number; strategies: number; epoch: number; at: number },
    bytes: Uint8Array,
  ): Promise<SnapshotPointer | undefined> {
    return unavailable(this.chunks.save(nameOf(partition), pointer, bytes));
  }
}
