import { randomBytes } from "node:crypto";
import { join } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { ensureNatsServer } from "./ensure.js";
import { NatsdError, NatsdErrorCodes, withLogs } from "./errors.js";
import { freePort } from "./ports.js";
import { getJson } from "./probe.js";
import { type NatsServerOptions, type NatsServerProcess, startNatsServer } from "./server.js";
import { REPLICATED_NATS_SERVER_VERSION } from "./version.js";

/** Options of {@link startNatsCluster}. */
export interface NatsClusterOptions
  extends Pick<
    NatsServerOptions,
    "bin" | "env" | "host" | "debug" | "configFile" | "maxPayload" | "keepStore" | "syncInterval"
  > {
  /** Number of nodes (default 3; JetStream needs 3 for R3 streams that survive losing one). */
  size?: number;
  /** Cluster name (default: random `natsd-xxxxxx`). */
  name?: string;
  /** How long to wait for every node and for a meta leader (default 30 000 ms). */
  readyTimeoutMs?: number;
  /**
   * Parent folder of the nodes' store dirs (`<storeDir>/<node name>`), kept after `stop()`
   * so a cluster with the same `name` comes back with its streams. Default: temp dirs.
   */
  storeDir?: string;
  /** Also append each node's log to `<logDir>/<node name>.log`. */
  logDir?: string;
}

/** A running JetStream cluster of nats-server child processes. */
export interface NatsCluster {
  /** Cluster name. */
  readonly name: string;
  /** The nodes, in start order; kill and restart them one by one for fault tests. */
  readonly servers: NatsServerProcess[];
  /** Client URLs of all nodes (pass all of them to the client so it can fail over). */
  readonly urls: string[];
  /**
   * Resolves with the meta leader's name once every running node names the same leader, that
   * leader sees a majority current (counting itself), and every running node's `/healthz`
   * answers 200 (it is caught up with the meta leader, its streams too). Use it after killing or
   * restarting a node.
   *
   * With `quorum`, a majority of the running nodes is enough (the leader among them), agreeing
   * and healthy: what clients need for JetStream to answer while one node does not answer or is
   * still catching up.
   */
  waitForMetaLeader(timeoutMs?: number, options?: { quorum?: boolean }): Promise<string>;
  /** Stops every node and removes their temp store dirs. */
  stop(): Promise<void>;
}

const DEFAULT_CLUSTER_READY_MS = 30_000;
/** How many fresh clusters {@link startNatsCluster} starts before it gives up on a meta leader. */
const CLUSTER_START_ATTEMPTS = 2;

/**
 * Starts a JetStream cluster of `size` nats-server nodes on free ports, each with its own
 * store dir and server name and routes to all the others, and resolves once it has a
 * JetStream meta leader (see {@link NatsCluster.waitForMetaLeader}). If any node fails, the
 * others are stopped and the error carries its logs. A cluster whose name and storage are
 * left to this function is started once more, on new ports, if it gets no meta leader.
 *
 * Without `bin` it runs a server of at least {@link REPLICATED_NATS_SERVER_VERSION}, which
 * replicated streams need: the machine's if new enough, else Debian's, fetched once into
 * the project's cache folder (see {@link ensureNatsServer}).
 */
export async function startNatsCluster(options: NatsClusterOptions = {}): Promise<NatsCluster> {
  // A cluster of fresh servers now and then never gets every peer current on a loaded machine
  // (routes keep replacing each other); a new cluster on new ports then forms. Only clusters
  // whose name and storage the caller left to us are started again.
  const retryable = options.name === undefined && options.storeDir === undefined;
  for (let attempt = 1; ; attempt++) {
    try {
      return await startNatsClusterOnce(options);
    } catch (error) {
      const noLeader = error instanceof NatsdError && error.code === NatsdErrorCodes.NoMetaLeader;
      if (!retryable || !noLeader || attempt >= CLUSTER_START_ATTEMPTS) throw error;
    }
  }
}

async function startNatsClusterOnce(options: NatsClusterOptions): Promise<NatsCluster> {
  const size = options.size ?? 3;
  if (!Number.isInteger(size) || size < 1) throw new RangeError(`cluster size must be a positive integer, got ${size}`);
  const host = options.host ?? "127.0.0.1";
  const name = options.name ?? `natsd-${randomBytes(3).toString("hex")}`;
  const readyTimeoutMs = options.readyTimeoutMs ?? DEFAULT_CLUSTER_READY_MS;
  // Resolve the binary once so a missing one fails before any port is taken.
  const bin =
    options.bin ??
    (
      await ensureNatsServer({
        ...(options.env === undefined ? {} : { env: options.env }),
        minVersion: REPLICATED_NATS_SERVER_VERSION,
        purpose: "needed for replicated streams",
      })
    ).bin;

  // Every route URL must be known before the first node starts, so pick all ports up front.
  const nodes: Array<{ port: number; monitorPort: number; clusterPort: number }> = [];
  for (let i = 0; i < size; i++) {
    nodes.push({
      port: await freePort(undefined, host),
      monitorPort: await freePort(undefined, host),
      clusterPort: await freePort(undefined, host),
    });
  }
  // Routes must name an address the other nodes can dial: loopback for a wildcard bind.
  const routeHost = host === "0.0.0.0" || host === "::" ? "127.0.0.1" : host.includes(":") ? `[${host}]` : host;
  const routeUrls = nodes.map((n) => `nats://${routeHost}:${n.clusterPort}`);

  // All nodes start together: each is "ready" on its own (js-enabled-only), the meta
  // leader needs a quorum of them.
  const started = await Promise.allSettled(
    nodes.map((node, i) =>
      startNatsServer({
        bin,
        env: options.env,
        debug: options.debug,
        configFile: options.configFile,
        maxPayload: options.maxPayload,
        keepStore: options.keepStore,
        syncInterval: options.syncInterval,
        host,
        jetstream: true,
        port: node.port,
        monitorPort: node.monitorPort,
        serverName: `${name}-n${i + 1}`,
        ...(options.storeDir === undefined ? {} : { storeDir: join(options.storeDir, `${name}-n${i + 1}`) }),
        ...(options.logDir === undefined ? {} : { logFile: join(options.logDir, `${name}-n${i + 1}.log`) }),
        readyTimeoutMs,
        cluster: { name, port: node.clusterPort, routes: routeUrls.filter((_, j) => j !== i) },
      }),
    ),
  );
  const servers = started.flatMap((r) => (r.status === "fulfilled" ? [r.value] : []));
  const failure = started.find((r): r is PromiseRejectedResult => r.status === "rejected");
  if (failure !== undefined) {
    await Promise.all(servers.map((s) => s.stop()));
    throw failure.reason;
  }

  const cluster: NatsCluster = {
    name,
    servers,
    urls: servers.map((s) => s.url),
    waitForMetaLeader: (timeoutMs = readyTimeoutMs, options = {}) =>
      waitForMetaLeader(servers, timeoutMs, options.quorum === true),
    stop: async () => {
      await Promise.all(servers.map((s) => s.stop()));
    },
  };
  try {
    await cluster.waitForMetaLeader(readyTimeoutMs);
  } catch (error) {
    await cluster.stop();
    throw error;
  }
  return cluster;
}

interface MetaView {
  leader: string | undefined;
  currentReplicas: number;
}

/** Reads `meta_cluster` from a node's `/jsz` (2.9.10 omits `leader` until one is elected). */
async function metaView(server: NatsServerProcess): Promise<MetaView> {
  const { body } = await getJson(`${server.monitorUrl}/jsz`, 1_000);
  const meta = isRecord(body) && isRecord(body.meta_cluster) ? body.meta_cluster : {};
  const leader = typeof meta.leader === "string" && meta.leader !== "" ? meta.leader : undefined;
  const replicas = Array.isArray(meta.replicas) ? meta.replicas : [];
  const currentReplicas = replicas.filter((r) => isRecord(r) && r.current === true && r.offline !== true).length;
  return { leader, currentReplicas };
}

/** How the nodes see the meta leader now: the leader's name, or what is still missing. */
async function metaLeaderNow(
  running: readonly NatsServerProcess[],
  quorum: boolean,
): Promise<{ leader: string } | { problem: string }> {
  // A node that does not answer counts as one that does not agree (with `quorum`, it may lag).
  let unanswered: string | undefined;
  const views = await Promise.all(
    running.map((s) =>
      metaView(s).catch((error: unknown) => {
        unanswered ??= error instanceof Error ? error.message : String(error);
        return undefined;
      }),
    ),
  );
  if (!quorum && unanswered !== undefined) return { problem: unanswered };
  const answered = views.filter((v) => v !== undefined);
  const majority = Math.floor(running.length / 2) + 1;
  const need = quorum ? majority : running.length;
  const named = new Map<string | undefined, number>();
  for (const v of answered) named.set(v.leader, (named.get(v.leader) ?? 0) + 1);
  const [leader] = [...named.entries()].find(([name, count]) => name !== undefined && count >= need) ?? [];
  const leaderIndex = running.findIndex((s) => s.serverName === leader);
  const leaderView = views[leaderIndex];
  if (leader === undefined || leaderView === undefined) {
    return { problem: `meta leaders seen: ${[...named.keys()].map((l) => l ?? "none").join(", ")}` };
  }
  // The leader's view of its peers counts up to a majority only: it marks a peer current when the
  // peer acknowledges a meta proposal, so in an idle meta group a peer that caught up after route
  // churn can stay "not current" there until the next proposal (seen for minutes in CI). Each
  // node's own /healthz below says whether it is caught up.
  if (leaderView.currentReplicas < majority - 1) {
    return { problem: `leader ${leader} sees ${leaderView.currentReplicas} of ${running.length - 1} peers current` };
  }
  // Plain /healthz of 2.9.10 also checks this node's streams and consumers are current.
  const health = await Promise.all(
    running.map((s) => getJson(`${s.monitorUrl}/healthz`, 1_000).catch(() => undefined)),
  );
  const healthy = health.filter((h) => h?.status === 200).length;
  if (healthy >= need && health[leaderIndex]?.status === 200) return { leader };
  const unhealthy = health.findIndex((h) => h?.status !== 200);
  const body = health[unhealthy]?.body;
  return {
    problem: `${running[unhealthy]?.serverName} /healthz: ${body === undefined ? "no answer" : JSON.stringify(body)}`,
  };
}

async function waitForMetaLeader(
  servers: readonly NatsServerProcess[],
  timeoutMs: number,
  quorum = false,
): Promise<string> {
  const deadline = Date.now() + timeoutMs;
  let problem = "no answer yet";
  while (Date.now() < deadline) {
    try {
      const now = await metaLeaderNow(
        servers.filter((s) => s.running),
        quorum,
      );
      if ("leader" in now) return now.leader;
      problem = now.problem;
    } catch (error) {
      problem = error instanceof Error ? error.message : String(error);
    }
    await sleep(100);
  }
  const logs = servers.flatMap((s) =>
    s
      .logs()
      .slice(-15)
      .map((line) => `[${s.serverName}] ${line}`),
  );
  throw new NatsdError(
    NatsdErrorCodes.NoMetaLeader,
    withLogs(`no JetStream meta leader within ${timeoutMs} ms (${problem})`, logs, logs.length),
    { logs },
  );
}

function isRecord(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
