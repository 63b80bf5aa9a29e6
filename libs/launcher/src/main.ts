#!/usr/bin/env node
/**
 * `npm start`: an embedded nats-server (unless NATS_URL names one), N registry
 * shards, and a demo; stays up until Ctrl-C (or --duration seconds), then
 * drains and stops cleanly.
 *
 *   node libs/launcher/dist/main.js [--shards 4] [--demo 100000] [--duration S] [--data-dir .stratreg]
 */
import { mkdirSync } from "node:fs";
import { join, resolve } from "node:path";
import { parseArgs } from "node:util";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { clusterStatus, StratregClient } from "@stratreg/client";
import { findNatsServer, freePort, NATS_INSTALL_HINT, type NatsServerProcess, startNatsServer } from "@stratreg/natsd";
import { DEFAULT_CLUSTER } from "@stratreg/protocol";
import { runDemo } from "./demo.js";
import { ShardSupervisor } from "./shards.js";

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
    },
    strict: true,
  });
  const shards = Number(values.shards);
  const demo = Number(values.demo);
  const duration = values.duration === undefined ? undefined : Number(values.duration);
  if (!Number.isInteger(shards) || shards < 1 || shards > 64) throw new Error("--shards must be 1..64");
  if (!Number.isInteger(demo) || demo < 0) throw new Error("--demo must be a count ≥ 0");
  if (duration !== undefined && !(duration >= 0)) throw new Error("--duration must be seconds ≥ 0");
  return { shards, demo, duration, dataDir: resolve(values["data-dir"]) };
}

async function embeddedServer(dataDir: string): Promise<NatsServerProcess> {
  const bin = findNatsServer();
  if (bin === undefined) {
    process.stderr.write(`stratreg: no nats-server found, and NATS_URL is not set.\n${NATS_INSTALL_HINT}\n`);
    process.exit(1);
  }
  const port = await freePort(4222);
  mkdirSync(join(dataDir, "logs"), { recursive: true });
  return startNatsServer({
    bin,
    port,
    storeDir: join(dataDir, "nats"),
    keepStore: true,
    serverName: "stratreg-embedded",
    logFile: join(dataDir, "logs", "nats-server.log"),
  });
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
  const opts = options();
  const cluster = process.env.STRATREG_CLUSTER ?? DEFAULT_CLUSTER;
  let server: NatsServerProcess | undefined;
  let natsUrl = process.env.NATS_URL;
  if (natsUrl === undefined || natsUrl === "") {
    server = await embeddedServer(opts.dataDir);
    natsUrl = server.url;
    say(`nats-server ${server.version} started on ${natsUrl} (JetStream data in ${server.storeDir})`);
  } else {
    say(`joining the NATS server at ${natsUrl}`);
  }
  const supervisor = new ShardSupervisor({ ...process.env, NATS_URL: natsUrl }, join(opts.dataDir, "logs"), say);
  for (let i = 1; i <= opts.shards; i++) supervisor.start(`shard-${i}`);
  say(`started ${opts.shards} registry shards (logs in ${join(opts.dataDir, "logs")})`);

  const nc = await connect({
    servers: natsUrl,
    name: "stratreg-launcher",
    user: process.env.NATS_USER,
    pass: process.env.NATS_PASSWORD,
  });
  let stopping = false;
  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    say("stopping: shards drain and hand over, then the server stops…");
    await nc.close().catch(() => undefined);
    await supervisor.stopAll();
    await server?.stop();
    say("stopped cleanly");
    process.exit(code);
  };
  process.on("SIGINT", () => void stop(0));
  process.on("SIGTERM", () => void stop(0));

  try {
    const client = await StratregClient.connect(nc, { cluster, timeoutMs: 30_000 });
    await waitForCluster(nc, cluster, client.partitions, opts.shards);
    say(`cluster "${cluster}" is serving all ${client.partitions} partitions`);
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
    }
  } catch (err) {
    process.stderr.write(`stratreg: ${(err as Error).message}\n`);
    await stop(1);
    return;
  }
  say(`try: npm run stratreg -- status --nats ${natsUrl}`);
  if (opts.duration !== undefined) {
    say(`running for ${opts.duration} s`);
    await sleep(opts.duration * 1000);
    await stop(0);
  } else {
    say("running; press Ctrl-C to stop");
  }
}

main().catch((err: unknown) => {
  process.stderr.write(`stratreg: ${(err as Error).stack ?? String(err)}\n`);
  process.exit(1);
});
