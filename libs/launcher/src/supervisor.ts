/**
 * Runs registry shards, rankers, risk guards, discovery, search, versions and the graph service as child processes: logs to files, restarts a shard that
 * dies unexpectedly, stops them all gracefully.
 */
import { type ChildProcess, spawn } from "node:child_process";
import { createWriteStream, mkdirSync, type WriteStream } from "node:fs";
import { createRequire } from "node:module";
import { join } from "node:path";
import { killOnExit } from "@stratreg/natsd";

const RESTART_DELAY_MS = 1000;
const STOP_GRACE_MS = 10_000;

/** The services the launcher runs, with their package and the variable that names a member. */
export const Services = {
  shard: { package: "@stratreg/registry-shard", memberVariable: "STRATREG_MEMBER_ID" },
  ranker: { package: "@stratreg/ranker", memberVariable: "STRATREG_RANKER_ID" },
  "risk-guard": { package: "@stratreg/risk-guard", memberVariable: "STRATREG_RISK_GUARD_ID" },
  discovery: { package: "@stratreg/discovery", memberVariable: "STRATREG_DISCOVERY_ID" },
  search: { package: "@stratreg/search-service", memberVariable: "STRATREG_SEARCH_ID" },
  graph: { package: "@stratreg/graph-service", memberVariable: "STRATREG_GRAPH_ID" },
  versions: { package: "@stratreg/versions-service", memberVariable: "STRATREG_VERSIONS_ID" },
} as const;
export type ServiceKind = keyof typeof Services;

/** Where a service's entry point is, as installed in this workspace. */
export function serviceEntry(kind: ServiceKind): string {
  const require = createRequire(import.meta.url);
  return require.resolve(`${Services[kind].package}/main`);
}

/** Where the shard entry point is, as installed in this workspace. */
export function shardEntry(): string {
  return serviceEntry("shard");
}

interface Running {
  member: string;
  child: ChildProcess;
  log: WriteStream;
}

export class ServiceSupervisor {
  private readonly running = new Map<string, Running>();
  private stopping = false;

  constructor(
    private readonly env: NodeJS.ProcessEnv,
    private readonly logDir: string,
    private readonly say: (line: string) => void,
  ) {
    mkdirSync(logDir, { recursive: true });
  }

  /** Starts `member`, a shard unless `kind` says otherwise. */
  start(member: string, kind: ServiceKind = "shard"): void {
    const log = createWriteStream(join(this.logDir, `${member}.log`), { flags: "a" });
    // STRATREG_SERVICE_NODE_ARGS: Node options for every service started (e.g. `--cpu-prof --cpu-prof-dir=DIR`,
    // which NODE_OPTIONS may not carry), to profile the services as they run.
    const nodeArgs = (this.env.STRATREG_SERVICE_NODE_ARGS ?? "").split(" ").filter((arg) => arg !== "");
    const child = spawn(process.execPath, [...nodeArgs, serviceEntry(kind)], {
      env: { ...this.env, [Services[kind].memberVariable]: member },
      stdio: ["ignore", "pipe", "pipe"],
    });
    // If the launcher dies without stopping them (a crash, SIGKILL, a closed stdout pipe),
    // its shards must not live on, holding partitions of a cluster nobody runs.
    killOnExit(child);
    child.stdout?.pipe(log, { end: false });
    child.stderr?.pipe(log, { end: false });
    this.running.set(member, { member, child, log });
    child.on("exit", (code, signal) => {
      log.end();
      if (this.stopping) return;
      this.say(
        `${kind} ${member} exited (${signal ?? `code ${code}`}); restarting in ${RESTART_DELAY_MS} ms — see ${join(this.logDir, `${member}.log`)}`,
      );
      setTimeout(() => {
        if (!this.stopping) this.start(member, kind);
      }, RESTART_DELAY_MS);
    });
  }

  /** Process ids of the running shards. */
  pids(): Record<string, number | undefined> {
    return Object.fromEntries([...this.running.values()].map((r) => [r.member, r.child.pid]));
  }

  /** SIGTERM to every shard (they drain and hand over), SIGKILL to any still running after a grace period. */
  async stopAll(): Promise<void> {
    this.stopping = true;
    await Promise.all(
      [...this.running.values()].map(
        ({ child }) =>
          new Promise<void>((resolve) => {
            if (child.exitCode !== null || child.signalCode !== null) return resolve();
            const timer = setTimeout(() => child.kill("SIGKILL"), STOP_GRACE_MS);
            child.once("exit", () => {
              clearTimeout(timer);
              resolve();
            });
            child.kill("SIGTERM");
          }),
      ),
    );
  }
}
