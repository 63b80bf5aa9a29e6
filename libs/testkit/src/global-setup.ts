/**
 * vitest globalSetup: one NATS server with JetStream for the whole test run, shared by
 * every test file through `inject("natsUrl")`. Files that share it isolate themselves
 * with {@link uniqueClusterName}; tests that kill servers start their own.
 *
 * `NATS_TEST_MODE=container` runs the server in Docker via `@testcontainers/nats` instead
 * of as a local nats-server child process (image: `NATS_TEST_IMAGE`, default `nats:2.9.10`).
 */
import { fetchServerInfo, startNatsServer } from "@stratreg/natsd";
import type {} from "vitest";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    /** Client URL of the run's shared NATS server (JetStream on, no auth). */
    natsUrl: string;
  }
}

/** The oldest server the project targets; testing against it catches use of newer features. */
const DEFAULT_TEST_IMAGE = "nats:2.9.10";

type Teardown = () => Promise<void>;

export default async function setup(project: TestProject): Promise<Teardown> {
  const mode = process.env.NATS_TEST_MODE ?? "process";
  const { url, teardown } = mode === "container" ? await startContainer() : await startProcess();
  project.provide("natsUrl", url);
  return teardown;
}

async function startProcess(): Promise<{ url: string; teardown: Teardown }> {
  const server = await startNatsServer({ jetstream: true });
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
