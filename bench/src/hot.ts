/**
 * The hot paths, each beside its raw NATS baseline in the same run, with the
 * CPU each process spent per operation (`npm run bench -- --only hot`):
 *
 * - register-batch of 1000 (standard msgpack and records), 32 in flight, beside
 *   a raw JetStream append of the same bytes;
 * - get at 1 and 256 in flight three ways: the SDK's `client.get` as users call
 *   it, a bare `nc.request` of a pre-encoded get on the partition's subject, and
 *   the raw echo of a reply of the same size (a responder doing nothing else).
 *
 * Every request goes over one driver connection, with the same options for the
 * echo, the bare request and the SDK. The echo is also measured through the
 * SDK's own request path (RequestMux), which builds no error per request as
 * nats.js's `request()` does: the strictest baseline for the SDK's gets.
 * The shards are warmed up first (JIT, partitions holding strategies): the
 * figures are a running registry's, not a cold start's.
 *
 * On a shared machine one pass says little (the same code registered 128,000
 * and 234,000 strategies/s in two runs forty minutes apart; the raw append moved
 * by a factor of 2.8 within one run), so each figure is measured in rounds, the
 * registry and its baseline one after the other in every round (the gets' ways
 * in reverse order every other round), and the table gives the median of the
 * rounds and the median of the per-round ratios. Before each
 * registration pass, and before the gets, the store's file system is written
 * out (`sync -f`), so no pass pays for the disk writes of the one before it.
 */
import { execFileSync, spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { connect, headers, type Msg } from "@nats-io/transport-node";
import { clusterStatus, RequestMux, StratregClient } from "@stratreg/client";
import { ServiceSupervisor } from "@stratreg/launcher";
import type { NatsServerProcess } from "@stratreg/natsd";
import {
  decode,
  ENCODING_HEADER,
  Encodings,
  encode,
  PartitionOps,
  PROTOCOL_VERSION,
  type Reply,
} from "@stratreg/protocol";
import { type EncodedBatch, encodedBatches } from "./batches.js";
import { rawAppender } from "./cluster.js";
import { type CpuSpent, cpuMeter, perOperationUs } from "./cpu.js";
import { closedLoop, drain, type LoopResult } from "./loop.js";
import { fmt, median } from "./table.js";

const CLUSTER = "bench-hot";
const PARTITIONS = 256;
const CONCURRENCY = 32;
/** Batches registered before anything is timed: each shard's code gets compiled, its partitions hold strategies. */
const WARM_UP_BATCHES = 150;

/** A figure and the CPU per operation of each process behind it (µs). */
export interface Measured<T> {
  result: T;
  cpuUs: CpuSpent;
}

/** Gets one way and another, at one concurrency. */
export interface Gets {
  sdk: Measured<LoopResult>;
  bare: Measured<LoopResult>;
  echo: Measured<LoopResult>;
  /** The echo through the SDK's request path. */
  echoMux: Measured<LoopResult>;
}

/** One round of registration: each way beside the raw append of the same bytes. */
export interface Registration {
  maps: Measured<number>;
  records: Measured<number>;
  rawAppendMaps: Measured<number>;
  rawAppendRecords: Measured<number>;
}

export interface HotFigures {
  shards: number;
  /** Batches of 1000 per registration pass. */
  batches: number;
  batchBytes: { maps: number; records: number };
  /** One entry per round. */
  registration: Registration[];
  getC1: Gets[];
  getC256: Gets[];
  replyBytes: number;
  /** Register-batch requests sent again after going unanswered for 10 s (same command id). */
  resent: number;
}

export async function hotFigures(
  server: NatsServerProcess,
  say: (line: string) => void,
  options: { shards: number; quick: boolean },
): Promise<HotFigures> {
  const rounds = options.quick ? 1 : 3;
  const batches = options.quick ? 40 : 100;
  const getSeconds = options.quick ? 2 : 3;
  const supervisor = new ServiceSupervisor(
    {
      ...process.env,
      NATS_URL: server.url,
      STRATREG_CLUSTER: CLUSTER,
      STRATREG_PARTITIONS: String(PARTITIONS),
      LOG_LEVEL: "warn",
    },
    `${server.storeDir}/logs-hot`,
    say,
  );
  for (let i = 1; i <= options.shards; i++) supervisor.start(`hot-shard-${i}`);
  const nc = await connect({ servers: server.url, name: "bench-hot", noAsyncTraces: true });
  let echo: ReturnType<typeof spawn> | undefined;
  try {
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 60_000 });
    for (;;) {
      const status = await clusterStatus(nc, CLUSTER, PARTITIONS, 300);
      if (status.shards.length === options.shards && status.unserved.length === 0 && status.contested.length === 0)
        break;
      await new Promise((r) => setTimeout(r, 100));
    }
    const shardPids = Object.values(supervisor.pids()).filter((pid): pid is number => pid !== undefined);
    const roles = { shards: shardPids, natsServer: [server.pid], driver: [process.pid] };
    const measure = async <T>(ops: number | ((result: T) => number), work: () => Promise<T>): Promise<Measured<T>> => {
      const spent = cpuMeter(roles);
      const result = await work();
      return { result, cpuUs: perOperationUs(spent(), typeof ops === "number" ? ops : ops(result)) };
    };

    say(`hot paths: encoding ${WARM_UP_BATCHES} batches of 1000 to warm up…`);
    const warmUp = encodedBatches("hw", PARTITIONS, WARM_UP_BATCHES, 1000, false);
    const appendRaw = await rawAppender(nc, "bench-hot-raw", CONCURRENCY);
    // Dirty pages left by one pass are written back during the next: each pass starts with none.
    const settledDisk = () => execFileSync("sync", ["-f", server.storeDir]);
    const strategiesIn = (list: EncodedBatch[]) => list.reduce((n, b) => n + b.count, 0);
    const rawAppend = (list: EncodedBatch[]) => {
      settledDisk();
      const strategies = strategiesIn(list);
      return measure(strategies, async () => strategies / (await appendRaw(list)));
    };
    let resent = 0;
    const register = (list: EncodedBatch[], records: boolean) => {
      const h = records ? headers() : undefined;
      h?.set(ENCODING_HEADER, Encodings.Records);
      settledDisk();
      const strategies = strategiesIn(list);
      return measure(strategies, async () => {
        const seconds = await drain(list, CONCURRENCY, async (b) => {
          const subject = client.subjects.partition(b.partition, PartitionOps.RegisterBatch);
          // A shard starved of CPU past its lease's answer window stays silent rather than answer on a
          // lease it cannot vouch for: the request is sent again, with the same command id, and counted.
          let msg: Msg | undefined;
          for (let attempt = 0; msg === undefined; attempt++) {
            msg = await nc.request(subject, b.payload, { timeout: 10_000, headers: h }).catch((err: unknown) => {
              if (!(err instanceof Error && /timeout/i.test(`${err.name} ${err.message}`)) || attempt >= 5) throw err;
              resent++;
              return undefined;
            });
          }
          const reply = decode(msg.data) as Reply<{ registered: number }>;
          if (!reply.ok) throw new Error(`register-batch failed: ${reply.error.code} ${reply.error.message}`);
          if (reply.body.registered !== b.count) throw new Error("register-batch refused strategies");
        });
        return strategies / seconds;
      });
    };
    say("hot paths: warming the shards up…");
    await register(warmUp, false);
    const registration: Registration[] = [];
    // Gets ask for ids spread over every partition: 50 of each batch registered.
    const ids: string[] = [];
    const batchBytes = { maps: 0, records: 0 };
    for (let round = 0; round < rounds; round++) {
      say(
        `hot paths, round ${round + 1} of ${rounds}: encoding ${batches} batches of 1000 (maps and records); raw JetStream append, register-batch (maps), register-batch (records), raw append…`,
      );
      // Encoded before the clock starts, as the raw baseline's bytes are; a round's batches only, to keep the driver small.
      const maps = encodedBatches(`hm${round}`, PARTITIONS, batches, 1000, false);
      const records = encodedBatches(`hr${round}`, PARTITIONS, batches, 1000, true);
      const rawAppendMaps = await rawAppend(maps);
      const measuredMaps = await register(maps, false);
      const measuredRecords = await register(records, true);
      const rawAppendRecords = await rawAppend(records);
      registration.push({ maps: measuredMaps, records: measuredRecords, rawAppendMaps, rawAppendRecords });
      batchBytes.maps ||= maps[0]?.payload.length ?? 0;
      batchBytes.records ||= records[0]?.payload.length ?? 0;
      for (const b of maps) {
        const sent = (decode(b.payload) as { body: { strategies: Array<{ id: string }> } }).body.strategies;
        for (const s of sent.slice(0, 50)) ids.push(s.id);
      }
    }

    const sample = await nc.request(
      client.subjects.partition(client.partitionOf(ids[0] as string), PartitionOps.Get),
      encode({ v: PROTOCOL_VERSION, body: { id: ids[0] } }),
    );
    const replyBytes = sample.data.length;
    echo = spawn(
      process.execPath,
      [fileURLToPath(new URL("./echo.js", import.meta.url)), server.url, "bench.hot.echo", String(replyBytes)],
      { stdio: ["ignore", "pipe", "inherit"] },
    );
    await new Promise<void>((resolve) => echo?.stdout?.once("data", () => resolve()));
    const echoRoles = { ...roles, echo: [echo.pid as number] };
    const measureGets = async (work: () => Promise<LoopResult>): Promise<Measured<LoopResult>> => {
      const spent = cpuMeter(echoRoles);
      const result = await work();
      // The loop's warm-up is outside its count but inside the CPU reading: scale by time measured.
      return { result, cpuUs: perOperationUs(spent(), result.perSecond * (result.seconds + 1)) };
    };
    const bare = ids.map((id) => ({
      subject: client.subjects.partition(client.partitionOf(id), PartitionOps.Get),
      payload: encode({ v: PROTOCOL_VERSION, body: { id } }),
    }));
    const echoRequest = encode({ v: PROTOCOL_VERSION, body: { id: ids[0] } });
    /** The four ways at one concurrency, in order, or the reverse order (every other round, so no way always goes first). */
    const gets = async (concurrency: number, seconds: number, round: number): Promise<Gets> => {
      const pick = (w: number, i: number) => (w * 7919 + i) % ids.length;
      const mux = RequestMux.of(nc);
      const ways: Array<[keyof Gets, () => Promise<LoopResult>]> = [
        [
          "echo",
          () => closedLoop(concurrency, seconds, () => nc.request("bench.hot.echo", echoRequest, { timeout: 10_000 })),
        ],
        [
          "bare",
          () =>
            closedLoop(concurrency, seconds, async (w, i) => {
              const request = bare[pick(w, i)] as { subject: string; payload: Uint8Array };
              const msg = await nc.request(request.subject, request.payload, { timeout: 10_000 });
              if (!(decode(msg.data) as Reply<unknown>).ok) throw new Error("get failed");
            }),
        ],
        [
          "sdk",
          () =>
            closedLoop(concurrency, seconds, (w, i) => client.get(ids[pick(w, i)] as string, { timeoutMs: 10_000 })),
        ],
        [
          "echoMux",
          () => closedLoop(concurrency, seconds, () => mux.request("bench.hot.echo", echoRequest, { timeout: 10_000 })),
        ],
      ];
      if (round % 2 === 1) ways.reverse();
      say(`hot paths, round ${round + 1} of ${rounds}: get c${concurrency} (${ways.map(([way]) => way).join(", ")})…`);
      const measured: Partial<Gets> = {};
      for (const [way, loop] of ways) measured[way] = await measureGets(loop);
      return measured as Gets;
    };
    const getC1: Gets[] = [];
    const getC256: Gets[] = [];
    settledDisk();
    for (let round = 0; round < rounds; round++) {
      getC1.push(await gets(1, getSeconds, round));
      getC256.push(await gets(256, getSeconds, round));
    }
    return {
      shards: options.shards,
      batches,
      batchBytes,
      registration,
      getC1,
      getC256,
      replyBytes,
      resent,
    };
  } finally {
    echo?.kill("SIGTERM");
    await nc.drain().catch(() => undefined);
    await supervisor.stopAll();
  }
}

/** The median of each process's CPU per operation over the rounds. */
function medianCpu(rounds: Measured<unknown>[]): CpuSpent {
  const roles = Object.keys(rounds[0]?.cpuUs ?? {});
  return Object.fromEntries(roles.map((role) => [role, median(rounds.map((m) => m.cpuUs[role] ?? Number.NaN))]));
}

const cpu = (rounds: Measured<unknown>[]) =>
  Object.entries(medianCpu(rounds))
    .map(([role, us]) => `${role} ${fmt(us, 1)}`)
    .join(", ");

/** The median, and the range of the rounds when there were several; `unit` follows each figure. */
function spread(values: number[], digits = 0, unit = ""): string {
  const shown = (n: number) => `${fmt(n, digits)}${unit}`;
  if (values.length < 2) return shown(values[0] ?? Number.NaN);
  return `${shown(median(values))} (${shown(Math.min(...values))} to ${shown(Math.max(...values))})`;
}

/** The median of per-round ratios: each round's pair ran side by side. */
const ratio = (a: number[], b: number[], digits: number, unit = "") =>
  spread(
    a.map((x, i) => x / (b[i] as number)),
    digits,
    unit,
  );

/**
 * The hot-path table: throughput and ratio, then CPU µs per operation by process; with several
 * rounds, each cell is the median of the rounds (their range in brackets) and each ratio the
 * median of the rounds' ratios.
 */
export function hotTable(f: HotFigures): string {
  const r = f.registration;
  const of = (pick: (round: Registration) => Measured<number>) => r.map(pick);
  const rate = (list: Measured<number>[]) => list.map((m) => m.result);
  const registered = (name: string, way: Measured<number>[], raw: Measured<number>[]) =>
    `| register-batch of 1000, ${name} (strategies/s) | ${spread(rate(way))} | ${spread(rate(raw))} (raw append) | ${ratio(rate(way), rate(raw), 3)} | ${cpu(way)}; raw: ${cpu(raw)} |`;
  const lines = [
    `| figure (${f.shards} shards; ${r.length === 1 ? `one round of ${f.batches} batches and of gets` : `${r.length} rounds of ${f.batches} batches and of gets, medians`}) | registry | baseline | ratio | CPU µs per operation |`,
    "|---|---|---|---|---|",
    registered(
      "standard msgpack",
      of((x) => x.maps),
      of((x) => x.rawAppendMaps),
    ),
    registered(
      "msgpackr records",
      of((x) => x.records),
      of((x) => x.rawAppendRecords),
    ),
  ];
  for (const [name, rounds] of [
    ["1", f.getC1],
    ["256", f.getC256],
  ] as const) {
    const loops = (pick: (g: Gets) => Measured<LoopResult>) => rounds.map(pick);
    const rates = (list: Measured<LoopResult>[]) => list.map((m) => m.result.perSecond);
    const p50 = (list: Measured<LoopResult>[]) => list.map((m) => m.result.p50Us);
    const p99 = (list: Measured<LoopResult>[]) => list.map((m) => m.result.p99Us);
    const row = (label: string, way: Measured<LoopResult>[], base: Measured<LoopResult>[], baseLabel: string) =>
      `| get c${name}, ${label} (/s; p50 / p99 µs) | ${spread(rates(way))}; ${fmt(median(p50(way)))} / ${fmt(median(p99(way)))} | ${baseLabel === "" ? "" : `${spread(rates(base))}; ${fmt(median(p50(base)))} / ${fmt(median(p99(base)))} (${baseLabel})`} | ${ratio(rates(way), rates(base), 3)}; p50 ${ratio(p50(way), p50(base), 2, "×")} |`;
    const sdk = loops((g) => g.sdk);
    const echo = loops((g) => g.echo);
    const echoMux = loops((g) => g.echoMux);
    const bare = loops((g) => g.bare);
    lines.push(
      `${row("SDK client.get", sdk, echo, `echo ${f.replyBytes} B`)} ${cpu(sdk)}; echo: ${cpu(echo)} |`,
      `${row("bare request", bare, echo, "")} ${cpu(bare)} |`,
      `${row("SDK client.get against the echo through the SDK's request path", sdk, echoMux, "echo, RequestMux")} echo: ${cpu(echoMux)} |`,
    );
  }
  if (f.resent > 0) lines.push(`\n${f.resent} register-batch requests were sent again after 10 s unanswered.`);
  return `${lines.join("\n")}\n`;
}
