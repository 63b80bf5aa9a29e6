/**
 * npm run bench [-- --json FILE] [--quick] [--memory-strategies N] [--only hot|join|recovery|ranking|risk|console|lifecycle|discovery|near-cache|genealogy|graph|versions] [--noise-runs N] [--cache-strategies N] [--skip-search] [--genealogy-descendants N] [--versions-subjects N]
 *
 * Starts a nats-server, 4 registry shards and a raw echo responder, then
 * measures each registry figure beside its raw NATS baseline on the same
 * server in the same run, and prints a table (ratios are what to compare on a
 * shared, noisy machine); then the ranking figures and the risk guard's, each
 * on a cluster of their own; then the miner's candidate evaluation, one core
 * beside the worker pool (no NATS: `--only discovery` starts no server).
 */
import { spawn } from "node:child_process";
import { writeFileSync } from "node:fs";
import { performance } from "node:perf_hooks";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { connect, headers } from "@nats-io/transport-node";
import { clusterStatus, StratregClient } from "@stratreg/client";
import { ServiceSupervisor } from "@stratreg/launcher";
import { ensureNatsServer, requireNatsServer, startNatsCluster, startNatsServer } from "@stratreg/natsd";
import { decode, ENCODING_HEADER, Encodings, encode, PartitionOps, type Reply } from "@stratreg/protocol";
import { type EncodedBatch, encodedBatches } from "./batches.js";
import { rawAppender } from "./cluster.js";
import { consoleFigures, consoleTable } from "./console.js";
import { decodeComparison } from "./decode.js";
import { discoveryFigures, discoveryTable } from "./discovery.js";
import { discoveryRunFigures, discoveryRunTable } from "./discovery-runs.js";
import { genealogyFigures, genealogyTable } from "./genealogy.js";
import { graphFigures, graphTable } from "./graph.js";
import { hotFigures, hotTable } from "./hot.js";
import { lifecycleFigures, lifecycleTable } from "./lifecycle.js";
import { closedLoop, drain, type LoopResult } from "./loop.js";
import { type ModeFigures, modeFigures } from "./modes.js";
import { nearCacheFigures, nearCacheTable } from "./near-cache.js";
import { type JoinFigures, joinFigures, type RecoveryFigures, recoveryFigures } from "./ownership.js";
import { rankingFigures, rankingTable } from "./ranking.js";
import { riskFigures, riskTable } from "./risk.js";
import { fmt, tableRow } from "./table.js";
import { versionsFigures, versionsTable } from "./versions.js";

const { values } = parseArgs({
  options: {
    json: { type: "string" },
    quick: { type: "boolean", default: false },
    "memory-strategies": { type: "string" },
    shards: { type: "string", default: "4" },
    "recovery-strategies": { type: "string" },
    "updates-each": { type: "string", default: "10" },
    "skip-modes": { type: "boolean", default: false },
    only: { type: "string" },
    "noise-runs": { type: "string" },
    "cache-strategies": { type: "string" },
    "skip-search": { type: "boolean", default: false },
    "genealogy-descendants": { type: "string" },
    "versions-subjects": { type: "string" },
  },
});
const quick = values.quick === true;
/** Random-walk discovery runs for the false-discovery figure (59 with none publishing bound the rate below 5 %). */
const noiseRuns = Number(values["noise-runs"] ?? (quick ? 2 : 10));
if (!(Number.isInteger(noiseRuns) && noiseRuns >= 1)) throw new Error("--noise-runs must be a count ≥ 1");
const SHARDS = Number(values.shards);
const PARTITIONS = 256;
const CLUSTER = "bench";
const GET_SECONDS = quick ? 2 : 5;
const C1_SECONDS = quick ? 2 : 4;
const REG_BATCHES = quick ? 40 : 200;
const REG_CONCURRENCY = 32;
const MEMORY_STRATEGIES = Number(values["memory-strategies"] ?? (quick ? 100_000 : 1_000_000));
const RECOVERY_STRATEGIES = Number(values["recovery-strategies"] ?? (quick ? 25_000 : 250_000));
const UPDATES_EACH = Number(values["updates-each"]);

const say = (line: string) => process.stderr.write(`${line}\n`);

async function main() {
  if (values.only === "discovery") {
    const discovery = await discoveryFigures(say, quick);
    const discoveryRuns = await discoveryRunFigures(say, noiseRuns);
    process.stdout.write(discoveryTable(discovery));
    process.stdout.write(`\n${discoveryRunTable(discoveryRuns)}`);
    if (values.json !== undefined) {
      writeFileSync(values.json, `${JSON.stringify({ discovery, discoveryRuns }, null, 2)}\n`);
    }
    return;
  }
  if (values.only === "console") {
    // Its own server: the console needs a WebSocket listener.
    const figures = await consoleFigures(say, quick);
    process.stdout.write(consoleTable(figures));
    if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ console: figures }, null, 2)}\n`);
    return;
  }
  const server = await startNatsServer({ bin: requireNatsServer() });
  say(`nats-server ${server.version} on ${server.url}`);
  if (values.only === "ranking") {
    try {
      const ranking = await rankingFigures(server, say, quick);
      process.stdout.write(rankingTable(ranking));
      if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ ranking }, null, 2)}\n`);
    } finally {
      await server.stop();
    }
    return;
  }
  if (values.only === "risk") {
    try {
      const risk = await riskFigures(server, say, quick);
      process.stdout.write(riskTable(risk));
      if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ risk }, null, 2)}\n`);
    } finally {
      await server.stop();
    }
    return;
  }
  if (values.only === "lifecycle") {
    try {
      const lifecycle = await lifecycleFigures(server, say, quick);
      process.stdout.write(lifecycleTable(lifecycle));
      if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ lifecycle }, null, 2)}\n`);
    } finally {
      await server.stop();
    }
    return;
  }
  if (values.only === "genealogy") {
    try {
      const genealogy = await genealogyFigures(server, say, {
        descendants: Number(values["genealogy-descendants"] ?? (quick ? 10_000 : 100_000)),
        quick,
      });
      process.stdout.write(genealogyTable(genealogy));
      if (values.json !== undefined)
        writeFileSync(
          values.json,
          `${JSON.stringify({ genealogy }, null, 2)}
`,
        );
    } finally {
      await server.stop();
    }
    return;
  }
  if (values.only === "hot") {
    try {
      const hot = await hotFigures(server, say, { shards: SHARDS, quick });
      process.stdout.write(hotTable(hot));
      if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ hot }, null, 2)}\n`);
    } finally {
      await server.stop();
    }
    return;
  }
  if (values.only === "graph") {
    try {
      const graph = await graphFigures(server, say, quick);
      process.stdout.write(graphTable(graph));
      if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ graph }, null, 2)}\n`);
    } finally {
      await server.stop();
    }
    return;
  }
  if (values.only === "versions") {
    try {
      const versions = await versionsFigures(server, say, {
        quick,
        subjects: Number(values["versions-subjects"] ?? (quick ? 100_000 : 1_000_000)),
      });
      process.stdout.write(versionsTable(versions));
      if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ versions }, null, 2)}\n`);
    } finally {
      await server.stop();
    }
    return;
  }
  if (values.only === "near-cache") {
    try {
      const nearCache = await nearCacheFigures(server, say, {
        strategies: Number(values["cache-strategies"] ?? (quick ? 100_000 : 1_000_000)),
        quick,
        search: values["skip-search"] !== true,
      });
      process.stdout.write(nearCacheTable(nearCache));
      if (values.json !== undefined) writeFileSync(values.json, `${JSON.stringify({ nearCache }, null, 2)}\n`);
    } finally {
      await server.stop();
    }
    return;
  }
  if (values.only === "join" || values.only === "recovery") {
    // One figure alone, for working on it (the full table needs the whole run).
    try {
      const figure =
        values.only === "join"
          ? await joinFigures(server, say, quick ? 2 : 4)
          : await recoveryFigures(server, RECOVERY_STRATEGIES, UPDATES_EACH, say);
      process.stdout.write(`${JSON.stringify(figure, null, 2)}\n`);
    } finally {
      await server.stop();
    }
    return;
  }
  const startShards = () => {
    const shards = new ServiceSupervisor(
      {
        ...process.env,
        NATS_URL: server.url,
        STRATREG_CLUSTER: CLUSTER,
        STRATREG_PARTITIONS: String(PARTITIONS),
        LOG_LEVEL: "warn",
      },
      `${server.storeDir}/logs`,
      say,
    );
    for (let i = 1; i <= SHARDS; i++) shards.start(`bench-shard-${i}`);
    return shards;
  };
  let supervisor = startShards();
  const echo = spawn(
    process.execPath,
    [fileURLToPath(new URL("./echo.js", import.meta.url)), server.url, "bench.echo", "420"],
    {
      stdio: ["ignore", "pipe", "inherit"],
    },
  );
  await new Promise<void>((resolve) => echo.stdout?.once("data", () => resolve()));

  const nc = await connect({ servers: server.url, name: "bench" });
  try {
    const client = await StratregClient.connect(nc, { cluster: CLUSTER, timeoutMs: 30_000 });
    const settled = async () => {
      for (;;) {
        const status = await clusterStatus(nc, CLUSTER, PARTITIONS, 300);
        if (status.shards.length === SHARDS && status.unserved.length === 0 && status.contested.length === 0) return;
        await new Promise((r) => setTimeout(r, 100));
      }
    };
    await settled();
    say(`${SHARDS} shards serving ${PARTITIONS} partitions`);
    const baseline = await clusterStatus(nc, CLUSTER, PARTITIONS, 300);
    const rssBefore = baseline.shards.reduce((n, s) => n + s.rss, 0);

    // --- batch registration: registry (maps, records) beside a raw JetStream append of the same bytes
    const rawRun = await rawAppender(nc, "bench-raw", REG_CONCURRENCY);
    const registerRun = async (batches: EncodedBatch[], records: boolean) => {
      const h = records ? headers() : undefined;
      h?.set(ENCODING_HEADER, Encodings.Records);
      let rejected = 0;
      const seconds = await drain(batches, REG_CONCURRENCY, async (b) => {
        const msg = await nc.request(client.subjects.partition(b.partition, PartitionOps.RegisterBatch), b.payload, {
          timeout: 60_000,
          headers: h,
        });
        const reply = decode(msg.data) as Reply<{ registered: number }>;
        if (!reply.ok) throw new Error(`register-batch failed: ${reply.error.code} ${reply.error.message}`);
        rejected += b.count - reply.body.registered;
      });
      if (rejected > 0) throw new Error(`${rejected} strategies were rejected`);
      return seconds;
    };

    say(`encoding ${REG_BATCHES} batches of 1000 (maps and records)…`);
    const mapBatches = encodedBatches("bm", PARTITIONS, REG_BATCHES, 1000, false);
    const recordBatches = encodedBatches("br", PARTITIONS, REG_BATCHES, 1000, true);
    const strategiesPerRun = REG_BATCHES * 1000;
    say("raw JetStream append…");
    const rawSeconds = await rawRun(mapBatches);
    say("register-batch, standard msgpack…");
    const mapSeconds = await registerRun(mapBatches, false);
    say("register-batch, record encoding…");
    const recordSeconds = await registerRun(recordBatches, true);
    const rawRecordSeconds = await rawRun(recordBatches);

    // --- get: c1 latency and c256 throughput, beside a raw echo
    const ids = registeredIds(mapBatches, 10_000);
    const request = encode({ v: 1, body: { id: "bm-000000" } });
    say("get c1…");
    const echoC1 = await closedLoop(1, C1_SECONDS, () => nc.request("bench.echo", request));
    const getC1 = await closedLoop(1, C1_SECONDS, (_w, i) => client.get(ids[i % ids.length] as string));
    say("get c256…");
    const echoC256 = await closedLoop(256, GET_SECONDS, () => nc.request("bench.echo", request, { timeout: 10_000 }));
    const getC256 = await closedLoop(256, GET_SECONDS, (w, i) =>
      client.get(ids[(w * 7919 + i) % ids.length] as string, { timeoutMs: 10_000 }),
    );

    // --- memory: fill to MEMORY_STRATEGIES and read each shard's resident set
    const registeredSoFar = 2 * strategiesPerRun;
    const fill = Math.max(0, Math.ceil((MEMORY_STRATEGIES - registeredSoFar) / 1000));
    say(`filling to ${fmt(registeredSoFar + fill * 1000)} strategies for the memory figure…`);
    for (let done = 0; done < fill; done += 100) {
      const chunk = encodedBatches(`fill${done}`, PARTITIONS, Math.min(100, fill - done), 1000, false);
      await registerRun(chunk, false);
    }
    await new Promise((r) => setTimeout(r, 3000));
    const after = await clusterStatus(nc, CLUSTER, PARTITIONS, 500);
    const rssAfter = after.shards.reduce((n, s) => n + s.rss, 0);
    const heapAfter = after.shards.reduce((n, s) => n + s.heapUsed, 0);
    const decodeFigures = decodeComparison();

    // --- recovery: stop every shard, start them again, time until every partition is served from the logs
    say(`restarting all shards to time the recovery of ${fmt(after.strategies)} strategies…`);
    await supervisor.stopAll();
    const recoveryBegan = performance.now();
    supervisor = startShards();
    await settled();
    const recoverySeconds = (performance.now() - recoveryBegan) / 1000;
    const recovered = await clusterStatus(nc, CLUSTER, PARTITIONS, 500);
    const sample = await client.getMany(ids.slice(0, 1000), { timeoutMs: 30_000 });
    if (sample.missing.length > 0) throw new Error(`${sample.missing.length} strategies missing after recovery`);
    await supervisor.stopAll();

    // --- ownership: one shard's recovery with and without history; a shard joining under load
    const ownershipRecovery = await recoveryFigures(server, RECOVERY_STRATEGIES, UPDATES_EACH, say);
    const join = await joinFigures(server, say, quick ? 2 : 4);
    const modes = values["skip-modes"] === true ? [] : await deploymentModes(server.storeDir);
    const ranking = await rankingFigures(server, say, quick);
    const risk = await riskFigures(server, say, quick);
    const lifecycle = await lifecycleFigures(server, say, quick);
    const discovery = await discoveryFigures(say, quick);
    const discoveryRuns = await discoveryRunFigures(say, noiseRuns);

    const results = {
      machine: {
        cpus: (await import("node:os")).cpus().length,
        node: process.version,
        natsServer: server.version,
        shards: SHARDS,
        quick,
      },
      getC1: { registry: getC1, rawEcho: echoC1 },
      getC256: { registry: getC256, rawEcho: echoC256, ratio: getC256.perSecond / echoC256.perSecond },
      registration: {
        strategiesPerRun,
        batchSize: 1000,
        concurrency: REG_CONCURRENCY,
        mapsPerSecond: strategiesPerRun / mapSeconds,
        recordsPerSecond: strategiesPerRun / recordSeconds,
        rawJetStreamPerSecond: strategiesPerRun / rawSeconds,
        rawJetStreamRecordsBytesPerSecond: strategiesPerRun / rawRecordSeconds,
        batchBytesMaps: mapBatches[0]?.payload.length,
        batchBytesRecords: recordBatches[0]?.payload.length,
      },
      decode: decodeFigures,
      recovery: { strategies: recovered.strategies, seconds: recoverySeconds },
      ownershipRecovery,
      join,
      modes,
      ranking,
      risk,
      lifecycle,
      discovery,
      discoveryRuns,
      memory: {
        strategies: after.strategies,
        rssBytes: rssAfter,
        rssBaselineBytes: rssBefore,
        bytesPerStrategy: (rssAfter - rssBefore) / after.strategies,
        heapBytesPerStrategy: heapAfter / after.strategies,
      },
    };
    printTable(results);
    printModes(modes);
    process.stdout.write(`\n${rankingTable(ranking)}`);
    process.stdout.write(`\n${riskTable(risk)}`);
    process.stdout.write(`\n${lifecycleTable(lifecycle)}`);
    process.stdout.write(`\n${discoveryTable(discovery)}`);
    process.stdout.write(`\n${discoveryRunTable(discoveryRuns)}`);
    if (values.json !== undefined) {
      writeFileSync(values.json, `${JSON.stringify(results, null, 2)}\n`);
      say(`figures written to ${values.json}`);
    }
  } finally {
    await nc.close().catch(() => undefined);
    echo.kill("SIGTERM");
    await supervisor.stopAll();
    await server.stop();
  }
}

/**
 * The same hot figures on a server new enough for the other modes (>= 2.10.27): its default
 * durability, `sync_interval: always`, and a 3-node cluster with every stream replicated.
 */
async function deploymentModes(storeDir: string): Promise<ModeFigures[]> {
  const ensured = await ensureNatsServer({ minVersion: "2.10.27", purpose: "needed for the sync and R3 figures" });
  const common = {
    shards: 2,
    batches: quick ? 20 : 60,
    seconds: quick ? 2 : 4,
    serverVersion: ensured.version,
    logDir: `${storeDir}/logs-modes`,
    say,
  };
  const out: ModeFigures[] = [];
  for (const sync of [undefined, "always"] as const) {
    const single = await startNatsServer({ bin: ensured.bin, jetstream: true, syncInterval: sync });
    try {
      const mode = sync === undefined ? "R1, default fsync" : "R1, sync always";
      say(`${mode} on nats-server ${ensured.version}…`);
      out.push(await modeFigures({ ...common, mode, urls: [single.url], replicas: 1 }));
    } finally {
      await single.stop();
    }
  }
  const cluster = await startNatsCluster({ size: 3, bin: ensured.bin });
  try {
    say(`R3 on a 3-node cluster of nats-server ${ensured.version}…`);
    out.push(await modeFigures({ ...common, mode: "R3, default fsync", urls: cluster.urls, replicas: 3 }));
  } finally {
    await cluster.stop();
  }
  return out;
}

function printModes(modes: ModeFigures[]): void {
  if (modes.length === 0) return;
  const line = (cells: string[]) => `| ${cells.join(" | ")} |`;
  const out = [
    "",
    line([
      "mode",
      "get c256 (/s)",
      "echo (/s)",
      "ratio",
      "register-batch (/s)",
      "raw append (/s)",
      "ratio",
      "raw 200 B c1 (/s)",
      "raw 200 B c64 (/s)",
    ]),
    line(["---", "---", "---", "---", "---", "---", "---", "---", "---"]),
    ...modes.map((m) =>
      line([
        `${m.mode} (${m.server})`,
        fmt(m.getPerSecond),
        fmt(m.echoPerSecond),
        fmt(m.getPerSecond / m.echoPerSecond, 2),
        fmt(m.registerPerSecond),
        fmt(m.rawAppendPerSecond),
        fmt(m.registerPerSecond / m.rawAppendPerSecond, 2),
        fmt(m.rawSmallC1),
        fmt(m.rawSmallC64),
      ]),
    ),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

/** Up to `count` ids registered by `batches`, spread over all of them. */
function registeredIds(batches: EncodedBatch[], count: number): string[] {
  const perBatch = Math.ceil(count / batches.length);
  const ids: string[] = [];
  for (const batch of batches) {
    const { strategies } = (decode(batch.payload) as { body: { strategies: Array<{ id: string }> } }).body;
    for (const s of strategies.slice(0, perBatch)) ids.push(s.id);
  }
  return ids.slice(0, count);
}

const row = (name: string, registry: string, raw: string, ratio: string) =>
  tableRow([name, registry, raw, ratio], [58, -16, -16, -7]);

function printTable(r: {
  getC1: { registry: LoopResult; rawEcho: LoopResult };
  getC256: { registry: LoopResult; rawEcho: LoopResult; ratio: number };
  registration: {
    mapsPerSecond: number;
    recordsPerSecond: number;
    rawJetStreamPerSecond: number;
    rawJetStreamRecordsBytesPerSecond: number;
  };
  decode: { mapsPerSecond: number; recordsPerSecond: number };
  memory: { strategies: number; bytesPerStrategy: number; heapBytesPerStrategy: number };
  recovery: { strategies: number; seconds: number };
  ownershipRecovery: RecoveryFigures;
  join: JoinFigures;
}) {
  /** A row of a registry figure, its baseline, and their ratio. */
  const pair = (name: string, registry: number, raw: number, rawLabel = "") =>
    row(name, fmt(registry), `${fmt(raw)}${rawLabel}`, fmt(registry / raw, 2));
  const out = [
    row("figure", "registry", "raw NATS", "ratio"),
    row("---", "---", "---", "---"),
    pair("get c1 p50 (µs)", r.getC1.registry.p50Us, r.getC1.rawEcho.p50Us),
    pair("get c1 p99 (µs)", r.getC1.registry.p99Us, r.getC1.rawEcho.p99Us),
    pair("get c256 throughput (req/s)", r.getC256.registry.perSecond, r.getC256.rawEcho.perSecond),
    pair("get c256 p99 (µs)", r.getC256.registry.p99Us, r.getC256.rawEcho.p99Us),
    pair("register-batch, maps (strategies/s)", r.registration.mapsPerSecond, r.registration.rawJetStreamPerSecond),
    pair(
      "register-batch, records (strategies/s)",
      r.registration.recordsPerSecond,
      r.registration.rawJetStreamRecordsBytesPerSecond,
    ),
    pair("decode 1000 strategies: records vs maps (/s)", r.decode.recordsPerSecond, r.decode.mapsPerSecond, " maps"),
    row(`memory, ${fmt(r.memory.strategies)} strategies (RSS B/strategy)`, fmt(r.memory.bytesPerStrategy), "", ""),
    row("memory (JS heap B/strategy)", fmt(r.memory.heapBytesPerStrategy), "", ""),
    row(
      `recovery of ${fmt(r.recovery.strategies)} strategies, all shards restarted (s)`,
      fmt(r.recovery.seconds, 1),
      "",
      "",
    ),
    row(
      `recovery of one shard, ${fmt(r.ownershipRecovery.strategies)} strategies, ${r.ownershipRecovery.updatesEach} updates each (s)`,
      fmt(r.ownershipRecovery.updatedSeconds, 2),
      `${fmt(r.ownershipRecovery.freshSeconds, 2)} no updates`,
      fmt(r.ownershipRecovery.updatedSeconds / r.ownershipRecovery.freshSeconds, 2),
    ),
    row(
      "  updates applied (/s); log entries kept of written",
      fmt(r.ownershipRecovery.updatesPerSecond),
      `${fmt(r.ownershipRecovery.logEntriesKept)} of ${fmt(r.ownershipRecovery.logEntriesWritten)}`,
      "",
    ),
    row(
      `hand-off while a 4th shard joins: ${r.join.movedPartitions} partitions moved, p99 wait (ms)`,
      fmt(r.join.unavailabilityP99Ms),
      `p50 ${fmt(r.join.unavailabilityP50Ms)}, max ${fmt(r.join.unavailabilityMaxMs)}`,
      "",
    ),
    pair("gets/s while a shard joins vs steady state", r.join.joiningPerSecond, r.join.steadyPerSecond, " steady"),
  ];
  process.stdout.write(`${out.join("\n")}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`bench failed: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
