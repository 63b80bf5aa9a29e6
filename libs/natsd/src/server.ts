import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, type WriteStream } from "node:fs";
import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { dirname, join, relative, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { NatsdError, NatsdErrorCodes, NatsServerStartError } from "./errors.js";
import { requireNatsServer } from "./find.js";
import { forEachLine, LogRing } from "./log-ring.js";
import { freePort } from "./ports.js";
import { fetchServerInfo, getJson } from "./probe.js";
import { killOnExit, removeOnExit } from "./reaper.js";
import { generatedConfig } from "./server-config.js";

/** Route settings that make a server one node of a NATS cluster. */
export interface NatsClusterRouteOptions {
  /** Cluster name (`--cluster_name`); JetStream clustering requires one. */
  name: string;
  /** Port this node listens on for routes from the other nodes. */
  port: number;
  /** Route URLs of the other nodes, e.g. `nats://127.0.0.1:6223`. */
  routes: string[];
}

/** Options of {@link startNatsServer}. Every field is optional. */
export interface NatsServerOptions {
  /** The binary to run (default: {@link findNatsServer} with `env`). */
  bin?: string;
  /** Environment to find the binary in and to run it with (default `process.env`). */
  env?: NodeJS.ProcessEnv;
  /** Client port (default: a free port). */
  port?: number;
  /** Address to bind (default `127.0.0.1`). */
  host?: string;
  /** HTTP monitoring port (default: a free port); readiness is judged through it. */
  monitorPort?: number;
  /** Enable JetStream (default true). */
  jetstream?: boolean;
  /** JetStream store dir (default: a new temp dir, removed by `stop()` unless `keepStore`). */
  storeDir?: string;
  /** Keep the temp store dir after `stop()` (a `storeDir` you pass is never removed). */
  keepStore?: boolean;
  /** Server name (default `natsd-<port>`); it must stay stable across restarts of a JetStream cluster node. */
  serverName?: string;
  /** Join a cluster. */
  cluster?: NatsClusterRouteOptions;
  /** An extra config file; command-line settings made from these options take precedence over it. */
  configFile?: string;
  /** Also append the server's log to this file. */
  logFile?: string;
  /** Debug logging (`-D`). */
  debug?: boolean;
  /** How long to wait for readiness (default 10 000 ms). */
  readyTimeoutMs?: number;
  /** Maximum message payload in bytes (nats-server has no flag for it, so it goes into a generated config). */
  maxPayload?: number;
  /**
   * JetStream's `sync_interval`: `"always"` fsyncs every write before it is acknowledged
   * (survives an OS crash or power loss, at a large cost in throughput), a duration such as
   * `"10s"` fsyncs that often. Unset: the server's default (every 2 minutes; acknowledged
   * writes survive a process crash, not a power loss). Needs nats-server >= 2.10 (2.9 refuses
   * the field) and goes into a generated config, so it cannot be combined with `configFile`:
   * nats-server would replace one `jetstream {}` block with the other. Set it there instead.
   */
  syncInterval?: string;
  /**
   * Open a WebSocket listener for browsers (the operator console) on this port, without TLS;
   * 0 picks a free one. nats-server has no flag for it, so it goes into a generated config,
   * which cannot be combined with a `configFile` that has its own `websocket {}` block.
   */
  websocketPort?: number;
  /** Further raw command-line arguments, appended last. */
  args?: string[];
}

/** A running (or crashed, or killed) nats-server child process. */
export interface NatsServerProcess {
  /** Client URL, e.g. `nats://127.0.0.1:41234`. */
  readonly url: string;
  /** Client port; the same across restarts. */
  readonly port: number;
  /** Process id of the current incarnation. */
  readonly pid: number;
  /** JetStream store dir; the same across restarts. */
  readonly storeDir: string;
  /** Monitoring base URL, e.g. `http://127.0.0.1:41235` (`/healthz`, `/varz`, `/jsz`). */
  readonly monitorUrl: string;
  /** WebSocket URL for browsers, e.g. `ws://127.0.0.1:41237`, when `websocketPort` was given. */
  readonly wsUrl: string | undefined;
  /** Route URL when clustered, e.g. `nats://127.0.0.1:41236`. */
  readonly clusterUrl: string | undefined;
  /** Server name. */
  readonly serverName: string;
  /** Version the running server reported in its INFO line, e.g. `"2.9.10"`. */
  readonly version: string;
  /** Whether the current incarnation is still running. */
  readonly running: boolean;
  /** Resolves with the exit code (null if ended by a signal) of the current incarnation. */
  readonly exited: Promise<number | null>;
  /** The last ~200 lines of output, across restarts, oldest first. */
  logs(): string[];
  /** SIGTERM, wait for exit (SIGKILL after 5 s), then remove the temp store dir. Idempotent; final. */
  stop(): Promise<void>;
  /** Send a terminating signal (default SIGKILL) and wait for the exit; keeps the store dir. */
  kill(signal?: NatsServerKillSignal): Promise<void>;
  /** Start again on the same ports, name and store dir (stops gracefully first if running). */
  restart(): Promise<void>;
}

/** Signals {@link NatsServerProcess.kill} accepts: ones that end nats-server, so waiting for the exit is safe. */
export type NatsServerKillSignal = "SIGKILL" | "SIGTERM" | "SIGINT" | "SIGQUIT";

const DEFAULT_READY_TIMEOUT_MS = 10_000;
const STOP_GRACE_MS = 5_000;
const START_ATTEMPTS = 3;

interface ExitRecord {
  code: number | null;
  signal: NodeJS.Signals | null;
  error?: Error;
}

interface Layout {
  bin: string;
  env: NodeJS.ProcessEnv;
  host: string;
  port: number;
  monitorPort: number;
  storeDir: string;
  /** We made the store dir (so a failed start may remove it). */
  createdStoreDir: boolean;
  /** `stop()` removes the store dir: we made it and the caller did not ask to keep it. */
  ownsStoreDir: boolean;
  clusterPort: number | undefined;
  websocketPort: number | undefined;
  serverName: string;
  args: string[];
  readyTimeoutMs: number;
  runtimeDir: string | undefined;
  /** Ports this library chose (not the caller), which may be re-chosen after a bind race. */
  autoPorts: ReadonlySet<number>;
}

/**
 * Starts nats-server as a child process and resolves once it serves clients: the monitoring
 * endpoint `/healthz?js-enabled-only=true` answers 200 and the client port sends INFO.
 * `js-enabled-only` is used because plain `/healthz` of a cluster node stays 503 until a
 * JetStream meta leader exists, which needs the other nodes up as well.
 *
 * Rejects with {@link NatsServerNotFoundError} when there is no binary and with
 * {@link NatsServerStartError} (carrying the last log lines) when the server exits early
 * or is not ready in time. Ports chosen automatically are re-chosen when another process
 * took them first.
 */
export async function startNatsServer(options: NatsServerOptions = {}): Promise<NatsServerProcess> {
  const bin = options.bin ?? requireNatsServer(options.env === undefined ? {} : { env: options.env });
  generatedConfig(options); // a bad setting fails here, before any port or dir is taken
  let lastError: unknown;
  for (let attempt = 1; attempt <= START_ATTEMPTS; attempt++) {
    const layout = await prepareLayout(bin, options);
    const server = new ManagedNatsServer(layout, options.logFile);
    try {
      await server.launch();
      return server;
    } catch (error) {
      await server.stop();
      // Nothing was stored by a server that never became ready, even if asked to keep it.
      if (layout.createdStoreDir) await rm(layout.storeDir, { recursive: true, force: true });
      lastError = error;
      if (!(error instanceof NatsServerStartError && lostPortRace(error.logs, layout.autoPorts))) throw error;
    }
  }
  throw lastError;
}

/** Whether the server failed because another process bound one of the ports we picked for it. */
function lostPortRace(logs: readonly string[], autoPorts: ReadonlySet<number>): boolean {
  for (const line of logs) {
    const taken = /:(\d+): bind: address already in use/.exec(line);
    if (taken && autoPorts.has(Number(taken[1]))) return true;
  }
  return false;
}

async function prepareLayout(bin: string, options: NatsServerOptions): Promise<Layout> {
  const host = options.host ?? "127.0.0.1";
  const port = options.port ?? (await freePort(undefined, host));
  const monitorPort = options.monitorPort ?? (await freePort(undefined, host));
  const createdStoreDir = options.storeDir === undefined;
  const storeDir =
    options.storeDir === undefined ? await mkdtemp(join(tmpdir(), "natsd-store-")) : resolve(options.storeDir);
  if (!createdStoreDir) await mkdir(storeDir, { recursive: true });
  const websocketPort =
    options.websocketPort === 0 ? await freePort(undefined, host) : (options.websocketPort ?? undefined);
  const serverName = options.serverName ?? `natsd-${port}`;
  if (options.logFile !== undefined) await mkdir(dirname(resolve(options.logFile)), { recursive: true });

  const args = ["-a", host, "-p", String(port), "-m", String(monitorPort), "-n", serverName];
  let runtimeDir: string | undefined;
  const generated = generatedConfig({ ...options, host, websocketPort });
  if (generated.length > 0) {
    // No command-line flag sets these, so write a config that sets them and includes the
    // caller's config. nats-server resolves `include` relative to the including file.
    runtimeDir = await mkdtemp(join(tmpdir(), "natsd-conf-"));
    const lines = [...generated];
    if (options.configFile !== undefined) {
      lines.push(`include "${relative(runtimeDir, resolve(options.configFile))}"`);
    }
    const configPath = join(runtimeDir, "natsd.conf");
    await writeFile(configPath, `${lines.join("\n")}\n`);
    args.unshift("-c", configPath);
  } else if (options.configFile !== undefined) {
    args.unshift("-c", resolve(options.configFile));
  }
  if (options.jetstream ?? true) args.push("-js", "-sd", storeDir);
  if (options.cluster !== undefined) {
    args.push("--cluster_name", options.cluster.name, "--cluster", `nats://${host}:${options.cluster.port}`);
    if (options.cluster.routes.length > 0) args.push("--routes", options.cluster.routes.join(","));
  }
  if (options.debug) args.push("-D");
  args.push(...(options.args ?? []));

  return {
    bin,
    env: options.env ?? process.env,
    host,
    port,
    monitorPort,
    storeDir,
    createdStoreDir,
    ownsStoreDir: createdStoreDir && !options.keepStore,
    clusterPort: options.cluster?.port,
    websocketPort,
    serverName,
    args,
    readyTimeoutMs: options.readyTimeoutMs ?? DEFAULT_READY_TIMEOUT_MS,
    runtimeDir,
    autoPorts: new Set([
      options.port === undefined ? port : -1,
      options.monitorPort === undefined ? monitorPort : -1,
      options.websocketPort === 0 && websocketPort !== undefined ? websocketPort : -1,
    ]),
  };
}

/** A wildcard bind address is not something a client can dial; loopback reaches it. */
function dialHost(host: string): string {
  if (host === "0.0.0.0" || host === "" || host === "::") return "127.0.0.1";
  return host.includes(":") ? `[${host}]` : host;
}

class ManagedNatsServer implements NatsServerProcess {
  readonly url: string;
  readonly monitorUrl: string;
  readonly wsUrl: string | undefined;
  readonly clusterUrl: string | undefined;
  readonly #layout: Layout;
  readonly #ring = new LogRing(200);
  readonly #logFile: WriteStream | undefined;
  readonly #releaseDirs: Array<() => void> = [];
  #child: ChildProcess | undefined;
  #exited: Promise<number | null> = Promise.resolve(null);
  #version = "";
  #stopping: Promise<void> | undefined;

  constructor(layout: Layout, logFile: string | undefined) {
    this.#layout = layout;
    const host = dialHost(layout.host);
    this.url = `nats://${host}:${layout.port}`;
    this.monitorUrl = `http://${host}:${layout.monitorPort}`;
    this.wsUrl = layout.websocketPort === undefined ? undefined : `ws://${host}:${layout.websocketPort}`;
    this.clusterUrl = layout.clusterPort === undefined ? undefined : `nats://${host}:${layout.clusterPort}`;
    this.#logFile = logFile === undefined ? undefined : createWriteStream(logFile, { flags: "a" });
    // A log file we cannot write must not crash the process through an unhandled "error".
    this.#logFile?.on("error", (error) => this.#ring.push(`[natsd] cannot write ${logFile}: ${error.message}`));
    if (layout.ownsStoreDir) this.#releaseDirs.push(removeOnExit(layout.storeDir));
    if (layout.runtimeDir !== undefined) this.#releaseDirs.push(removeOnExit(layout.runtimeDir));
  }

  get port(): number {
    return this.#layout.port;
  }
  get storeDir(): string {
    return this.#layout.storeDir;
  }
  get serverName(): string {
    return this.#layout.serverName;
  }
  get pid(): number {
    return this.#child?.pid ?? -1;
  }
  get version(): string {
    return this.#version;
  }
  get running(): boolean {
    const child = this.#child;
    return child !== undefined && child.exitCode === null && child.signalCode === null;
  }
  get exited(): Promise<number | null> {
    return this.#exited;
  }

  logs(): string[] {
    return this.#ring.lines();
  }

  #log(line: string): void {
    this.#ring.push(line);
    this.#logFile?.write(`${line}\n`);
  }

  /** Spawns the process and waits until it is ready; on failure the child is dead when this rejects. */
  async launch(): Promise<void> {
    const { bin, args, env } = this.#layout;
    // Its own process group: a Ctrl-C in the terminal reaches only our process, which can then
    // stop things in order (drain the services, then the server). killOnExit still covers us dying.
    const child = spawn(bin, args, { env, stdio: ["ignore", "pipe", "pipe"], detached: true });
    this.#child = child;
    killOnExit(child);
    const state: { ended?: ExitRecord } = {};
    this.#exited = new Promise((resolveExit) => {
      child.once("exit", (code, signal) => {
        state.ended = { code, signal };
        this.#log(`[natsd] nats-server pid ${child.pid ?? "?"} exited (code ${code}, signal ${signal})`);
        resolveExit(code);
      });
      // spawn failures (ENOENT, EACCES) emit "error" and no "exit".
      child.once("error", (error) => {
        state.ended = { code: null, signal: null, error };
        this.#log(`[natsd] cannot run ${bin}: ${error.message}`);
        resolveExit(null);
      });
    });
    if (child.stdout) forEachLine(child.stdout, (line) => this.#log(line));
    if (child.stderr) forEachLine(child.stderr, (line) => this.#log(line));

    const deadline = Date.now() + this.#layout.readyTimeoutMs;
    const healthz = `${this.monitorUrl}/healthz?js-enabled-only=true`;
    let lastProblem: unknown;
    while (Date.now() < deadline) {
      const ended = state.ended;
      if (ended !== undefined) {
        // Let the pipes drain so the fatal line ("address already in use") is in the logs.
        await sleep(50);
        const how = ended.error ? ended.error.message : `code ${ended.code}, signal ${ended.signal}`;
        throw new NatsServerStartError(`nats-server exited before it was ready (${how})`, this.logs(), ended.error);
      }
      try {
        const health = await getJson(healthz, 1_000);
        if (health.status === 200) {
          const info = await fetchServerInfo(this.url, 1_000);
          this.#version = info.version;
          return;
        }
        lastProblem = new Error(`GET /healthz: ${health.status} ${JSON.stringify(health.body)}`);
      } catch (error) {
        lastProblem = error;
      }
      await sleep(50);
    }
    await this.#terminate("SIGKILL", 0);
    throw new NatsServerStartError(
      `nats-server was not ready within ${this.#layout.readyTimeoutMs} ms (${describe(lastProblem)})`,
      this.logs(),
      lastProblem,
    );
  }

  /** Signals the current incarnation and waits for it to exit, escalating to SIGKILL after `graceMs`. */
  async #terminate(signal: NodeJS.Signals, graceMs: number): Promise<void> {
    const child = this.#child;
    if (child === undefined || !this.running) return;
    child.kill(signal);
    if (signal !== "SIGKILL") {
      const timer = setTimeout(() => child.kill("SIGKILL"), graceMs);
      await this.#exited;
      clearTimeout(timer);
      return;
    }
    await this.#exited;
  }

  kill(signal: NatsServerKillSignal = "SIGKILL"): Promise<void> {
    return this.#terminate(signal, STOP_GRACE_MS);
  }

  async restart(): Promise<void> {
    if (this.#stopping !== undefined) {
      throw new NatsdError(NatsdErrorCodes.Stopped, `nats-server ${this.serverName} was stopped; start a new one`);
    }
    await this.#terminate("SIGTERM", STOP_GRACE_MS);
    this.#log(`[natsd] restarting ${this.serverName} on port ${this.port}`);
    await this.launch();
  }

  stop(): Promise<void> {
    this.#stopping ??= (async () => {
      await this.#terminate("SIGTERM", STOP_GRACE_MS);
      await new Promise<void>((done) => (this.#logFile ? this.#logFile.end(done) : done()));
      const dirs = [this.#layout.runtimeDir, this.#layout.ownsStoreDir ? this.#layout.storeDir : undefined];
      for (const dir of dirs) if (dir !== undefined) await rm(dir, { recursive: true, force: true });
      for (const release of this.#releaseDirs) release();
    })();
    return this.#stopping;
  }
}

function describe(problem: unknown): string {
  if (problem instanceof Error) return problem.message;
  return problem === undefined ? "no answer yet" : String(problem);
}
