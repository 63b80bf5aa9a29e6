/**
 * The registry's hot figures in the deployment modes beside the default: on a
 * 3-node JetStream cluster with every log, lease and snapshot replicated (R3),
 * and on one server that fsyncs before every acknowledgement (`sync_interval:
 * always`). Each beside its raw NATS baseline on the same servers in the same run.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { DiscardPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect } from "@nats-io/transport-node";
import { clusterStatus, StratregClient } from "@stratreg/client";
import { ServiceSupervisor } from "@stratreg/launcher";
import { decode, encode, type Reply } from "@stratreg/protocol";
import { encodedBatches } from "./batches.js";
import { idsOf } from "./cluster.js";
import { closedLoop, drain } from "./loop.js";

const PARTITIONS = 256;

export interface ModeFigures {
  mode: string;
  server: string;
  getPerSecond: number;
  echoPerSecond: number;
  registerPerSecond: number;
  rawAppendPerSecond: number;
  /** Small appends, one in flight and 64 in flight, on the raw stream (appends/s). */
  rawSmallC1: number;
  rawSmallC64: number;
}

/**
 * Starts `shards` shards on `urls` (replicas as given), an echo responder and a raw
 * stream with the same replicas, and measures gets, batch registration and raw appends.
 */
export async function modeFigures(options: {
  mode: string;
  urls: string[];
  serverVersion: string;
  replicas: number;
  shards: number;
  batches: number;
  seconds: number;
  logDir: string;
  say: (line: string) => void;
}): Promise<ModeFigures> {
  const { urls, replicas, say } = options;
  const cluster = `bench-${options.mode.replace(/[^a-z0-9]/g, "")}`;
  const supervisor = new ServiceSupervisor(
    {
      ...process.env,
      NATS_URL: urls.join(","),
      STRATREG_CLUSTER: cluster,
      STRATREG_PARTITIONS: String(PARTITIONS),
      STRATREG_REPLICAS: String(replicas),
      LOG_LEVEL: "warn",
    },
    options.logDir,
    say,
  );
  for (let i = 1; i <= options.shards; i++) supervisor.start(`${cluster}-${i}`);
  const echo = spawn(
    process.execPath,
    [fileURLToPath(new URL("./echo.js", import.meta.url)), urls[0] as string, `${cluster}.echo`, "420"],
    { stdio: ["ignore", "pipe", "inherit"] },
  );
  await new Promise<void>((resolve) => echo.stdout?.once("data", () => resolve()));
  const nc = await connect({ servers: urls, name: `bench-${options.mode}` });
  try {
    const client = await StratregClient.connect(nc, { cluster, timeoutMs: 60_000 });
    for (;;) {
      const status = await clusterStatus(nc, cluster, PARTITIONS, 300);
      if (status.shards.length === options.shards && status.unserved.length === 0 && status.contested.length === 0)
        break;
      await new Promise((r) => setTimeout(r, 200));
    }
    const jsm = await jetstreamManager(nc);
    const js = jetstream(nc);
    await jsm.streams.add({
      name: `${cluster}-raw`,
      subjects: [`${cluster}.raw.*`],
      storage: StorageType.File,
      discard: DiscardPolicy.Old,
      num_replicas: replicas,
    });
    say(`${options.mode}: raw appends and register-batch…`);
    const batches = encodedBatches(`m${options.mode.length}`, PARTITIONS, options.batches, 1000, false);
    const rawSeconds = await drain(batches, 32, (b) =>
      js.publish(`${cluster}.raw.${b.partition}`, b.payload, { timeout: 60_000 }),
    );
    const registerSeconds = await drain(batches, 32, async (b) => {
      const msg = await nc.request(client.subjects.partition(b.partition, "register-batch"), b.payload, {
        timeout: 60_000,
      });
      const reply = decode(msg.data) as Reply<unknown>;
      if (!reply.ok)
        throw new Error(`${options.mode}: register-batch failed: ${reply.error.code} ${reply.error.message}`);
    });
    const small = new Uint8Array(200).fill(0x62);
    const rawC1 = await closedLoop(1, options.seconds, () => js.publish(`${cluster}.raw.small`, small), 0.5);
    const rawC64 = await closedLoop(64, options.seconds, () => js.publish(`${cluster}.raw.small`, small), 0.5);
    say(`${options.mode}: gets…`);
    const ids = idsOf(batches).slice(0, 10_000);
    const request = encode({ v: 1, body: { id: ids[0] } });
    const echoC256 = await closedLoop(256, options.seconds, () =>
      nc.request(`${cluster}.echo`, request, { timeout: 10_000 }),
    );
    const getC256 = await closedLoop(256, options.seconds, (w, i) =>
      client.get(ids[(w * 7919 + i) % ids.length] as string, { timeoutMs: 10_000 }),
    );
    const strategies = batches.length * 1000;
    return {
      mode: options.mode,
      server: options.serverVersion,
      getPerSecond: getC256.perSecond,
      echoPerSecond: echoC256.perSecond,
      registerPerSecond: strategies / registerSeconds,
      rawAppendPerSecond: strategies / rawSeconds,
      rawSmallC1: rawC1.perSecond,
      rawSmallC64: rawC64.perSecond,
    };
  } finally {
    await nc.close().catch(() => undefined);
    echo.kill("SIGTERM");
    await supervisor.stopAll();
  }
}
