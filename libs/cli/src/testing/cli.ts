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

/** Runs `stratreg ...args` with `env` over this process's environment; `stdin` is written to its input. */
export function runCli(args: string[], env: NodeJS.ProcessEnv, stdin?: string, timeoutMs = 60_000): Promise<CliRun> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [CLI_ENTRY, ...args], {
      env: { ...process.env, ...env },
      stdio: ["pipe", "pipe", "pipe"],
    });
    let stdout = "";
    let stderr = "";
    child.stdout.setEncoding("utf8").on("data", (text: string) => {
      stdout += text;
    });
    child.stderr.setEncoding("utf8").on("data", (text: string) => {
      stderr += text;
    });
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(stdin ?? "");
  });
}

/** A registry cluster of real shard processes. */
export interface TestCluster {
  env: NodeJS.ProcessEnv;
  shards: ServiceProcess[];
  stop(): Promise<void>;
}

/** Starts `members` shards of `cluster` with `partitions` partitions and waits until `stratreg status` is healthy. */
export async function startCluster(
  natsUrl: string,
  cluster: string,
  members: number,
  partitions: number,
): Promise<TestCluster> {
  const env = { NATS_URL: natsUrl, STRATREG_CLUSTER: cluster };
  const shards = Array.from({ length: members }, (_, i) =>
    spawnService({
      entry: SHARD_ENTRY,
      name: `shard-${i}`,
      env: {
        ...env,
        STRATREG_MEMBER_ID: `shard-${i}`,
        STRATREG_PARTITIONS: String(partitions),
        STRATREG_HEARTBEAT_MS: "200",
        STRATREG_JOIN_GRACE_MS: "300",
        LOG_LEVEL: "warn",
      },
    }),
  );
  const stop = async () => {
    await Promise.all(shards.map((s) => s.stop()));
  };
  try {
    await waitFor(
      async () => {
        const run = await runCli(["status", "--json", "--wait", "300"], env);
        if (run.code !== 0) return false;
        const status = JSON.parse(run.stdout) as { totals: { members: number } };
        return status.totals.members === members;
      },
      { timeoutMs: 30_000, intervalMs: 200, message: `cluster ${cluster} serving every partition` },
    );
  } catch (err) {
    const logs = shards.map((s) => `--- ${s.name}\n${s.logs().slice(-20).join("\n")}`).join("\n");
    await stop();
    throw new Error(`${(err as Error).message}\n${logs}`, { cause: err });
  }
  return { env, shards, stop };
}
