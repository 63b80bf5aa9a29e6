/**
 * Snapshots of a fenced log's state, stored in chunks in a KV bucket: a
 * partition's (the shards) or the risk book's (the risk guard). Recovery is the
 * latest snapshot plus the log after it, so it stays as fast as the state is
 * large, however long the history.
 *
 * Each snapshot is written as new chunk keys (`<name>.<seq>.<i>`, each at most
 * {@link CHUNK_BYTES}); the key `<name>` points at the latest. A chunk
 * is read with one direct get (the object store reads through a consumer per
 * object, which measured six times slower here). The pointer is a max-register:
 * moved only by compare-and-set, and only forwards, so an owner that was paused
 * and wakes up with an old state can never move it back (which could hide
 * entries a newer snapshot let the log drop).
 */
import type { JetStreamClient, JetStreamManager } from "@nats-io/jetstream";
import { type KV, Kvm } from "@nats-io/kv";

/** Largest chunk of a snapshot, bytes: one KV value well under the default 1 MiB max_payload. */
export const CHUNK_BYTES = 512 * 1024;

/** What the pointer of a snapshot says about the latest one (plus what its writer adds, `M`). */
export type SnapshotPointer<M extends object = object> = M & {
  /** The log sequence the snapshot covers. */
  seq: number;
  /** Chunks of the snapshot, `<name>.<seq>.0` … */
  chunks: number;
  bytes: number;
  epoch: number;
  /** Wall-clock time it was taken (ms), for operators. */
  at: number;
  /**
   * The sequence of the snapshot this one replaced (0 for the first). Compaction
   * removes log entries only below it, so a loader that read the previous pointer
   * still finds every entry after it; one that read an older pointer sees
   * `prev` above what it loaded and reads again.
   */
  prev: number;
};

/** The snapshot could not be read (its chunks kept moving) or its pointer kept moving. */
export class SnapshotError extends Error {
  override name = "SnapshotError";
  readonly retryable = true;
}

const chunkKey = (name: string, seq: number, chunk: number) => `${name}.${seq}.${chunk}`;

/** Chunked snapshots in one KV bucket, each under its own name. */
export class ChunkedSnapshots<M extends object = object> {
  private constructor(
    private readonly kv: KV,
    private readonly jsm: JetStreamManager,
    private readonly bucket: string,
  ) {}

  /** Opens (creating if needed) the snapshot bucket. */
  static async open<M extends object = object>(
    js: JetStreamClient,
    bucket: string,
    replicas: number,
  ): Promise<ChunkedSnapshots<M>> {
    const kv = await new Kvm(js).create(bucket, { history: 1, replicas });
    return new ChunkedSnapshots<M>(kv, await js.jetstreamManager(), bucket);
  }

  /**
   * Opens an existing snapshot bucket to read it only (a reader that may not
   * create buckets, e.g. a client's near-cache). Fails if there is no such bucket.
   */
  static async openReader<M extends object = object>(
    js: JetStreamClient,
    bucket: string,
  ): Promise<ChunkedSnapshots<M>> {
    const kv = await new Kvm(js).open(bucket);
    return new ChunkedSnapshots<M>(kv, await js.jetstreamManager(), bucket);
  }

  /** The pointer of `partition`'s latest snapshot and its revision, if it has one. */
  async pointer(name: string): Promise<{ pointer: SnapshotPointer<M>; revision: number } | undefined> {
    const entry = await this.kv.get(name);
    if (entry === null || entry.operation !== "PUT" || entry.value.length === 0) return undefined;
    return { pointer: entry.json<SnapshotPointer<M>>(), revision: entry.revision };
  }

  /** The latest snapshot of `partition`: its pointer and bytes. */
  async latest(name: string): Promise<{ pointer: SnapshotPointer<M>; bytes: Buffer } | undefined> {
    // A snapshot taken while we read may remove the chunks the pointer named: read the pointer again.
    for (let attempt = 0; attempt < 5; attempt++) {
      const found = await this.pointer(name);
      if (found === undefined) return undefined;
      const { seq, chunks, bytes } = found.pointer;
      const parts = await Promise.all(Array.from({ length: chunks }, (_, i) => this.kv.get(chunkKey(name, seq, i))));
      if (parts.every((part) => part !== null && part.operation === "PUT")) {
        const out = Buffer.concat(parts.map((part) => (part as NonNullable<typeof part>).value));
        if (out.length === bytes) return { pointer: found.pointer, bytes: out };
      }
    }
    throw new SnapshotError(`the snapshot ${name} could not be read`);
  }

  /**
   * Stores a snapshot and moves the pointer to it, unless a snapshot of the same
   * or a later sequence is already there. Returns the pointer written, if it was.
   */
  async save(
    name: string,
    pointer: M & { seq: number; epoch: number; at: number },
    bytes: Uint8Array,
  ): Promise<SnapshotPointer<M> | undefined> {
    const chunks = Math.max(1, Math.ceil(bytes.length / CHUNK_BYTES));
    await Promise.all(
      Array.from({ length: chunks }, (_, i) =>
        this.kv.put(chunkKey(name, pointer.seq, i), bytes.subarray(i * CHUNK_BYTES, (i + 1) * CHUNK_BYTES)),
      ),
    );
    let lastError: unknown;
    for (let attempt = 0; attempt < 10; attempt++) {
      const current = await this.pointer(name);
      const full = { ...pointer, chunks, bytes: bytes.length, prev: current?.pointer.seq ?? 0 } as SnapshotPointer<M>;
      if (current !== undefined && current.pointer.seq >= pointer.seq) {
        if (current.pointer.seq !== pointer.seq) await this.remove(name, full);
        return undefined;
      }
      try {
        if (current === undefined) await this.kv.create(name, JSON.stringify(full));
        else await this.kv.update(name, JSON.stringify(full), current.revision);
      } catch (err) {
        lastError = err;
        continue; // moved under us: look again, and only ever move it forwards
      }
      if (current !== undefined) await this.remove(name, current.pointer);
      return full;
    }
    throw new SnapshotError(`the snapshot pointer ${name} kept moving`, { cause: lastError });
  }

  /**
   * Removes the chunks of a snapshot no pointer names any more (best effort: a
   * leftover only costs space). A stream purge, not a KV delete, so no tombstone stays.
   */
  private async remove(name: string, pointer: SnapshotPointer<M>): Promise<void> {
    await this.jsm.streams
      .purge(`KV_${this.bucket}`, {
        filter: `$KV.${this.bucket}.${chunkKey(name, pointer.seq, 0).replace(/\.0$/, ".*")}`,
      })
      .catch(() => undefined);
  }
}
