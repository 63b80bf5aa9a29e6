/**
 * Figures of the rankings, on a cluster of their own (4 shards and a ranker on
 * the bench's nats-server), each beside its baseline in the same run: report
 * ingestion beside a raw JetStream append of the same bytes, the freshness of
 * the global top-k under a background report stream, the ranker's `top` beside
 * Redis ZREVRANGE and the raw echo, and the cost of one online metric update.
 */
import { spawn } from "node:child_process";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { DiscardPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import { gaussian, SyntheticMarket, uniform } from "@stratreg/launcher";
import {
  decode,
  encode,
  PartitionOps,
  type PerformanceReport,
  PROTOCOL_VERSION,
  RankerOps,
  type Reply,
  type ReportReply,
  type StrategyInput,
} from "@stratreg/protocol";
import { ReturnAccumulator } from "@stratreg/quant";
import { type EncodedBatch, encodedBatches } from "./batches.js";
import { PARTITIONS, register, type Server, sendWrite, settled, supervisor } from "./cluster.js";
import { type FreshnessFigures, freshnessFigures, PROBE_FAMILY, probeIds } from "./freshness.js";
import { closedLoop, drain, type LoopResult } from "./loop.js";
import { type RedisTopFigures, redisTopFigures } from "./redis.js";
import { encodedReportDay } from "./reports.js";
import { fmt, tableRow } from "./table.js";

const CLUSTER = "bench-ranking";
const SHARDS = 4;
const TICK_MS = 100;
const PERIODS = 10;
/** Days sent pre-encoded on the partition subjects, then through `client.report`. */
const ROUNDS = 5;
const SDK_ROUNDS = 2;
const CONCURRENCY = 32;
const BACKGROUND_STRATEGIES = 10_000;
const BACKGROUND_PER_SECOND = 300;
const TOP_K = 100;
const TOP_CONCURRENCY = 64;
/** The synthetic market's first day, and a day, as it counts them. */
const MARKET_START = Date.UTC(2026, 0, 1);
const DAY_MS = 86_400_000;

export interface IngestionFigures {
  requests: number;
  reportsPerRequest: number;
  periodsPerReport: number;
  concurrency: number;
  requestBytes: number;
  returns: number;
  returnsPerSecond: number;
  /** Requests sent again (the same bytes): unanswered for 10 s, no responders, or a retryable error. */
  retries: number;
  rawJetStreamReturnsPerSecond: number;
  /** The same reports (other days) given to `client.report`, which groups and encodes them. */
  sdkReturns: number;
  sdkReturnsPerSecond: number;
}

export interface TopFigures {
  /** Strategies the ranker ranked by Sharpe (its `rank` of one of them, `of`). */
  ranked: number;
  k: number;
  concurrency: number;
  replyBytes: number;
  registry: LoopResult;
  rawEcho: LoopResult;
  redis: RedisTopFigures | undefined;
}

export interface AccumulatorFigures {
  adds: number;
  addNs: number;
  metricsCalls: number;
  metricsNs: number;
}

export interface RankingFigures {
  strategies: number;
  shards: number;
  tickMs: number;
  ingestion: IngestionFigures;
  freshness: FreshnessFigures;
  top: TopFigures;
  accumulator: AccumulatorFigures;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Polls `check` every 200 ms until it is true; throws after `timeoutMs`. */
async function until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
  const deadline = performance.now() + timeoutMs;
  while (!(await check())) {
    if (performance.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}

/** Starts a cluster of 4 shards and a ranker, registers the strategies, and measures every ranking figure. */
export async function rankingFigures(
  server: Server,
  say: (line: string) => void,
  quick: boolean,
): Promise<RankingFigures> {
  const strategies = quick ? 20_000 : 100_000;
  const trials = quick ? 20 : 60;
  const topSeconds = quick ? 2 : 5;
  const services = supervisor(server, CLUSTER, say, { STRATREG_TOPK_TICK_MS: String(TICK_MS) });
  for (let i = 1; i <= SHARDS; i++) services.start(`ranking-${i}`);
  const nc = await connect({ servers: server.url, name: "bench-ranking" });
  try {
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 30_000 });
    await settled(nc, CLUSTER, SHARDS);
    services.start("ranking-ranker", "ranker");
    await until("the ranker to hold every partition", 60_000, async () => {
      const status = await client.askRanker<{ held: number }>(RankerOps.Status, {}).catch(() => ({ held: 0 }));
      return status.held === PARTITIONS;
    });
    say(`rankings: registering ${strategies.toLocaleString("en-US")} strategies…`);
    const batches = encodedBatches("rank", PARTITIONS, strategies / 1000, 1000, false);
    await register(nc, client, batches);
    const probes = probeIds(trials);
    const probed = await client.registerMany(
      probes.map((id) => ({ id, name: `freshness ${id}`, owner: "bench", family: PROBE_FAMILY })),
    );
    if (probed.registered !== probes.length) throw new Error("the freshness probes were not all registered");
    const inputs = batches.flatMap(
      (b) => (decode(b.payload) as { body: { strategies: StrategyInput[] } }).body.strategies,
    );

    const market = new SyntheticMarket(inputs, 11, MARKET_START);
    const ingestion = await ingestionFigures(nc, client, market, batches, say);

    say("rankings: waiting for the ranker to rank every strategy…");
    const first = inputs[0]?.id as string;
    let ranked = 0;
    await until("the ranker to rank every strategy", 120_000, async () => {
      ranked = (await client.rank({ id: first, metric: "sharpe" }, { timeoutMs: 10_000 })).of;
      return ranked >= strategies;
    });

    const reportsSent = ROUNDS + SDK_ROUNDS;
    const background = new SyntheticMarket(
      inputs.slice(0, BACKGROUND_STRATEGIES),
      13,
      MARKET_START + reportsSent * PERIODS * DAY_MS,
    );
    say(`rankings: ${trials} freshness trials, ${BACKGROUND_PER_SECOND} reports/s in the background…`);
    const freshness = await freshnessFigures(client, probes, background, reportsSent, BACKGROUND_PER_SECOND, say);

    await sleep(2 * TICK_MS + 1000);
    const top = await topFigures(nc, client, server.url, ranked, topSeconds, say);
    top.redis = await redisTopFigures(
      inputs.map((s) => s.id),
      TOP_CONCURRENCY,
      topSeconds,
      say,
    );
    await services.stopAll();
    say("rankings: ReturnAccumulator in process…");
    const accumulator = accumulatorCost(quick ? 2_000_000 : 10_000_000, quick ? 200_000 : 1_000_000);
    return { strategies, shards: SHARDS, tickMs: TICK_MS, ingestion, freshness, top, accumulator };
  } finally {
    await nc.close().catch(() => undefined);
    await services.stopAll();
  }
}

/** Throws unless a report request applied every report it carried, in order. */
function checkReport(reply: ReportReply, reports: number): void {
  const refused = reply.rejected.length + reply.late.length + reply.gaps.length + reply.duplicates.length;
  if (reply.accepted !== reports || refused > 0) {
    throw new Error(
      `report applied ${reply.accepted} of ${reports}: ${JSON.stringify({ ...reply, rejected: reply.rejected.slice(0, 3) })}`,
    );
  }
}

/**
 * ROUNDS days, pre-encoded, on the partition subjects (each batch's days one
 * after another, so every strategy's reports arrive in order), beside a raw
 * JetStream append of the same bytes; then SDK_ROUNDS days through `client.report`.
 */
async function ingestionFigures(
  nc: NatsConnection,
  client: StratregClient,
  market: SyntheticMarket,
  batches: EncodedBatch[],
  say: (line: string) => void,
): Promise<IngestionFigures> {
  say(`rankings: encoding ${ROUNDS} days of ${batches.length} report requests…`);
  const days = Array.from({ length: ROUNDS }, () => encodedReportDay(market, batches, PERIODS));
  const lanes = batches.map((_, i) => days.map((day) => day[i] as (typeof day)[number]));
  const requests = days.flat();
  const returns = requests.reduce((n, r) => n + r.returns, 0);

  const jsm = await jetstreamManager(nc);
  const js = jetstream(nc);
  const raw = `${CLUSTER}-raw`;
  await jsm.streams.add({ name: raw, subjects: [`${raw}.*`], storage: StorageType.File, discard: DiscardPolicy.Old });
  say("rankings: raw JetStream append of the report requests…");
  const rawSeconds = await drain(lanes, CONCURRENCY, async (lane) => {
    for (const r of lane) await js.publish(`${raw}.${r.partition}`, r.payload, { timeout: 60_000 });
  });
  await jsm.streams.delete(raw);

  say("rankings: report ingestion…");
  let retries = 0;
  const seconds = await drain(lanes, CONCURRENCY, async (lane) => {
    for (const r of lane) {
      const subject = client.subjects.partition(r.partition, PartitionOps.Report);
      const reply = await sendWrite<ReportReply>(nc, subject, r.payload, { onRetry: () => retries++ });
      checkReport(reply, r.reports);
    }
  });

  say("rankings: report ingestion through client.report…");
  const sdkDays: PerformanceReport[][] = Array.from({ length: SDK_ROUNDS }, () => market.nextDay(PERIODS));
  const sdkReturns = sdkDays.reduce((n, day) => n + day.reduce((m, r) => m + (r.returns?.length ?? 0), 0), 0);
  const began = performance.now();
  for (const day of sdkDays) {
    checkReport(await client.report(day, { concurrency: CONCURRENCY, timeoutMs: 60_000 }), day.length);
  }
  const sdkSeconds = (performance.now() - began) / 1000;
  return {
    requests: requests.length,
    reportsPerRequest: requests[0]?.reports ?? 0,
    periodsPerReport: PERIODS,
    concurrency: CONCURRENCY,
    requestBytes: requests[0]?.payload.length ?? 0,
    returns,
    returnsPerSecond: returns / seconds,
    retries,
    rawJetStreamReturnsPerSecond: returns / rawSeconds,
    sdkReturns,
    sdkReturnsPerSecond: sdkReturns / sdkSeconds,
  };
}

/**
 * `top` k = 100 by Sharpe, compact (rank, id and score: what ZREVRANGE … WITHSCORES gives),
 * 64 in flight, beside a raw echo answering with as many bytes.
 */
async function topFigures(
  nc: NatsConnection,
  client: StratregClient,
  url: string,
  ranked: number,
  seconds: number,
  say: (line: string) => void,
): Promise<TopFigures> {
  const query = { metric: "sharpe", k: TOP_K, compact: true } as const;
  const sample = await nc.request(
    client.subjects.ranker(RankerOps.Top),
    encode({ v: PROTOCOL_VERSION, deadlineMs: 10_000, body: query }),
    { timeout: 10_000 },
  );
  const answered = decode(sample.data) as Reply<{ entries: unknown[] }>;
  if (!answered.ok || answered.body.entries.length !== TOP_K) throw new Error("top did not answer k entries");
  const replyBytes = sample.data.length;
  const subject = `${CLUSTER}.echo`;
  const echo = spawn(
    process.execPath,
    [fileURLToPath(new URL("./echo.js", import.meta.url)), url, subject, String(replyBytes)],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  try {
    await new Promise<void>((resolve) => echo.stdout?.once("data", () => resolve()));
    say(`rankings: top k=${TOP_K} over ${ranked.toLocaleString("en-US")} strategies, ${TOP_CONCURRENCY} in flight…`);
    const registry = await closedLoop(TOP_CONCURRENCY, seconds, () => client.top(query, { timeoutMs: 10_000 }));
    const request = encode({ v: PROTOCOL_VERSION, body: query });
    const rawEcho = await closedLoop(TOP_CONCURRENCY, seconds, () => nc.request(subject, request, { timeout: 10_000 }));
    return { ranked, k: TOP_K, concurrency: TOP_CONCURRENCY, replyBytes, registry, rawEcho, redis: undefined };
  } finally {
    echo.kill("SIGTERM");
  }
}

/** ns per `ReturnAccumulator.add` over `adds` returns, and per `metrics()`, after a warm-up. */
export function accumulatorCost(adds: number, metricsCalls: number): AccumulatorFigures {
  const normal = gaussian(uniform(5));
  const returns = Float64Array.from({ length: 4096 }, () => 0.0004 + 0.01 * normal());
  const accumulator = new ReturnAccumulator();
  for (let i = 0; i < 1_000_000; i++) accumulator.add(returns[i & 4095] as number);
  let began = performance.now();
  for (let i = 0; i < adds; i++) accumulator.add(returns[i & 4095] as number);
  const addNs = ((performance.now() - began) * 1e6) / adds;
  // Summed so that the calls are not optimised away.
  let sink = 0;
  for (let i = 0; i < 10_000; i++) sink += accumulator.metrics().sharpe;
  began = performance.now();
  for (let i = 0; i < metricsCalls; i++) sink += accumulator.metrics().sharpe;
  const metricsNs = ((performance.now() - began) * 1e6) / metricsCalls;
  if (!Number.isFinite(sink)) throw new Error("the accumulator's Sharpe ratio is not finite");
  return { adds, addNs, metricsCalls, metricsNs };
}

const row = (cells: [string, string, string, string, string]) => tableRow(cells, [70, -16, 42, -7, 10]);

/** The ranking figures as a table: figure | registry | baseline | ratio | target. */
export function rankingTable(r: RankingFigures): string {
  const { ingestion: i, freshness: f, top: t, accumulator: a } = r;
  const redis =
    t.redis === undefined
      ? row([
          "top k=100 against Redis ZREVRANGE 0 99 WITHSCORES (queries/s)",
          fmt(t.registry.perSecond),
          "skipped: no redis-server",
          "",
          "≥ 2",
        ])
      : row([
          `top k=${t.k} over ${fmt(t.ranked)} strategies, ${t.concurrency} in flight (/s)`,
          fmt(t.registry.perSecond),
          `${fmt(t.redis.loop.perSecond)} (Redis ${t.redis.version} ZREVRANGE)`,
          fmt(t.registry.perSecond / t.redis.loop.perSecond, 2),
          "≥ 2",
        ]);
  const lines = [
    row(["ranking figure", "registry", "baseline", "ratio", "target"]),
    row(["---", "---", "---", "---", "---"]),
    row([
      `report ingestion, ${i.reportsPerRequest} reports × ${i.periodsPerReport} returns, ${i.concurrency} in flight (returns/s)`,
      fmt(i.returnsPerSecond),
      `${fmt(i.rawJetStreamReturnsPerSecond)} (JetStream append, same bytes)`,
      fmt(i.returnsPerSecond / i.rawJetStreamReturnsPerSecond, 2),
      "≥ 500,000",
    ]),
    row([
      "report ingestion through client.report (returns/s)",
      fmt(i.sdkReturnsPerSecond),
      `${fmt(i.returnsPerSecond)} (pre-encoded)`,
      fmt(i.sdkReturnsPerSecond / i.returnsPerSecond, 2),
      "—",
    ]),
    row([
      `freshness, report ack → top-1 of its family, p50 / p99 (ms)`,
      `${fmt(f.ackToTopP50Ms)} / ${fmt(f.ackToTopP99Ms)}`,
      `${fmt(f.backgroundReportsPerSecond)} reports/s behind, ${r.tickMs} ms tick`,
      "",
      "p99 ≤ 250",
    ]),
    redis,
    row([
      "  the same against the raw echo of its reply size (/s)",
      fmt(t.registry.perSecond),
      `${fmt(t.rawEcho.perSecond)} (echo, ${fmt(t.replyBytes)} B)`,
      fmt(t.registry.perSecond / t.rawEcho.perSecond, 2),
      "—",
    ]),
    row(["ReturnAccumulator.add (ns per return)", fmt(a.addNs, 1), "", "", "—"]),
    row(["ReturnAccumulator.metrics() (ns per call)", fmt(a.metricsNs, 1), "", "", "—"]),
  ];
  if (i.retries > 0)
    lines.push(
      `(${i.retries} report requests were sent again: unanswered for 10 s, no responders, or retryable errors)`,
    );
  if (f.missed > 0) lines.push(`(${f.missed} of ${f.trials} freshness trials never saw their strategy at the top)`);
  return `${lines.join("\n")}\n`;
}
