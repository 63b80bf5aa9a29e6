/**
 * The near-cache and search figures, on a cluster of their own (4 shards):
 * - lookups in a near-cache holding every strategy (1,000,000 by default) on
 *   one core, beside `Map.get` on the same keys: per-lookup time (p50, p99 of
 *   blocks of 16, the timer's own cost taken off), lookups/s, bytes allocated
 *   per lookup (heap growth over 5 million lookups, GCs counted) and memory per
 *   cached strategy;
 * - propagation: from a write's acknowledgement to every one of 4 near-caches
 *   holding the new version (p50, p99, max);
 * - search over the same strategies: how long a search process takes to load
 *   them, its memory, and the latency of a multi-criteria query, a broad scan,
 *   a selective and a broad full-text query, and a similarity query.
 */
import { PerformanceObserver, performance } from "node:perf_hooks";
import v8 from "node:v8";
import vm from "node:vm";
import { connect } from "@nats-io/transport-node";
import { type NearCache, StratregClient } from "@stratreg/client";
import { sampleId } from "@stratreg/launcher";
import { encodedBatches } from "./batches.js";
import { PARTITIONS, register, type Server, settled, supervisor } from "./cluster.js";
import { fmt } from "./table.js";

const CLUSTER = "bench-nc";
const SHARDS = 4;
const BLOCK = 16;

v8.setFlagsFromString("--expose-gc");
const gc = vm.runInNewContext("gc") as () => void;

export interface LookupFigures {
  perSecond: number;
  p50Ns: number;
  p99Ns: number;
  p999Ns: number;
  /** Heap growth per lookup over the allocation run, bytes. */
  bytesPerLookup: number;
  /** Garbage collections during the allocation run. */
  gcs: number;
  /** Share of lookups answered (a near-cache that cannot tell it is current answers none). */
  answered: number;
}

export interface SearchLatency {
  query: string;
  p50Ms: number;
  p99Ms: number;
  total: number;
}

export interface NearCacheFigures {
  strategies: number;
  registerSeconds: number;
  loadSeconds: number;
  /** Heap + external + array buffers per cached strategy, before and after every one was read once. */
  bytesPerStrategy: number;
  bytesPerStrategyRead: number;
  lookup: LookupFigures;
  mapGet: LookupFigures;
  /** From the write's acknowledgement (and from sending it) to every cache holding the new version. */
  propagation: {
    writes: number;
    caches: number;
    p50Ms: number;
    p99Ms: number;
    maxMs: number;
    fromSendP50Ms: number;
    fromSendP99Ms: number;
  };
  search?: {
    loadSeconds: number;
    rssMb: number;
    latencies: SearchLatency[];
  };
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

function shuffled<T>(items: T[]): T[] {
  let seed = 12345;
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    const j = seed % (i + 1);
    [out[i], out[j]] = [out[j] as T, out[i] as T];
  }
  return out;
}

function memoryNow(): number {
  gc();
  gc();
  const m = process.memoryUsage();
  return m.heapUsed + m.external;
}

const yieldToLoop = () => new Promise((resolve) => setImmediate(resolve));

/**
 * Times `get` over `keys`: throughput, per-lookup block times, and allocation.
 * Lookups run in slices of 100,000 with the event loop let in between, as in a
 * service (a near-cache stops answering when its probes cannot run for longer
 * than its lag bound); every lookup must find its key.
 */
async function measureLookups(keys: string[], get: (key: string) => unknown, seconds: number): Promise<LookupFigures> {
  const n = keys.length;
  const SLICE = 100_000;
  let found = 0;
  let asked = 0;
  const slice = (from: number, count: number) => {
    for (let i = 0; i < count; i++) if (get(keys[(from + i) % n] as string) !== undefined) found++;
    asked += count;
  };
  // Warm up (and let the JIT settle on this call site).
  for (let done = 0; done < Math.min(n, 2_000_000); done += SLICE) {
    slice(done, SLICE);
    await yieldToLoop();
  }
  // Throughput, over the slices' own time.
  let ops = 0;
  let busy = 0;
  while (busy < seconds * 1000) {
    const t0 = performance.now();
    slice(ops, SLICE);
    busy += performance.now() - t0;
    ops += SLICE;
    await yieldToLoop();
  }
  const perSecond = ops / (busy / 1000);
  // Per-lookup times from blocks of BLOCK lookups, minus the timer's own cost.
  let overhead = Number.POSITIVE_INFINITY;
  for (let r = 0; r < 10_000; r++) {
    const t0 = performance.now();
    const t1 = performance.now();
    overhead = Math.min(overhead, t1 - t0);
  }
  const blocks: number[] = [];
  for (let b = 0; b < 200_000; b++) {
    const base = (b * BLOCK * 7919) % n;
    const t0 = performance.now();
    slice(base, BLOCK);
    blocks.push(((performance.now() - t0 - overhead) * 1e6) / BLOCK);
    if (b % 5000 === 0) await yieldToLoop();
  }
  blocks.sort((a, b) => a - b);
  // Allocation: heap growth inside slices of lookups, with GCs counted (a GC would hide growth).
  let gcs = 0;
  const observer = new PerformanceObserver((list) => {
    gcs += list.getEntries().length;
  });
  observer.observe({ entryTypes: ["gc"] });
  let grown = 0;
  const runs = 5_000_000;
  gc();
  for (let done = 0; done < runs; done += SLICE) {
    const before = v8.getHeapStatistics().used_heap_size;
    slice(done, SLICE);
    grown += Math.max(0, v8.getHeapStatistics().used_heap_size - before);
    await yieldToLoop();
  }
  observer.disconnect();
  // A near-cache stops answering when it cannot tell it is current (a starved probe): that must be rare here.
  if (found < asked * 0.999) throw new Error(`${asked - found} of ${asked} lookups found nothing`);
  return {
    perSecond,
    p50Ns: Math.max(0, percentile(blocks, 0.5)),
    p99Ns: Math.max(0, percentile(blocks, 0.99)),
    p999Ns: Math.max(0, percentile(blocks, 0.999)),
    bytesPerLookup: grown / runs,
    gcs,
    answered: found / asked,
  };
}

/** Acknowledged updates, and when every cache holds each. */
async function propagation(
  writer: StratregClient,
  caches: NearCache[],
  ids: string[],
  seconds: number,
): Promise<NearCacheFigures["propagation"]> {
  const pending: Array<{ id: string; version: number; at: number; sent: number }> = [];
  const delays: number[] = [];
  const fromSend: number[] = [];
  let running = true;
  const watcher = (async () => {
    while (running || pending.length > 0) {
      const now = performance.now();
      for (let i = pending.length - 1; i >= 0; i--) {
        const p = pending[i] as (typeof pending)[number];
        if (caches.every((c) => (c.lookup(p.id)?.version ?? 0) >= p.version)) {
          delays.push(Math.max(0, now - p.at));
          fromSend.push(now - p.sent);
          pending.splice(i, 1);
        } else if (now - p.at > 30_000) throw new Error(`${p.id} v${p.version} never reached every cache`);
      }
      await new Promise((r) => setImmediate(r));
    }
  })();
  const until = performance.now() + seconds * 1000;
  let n = 0;
  while (performance.now() < until) {
    const id = ids[n++ % ids.length] as string;
    const current = await writer.get(id);
    const sent = performance.now();
    const updated = await writer.update(id, current.version, { description: `propagation ${n}` });
    pending.push({ id, version: updated.version, at: performance.now(), sent });
    await new Promise((r) => setTimeout(r, 5));
  }
  running = false;
  await watcher;
  delays.sort((a, b) => a - b);
  fromSend.sort((a, b) => a - b);
  return {
    writes: delays.length,
    caches: caches.length,
    p50Ms: percentile(delays, 0.5),
    p99Ms: percentile(delays, 0.99),
    maxMs: delays.at(-1) ?? 0,
    fromSendP50Ms: percentile(fromSend, 0.5),
    fromSendP99Ms: percentile(fromSend, 0.99),
  };
}

async function searchLatencies(
  client: StratregClient,
  say: (line: string) => void,
  strategies: number,
  rounds: number,
  likeId: string,
): Promise<NonNullable<NearCacheFigures["search"]>> {
  for (;;) {
    const status = await client.searchStatus({ timeoutMs: 60_000 }).catch(() => undefined);
    if (status !== undefined && status.strategies >= strategies && status.lag.ms !== null && status.lag.ms < 2000)
      break;
    say(`  search holds ${status?.strategies ?? 0} of ${strategies}…`);
    await new Promise((r) => setTimeout(r, 5000));
  }
  const status = (await client.searchStatus()) as unknown as { rss: number; loadedInMs: number };
  const loadSeconds = status.loadedInMs / 1000;
  const queries: Array<[string, () => Promise<{ total?: number; hits: unknown[] }>]> = [
    [
      "multi-criteria: family, owner, venue, tag, parameter, ORDER BY updatedAt",
      () =>
        client.search({
          filter:
            "family = 'momentum' AND owner = 'quant-alpha' AND venues = 'XNAS' AND tags = 'intraday' AND param.lookback > 50 ORDER BY updatedAt DESC LIMIT 20",
        }),
    ],
    [
      "scan of every strategy: parameter OR name LIKE, ORDER BY id",
      () => client.search({ filter: "param.spreadBps > 99.5 OR name LIKE '%#99999%' ORDER BY id LIMIT 20" }),
    ],
    [
      "full text, selective: a strategy's number",
      () => client.search({ text: String(Number.parseInt(likeId.slice(3), 36)), fuzzy: false }),
    ],
    ["full text, broad with a typo: 'momentm breakout'", () => client.search({ text: "momentm breakout" })],
    ["similar by content, k = 10", () => client.similar({ id: likeId, k: 10 })],
  ];
  const latencies: SearchLatency[] = [];
  for (const [query, run] of queries) {
    const times: number[] = [];
    let total = 0;
    for (let r = 0; r < rounds; r++) {
      const t0 = performance.now();
      const reply = await run();
      times.push(performance.now() - t0);
      total = reply.total ?? reply.hits.length;
    }
    times.sort((a, b) => a - b);
    latencies.push({ query, p50Ms: percentile(times, 0.5), p99Ms: percentile(times, 0.99), total });
    say(`  ${query}: p50 ${percentile(times, 0.5).toFixed(1)} ms (${total} matches)`);
  }
  return { loadSeconds, rssMb: status.rss / 2 ** 20, latencies };
}

export async function nearCacheFigures(
  server: Server,
  say: (line: string) => void,
  options: { strategies: number; quick: boolean; search: boolean },
): Promise<NearCacheFigures> {
  // A million strategies decoded and indexed need more than the default heap in the search process.
  const shards = supervisor(server, CLUSTER, say, { NODE_OPTIONS: "--max-old-space-size=12288" });
  for (let i = 1; i <= SHARDS; i++) shards.start(`nc-shard-${i}`);
  const nc = await connect({ servers: server.url, name: "bench-near-cache" });
  const writerNc = await connect({ servers: server.url, name: "bench-near-cache-writer" });
  const caches: NearCache[] = [];
  try {
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 60_000 });
    await settled(nc, CLUSTER, SHARDS);
    const batches = encodedBatches("nc", PARTITIONS, Math.ceil(options.strategies / 1000), 1000, false);
    const strategies = batches.length * 1000;
    say(`near-cache: registering ${strategies} strategies on ${SHARDS} shards…`);
    let t0 = performance.now();
    await register(nc, client, batches);
    const registerSeconds = (performance.now() - t0) / 1000;
    batches.length = 0;

    const before = memoryNow();
    t0 = performance.now();
    // A 5 s bound: a full GC of a heap holding a million decoded strategies pauses the probes for
    // a second or more on this machine, and the cache rightly stops answering past its bound.
    const cache = await client.nearCache({ all: true, maxBytes: 16 * 2 ** 30, maxLagMs: 5000 });
    caches.push(cache);
    const loadSeconds = (performance.now() - t0) / 1000;
    const held = cache.stats().strategies;
    if (held < strategies) throw new Error(`the near-cache holds ${held} of ${strategies}`);
    const bytesPerStrategy = (memoryNow() - before) / held;
    say(`near-cache: ${held} strategies loaded in ${loadSeconds.toFixed(1)} s`);

    // Every strategy read once (decoded into its view), a slice at a time so the probes run between.
    const keys: string[] = [];
    // Batches are filled per partition, so the ids registered reach past `strategies` by up to a batch per partition.
    const all = shuffled(Array.from({ length: strategies + PARTITIONS * 1000 }, (_, i) => sampleId("nc", i)));
    for (let i = 0; i < all.length; i += 50_000) {
      for (const id of all.slice(i, i + 50_000)) if (cache.lookup(id) !== undefined) keys.push(id);
      await new Promise((r) => setImmediate(r));
    }
    if (keys.length !== held) throw new Error(`${keys.length} of the ${held} strategies held were found`);
    const bytesPerStrategyRead = (memoryNow() - before) / held;
    const seconds = options.quick ? 1 : 3;
    say("near-cache: lookups…");
    const lookup = await measureLookups(keys, (key) => cache.lookup(key), seconds);
    const map = new Map<string, unknown>();
    for (const key of keys) map.set(`${key} `.slice(0, -1), cache.lookup(key));
    say("Map.get on the same keys…");
    const mapGet = await measureLookups(keys, (key) => map.get(key), seconds);
    map.clear();

    say("propagation to 4 near-caches…");
    const writer = await StratregClient.connect(writerNc, { cluster: CLUSTER, timeoutMs: 60_000 });
    const updated = keys.slice(0, 2000);
    for (let i = 0; i < 3; i++) caches.push(await client.nearCache({ ids: updated }));
    const spread = await propagation(writer, caches, updated, options.quick ? 2 : 6);

    // Search starts last: loading a million strategies takes a core, which the figures above must not share.
    if (options.search) shards.start("nc-search-1", "search");
    const search = options.search
      ? await searchLatencies(client, say, strategies, options.quick ? 5 : 20, keys[0] as string)
      : undefined;
    return {
      strategies: held,
      registerSeconds,
      loadSeconds,
      bytesPerStrategy,
      bytesPerStrategyRead,
      lookup,
      mapGet,
      propagation: spread,
      search,
    };
  } finally {
    for (const cache of caches) await cache.close().catch(() => undefined);
    await writerNc.close().catch(() => undefined);
    await nc.close().catch(() => undefined);
    await shards.stopAll();
  }
}

export function nearCacheTable(f: NearCacheFigures): string {
  const row = (name: string, l: LookupFigures) =>
    `| ${name} | ${fmt(l.p50Ns)} | ${fmt(l.p99Ns)} | ${fmt(l.p999Ns)} | ${fmt(l.perSecond)} | ${fmt(l.bytesPerLookup, 2)} | ${l.gcs} |`;
  const lines = [
    `near-cache: ${fmt(f.strategies)} strategies (registered in ${fmt(f.registerSeconds, 1)} s on 4 shards), loaded in ${fmt(f.loadSeconds, 1)} s; ${fmt(f.bytesPerStrategy)} B per strategy held, ${fmt(f.bytesPerStrategyRead)} B once each was read (decoded view)`,
    "",
    "| one core, same keys | p50 ns | p99 ns | p99.9 ns | lookups/s | bytes/lookup | GCs |",
    "| --- | ---: | ---: | ---: | ---: | ---: | ---: |",
    row("near-cache lookup", f.lookup),
    row("Map.get", f.mapGet),
    `| ratio (near-cache / Map.get) lookups/s | | | | ${fmt(f.lookup.perSecond / f.mapGet.perSecond, 2)} | | |`,
    "",
    `propagation to all ${f.propagation.caches} near-caches (${f.propagation.writes} updates): from the acknowledgement p50 ${fmt(f.propagation.p50Ms, 2)} ms, p99 ${fmt(f.propagation.p99Ms, 2)} ms, max ${fmt(f.propagation.maxMs, 2)} ms; from sending the write p50 ${fmt(f.propagation.fromSendP50Ms, 2)} ms, p99 ${fmt(f.propagation.fromSendP99Ms, 2)} ms`,
  ];
  if (f.search !== undefined) {
    lines.push(
      "",
      `search over ${fmt(f.strategies)} strategies (one search process: loaded in ${fmt(f.search.loadSeconds)} s, RSS ${fmt(f.search.rssMb)} MB)`,
      "",
      "| query | p50 ms | p99 ms | matches |",
      "| --- | ---: | ---: | ---: |",
      ...f.search.latencies.map((l) => `| ${l.query} | ${fmt(l.p50Ms, 1)} | ${fmt(l.p99Ms, 1)} | ${fmt(l.total)} |`),
    );
  }
  return `${lines.join("\n")}\n`;
}
