/**
 * The near-cache: strategies a trading service uses, held in its own process and
 * kept current from the partition logs, so a lookup is a local map read (well
 * under a microsecond, no allocation once a version has been read).
 *
 * Guarantees (docs/adr/014-near-cache-and-search.md):
 * - **Bounded staleness.** A lookup answers only while the replica is known to
 *   hold every entry stored less than `maxLagMs` ago (see @stratreg/replica's
 *   lag); past it, `lookup` answers undefined and `get` asks the shards. The
 *   bound is enforced by a timer set at it and by reading the clock every 256
 *   lookups (so a busy loop of lookups cannot outrun it).
 * - **Monotonic reads.** Entries are applied in log order, so a strategy's
 *   cached version never goes back.
 * - **Read-your-writes.** After a write acknowledged through the same client,
 *   the cache does not answer for that strategy until it holds the written
 *   version (or a later one); `get` asks the shards meanwhile.
 * - Ownership moves, snapshots and compaction: the log is the truth, and a
 *   partition whose entries were compacted under the replica is loaded again.
 *
 * Modes: `all`, `partitions`, `families`, `ids` (a replica of those, loaded from
 * the snapshots), or `hot`: the strategies actually used, within `maxBytes`,
 * fetched on first use and kept current from the log, with their family and
 * dependencies prefetched.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { decode, encode, type LogEntryLayout, LogOps, partitionOf, type Strategy } from "@stratreg/protocol";
import { LogFollower, type ReplicaLag } from "@stratreg/replica";
import type { StratregClient } from "./client.js";

/** What a near-cache keeps. Exactly one of `all`, `partitions`, `families`, `ids` or `hot`. */
export interface NearCacheOptions {
  /** Every strategy of the cluster. */
  all?: boolean;
  /** The strategies of these partitions. */
  partitions?: number[];
  /** The strategies of these families (every partition is followed; others are dropped). */
  families?: string[];
  /** These strategies. */
  ids?: string[];
  /** The strategies actually looked up, least recently used evicted past `maxBytes`. */
  hot?: boolean;
  /**
   * Most bytes of stored strategies to keep (default 256 MiB). A hot cache evicts
   * the least recently used; the other modes stop taking new strategies (counted
   * in `stats().refused`) and answer those from the shards.
   */
  maxBytes?: number;
  /** Past this lag (ms) lookups answer undefined and `get` asks the shards. Default 1000. */
  maxLagMs?: number;
  /** Hot mode: when a strategy is fetched, also fetch its family's members and its dependencies. Default both. */
  prefetch?: { family?: boolean; dependencies?: boolean };
  /** How often the replica asks how far behind it is, ms. Default 100. */
  probeMs?: number;
  /** Told of what the cache cannot fix itself: a failed read of the logs, a gap, a skipped entry. */
  onWarning?: (fields: Record<string, unknown>, message: string) => void;
}

/** A near-cache's figures. */
export interface NearCacheStats {
  strategies: number;
  bytes: number;
  lag: ReplicaLag;
  /** Lookups answered locally, and those that were not (missing, stale, or a write not seen yet). */
  hits: number;
  misses: number;
  /** Strategies not kept because `maxBytes` was reached (not hot mode). */
  refused: number;
  evicted: number;
}

/** Bytes an entry costs beyond its stored bytes: the map slot, the key, the entry object. */
const ENTRY_OVERHEAD = 160;
/** A decoded view costs about this many times its stored bytes. */
const VIEW_FACTOR = 3;
/** Below this many records an entry's strategies are copied out rather than pinning the entry. */
const SHARE_MIN_RECORDS = 16;

class Cached {
  constructor(
    /** Holds the stored bytes at `at` (a bin 32: 5 bytes of header, then the strategy). */
    public src: Uint8Array,
    public at: number,
    public length: number,
    public partition: number,
    public view: Readonly<Strategy> | undefined,
    public used: boolean,
    /** The log sequence this version is as of: an older one never replaces it. */
    public seq: number,
  ) {}
}

/** The version of the strategy stored at `at` (bin 32 framed) in `src`. */
function versionIn(src: Uint8Array, at: number, length: number): number {
  return (decode(src.subarray(at + 5, at + 5 + length)) as Strategy).version;
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === "object" && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const key of Object.keys(value)) deepFreeze((value as Record<string, unknown>)[key]);
  }
  return value;
}

/** A local replica of strategies; see the module comment for what it guarantees. */
export class NearCache {
  private readonly entries = new Map<string, Cached>();
  /** The decoded view of each strategy read since its last change. */
  private readonly views = new Map<string, Readonly<Strategy>>();
  private readonly hot: boolean;
  /** Whether the cache keeps some strategies of a partition rather than all of them. */
  private readonly picks: boolean;
  /** Versions this client wrote that the cache has not applied yet: id → version. */
  private readonly owed = new Map<string, number>();
  /** Hot mode: strategies being fetched, and the newest entry the log brought for each meanwhile. */
  private readonly watching = new Map<string, { src: Uint8Array; at: number; length: number; seq: number } | null>();
  /** Hot mode: fetches in flight, so that two gets of one strategy share one. */
  private readonly fetching = new Map<string, Promise<Readonly<Strategy>>>();
  private readonly families: ReadonlySet<string> | undefined;
  private readonly ids: ReadonlySet<string> | undefined;
  private readonly maxBytes: number;
  private readonly maxLagMs: number;
  private follower!: LogFollower;
  private bytes = 0;
  /** Strategies held per partition (a partition loaded again is swept only when it holds any). */
  private readonly perPartition = new Map<number, number>();
  private hits = 0;
  private misses = 0;
  private refused = 0;
  private evicted = 0;
  private clockHand: IterableIterator<[string, Cached]> | undefined;
  /** Lookups answer only while this is false: the replica is known current to within `maxLagMs`. */
  private stale = true;
  /** When (by `performance.now()`) the lag bound passes unless the replica is found current again. */
  private freshUntil = Number.NEGATIVE_INFINITY;
  private staleTimer: NodeJS.Timeout | undefined;
  private lookups = 0;

  private constructor(
    private readonly client: StratregClient,
    private readonly options: NearCacheOptions,
  ) {
    this.families = options.families === undefined ? undefined : new Set(options.families);
    this.ids = options.ids === undefined ? undefined : new Set(options.ids);
    this.maxBytes = options.maxBytes ?? 256 * 1024 * 1024;
    this.maxLagMs = options.maxLagMs ?? 1000;
    this.hot = options.hot === true;
    this.picks = this.hot || this.ids !== undefined || this.families !== undefined;
  }

  /** Opens a near-cache: loads what it keeps and resolves once it is current. Use {@link StratregClient.nearCache}. */
  static async open(client: StratregClient, options: NearCacheOptions): Promise<NearCache> {
    const modes = ["all", "partitions", "families", "ids", "hot"].filter(
      (mode) =>
        options[mode as keyof NearCacheOptions] !== undefined && options[mode as keyof NearCacheOptions] !== false,
    );
    if (modes.length !== 1)
      throw new TypeError(
        `a near-cache keeps exactly one of all, partitions, families, ids or hot (got ${modes.join(", ") || "none"})`,
      );
    const cache = new NearCache(client, options);
    const nc = client.nc;
    const count = client.partitions;
    let partitions: number[] | undefined;
    if (options.partitions !== undefined) partitions = [...new Set(options.partitions)];
    else if (options.ids !== undefined) partitions = [...new Set(options.ids.map((id) => partitionOf(id, count)))];
    cache.follower = new LogFollower(nc, jetstream(nc), await jetstreamManager(nc), client.subjects, cache, {
      partitionCount: count,
      partitions,
      snapshots: options.hot !== true,
      probeMs: options.probeMs,
      onFresh: (at) => cache.freshAt(at),
      warn: options.onWarning,
    });
    client.observeWrites(cache);
    try {
      await cache.follower.start();
    } catch (err) {
      client.unobserveWrites(cache);
      await cache.follower.stop();
      throw err;
    }
    return cache;
  }

  /**
   * The cached strategy, as a frozen view, or undefined when the cache cannot
   * answer for it now: not kept, not there, past the lag bound, or a write of
   * this client not applied yet. Allocates nothing once a version has been read.
   */
  lookup(id: string): Readonly<Strategy> | undefined {
    // The clock is read every 256 lookups (the timer at the bound covers the rest): reading it on
    // every lookup cost more than the lookup itself.
    if ((++this.lookups & 255) === 0 && performance.now() >= this.freshUntil) this.stale = true;
    if (this.stale || (this.owed.size !== 0 && this.owed.has(id))) {
      this.misses++;
      return undefined;
    }
    // Views read before sit in a map of their own: one map read, no entry object to touch.
    const view = this.views.get(id);
    if (view !== undefined && !this.hot) {
      this.hits++;
      return view;
    }
    const entry = this.entries.get(id);
    if (entry === undefined) {
      this.misses++;
      return undefined;
    }
    this.hits++;
    entry.used = true;
    return view ?? this.materialise(id, entry);
  }

  /** The strategy: from the cache when it can answer, else from the shards (hot mode keeps it then). */
  async get(id: string): Promise<Readonly<Strategy>> {
    const local = this.lookup(id);
    if (local !== undefined) return local;
    if (this.options.hot !== true) return this.client.get(id);
    let fetching = this.fetching.get(id);
    if (fetching === undefined) {
      fetching = this.fetch(id, true).finally(() => this.fetching.delete(id));
      this.fetching.set(id, fetching);
    }
    return fetching;
  }

  /** How far behind the log the cache is. */
  lag(): ReplicaLag {
    return this.follower.lag();
  }

  /** The cache's figures. */
  stats(): NearCacheStats {
    return {
      strategies: this.entries.size,
      bytes: this.bytes,
      lag: this.follower.lag(),
      hits: this.hits,
      misses: this.misses,
      refused: this.refused,
      evicted: this.evicted,
    };
  }

  /** The replica holds everything stored before `at`: answer until `at + maxLagMs`, and not after. */
  private freshAt(at: number): void {
    this.freshUntil = at + this.maxLagMs;
    this.stale = performance.now() >= this.freshUntil;
    clearTimeout(this.staleTimer);
    if (!this.stale) {
      this.staleTimer = setTimeout(() => {
        if (performance.now() >= this.freshUntil) this.stale = true;
      }, this.freshUntil - performance.now());
      this.staleTimer.unref();
    }
  }

  /** Stops following the logs and forgets everything. */
  async close(): Promise<void> {
    clearTimeout(this.staleTimer);
    this.stale = true;
    this.client.unobserveWrites(this);
    await this.follower.stop();
    this.entries.clear();
    this.views.clear();
    this.bytes = 0;
  }

  /** Told by the client: a write of `id` at `version` was acknowledged. */
  written(id: string, version: number): void {
    const entry = this.entries.get(id);
    if (entry !== undefined && this.versionOf(id, entry) >= version) return;
    if (entry === undefined) {
      // A hot cache that neither holds nor is fetching it will ask the shard, which has applied the write.
      if (this.hot && !this.watching.has(id)) return;
      // A family cache holds members only; a write that makes one arrives through the log.
      if (this.families !== undefined || !this.keeps(id)) return;
    }
    this.owed.set(id, Math.max(version, this.owed.get(id) ?? 0));
  }

  // ReplicaTarget

  /** @internal */
  restore(partition: number, snapshot: LogEntryLayout | undefined): void {
    if ((this.perPartition.get(partition) ?? 0) > 0) {
      for (const [id, entry] of this.entries) if (entry.partition === partition) this.remove(id, entry);
    }
    if (snapshot === undefined) return;
    // A cache of everything (or of partitions) keeps the snapshot as one slab; one that picks
    // strategies out copies those, rather than pin a whole partition for a few of them.
    const src = this.picks ? undefined : new Uint8Array(snapshot.bytes);
    const seq = typeof snapshot.head?.seq === "number" ? snapshot.head.seq : 0;
    snapshot.ids.forEach((id, i) => {
      const at = snapshot.records[i] as number;
      if (src !== undefined) this.put(partition, id, src, at, seq);
      else if (this.ids === undefined || this.ids.has(id)) {
        const own = this.copyOut(snapshot.bytes, at);
        this.put(partition, id, own.src, own.at, seq);
      }
    });
  }

  /** @internal */
  apply(partition: number, entry: LogEntryLayout, seq: number): void {
    // Reports change performance, not the stored strategy; epochs and unknown kinds carry none.
    if (entry.op === LogOps.Report || entry.op === LogOps.Epoch || entry.records.length === 0) return;
    const { ids, records } = entry;
    const shared = !this.picks && records.length >= SHARE_MIN_RECORDS ? new Uint8Array(entry.bytes) : undefined;
    for (let i = 0; i < ids.length; i++) {
      const id = ids[i] as string;
      const at = records[i] as number;
      if (this.watching.has(id)) this.watching.set(id, { ...this.copyOut(entry.bytes, at), seq });
      if (this.owed.size !== 0) this.settle(id, entry.bytes, at);
      if (this.options.hot === true && !this.entries.has(id)) continue;
      if (shared !== undefined) this.put(partition, id, shared, at, seq);
      else if (this.ids === undefined || this.ids.has(id)) {
        const own = this.copyOut(entry.bytes, at);
        this.put(partition, id, own.src, own.at, seq);
      }
    }
  }

  private keeps(id: string): boolean {
    if (this.options.hot === true || this.options.all === true || this.families !== undefined) return true;
    if (this.ids !== undefined) return this.ids.has(id);
    return this.follower.partitions.includes(partitionOf(id, this.client.partitions));
  }

  private copyOut(bytes: Uint8Array, at: number): { src: Uint8Array; at: number; length: number } {
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    return { src: bytes.slice(at, at + 5 + length), at: 0, length };
  }

  private put(partition: number, id: string, src: Uint8Array, at: number, seq: number): void {
    const length = new DataView(src.buffer, src.byteOffset + at + 1, 4).getUint32(0);
    const previous = this.entries.get(id);
    // A hot cache's fetched answer may be newer than log entries still on their way: keep the newer.
    if (previous !== undefined && seq < previous.seq) return;
    if (this.owed.size !== 0 && this.owed.has(id)) this.settle(id, src, at);
    let view: Readonly<Strategy> | undefined;
    if (this.families !== undefined) {
      view = deepFreeze(decode(src.subarray(at + 5, at + 5 + length)) as Strategy);
      if (view.family === null || !this.families.has(view.family)) {
        if (previous !== undefined) this.remove(id, previous);
        return;
      }
    } else if (this.ids !== undefined && !this.ids.has(id)) return;
    const cost = ENTRY_OVERHEAD + length * (1 + VIEW_FACTOR);
    if (previous === undefined) {
      if (this.options.hot === true) this.evictFor(cost);
      else if (this.bytes + cost > this.maxBytes) {
        this.refused++;
        return;
      }
      this.entries.set(id, new Cached(src, at, length, partition, view, false, seq));
      if (view !== undefined) this.views.set(id, view);
      this.perPartition.set(partition, (this.perPartition.get(partition) ?? 0) + 1);
    } else {
      this.bytes -= ENTRY_OVERHEAD + previous.length * (1 + VIEW_FACTOR);
      previous.src = src;
      previous.at = at;
      previous.length = length;
      previous.seq = seq;
      previous.view = view;
      if (view !== undefined) this.views.set(id, view);
      else this.views.delete(id);
    }
    this.bytes += cost;
  }

  /** A logged version of `id` at least the one this client wrote settles what the cache owed. */
  private settle(id: string, bytes: Uint8Array, at: number): void {
    const owed = this.owed.get(id);
    if (owed === undefined) return;
    const length = new DataView(bytes.buffer, bytes.byteOffset + at + 1, 4).getUint32(0);
    if (versionIn(bytes, at, length) >= owed) this.owed.delete(id);
  }

  private remove(id: string, entry: Cached): void {
    this.entries.delete(id);
    this.views.delete(id);
    this.perPartition.set(entry.partition, (this.perPartition.get(entry.partition) ?? 1) - 1);
    this.bytes -= ENTRY_OVERHEAD + entry.length * (1 + VIEW_FACTOR);
  }

  private materialise(id: string, entry: Cached): Readonly<Strategy> {
    const view = deepFreeze(decode(entry.src.subarray(entry.at + 5, entry.at + 5 + entry.length)) as Strategy);
    entry.view = view;
    this.views.set(id, view);
    return view;
  }

  private versionOf(id: string, entry: Cached): number {
    return (entry.view ?? this.materialise(id, entry)).version;
  }

  /** Second-chance (clock) eviction: a lookup only sets a flag, so the hot path stays a map read. */
  private evictFor(cost: number): void {
    let guard = this.entries.size * 2 + 1;
    while (this.bytes + cost > this.maxBytes && this.entries.size > 0 && guard-- > 0) {
      let next = this.clockHand?.next();
      if (next === undefined || next.done === true) {
        this.clockHand = this.entries.entries();
        next = this.clockHand.next();
        if (next.done === true) return;
      }
      const [id, entry] = next.value;
      if (entry.used) entry.used = false;
      else {
        this.remove(id, entry);
        this.evicted++;
      }
    }
  }

  /**
   * Hot mode: fetches `id` from its shard and keeps it. The log is watched for
   * the id from before the request, and the shard's reply says how far its
   * partition had applied the log: an answer older than what this cache has
   * already followed past is asked again, so the kept version is never behind the log.
   */
  private async fetch(id: string, prefetch: boolean): Promise<Readonly<Strategy>> {
    const partition = partitionOf(id, this.client.partitions);
    this.watching.set(id, this.watching.get(id) ?? null);
    try {
      for (let attempt = 0; ; attempt++) {
        const passed = this.follower.appliedSeq(partition);
        const { strategy, seq } = await this.client.getAt(id);
        const seen = this.watching.get(id);
        if (seen != null && versionIn(seen.src, 0, seen.length) >= strategy.version) {
          // The log brought this version (or a newer one) while we asked.
          this.put(partition, id, seen.src, 0, seen.seq);
          break;
        }
        if (seq === undefined || seq >= passed) {
          this.keepDecoded(partition, id, strategy, seq ?? passed);
          break;
        }
        // The shard answered from before entries this cache has followed past: ask again, or answer without keeping it.
        if (attempt >= 3) return deepFreeze(strategy);
        await new Promise((resolve) => setTimeout(resolve, 2 * (attempt + 1)));
      }
    } finally {
      this.watching.delete(id);
    }
    const kept = this.entries.get(id);
    const view = kept === undefined ? undefined : (kept.view ?? this.materialise(id, kept));
    if (view === undefined) throw new Error(`near-cache could not keep ${id}`);
    if (prefetch) void this.prefetchAround(view);
    return view;
  }

  private keepDecoded(partition: number, id: string, strategy: Strategy, seq: number): void {
    const bytes = encode(strategy);
    const framed = new Uint8Array(5 + bytes.length);
    framed[0] = 0xc6;
    new DataView(framed.buffer).setUint32(1, bytes.length);
    framed.set(bytes, 5);
    this.put(partition, id, framed, 0, seq);
  }

  private async prefetchAround(strategy: Readonly<Strategy>): Promise<void> {
    const wanted = new Set<string>();
    if (this.options.prefetch?.dependencies !== false) for (const dep of strategy.dependencies) wanted.add(dep);
    if (this.options.prefetch?.family !== false && strategy.family !== null) {
      for (const id of await this.client.familyMembers(strategy.family).catch(() => [] as string[])) wanted.add(id);
    }
    wanted.delete(strategy.id);
    for (const id of wanted) {
      if (this.entries.has(id) || this.watching.has(id)) continue;
      await this.fetch(id, false).catch(() => undefined);
    }
  }
}
