/**
 * Partition snapshots: the whole state of a partition at one log sequence, in
 * the log-entry layout (kind `snapshot`), stored in a JetStream object store.
 * Recovery is the latest snapshot plus the log after it, so it stays as fast as
 * the state is large, however long the history.
 *
 * Each snapshot is a new object (`p<partition>-<seq>`); a KV key per partition
 * (`s<partition>`, in the lease bucket) points at the latest. The pointer is a
 * max-register: it is moved only by compare-and-set, and only forwards, so an
 * owner that was paused and wakes up with an old state can never move it back
 * (which could hide entries a newer snapshot let the log drop).
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import type { KV } from "@nats-io/kv";
import { type ObjectStore, Objm } from "@nats-io/obj";
import { type ClusterSubjects, ErrorCodes, UnavailableError } from "@stratreg/protocol";

/** What the pointer of a partition says about its latest snapshot. */
export interface SnapshotPointer {
  /** The log sequence the snapshot covers. */
  seq: number;
  object: string;
  strategies: number;
  bytes: number;
  epoch: number;
  /** Wall-clock time it was taken (ms), for operators. */
  at: number;
}

const pointerKey = (partition: number) => `s${partition}`;

export class SnapshotStore {
  private constructor(
    private readonly objects: ObjectStore,
    private readonly index: KV,
  ) {}

  /** Opens (creating if needed) the snapshot object store; pointers live in `index`. */
  static async open(
    js: JetStreamClient,
    subjects: ClusterSubjects,
    replicas: number,
    index: KV,
  ): Promise<SnapshotStore> {
    const objects = await new Objm(js).create(subjects.snapshotBucket, { replicas });
    return new SnapshotStore(objects, index);
  }

  /** The pointer of `partition`'s latest snapshot and its revision, if it has one. */
  async pointer(partition: number): Promise<{ pointer: SnapshotPointer; revision: number } | undefined> {
    const entry = await this.index.get(pointerKey(partition));
    if (entry === null || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
    return { pointer: entry.json<SnapshotPointer>(), revision: entry.revision };
  }

  /** The latest snapshot of `partition`: its pointer and bytes. */
  async latest(partition: number): Promise<{ pointer: SnapshotPointer; bytes: Buffer } | undefined> {
    // A snapshot taken while we read may delete the object the pointer named: read the pointer again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await this.pointer(partition);
      if (found === undefined) return undefined;
      const data = await this.objects.getBlob(found.pointer.object);
      if (data !== null) {
        return { pointer: found.pointer, bytes: Buffer.from(data.buffer, data.byteOffset, data.byteLength) };
      }
    }
    throw new UnavailableError(ErrorCodes.Unavailable, `the snapshot of partition ${partition} could not be read`);
  }

  /**
   * Stores a snapshot and moves the pointer to it, unless a snapshot of the same
   * or a later sequence is already there. Returns whether the pointer now names it.
   */
  async save(
    partition: number,
    pointer: Omit<SnapshotPointer, "object" | "bytes">,
    bytes: Uint8Array,
  ): Promise<boolean> {
    const object = `p${partition}-${pointer.seq}`;
    await this.objects.putBlob({ name: object }, bytes);
    const full: SnapshotPointer = { ...pointer, object, bytes: bytes.length };
    let lastError: unknown;
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.pointer(partition);
      if (current !== undefined && current.pointer.seq >= pointer.seq) {
        if (current.pointer.object !== object) await this.objects.delete(object).catch(() => undefined);
        return current.pointer.object === object;
      }
      try {
        if (current === undefined) await this.index.create(pointerKey(partition), JSON.stringify(full));
        else await this.index.update(pointerKey(partition), JSON.stringify(full), current.revision);
      } catch (err) {
        lastError = err;
        continue; // moved under us: look again, and only ever move it forwards
      }
      if (current !== undefined && current.pointer.object !== object) {
        await this.objects.delete(current.pointer.object).catch(() => undefined);
      }
      return true;
    }
    throw new UnavailableError(ErrorCodes.Unavailable, `the snapshot pointer of partition ${partition} kept moving`, {
      cause: lastError,
    });
  }
}
