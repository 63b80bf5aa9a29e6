#!/usr/bin/env node
/**
 * `npm start`: an embedded nats-server (unless NATS_URL names one), N registry
 * shards, and a demo; stays up until Ctrl-C (or --duration seconds), then
 * drains and stops cleanly.
 *
 *   node libs/launcher/dist/main.js [--shards 4] [--demo 100000] [--duration S] [--data-dir .stratreg]
 *                                   [--nats-cluster 3] [--sync always]
 */
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { clusterStatus, DiscoveryClient, StratregClient } from "@stratreg/client";
import { type ConsoleServer, startConsoleServer } from "@stratreg/console";
import { freePort, NatsServerNotFoundError } from "@stratreg/natsd";
import { DEFAULT_CLUSTER } from "@stratreg/protocol";
import { runDemo } from "./demo.js";
import { runDiscoveryDemo } from "./discovery-demo.js";
import { runLifecycleDemo } from "./lifecycle-demo.js";
import { type EmbeddedNats, type SyncMode, startEmbeddedNats } from "./nats.js";
import { type ReportStream, streamReports } from "./rankings-demo.js";
import { sampleStrategies } from "./sample.js";
import { ServiceSupervisor } from "./supervisor.js";

/** How many of the demo's strategies get a stream of performance reports. */
const REPORTING_STRATEGIES = 2000;

const say = (line: string) => process.stdout.write(`${line}\n`);
const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));
const fmt = (n: number, digits = 0) => n.toLocaleString("en-US", { maximumFractionDigits: digits });

function options() {
  const { values } = parseArgs({
    options: {
      shards: { type: "string", default: "4" },
      demo: { type: "string", default: "100000" },
      duration: { type: "string" },
      "data-dir": { type: "string", default: ".stratreg" },
      "nats-cluster": { type: "string" },
      sync: { type: "string", default: "default" },
      "discovery-budget": { type: "string", default: "45" },
    },
    strict: true,
  });
  const shards = Number(values.shards);
  const demo = Number(values.demo);
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  const natsServers = values["nats-cluster"] === undefined ? 1 : Number(values["nats-cluster"]);
  if (!Number.isInteger(shards) || shards < 1 || shards > 64) throw new Error("--shards must be 1..64");
  if (!Number.isInteger(demo) || demo < 0) throw new Error("--demo must be a count ≥ 0");
  if (duration !== undefined && !(duration >= 0)) throw new Error("--duration must be seconds ≥ 0");
  // JetStream replicates to a majority and allows at most 5 replicas; 2 would stop on losing one.
  if (!Number.isInteger(natsServers) || (natsServers !== 1 && (natsServers < 3 || natsServers > 5))) {
    throw new Error("--nats-cluster must be 3, 4 or 5 nats-servers");
  }
  if (values.sync !== "default" && values.sync !== "always") throw new Error("--sync must be default or always");
  const sync: SyncMode = values.sync;
  const discoveryBudget = Number(values["discovery-budget"]);
  if (!(Number.isInteger(discoveryBudget) && (discoveryBudget === 0 || discoveryBudget >= 1))) {
    throw new Error("--discovery-budget must be whole seconds (0: no discovery run)");
  }
  return { shards, demo, duration, dataDir: resolve(values["data-dir"]), natsServers, sync, discoveryBudget };
}

async function embeddedNats(opts: ReturnType<typeof options>): Promise<EmbeddedNats> {
  try {
    return await startEmbeddedNats({ dataDir: opts.dataDir, servers: opts.natsServers, sync: opts.sync });
  } catch (error) {
    if (!(error instanceof NatsServerNotFoundError)) throw error;
    process.stderr.write(`stratreg: NATS_URL is not set and no usable nats-server was found.\n${error.message}\n`);
    process.exit(1);
  }
}

async function waitForCluster(nc: NatsConnection, cluster: string, partitions: number, shards: number): Promise<void> {
  const deadline = Date.now() + 60_000;
  let last = "";
  for (;;) {
    const status = await clusterStatus(nc, cluster, partitions, 300);
    const line = `  ${status.shards.length}/${shards} shards up, ${partitions - status.unserved.length}/${partitions} partitions served`;
    if (line !== last) say(line);
    last = line;
    if (status.shards.length >= shards && status.unserved.length === 0 && status.contested.length === 0) return;
    if (Date.now() > deadline) throw new Error(`the cluster did not settle within 60 s:${line}`);
    await sleep(250);
  }
}

async function main(): Promise<void> {
  let opts: ReturnType<typeof options>;
  try {
    opts = options();
  } catch (error) {
    // A usage mistake, not a crash: no stack trace.
    process.stderr.write(`stratreg: ${(error as Error).message}\n`);
    process.exit(2);
  }
  const cluster = process.env.STRATREG_CLUSTER ?? DEFAULT_CLUSTER;
  let nats: EmbeddedNats | undefined;
  let natsUrl = process.env.NATS_URL;
  const shardEnv: NodeJS.ProcessEnv = { ...process.env };
  if (natsUrl === undefined || natsUrl === "") {
    nats = await embeddedNats(opts);
    natsUrl = nats.urls.join(",");
    for (const line of await nats.describe()) say(line);
    if (nats.replicas > 1) shardEnv.STRATREG_REPLICAS = String(nats.replicas);
  } else {
    if (opts.natsServers > 1 || opts.sync !== "default") {
      process.stderr.write(
        "stratreg: --nats-cluster and --sync configure the servers npm start runs itself; unset NATS_URL\n",
      );
      process.exit(2);
    }
    say(`joining the NATS server at ${natsUrl}`);
    say("durability: whatever that server's config says (jetstream.sync_interval; its default fsyncs every 2 min)");
  }
  shardEnv.NATS_URL = natsUrl;
  const supervisor = new ServiceSupervisor(shardEnv, join(opts.dataDir, "logs"), say);
  const members = Array.from({ length: opts.shards }, (_, i) => `shard-${i + 1}`);
  // On replicated streams the first shard creates the R3 config bucket alone: a shard that
  // reads the bucket in the moment after it was created gets "no responders" from its
  // direct get, exits and is restarted. Once the first answers cluster info, it is readable.
  const staggered = shardEnv.STRATREG_REPLICAS !== undefined;
  for (const member of staggered ? members.slice(0, 1) : members) supervisor.start(member);
  const replicas = staggered
    ? `, STRATREG_REPLICAS=${shardEnv.STRATREG_REPLICAS}; the first one alone until it serves`
    : "";
  say(`started ${opts.shards} registry shards (logs in ${join(opts.dataDir, "logs")}${replicas})`);

  const nc = await connect({
    servers: natsUrl.split(","),
    name: "stratreg-launcher",
    user: process.env.NATS_USER,
    pass: process.env.NATS_PASSWORD,
  });
  let stopping = false;
  let stream: ReportStream | undefined;
  let consoleServer: ConsoleServer | undefined;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping: shards drain and hand over, then the server stops…");
    await consoleServer?.close();
    await stream?.stop();
    await nc.close().catch(() => undefined);
    await supervisor.stopAll();
    await nats?.stop();
    say("stopped cleanly");
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  let lifecycleId: string | undefined;
  let discoveryDemo: Promise<unknown> | undefined;
  try {
    // As long as a shard itself waits for JetStream at start: a 3-node cluster just started on a
    // loaded machine took over 30 s before its first shard served.
    const client = await StratregClient.connect(nc, { cluster, timeoutMs: 120_000 });
    if (staggered) for (const member of members.slice(1)) supervisor.start(member);
    await waitForCluster(nc, cluster, client.partitions, opts.shards);
    say(`cluster "${cluster}" is serving all ${client.partitions} partitions`);
    supervisor.start("ranker-1", "ranker");
    say("started the ranker (merges the partitions' top-k lists)");
    supervisor.start("risk-guard-1", "risk-guard");
    supervisor.start("risk-guard-2", "risk-guard");
    say(
      "started two risk guards (one leads, the other stands by): `npm run stratreg -- risk` shows exposures and the trading state",
    );
    supervisor.start("discovery-1", "discovery");
    say("started discovery (mines market data for patterns; nothing it finds trades before the quality gates)");
    supervisor.start("graph-1", "graph");
    supervisor.start("graph-2", "graph");
    say(
      "started two graph processes (one leads): `npm run stratreg -- deps add <id> <dependency>` refuses cycles; `-- deps impact <id>`",
    );
    supervisor.start("search-1", "search");
    say(
      'started search (follows the logs): `npm run stratreg -- search "sharpe > 1 ORDER BY sharpe DESC"` or `-- search --text momentum`',
    );
    // Version control: keeps every version of every strategy (copied from the partition logs).
    supervisor.start("versions-1", "versions");
    say(
      "started versions (keeps every version): `npm run stratreg -- log <id>`, `-- diff <id> 1 main`, `-- branch <id> list`",
    );
    consoleServer = await serveConsole(nats, cluster);
    if (opts.demo > 0) {
      const report = await runDemo(client, opts.demo, say);
      say("");
      say(`demo (ids ${report.prefix}-*)`);
      say(
        `  registered        ${fmt(report.registered)} strategies in ${fmt(report.registerMs)} ms = ${fmt(report.registerPerSecond)} strategies/s (${fmt(report.rejected)} rejected)`,
      );
      say(
        `  get, one by one   ${fmt(report.sampleGets)} reads: p50 ${fmt(report.getP50Us)} µs, p99 ${fmt(report.getP99Us)} µs`,
      );
      say(`  get, one batch    ${fmt(report.sampleGets)} ids in ${fmt(report.batchGetMs, 1)} ms`);
      say(`  verified          ${fmt(report.verified)}/${fmt(report.sampleGets)} read back exactly as registered`);
      if (report.mismatches.length > 0) say(`  MISMATCHES: ${report.mismatches.slice(0, 10).join(", ")}`);
      say("");
      lifecycleId = `${report.prefix}-lifecycle`;
      await runLifecycleDemo(client, lifecycleId, say).catch((err: unknown) => {
        say(`  the lifecycle demo stopped: ${(err as Error).message}`);
      });
      say("");
      const reporting = sampleStrategies(Math.min(opts.demo, REPORTING_STRATEGIES), report.prefix);
      say(
        `streaming daily performance reports for ${fmt(reporting.length)} of them (a simulated day every 250 ms; calm and high-vol regimes):`,
      );
      stream = streamReports(client, reporting, say);
    }
    if (opts.demo > 0 && opts.discoveryBudget > 0) {
      const discovery = new DiscoveryClient(nc, { cluster, timeoutMs: 10_000 });
      discoveryDemo = runDiscoveryDemo(discovery, opts.discoveryBudget * 1000, say).catch((err: unknown) => {
        say(`  the discovery demo stopped: ${(err as Error).message}`);
        return undefined;
      });
    }
  } catch (err) {
    process.stderr.write(`stratreg: ${(err as Error).message}\n`);
    await stop(1);
    return;
  }
  say(`try: npm run stratreg -- status --nats ${natsUrl}`);
  if (lifecycleId !== undefined) {
    say(
      `     npm run stratreg -- lifecycle ${lifecycleId} --nats ${natsUrl}   # its moves; \`gates ${lifecycleId}\`: its gates`,
    );
  }
  if (stream !== undefined) {
    say(`     npm run stratreg -- top --metric sortino -k 20 --family momentum --regime high-vol --nats ${natsUrl}`);
  }
  if (discoveryDemo !== undefined) {
    say(
      `     npm run stratreg -- discover status --nats ${natsUrl}   # discovery's run; \`candidates\`: what it found`,
    );
  }
  if (opts.duration !== undefined) {
    say(`running for ${opts.duration} s`);
    await sleep(opts.duration * 1000);
    await stop(0);
  } else {
    say("running; press Ctrl-C to stop");
  }
}

/**
 * Serves the operator console when a WebSocket listener is known: the embedded server's, or
 * NATS_WS_URL's when joining a server. The page speaks NATS itself; this serves only files.
 */
async function serveConsole(nats: EmbeddedNats | undefined, cluster: string): Promise<ConsoleServer | undefined> {
  const natsWsUrl = nats?.wsUrl ?? process.env.NATS_WS_URL;
  if (natsWsUrl === undefined || natsWsUrl === "") {
    say("console: not served (no WebSocket listener: set NATS_WS_URL to the server's, e.g. ws://host:8080)");
    return undefined;
  }
  const server = await startConsoleServer({ port: await freePort(8090), natsWsUrl, cluster });
  const login =
    nats === undefined
      ? "log in with your NATS user (viewer or operator)"
      : "the embedded server has no users: leave the user empty";
  say(`console: ${server.url} (NATS over WebSocket at ${natsWsUrl}; ${login})`);
  return server;
}

main().catch((err: unknown) => {
  process.stderr.write(`stratreg: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
