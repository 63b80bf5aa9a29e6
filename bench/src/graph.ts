/**
 * Figures of the dependency graph, on a cluster of its own (4 registry shards
 * and a graph process on the bench's nats-server):
 *
 * - dependency-edge additions per second, each cycle-checked by the graph
 *   leader, between random strategies of 100,000 registered across 4 shards, at
 *   64 requests in flight; beside the ceiling of a serial writer, back-to-back
 *   JetStream appends each stating the sequence it follows (what every decision
 *   must do), measured in the same run;
 * - impact analysis of a strategy with 10,000 transitive dependents (a 4-ary
 *   tree under it, built with the same link requests): the `impact` round trip.
 */
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { StratregClient, StratregError } from "@stratreg/client";
import { type Server, settled, supervisor } from "./cluster.js";
import { drain } from "./loop.js";
import { fmt, tableRow } from "./table.js";

const CLUSTER = "bench-graph";
const SHARDS = 4;
const CONCURRENCY = 64;

export interface GraphFigures {
  strategies: number;
  shards: number;
  concurrency: number;
  /** Random edges (lower index depends on... never: higher on lower, so all are accepted), cycle-checked. */
  edgesPerSecond: number;
  edgeP50Us: number;
  edgeP99Us: number;
  edgesAdded: number;
  /** Serial fenced appends back to back: the ceiling of any one writer. */
  fencedAppendsPerSecond: number;
  /** The tree under the impact root, built at the same concurrency. */
  treeEdgesPerSecond: number;
  dependents: number;
  impactDepth: number;
  impactP50Ms: number;
  impactP99Ms: number;
  /** Edges in the graph when impact was measured. */
  graphEdges: number;
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;

/** Starts the cluster, then measures the graph's figures. */
export async function graphFigures(server: Server, say: (line: string) => void, quick: boolean): Promise<GraphFigures> {
  const strategies = quick ? 20_000 : 100_000;
  const dependents = quick ? 2_000 : 10_000;
  const seconds = quick ? 3 : 10;
  const services = supervisor(server, CLUSTER, say);
  const nc = await connect({ servers: server.url, name: "bench-graph" });
  try {
    for (let i = 1; i <= SHARDS; i++) services.start(`graph-shard-${i}`);
    await settled(nc, CLUSTER, SHARDS);
    services.start("graph-1", "graph");
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 30_000 });
    for (;;) {
      const status = await client.graphStatus({ timeoutMs: 1000 }).catch(() => undefined);
      if (status?.leader === true) break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const id = (i: number) => `dep-${i}`;
    say(`graph: registering ${strategies} strategies on ${SHARDS} shards…`);
    await client.registerMany(
      Array.from({ length: strategies }, (_, i) => ({ id: id(i), name: id(i), owner: "bench" })),
    );

    // The tree under dep-0: node i depends on node ⌊(i − 1) / 4⌋.
    say(`graph: a tree of ${dependents} dependents under ${id(0)}…`);
    const tree = Array.from({ length: dependents }, (_, i) => i + 1);
    const treeSeconds = await drain(tree, CONCURRENCY, (i) =>
      client.link(id(i), [id(Math.floor((i - 1) / 4))], { by: "bench" }),
    );

    // Random edges among the rest, higher index on lower: a DAG by construction, every edge checked.
    say(`graph: random edges for ${seconds} s at ${CONCURRENCY} in flight…`);
    let seed = 42;
    const random = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return Math.floor((seed / 2147483648) * n);
    };
    const latencies: number[] = [];
    let added = 0;
    const deadline = performance.now() + seconds * 1000;
    const began = performance.now();
    await Promise.all(
      Array.from({ length: CONCURRENCY }, async () => {
        while (performance.now() < deadline) {
          const a = dependents + 1 + random(strategies - dependents - 1);
          const b = dependents + 1 + random(strategies - dependents - 1);
          if (a === b) continue;
          const t = performance.now();
          try {
            const reply = await client.link(id(Math.max(a, b)), [id(Math.min(a, b))], { by: "bench" });
            added += reply.changed.length;
          } catch (err) {
            // Past 64 dependencies a strategy takes no more: rare at this density.
            if (!(err instanceof StratregError)) throw err;
          }
          latencies.push((performance.now() - t) * 1000);
        }
      }),
    );
    const edgeSeconds = (performance.now() - began) / 1000;
    latencies.sort((x, y) => x - y);

    // The ceiling of one writer: appends back to back, each expecting the last sequence.
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "bench-graph-raw", subjects: ["bench.graph.raw"], storage: StorageType.File });
    const js = jetstream(nc);
    const payload = new Uint8Array(80);
    let last = 0;
    const appends = quick ? 2000 : 10_000;
    const rawBegan = performance.now();
    for (let i = 0; i < appends; i++) {
      last = (await js.publish("bench.graph.raw", payload, { expect: { lastSequence: last } })).seq;
    }
    const rawSeconds = (performance.now() - rawBegan) / 1000;
    await jsm.streams.delete("bench-graph-raw");

    say("graph: impact analysis…");
    const impacts: number[] = [];
    let depth = 0;
    let found = 0;
    for (let i = 0; i < (quick ? 20 : 50); i++) {
      const t = performance.now();
      const reply = await client.impact(id(0), { limit: 100_000 });
      impacts.push(performance.now() - t);
      found = reply.nodes.length;
      depth = reply.nodes.at(-1)?.depth ?? 0;
    }
    impacts.sort((x, y) => x - y);
    const status = await client.graphStatus();
    return {
      strategies,
      shards: SHARDS,
      concurrency: CONCURRENCY,
      edgesPerSecond: added / edgeSeconds,
      edgeP50Us: percentile(latencies, 0.5),
      edgeP99Us: percentile(latencies, 0.99),
      edgesAdded: added,
      fencedAppendsPerSecond: appends / rawSeconds,
      treeEdgesPerSecond: dependents / treeSeconds,
      dependents: found,
      impactDepth: depth,
      impactP50Ms: percentile(impacts, 0.5),
      impactP99Ms: percentile(impacts, 0.99),
      graphEdges: status.edges,
    };
  } finally {
    await nc.close().catch(() => undefined);
    await services.stopAll();
  }
}

const row = (cells: [string, string, string, string]) => tableRow(cells, [70, -14, 44, -6]);

/** The graph figures as a markdown table. */
export function graphTable(f: GraphFigures): string {
  return `${[
    row(["dependency graph figure", "registry", "baseline", "ratio"]),
    row(["---", "---", "---", "---"]),
    row([
      `edge additions, cycle-checked, ${fmt(f.strategies)} strategies on ${f.shards} shards, ${f.concurrency} in flight (edges/s)`,
      fmt(f.edgesPerSecond),
      `${fmt(f.fencedAppendsPerSecond)} (serial fenced JetStream appends)`,
      fmt(f.edgesPerSecond / f.fencedAppendsPerSecond, 2),
    ]),
    row([
      "  one link round trip p50 / p99 (µs)",
      `${fmt(f.edgeP50Us)} / ${fmt(f.edgeP99Us)}`,
      `${fmt(f.edgesAdded)} edges added`,
      "",
    ]),
    row(["  building a 4-ary tree under one strategy (edges/s)", fmt(f.treeEdgesPerSecond), "", ""]),
    row([
      `impact analysis, ${fmt(f.dependents)} transitive dependents, ${f.impactDepth} deep, p50 / p99 (ms)`,
      `${fmt(f.impactP50Ms, 1)} / ${fmt(f.impactP99Ms, 1)}`,
      `graph of ${fmt(f.graphEdges)} edges`,
      "",
    ]),
  ].join("\n")}\n`;
}
