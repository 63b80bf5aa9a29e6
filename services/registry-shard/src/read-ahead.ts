/**
 * Partitions read ahead of their lease: a shard reads the latest snapshot and
 * the log of a partition it is about to take while another shard still serves
 * it, so that taking it costs only the entries written since.
 */
import { type Limiter, waitFor } from "./limiter.js";
import { Partition, type PartitionContext } from "./partition.js";

/** A partition being read ahead. */
interface Warm {
  partition: Partition;
  abort: AbortController;
  ready: Promise<void>;
  failed: boolean;
}

export class ReadAhead {
  private readonly warming = new Map<number, Warm>();

  constructor(
    private readonly context: PartitionContext,
    private readonly loads: Limiter,
    /** Longest anyone waits for a read to finish before going on without it. */
    readonly limitMs: number,
  ) {}

  /** Starts reading partition `id` (once); resolves when read, or when the read failed. */
  start(id: number): Promise<void> {
    let warm = this.warming.get(id);
    if (warm === undefined) {
      const partition = new Partition(id, this.context);
      const abort = new AbortController();
      const entry: Warm = { partition, abort, failed: false, ready: Promise.resolve() };
      entry.ready = this.loads
        .run(() => partition.warm(abort.signal), abort.signal)
        .catch(() => {
          entry.failed = true;
        });
      this.warming.set(id, entry);
      warm = entry;
    }
    return warm.ready;
  }

  /** The partition read ahead, if its read succeeded; forgets it either way. Aborting `signal` stops the read. */
  async take(id: number, signal: AbortSignal): Promise<Partition | undefined> {
    const warm = this.warming.get(id);
    if (warm === undefined) return undefined;
    this.warming.delete(id);
    // An abandoned load stops the read-ahead too, freeing its slot.
    const abandon = () => warm.abort.abort();
    signal.addEventListener("abort", abandon, { once: true });
    await warm.ready;
    signal.removeEventListener("abort", abandon);
    return warm.failed ? undefined : warm.partition;
  }

  /** The highest epoch the read of `id` found in its log, once read (0 if it failed, or took too long). */
  async epochSeen(id: number): Promise<number> {
    const warm = this.warming.get(id);
    if (warm === undefined) return 0;
    await waitFor((wake) => {
      void warm.ready.then(wake);
      return () => undefined;
    }, this.limitMs);
    return warm.failed ? 0 : warm.partition.epoch;
  }

  /** Stops reading `id` and forgets it. */
  drop(id: number): void {
    this.warming.get(id)?.abort.abort();
    this.warming.delete(id);
  }

  /** Drops every read ahead of a partition not in `keep` (all of them without `keep`). */
  dropAllBut(keep: ReadonlySet<number> = new Set()): void {
    for (const id of [...this.warming.keys()]) if (!keep.has(id)) this.drop(id);
  }
}
