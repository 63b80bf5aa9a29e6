/**
 * Partition leases in a NATS KV bucket, one key per partition. A lease is taken
 * and renewed by compare-and-set on the key's revision, so two shards can never
 * both believe they hold it.
 *
 * Expiry is judged by the taker's own monotonic clock: a lease whose revision
 * has not changed for a whole lease period, as this process watched it, may be
 * taken. Clocks of different machines are never compared. The holder stops
 * answering reads a margin before that (see {@link Lease.fresh}), measured from
 * when it *sent* its last successful renewal, so a holder that was paused wakes
 * up silent before anyone could have taken its place.
 */
import { performance } from "node:perf_hooks";
import { JetStreamApiCodes, JetStreamApiError } from "@nats-io/jetstream";
import type { KV, KvWatchEntry } from "@nats-io/kv";
import type { QueuedIterator } from "@nats-io/transport-node";
import type { Logger } from "pino";

/** The value stored under a partition's lease key (JSON, so operators can read it with `nats kv get`). */
export interface LeaseValue {
  /** The holding member, empty once released. */
  member: string;
  /** The holding process (a member id can be reused by a restarted process). */
  instance: string;
  /** Incremented by every taker: the epoch of the partition's owner. */
  epoch: number;
  /** Set by a graceful hand-off: the next taker need not wait for expiry. */
  released?: boolean;
}

/** What this process last saw of a lease key. */
interface Observed {
  revision: number;
  value: LeaseValue | undefined;
  /** When this revision was first seen, by our monotonic clock. */
  seenAt: number;
}

/** A lease this process holds. */
export class Lease {
  /** Set once a release began: renewals stop, so they cannot race it. */
  releasing = false;
  /** The renewal in flight, which a release waits for. */
  renewal: Promise<boolean> | undefined;

  constructor(
    readonly partition: number,
    readonly epoch: number,
    /** Revision of our last write to the key. */
    public revision: number,
    /** When our last successful renewal (or the take) was sent, by our monotonic clock. */
    public renewedAt: number,
    private readonly answerWindowMs: number,
  ) {}

  /** Whether the lease is young enough to answer requests: a paused process wakes up with this false. */
  fresh(now = performance.now()): boolean {
    return now - this.renewedAt < this.answerWindowMs;
  }

  /** Milliseconds since the last renewal was sent. */
  age(now = performance.now()): number {
    return now - this.renewedAt;
  }
}

/** Timings of the leases. */
export interface LeaseTimings {
  /** A lease unrenewed this long may be taken by another member. */
  leaseMs: number;
  /** The holder stops answering this long before the lease could be taken. */
  marginMs: number;
}

function parseValue(entry: KvWatchEntry | { value: Uint8Array }): LeaseValue | undefined {
  try {
    const value = JSON.parse(new TextDecoder().decode(entry.value)) as Partial<LeaseValue>;
    if (typeof value.member !== "string" || typeof value.epoch !== "number") return undefined;
    return {
      member: value.member,
      instance: String(value.instance ?? ""),
      epoch: value.epoch,
      released: value.released === true,
    };
  } catch {
    return undefined;
  }
}

const encodeValue = (value: LeaseValue) => JSON.stringify(value);

/** The lease keys of one cluster, watched as a whole; takes, renews and releases leases for one process. */
export class LeaseTable {
  private readonly observed = new Map<number, Observed>();
  private watcher: QueuedIterator<KvWatchEntry> | undefined;
  private readonly listeners = new Set<(partition: number) => void>();

  constructor(
    private readonly kv: KV,
    private readonly keyOf: (partition: number) => string,
    private readonly partitionOfKey: (key: string) => number | undefined,
    private readonly member: string,
    private readonly instance: string,
    readonly timings: LeaseTimings,
    private readonly logger: Logger,
  ) {}

  /** Starts watching every lease key; resolves once the current values are known. */
  async start(): Promise<void> {
    this.watcher = await this.kv.watch({});
    let ready: () => void = () => undefined;
    const initial = new Promise<void>((resolve) => {
      ready = resolve;
    });
    void (async () => {
      try {
        for await (const entry of this.watcher as QueuedIterator<KvWatchEntry>) {
          this.saw(entry);
          // The last of the current values, and every later change, comes marked as an update.
          if (entry.isUpdate) ready();
        }
      } catch (err) {
        this.logger.error({ err }, "lease watch ended");
      }
    })();
    // An empty bucket delivers nothing until its first change.
    if ((await this.kv.status()).values === 0) ready();
    await initial;
  }

  stop(): void {
    this.watcher?.stop();
  }

  /** Calls `listener(partition)` whenever a lease key changes. */
  onChange(listener: (partition: number) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Who holds `partition`'s lease as far as this process has seen (undefined: nobody, or released). */
  holder(partition: number): LeaseValue | undefined {
    const value = this.observed.get(partition)?.value;
    return value === undefined || value.released ? undefined : value;
  }

  /** Whether the lease of `partition` is ours, by what the watch last said. */
  isOurs(partition: number, epoch: number): boolean {
    const value = this.observed.get(partition)?.value;
    return value !== undefined && !value.released && value.instance === this.instance && value.epoch === epoch;
  }

  /**
   * Milliseconds until `partition` may be taken: 0 when it is free, released, or
   * its revision has not moved for a whole lease period by our clock.
   */
  waitBeforeTaking(partition: number, now = performance.now()): number {
    const seen = this.observed.get(partition);
    if (seen === undefined || seen.value === undefined || seen.value.released) return 0;
    if (seen.value.instance === this.instance) return 0;
    return Math.max(0, seen.seenAt + this.timings.leaseMs - now);
  }

  /**
   * Takes `partition`'s lease if it may be taken now. Returns the lease, or
   * undefined when someone holds it (or took it first).
   */
  async tryTake(partition: number, minEpoch = 0): Promise<Lease | undefined> {
    if (this.waitBeforeTaking(partition) > 0) return undefined;
    const seen = this.observed.get(partition);
    // Above every epoch seen in the log too: a lease bucket that was wiped must not reuse epochs.
    const epoch = Math.max(seen?.value?.epoch ?? 0, minEpoch) + 1;
    const value = encodeValue({ member: this.member, instance: this.instance, epoch });
    const sentAt = performance.now();
    let revision: number;
    try {
      revision =
        seen === undefined
          ? await this.kv.create(this.keyOf(partition), value)
          : await this.kv.update(this.keyOf(partition), value, seen.revision);
    } catch (err) {
      // Someone wrote the key since we looked (the watch brings their value), or what we saw is
      // no longer there at all (the bucket was purged or recreated): read the key afresh.
      this.logger.debug({ partition, err: (err as Error).message }, "lease take lost a race");
      await this.refresh(partition).catch(() => undefined);
      return undefined;
    }
    this.record(partition, revision, { member: this.member, instance: this.instance, epoch }, sentAt);
    return new Lease(partition, epoch, revision, sentAt, this.timings.leaseMs - this.timings.marginMs);
  }

  /** Renews `lease`; returns false when the lease was lost (another revision is there), throws when unsure. */
  renew(lease: Lease): Promise<boolean> {
    if (lease.releasing) return Promise.resolve(true);
    const renewal = this.renewNow(lease).finally(() => {
      if (lease.renewal === renewal) lease.renewal = undefined;
    });
    lease.renewal = renewal;
    return renewal;
  }

  private async renewNow(lease: Lease): Promise<boolean> {
    const sentAt = performance.now();
    const value = { member: this.member, instance: this.instance, epoch: lease.epoch };
    try {
      lease.revision = await this.kv.update(this.keyOf(lease.partition), encodeValue(value), lease.revision);
    } catch (err) {
      if (isWrongRevision(err)) return false;
      throw err;
    }
    lease.renewedAt = sentAt;
    this.record(lease.partition, lease.revision, value, sentAt);
    return true;
  }

  /** Gives `lease` up so the next owner can take it at once. Best effort: if it fails, the lease expires. */
  async release(lease: Lease): Promise<void> {
    lease.releasing = true;
    // A renewal in flight would move the revision under the release: let it land first.
    await lease.renewal?.catch(() => undefined);
    const value = { member: "", instance: "", epoch: lease.epoch, released: true };
    try {
      const revision = await this.kv.update(this.keyOf(lease.partition), encodeValue(value), lease.revision);
      this.record(lease.partition, revision, value, performance.now());
    } catch (err) {
      this.logger.warn(
        { partition: lease.partition, err: (err as Error).message },
        "lease release failed; it will expire",
      );
    }
    // Whatever happened, we no longer answer for it.
    lease.renewedAt = Number.NEGATIVE_INFINITY;
  }

  /** Reads `partition`'s key and believes it over what the watch said, even at a lower revision. */
  private async refresh(partition: number): Promise<void> {
    const entry = await this.kv.get(this.keyOf(partition));
    const seen = this.observed.get(partition);
    if (entry === null) {
      this.observed.delete(partition);
    } else if (seen?.revision !== entry.revision) {
      const value = entry.operation === "PUT" ? parseValue(entry) : undefined;
      this.observed.set(partition, { revision: entry.revision, value, seenAt: performance.now() });
    }
  }

  private record(partition: number, revision: number, value: LeaseValue, at: number): void {
    const seen = this.observed.get(partition);
    if (seen !== undefined && seen.revision >= revision) return;
    this.observed.set(partition, { revision, value, seenAt: at });
  }

  private saw(entry: KvWatchEntry): void {
    const partition = this.partitionOfKey(entry.key);
    if (partition === undefined) return;
    const seen = this.observed.get(partition);
    if (seen !== undefined && seen.revision >= entry.revision) return;
    const value = entry.operation === "PUT" ? parseValue(entry) : undefined;
    this.observed.set(partition, { revision: entry.revision, value, seenAt: performance.now() });
    for (const listener of this.listeners) listener(partition);
  }
}

/** The KV refused a compare-and-set because the key's revision moved. */
function isWrongRevision(err: unknown): boolean {
  return (
    (err instanceof JetStreamApiError && err.code === JetStreamApiCodes.StreamWrongLastSequence) ||
    /wrong last sequence/i.test(String((err as Error)?.message))
  );
}
