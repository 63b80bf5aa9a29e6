/**
 * The genealogy figure, on a cluster of its own (2 shards and a search
 * process): one root with 100,000 descendants by default (a tree where every
 * strategy has 10 children: 6 generations), registered through the SDK, then
 * the `lineage` query for all its descendants (depth 64, reaching every one;
 * the reply lists the first 1,000 and counts the rest), p50 and p99 over rounds,
 * beside the `status` round trip to the same process (the floor of any search
 * request).
 */
import { performance } from "node:perf_hooks";
import { connect } from "@nats-io/transport-node";
import { type StrategyInput, StratregClient } from "@stratreg/client";
import { type Server, settled, supervisor } from "./cluster.js";
import { fmt } from "./table.js";

const CLUSTER = "bench-genealogy";
const SHARDS = 2;
/** Children per strategy in the tree. */
const BRANCHING = 10;

export interface GenealogyFigures {
  descendants: number;
  /** Generations below the root. */
  generations: number;
  registerSeconds: number;
  rounds: number;
  lineage: { p50Ms: number; p99Ms: number; total: number; listed: number; truncated: boolean };
  status: { p50Ms: number; p99Ms: number };
}

const percentile = (sorted: number[], q: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;

/** Strategy `i` of the tree: 0 is the root, the parent of `i` is `(i - 1) / BRANCHING` rounded down. */
function treeStrategy(i: number): StrategyInput {
  const id = `gen-${i}`;
  const base = { id, name: `Lineage ${i}`, owner: "bench", family: "lineage" };
  return i === 0
    ? { ...base, origin: "manual" }
    : { ...base, parents: [`gen-${Math.floor((i - 1) / BRANCHING)}`], origin: "variation" };
}

async function timed(rounds: number, run: () => Promise<unknown>): Promise<number[]> {
  const times: number[] = [];
  for (let r = 0; r < rounds; r++) {
    const t0 = performance.now();
    await run();
    times.push(performance.now() - t0);
  }
  return times.sort((a, b) => a - b);
}

export async function genealogyFigures(
  server: Server,
  say: (line: string) => void,
  options: { descendants: number; quick: boolean },
): Promise<GenealogyFigures> {
  const services = supervisor(server, CLUSTER, say);
  for (let i = 1; i <= SHARDS; i++) services.start(`gen-shard-${i}`);
  const nc = await connect({ servers: server.url, name: "bench-genealogy" });
  try {
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 60_000 });
    await settled(nc, CLUSTER, SHARDS);
    const count = options.descendants + 1;
    say(`genealogy: registering a root and ${options.descendants} descendants…`);
    let t0 = performance.now();
    for (let from = 0; from < count; from += 10_000) {
      const chunk = Array.from({ length: Math.min(10_000, count - from) }, (_, k) => treeStrategy(from + k));
      const result = await client.registerMany(chunk, { timeoutMs: 60_000 });
      if (result.registered !== chunk.length) throw new Error(`registered ${result.registered} of ${chunk.length}`);
    }
    const registerSeconds = (performance.now() - t0) / 1000;
    let generations = 0;
    for (let last = count - 1; last > 0; last = Math.floor((last - 1) / BRANCHING)) generations++;

    services.start("gen-search-1", "search");
    for (;;) {
      const status = await client.searchStatus({ timeoutMs: 60_000 }).catch(() => undefined);
      if (status !== undefined && status.strategies >= count && status.lag.ms !== null) break;
      say(`  search holds ${status?.strategies ?? 0} of ${count}…`);
      await new Promise((r) => setTimeout(r, 1000));
    }
    const rounds = options.quick ? 10 : 50;
    let reply = await client.lineage({ id: "gen-0", direction: "descendants", depth: 64 });
    if (reply.total !== options.descendants) {
      throw new Error(`lineage reached ${reply.total} of ${options.descendants} descendants`);
    }
    t0 = performance.now();
    const lineageTimes = await timed(rounds, async () => {
      reply = await client.lineage({ id: "gen-0", direction: "descendants", depth: 64 });
    });
    const statusTimes = await timed(rounds, () => client.searchStatus());
    const figures: GenealogyFigures = {
      descendants: options.descendants,
      generations,
      registerSeconds,
      rounds,
      lineage: {
        p50Ms: percentile(lineageTimes, 0.5),
        p99Ms: percentile(lineageTimes, 0.99),
        total: reply.total,
        listed: reply.nodes.length - 1,
        truncated: reply.truncated,
      },
      status: { p50Ms: percentile(statusTimes, 0.5), p99Ms: percentile(statusTimes, 0.99) },
    };
    say(`genealogy: lineage of ${options.descendants} descendants p50 ${figures.lineage.p50Ms.toFixed(1)} ms`);
    return figures;
  } finally {
    await nc.close().catch(() => undefined);
    await services.stopAll();
  }
}

export function genealogyTable(f: GenealogyFigures): string {
  return [
    `genealogy (one search process; a root and ${fmt(f.descendants)} descendants, ${BRANCHING} children each, ${f.generations} generations; registered in ${fmt(f.registerSeconds, 1)} s; ${f.rounds} rounds)`,
    "",
    "| query | p50 ms | p99 ms | reached | listed |",
    "| --- | ---: | ---: | ---: | ---: |",
    `| lineage: descendants of the root, depth 64 | ${fmt(f.lineage.p50Ms, 1)} | ${fmt(f.lineage.p99Ms, 1)} | ${fmt(f.lineage.total)} | ${fmt(f.lineage.listed)} |`,
    `| status (the round trip to the same process) | ${fmt(f.status.p50Ms, 1)} | ${fmt(f.status.p99Ms, 1)} | | |`,
    "",
  ].join("\n");
}
