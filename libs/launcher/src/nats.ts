/**
 * The NATS side of `npm start`: one embedded nats-server (the default) or a JetStream
 * cluster of several, with the durability mode asked for, and the lines that say what runs.
 */
import { mkdirSync } from "node:fs";
import { join, relative } from "node:path";
import {
  type EnsuredNatsServer,
  ensureNatsServer,
  freePort,
  MIN_NATS_SERVER_VERSION,
  type NatsServerProcess,
  REPLICATED_NATS_SERVER_VERSION,
  SYNC_ALWAYS_NATS_SERVER_VERSION,
  startNatsCluster,
  startNatsServer,
} from "@stratreg/natsd";

/** JetStream's fsync policy: nats-server's default (every 2 minutes) or `sync_interval: always`. */
export type SyncMode = "default" | "always";

/** What the launcher asked for. */
export interface EmbeddedNatsOptions {
  dataDir: string;
  /** 1: one server; 3 to 5: a JetStream cluster whose streams have that many replicas. */
  servers: number;
  sync: SyncMode;
}

/** The servers `npm start` runs, and what the shards need to use them. */
export interface EmbeddedNats {
  /** Client URLs of every server. */
  urls: string[];
  /** JetStream replicas the shards should give their streams (`STRATREG_REPLICAS`). */
  replicas: number;
  /** WebSocket URL of the single server, for the operator console (a cluster of servers has none). */
  wsUrl: string | undefined;
  /** Lines to print: which servers, which binary and why, which durability mode. */
  describe(): Promise<string[]>;
  stop(): Promise<void>;
}

/** Name of the NATS cluster `--nats-cluster` runs; fixed so its data dir is reused across runs. */
const NATS_CLUSTER_NAME = "stratreg-nats";

const shown = (path: string) => {
  const rel = relative(process.cwd(), path);
  return rel !== "" && !rel.startsWith("..") ? rel : path;
};

/** Starts the embedded server(s), with a binary new enough for what they must do. */
export async function startEmbeddedNats(options: EmbeddedNatsOptions): Promise<EmbeddedNats> {
  const clustered = options.servers > 1;
  const need = clustered
    ? { minVersion: REPLICATED_NATS_SERVER_VERSION, purpose: "needed for replicated streams (--nats-cluster)" }
    : options.sync === "always"
      ? { minVersion: SYNC_ALWAYS_NATS_SERVER_VERSION, purpose: "needed for --sync always" }
      : { minVersion: MIN_NATS_SERVER_VERSION };
  const binary = await ensureNatsServer({ ...need, log: (line) => process.stdout.write(`${line}\n`) });
  const logDir = join(options.dataDir, "logs");
  mkdirSync(logDir, { recursive: true });
  const syncInterval = options.sync === "always" ? "always" : undefined;

  let servers: NatsServerProcess[];
  let stop: () => Promise<void>;
  if (clustered) {
    const cluster = await startNatsCluster({
      size: options.servers,
      bin: binary.bin,
      name: NATS_CLUSTER_NAME,
      storeDir: join(options.dataDir, "nats-cluster"),
      logDir,
      syncInterval,
    });
    servers = cluster.servers;
    stop = () => cluster.stop();
  } else {
    const server = await startNatsServer({
      bin: binary.bin,
      port: await freePort(4222),
      storeDir: join(options.dataDir, "nats"),
      keepStore: true,
      serverName: "stratreg-embedded",
      // The operator console speaks NATS from the browser; 8080 when free, as in config/nats-server.conf.
      websocketPort: await freePort(8080),
      logFile: join(logDir, "nats-server.log"),
      syncInterval,
    });
    servers = [server];
    stop = () => server.stop();
  }
  return {
    urls: servers.map((s) => s.url),
    replicas: options.servers,
    wsUrl: servers.length === 1 ? servers[0]?.wsUrl : undefined,
    describe: () => describe(servers, binary, options),
    stop,
  };
}

async function describe(
  servers: readonly NatsServerProcess[],
  binary: EnsuredNatsServer,
  options: EmbeddedNatsOptions,
): Promise<string[]> {
  const lines: string[] = [];
  const [first] = servers;
  if (servers.length === 1 && first !== undefined) {
    lines.push(`nats-server ${first.version} started on ${first.url} (JetStream data in ${first.storeDir})`);
  } else {
    lines.push(
      `nats-server cluster "${NATS_CLUSTER_NAME}" of ${servers.length} started (JetStream data in ${shown(join(options.dataDir, "nats-cluster"))}):`,
    );
    for (const s of servers) lines.push(`  ${s.serverName}: nats-server ${s.version} on ${s.url}`);
  }
  if (binary.source !== "machine") {
    lines.push(`  binary: ${shown(binary.bin)}, fetched from Debian: ${binary.reason}`);
  }
  // Ask the servers rather than trust the config we wrote: the line is a promise to the user.
  const confirmed = (await Promise.all(servers.map(syncsAlways))).every(Boolean);
  lines.push(durability(servers.length, options.sync, confirmed));
  return lines;
}

/**
 * The durability promise of this setup, in one line. `confirmed`: every server's `/varz`
 * reports `sync_always` (only read for `always`).
 */
export function durability(servers: number, sync: SyncMode, confirmed: boolean): string {
  const replicated = servers > 1 ? `R${servers} on ${servers} nats-servers on this machine, ` : "";
  const survives = servers > 1 ? "a crash of any process, or of one nats-server" : "a crash of any process";
  if (sync === "always") {
    const check = confirmed ? "confirmed by /varz" : "NOT confirmed: /varz does not report sync_always";
    return `durability: ${replicated}sync_interval: always (${check}): every write is fsynced before it is acknowledged; acknowledged writes survive ${survives}, an OS crash and a power loss; writes are slower`;
  }
  return `durability: ${replicated}nats-server's default fsync (every 2 min): acknowledged writes survive ${survives}, not an OS crash or power loss (--sync always for that)`;
}

/** Whether the server reports `sync_always` in its JetStream config (nats-server >= 2.10). */
async function syncsAlways(server: NatsServerProcess): Promise<boolean> {
  try {
    const response = await fetch(`${server.monitorUrl}/varz`, { signal: AbortSignal.timeout(2_000) });
    const varz = (await response.json()) as { jetstream?: { config?: { sync_always?: boolean } } };
    return varz.jetstream?.config?.sync_always === true;
  } catch {
    return false;
  }
}
