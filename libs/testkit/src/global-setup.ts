/**
 * vitest globalSetup: one NATS server with JetStream for the whole test run, shared by
 * every test file through `inject("natsUrl")`. Files that share it isolate themselves
 * with {@link uniqueClusterName}; tests that kill servers start their own.
 *
 * It also makes sure a nats-server >= 2.10.27 is there for the 3-node clusters that
 * replication tests start (`startNatsCluster`), fetching Debian's into `.nats-server/` once,
 * here, before the workers start: their `startNatsCluster` calls then find it there without
 * the network, and no two workers fetch it at once. The shared server stays on the
 * machine's own nats-server (the oldest the project targets, 2.9.10 on Debian 12), so the
 * tests keep catching uses of newer features; only a machine without one uses the fetched.
 *
 * It installs Debian's chromium for the console's browser test when the machine lacks it and
 * apt-get can (as root).
 *
 * `NATS_TEST_MODE=container` runs the server in Docker via `@testcontainers/nats` instead
 * of as a local nats-server child process (image: `NATS_TEST_IMAGE`, default `nats:2.9.10`).
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import {
  type EnsuredNatsServer,
  ensureNatsServer,
  fetchServerInfo,
  findNatsServer,
  REPLICATED_NATS_SERVER_VERSION,
  startNatsServer,
} from "@stratreg/natsd";
import type {} from "vitest";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Client URL of the run's shared NATS server (JetStream on, no auth). */
    natsUrl: string;
    /**
     * The nats-server (>= 2.10.27) that `startNatsCluster` runs in this test run, or
     * undefined when none could be had (cluster tests then fail, saying why).
     */
    natsClusterServer: { bin: string; version: string } | undefined;
  }
}

/** The oldest server the project targets; testing against it catches use of newer features. */
const DEFAULT_TEST_IMAGE = "nats:2.9.10";

type Teardown = () => Promise<void>;

export default async function setup(project: TestProject): Promise<Teardown> {
  ensureChromium();
  const clusterServer = await serverForClusters();
  project.provide("natsClusterServer", clusterServer && { bin: clusterServer.bin, version: clusterServer.version });
  const mode = process.env.NATS_TEST_MODE ?? "process";
  const { url, teardown } = mode === "container" ? await startContainer() : await startProcess(clusterServer);
  project.provide("natsUrl", url);
  return teardown;
}

/**
 * The console's browser test drives Debian's chromium (playwright-core downloads no browser).
 * On a machine without it, installs it with apt-get when it can (as root), saying so; otherwise
 * that test fails, saying how to install it.
 */
function ensureChromium(): void {
  if (process.env.CHROMIUM_BIN !== undefined || existsSync("/usr/bin/chromium")) return;
  const apt = spawnSync("sh", ["-c", "command -v apt-get"], { encoding: "utf8" });
  if (process.getuid?.() !== 0 || apt.status !== 0) return;
  process.stdout.write(
    "[global-setup] chromium not found: installing Debian's (apt-get install -y chromium) for the console test\n",
  );
  const installed = spawnSync("sh", ["-c", "apt-get update -qq && apt-get install -y -qq chromium"], {
    stdio: ["ignore", "ignore", "inherit"],
    env: { ...process.env, DEBIAN_FRONTEND: "noninteractive" },
  });
  if (installed.status !== 0) process.stdout.write("[global-setup] apt-get could not install chromium\n");
}

/** The replication tests' server, fetched if need be; a failure here only fails those tests. */
async function serverForClusters(): Promise<EnsuredNatsServer | undefined> {
  try {
    const found = await ensureNatsServer({
      minVersion: REPLICATED_NATS_SERVER_VERSION,
      purpose: "needed for replicated streams (3-node cluster tests)",
      log: (line) => process.stdout.write(`[global-setup] ${line}\n`),
    });
    const where = found.source === "machine" ? found.bin : `${found.bin} (${found.reason})`;
    process.stdout.write(`[global-setup] 3-node clusters run nats-server ${found.version} from ${where}\n`);
    return found;
  } catch (error) {
    process.stdout.write(`[global-setup] WARNING: cluster tests will fail: ${(error as Error).message}\n`);
    return undefined;
  }
}

async function startProcess(
  clusterServer: EnsuredNatsServer | undefined,
): Promise<{ url: string; teardown: Teardown }> {
  // The machine's own server; the fetched one only where the machine has none.
  const bin = findNatsServer({ cacheDir: false }) ?? clusterServer?.bin;
  const server = await startNatsServer({ jetstream: true, ...(bin === undefined ? {} : { bin }) });
  process.stdout.write(`[global-setup] the shared server is nats-server ${server.version} on ${server.url}\n`);
  return { url: server.url, teardown: () => server.stop() };
}

async function startContainer(): Promise<{ url: string; teardown: Teardown }> {
  // Imported only here so that runs without Docker never load testcontainers.
  const { NatsContainer } = await import("@testcontainers/nats");

  // NatsContainer always adds `--user test --pass test`, but the project's tests and services
  // connect with a bare URL (nats.js ignores credentials in URLs), so drop those arguments.
  class OpenNatsContainer extends NatsContainer {
    override withCommand(command: string[]): this {
      return super.withCommand(withoutAuthArgs(command));
    }
  }

  const container = await new OpenNatsContainer(process.env.NATS_TEST_IMAGE ?? DEFAULT_TEST_IMAGE)
    .withJetStream()
    .start();
  const url = `nats://${container.getHost()}:${container.getMappedPort(4222)}`;
  const info = await fetchServerInfo(url, 10_000);
  if (info.auth_required === true || info.jetstream !== true) {
    await container.stop();
    throw new Error(`NATS container at ${url} must have JetStream on and no auth; its INFO says otherwise`);
  }
  return {
    url,
    teardown: async () => {
      await container.stop();
    },
  };
}

function withoutAuthArgs(command: readonly string[]): string[] {
  const out: string[] = [];
  for (let i = 0; i < command.length; i++) {
    const arg = command[i];
    if (arg === "--user" || arg === "--pass") {
      i++; // skip its value too
      continue;
    }
    if (arg !== undefined) out.push(arg);
  }
  return out;
}
