/**
 * Test helpers: run the built `stratreg` CLI as a real child process, and start
 * a small real cluster of registry shards for it to talk to. Not part of the build.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { type ServiceProcess, spawnService, waitFor } from "@stratreg/testkit";

/** The built CLI entry and the shard entry, as users and operators run them. */
export const CLI_ENTRY = fileURLToPath(new URL("../../dist/main.js", import.meta.url));
const SHARD_ENTRY = fileURLToPath(new URL("../../../../services/registry-shard/dist/main.js", import.meta.url));

/** How one CLI run ended. */
export interface CliRun {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** A CLI run still going: its output so far, and how it ends. */
export interface RunningCli {
  readonly stdout: string;
  readonly stderr: string;
  /** Resolves when the process has exited and its output is read. */
  readonly done: Promise<CliRun>;
  /** Resolves once stderr contains `text` (e.g. a follower saying it listens); rejects if the run ends first. */
  stderrContains(text: string): Promise<void>;
  /** Sends `signal` (default SIGINT, as Ctrl-C). */
  kill(signal?: NodeJS.Signals): void;
}

/** A CLI run whose input stays open: the test writes it as it goes. */
export interface FedCli extends RunningCli {
  write(text: string): void;
  end(): void;
}

/** Starts `stratreg ...args` with `env` over this process's environment; `stdin` is written to its input. */
export function startCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string, timeoutMs = 60_000): RunningCli {
  return start(args, env, stdin ?? "", timeoutMs);
}

/** Starts `stratreg ...args` with its input open, for the test to write and end. */
export function startFedCli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 60_000): FedCli {
  return start(args, env, undefined, timeoutMs);
}

function start(args: string[], env: NodeJS.ProcessEnv, stdin: string | undefined, timeoutMs: number): FedCli {
  const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
    env: { ...process.env, ...env },
    stdio: ["pipe", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  let closed = false;
  const waiters = new Set<() => void>();
  child.stdout.setEncoding("utf8").on("data", (text: string) => {
    stdout += text;
  });
  child.stderr.setEncoding("utf8").on("data", (text: string) => {
    stderr += text;
    for (const wake of waiters) wake();
  });
  const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
  const done = new Promise<CliRun>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      closed = true;
      resolve({ code, stdout, stderr });
      for (const wake of waiters) wake();
    });
  });
  if (stdin !== undefined) child.stdin.end(stdin);
  return {
    write: (text) => child.stdin.write(text),
    end: () => child.stdin.end(),
    get stdout() {
      return stdout;
    },
    get stderr() {
      return stderr;
    },
    done,
    stderrContains: (text) =>
      new Promise((resolve, reject) => {
        const check = () => {
          if (stderr.includes(text)) resolve();
          else if (closed) {
            reject(new Error(`stratreg ${args.join(" ")} ended without printing ${JSON.stringify(text)}:\n${stderr}`));
          } else return;
          waiters.delete(check);
        };
        waiters.add(check);
        check();
      }),
    kill: (signal = "SIGINT") => child.kill(signal),
  };
}

/** Runs `stratreg ...args` with `env` over this process's environment; `stdin` is written to its input. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string, timeoutMs = 60_000): Promise<CliRun> {
  return startCli(args, env, stdin, timeoutMs).done;
}

/** A registry cluster of real shard processes. */
export interface TestCluster {
  env: NodeJS.ProcessEnv;
  /** Every shard started, in order (`shard-<i>` first), exited ones included. */
  shards: ServiceProcess[];
  /** Starts one more shard as `member` (a drained member id may come back) and returns it. */
  addShard(member: string): ServiceProcess;
  /** Resolves once `stratreg status` is healthy with exactly `members` members. */
  waitHealthy(members: number): Promise<void>;
  stop(): Promise<void>;
}

/** The lease period the test shards run with (their default, set explicitly so tests can rely on it). */
export const TEST_LEASE_MS = 3000;

/** Extra environment of the shards and of the CLI runs, e.g. the NATS users of a secured server. */
export interface ClusterEnv {
  shardEnv?: NodeJS.ProcessEnv;
  cliEnv?: NodeJS.ProcessEnv;
}

/** Starts `members` shards of `cluster` with `partitions` partitions and waits until `stratreg status` is healthy. */
export async function startCluster(
  natsUrl: string,
  cluster: string,
  members: number,
  partitions: number,
  { shardEnv = {}, cliEnv = {} }: ClusterEnv = {},
): Promise<TestCluster> {
  const env = { NATS_URL: natsUrl, STRATREG_CLUSTER: cluster, ...cliEnv };
  const shards: ServiceProcess[] = [];
  const addShard = (member: string) => {
    const shard = spawnService({
      entry: SHARD_ENTRY,
      name: member,
      env: {
        NATS_URL: natsUrl,
        STRATREG_CLUSTER: cluster,
        ...shardEnv,
        STRATREG_MEMBER_ID: member,
        STRATREG_PARTITIONS: String(partitions),
        STRATREG_HEARTBEAT_MS: "200",
        STRATREG_JOIN_GRACE_MS: "300",
        STRATREG_LEASE_MS: String(TEST_LEASE_MS),
        LOG_LEVEL: "warn",
      },
    });
    shards.push(shard);
    return shard;
  };
  const stop = async () => {
    await Promise.all(shards.map((s) => s.stop()));
  };
  const waitHealthy = async (count: number) => {
    await waitFor(
      async () => {
        const run = await runCli(["status", "--json", "--wait", "300"], env);
        if (run.code !== 0) return false;
        const status = JSON.parse(run.stdout) as { totals: { members: number } };
        return status.totals.members === count;
      },
      {
        timeoutMs: 30_000,
        intervalMs: 200,
        message: `cluster ${cluster} serving every partition with ${count} members`,
      },
    );
  };
  for (let i = 0; i < members; i++) addShard(`shard-${i}`);
  try {
    await waitHealthy(members);
  } catch (err) {
    const logs = shards.map((s) => `--- ${s.name}\n${s.logs().slice(-20).join("\n")}`).join("\n");
    await stop();
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  }
  return { env, shards, addShard, waitHealthy, stop };
}
