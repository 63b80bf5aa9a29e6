/**
 * Figures of the lifecycle, on a cluster of its own (one registry shard and a
 * risk guard on the bench's nats-server, JetStream file storage: every move is
 * acknowledged by the stream before it is answered):
 *
 * - lifecycle moves per second on one shard, at 64 in flight, each its own
 *   strategy (candidate → backtesting, then → retired), beside a raw JetStream
 *   append of an entry of the same size at the same concurrency;
 * - attach-evidence and validate per second (validation evaluates the gates:
 *   KV reads of the thresholds and the family's trials);
 * - the gates of a strategy with 10,000 trades of evidence: summarising the
 *   evidence in process (what attach-evidence does, Monte Carlo included),
 *   evaluating the gates on the summary in process, and the `gates` dry run's
 *   round trip.
 */
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { RiskClient, StratregClient } from "@stratreg/client";
import { type BacktestEvidence, DEFAULT_GATES, evaluateGates, summariseEvidence } from "@stratreg/quant";
import { goodEvidence, normalReturns } from "@stratreg/testkit";
import { type Server, settled, supervisor } from "./cluster.js";
import { drain, type LoopResult } from "./loop.js";
import { fmt, median, tableRow } from "./table.js";

const CLUSTER = "bench-life";
const CONCURRENCY = 64;

export interface LifecycleFigures {
  strategies: number;
  concurrency: number;
  /** candidate → backtesting and backtesting → retired, one strategy per move. */
  movesPerSecond: number;
  /** A raw JetStream append of an entry of the same size, same concurrency. */
  rawAppendsPerSecond: number;
  entryBytes: number;
  attachPerSecond: number;
  validatePerSecond: number;
  /** In process, for 10,000 trades (and 2,520 returns), median of the runs after a warm-up. */
  summariseMs: number;
  evaluateUs: number;
  /** The `gates` request's round trip for such a strategy, p50 and p99. */
  dryRun: Pick<LoopResult, "p50Us" | "p99Us" | "perSecond">;
}

/** Evidence with 10,000 trades over ten years of daily returns. */
function bigEvidence(): BacktestEvidence {
  const returns = normalReturns(2520, 0.0006, 0.005, 3);
  const folds: Array<[number, number]> = [];
  for (let start = 1680; start < 2520; start += 84) folds.push([start, start + 84]);
  return {
    returns,
    trades: normalReturns(10_000, 0.0015, 0.01, 4),
    oosStart: 1680,
    folds,
    perturbations: [{ param: "lookback", change: 0.1, sharpe: 1.6 }],
    regimes: returns.map((_, i) => (Math.floor(i / 126) % 2 === 0 ? "calm" : "storm")),
  };
}

/** Starts the cluster, then measures every lifecycle figure. */
export async function lifecycleFigures(
  server: Server,
  say: (line: string) => void,
  quick: boolean,
): Promise<LifecycleFigures> {
  const strategies = quick ? 2000 : 6000;
  const services = supervisor(server, CLUSTER, say);
  const nc = await connect({ servers: server.url, name: "bench-lifecycle" });
  try {
    services.start("life-shard-1");
    services.start("life-guard-1", "risk-guard");
    await settled(nc, CLUSTER, 1);
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 30_000 });
    const risk = new RiskClient(nc, { cluster: CLUSTER, timeoutMs: 10_000 });
    for (;;) {
      const state = await risk.state({ timeoutMs: 1000 }).catch(() => undefined);
      if (state?.state === "ACTIVE") break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const ids = Array.from({ length: strategies }, (_, i) => `life-${i}`);
    await client.registerMany(ids.map((id) => ({ id, name: id, owner: "bench", family: `fam-${id.length % 7}` })));
    say(`lifecycle: one shard, a risk guard, ${strategies} strategies; moves at ${CONCURRENCY} in flight…`);

    const move = (action: "backtest" | "retire") => (id: string) =>
      client.transition(id, action, { by: "bench", reason: "bench" });
    // Warm the shard's paths up on a few, then time two moves of every other strategy.
    const warm = ids.slice(0, 200);
    await drain(warm, CONCURRENCY, move("backtest"));
    const rest = ids.slice(200);
    const movesSeconds =
      (await drain(rest, CONCURRENCY, move("backtest"))) + (await drain(rest, CONCURRENCY, move("retire")));
    const movesPerSecond = (2 * rest.length) / movesSeconds;

    // The raw baseline: one stream, appends of the size of a move's entry, at the same concurrency.
    const sample = await client.get(ids[0] as string);
    const entryBytes = Buffer.byteLength(JSON.stringify(sample)) + 200;
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({ name: "bench-life-raw", subjects: ["bench.life.raw"], storage: StorageType.File });
    const js = jetstream(nc);
    const payload = new Uint8Array(entryBytes);
    const raw = Array.from({ length: 2 * rest.length }, (_, i) => i);
    const rawSeconds = await drain(raw, CONCURRENCY, () => js.publish("bench.life.raw", payload));
    await jsm.streams.delete("bench-life-raw");

    // Evidence and validation: a fresh set of strategies, the same small evidence each.
    const gated = Array.from({ length: quick ? 400 : 1500 }, (_, i) => `gated-${i}`);
    await client.registerMany(gated.map((id) => ({ id, name: id, owner: "bench", family: "gated" })));
    const evidence = goodEvidence();
    const attachSeconds = await drain(gated, CONCURRENCY, (id) => client.attachEvidence(id, evidence, { by: "bench" }));
    const validateSeconds = await drain(gated, CONCURRENCY, (id) =>
      client.transition(id, "validate", { by: "bench", reason: "bench" }).catch(() => undefined),
    );

    // The gates of a strategy with 10,000 trades of evidence.
    const big = bigEvidence();
    const summariseRuns: number[] = [];
    let summary = summariseEvidence(big, { seed: 1 });
    for (let i = 0; i < (quick ? 5 : 15); i++) {
      const t = performance.now();
      summary = summariseEvidence(big, { seed: i + 1 });
      summariseRuns.push(performance.now() - t);
    }
    const family = { trials: 100, sharpeVariance: null };
    for (let i = 0; i < 1000; i++) evaluateGates(summary, DEFAULT_GATES, family);
    const evaluateRuns: number[] = [];
    for (let i = 0; i < 20; i++) {
      const t = performance.now();
      for (let j = 0; j < 1000; j++) evaluateGates(summary, DEFAULT_GATES, family);
      evaluateRuns.push(((performance.now() - t) * 1000) / 1000);
    }
    await client.register({ id: "big-evidence", name: "big", owner: "bench", family: "big" });
    await client.attachEvidence("big-evidence", big as Parameters<typeof client.attachEvidence>[1], { by: "bench" });
    const latencies: number[] = [];
    const dryRunBegan = performance.now();
    const dryRuns = quick ? 200 : 1000;
    for (let i = 0; i < dryRuns; i++) {
      const t = performance.now();
      await client.gates("big-evidence");
      latencies.push((performance.now() - t) * 1000);
    }
    const dryRunSeconds = (performance.now() - dryRunBegan) / 1000;
    latencies.sort((a, b) => a - b);
    return {
      strategies,
      concurrency: CONCURRENCY,
      movesPerSecond,
      rawAppendsPerSecond: raw.length / rawSeconds,
      entryBytes,
      attachPerSecond: gated.length / attachSeconds,
      validatePerSecond: gated.length / validateSeconds,
      summariseMs: median(summariseRuns),
      evaluateUs: median(evaluateRuns),
      dryRun: {
        p50Us: latencies[Math.floor(latencies.length / 2)] ?? Number.NaN,
        p99Us: latencies[Math.floor(latencies.length * 0.99)] ?? Number.NaN,
        perSecond: dryRuns / dryRunSeconds,
      },
    };
  } finally {
    await nc.close().catch(() => undefined);
    await services.stopAll();
  }
}

const row = (cells: [string, string, string, string]) => tableRow(cells, [66, -12, 40, -6]);

/** The lifecycle figures as a markdown table. */
export function lifecycleTable(f: LifecycleFigures): string {
  const lines = [
    row(["lifecycle figure", "registry", "baseline", "ratio"]),
    row(["---", "---", "---", "---"]),
    row([
      `lifecycle moves, one shard, durable, ${f.concurrency} in flight (moves/s)`,
      fmt(f.movesPerSecond),
      `${fmt(f.rawAppendsPerSecond)} (raw JetStream append, ${f.entryBytes} B)`,
      fmt(f.movesPerSecond / f.rawAppendsPerSecond, 2),
    ]),
    row(["  attach-evidence, 1,260 returns + 1,200 trades (per s)", fmt(f.attachPerSecond), "", ""]),
    row(["  validate, gates evaluated (per s)", fmt(f.validatePerSecond), "", ""]),
    row([
      "gates, 10,000 trades: summarise the evidence in process (ms, median)",
      fmt(f.summariseMs, 1),
      "1,000 Monte Carlo resamples included",
      "",
    ]),
    row(["  evaluate the gates on the summary in process (µs)", fmt(f.evaluateUs, 1), "", ""]),
    row([
      "  `gates` dry run round trip p50 / p99 (µs)",
      `${fmt(f.dryRun.p50Us)} / ${fmt(f.dryRun.p99Us)}`,
      `${fmt(f.dryRun.perSecond)}/s one at a time`,
      "",
    ]),
  ];
  return `${lines.join("\n")}\n`;
}
