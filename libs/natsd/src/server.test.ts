import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { afterAll, afterEach, describe, expect, it } from "vitest";
import {
  ensureNatsServer,
  fetchServerInfo,
  freePort,
  type NatsServerProcess,
  NatsServerStartError,
  SYNC_ALWAYS_NATS_SERVER_VERSION,
  startNatsServer,
} from "./mod.js";
import { getJson } from "./probe.js";

const servers: NatsServerProcess[] = [];
const connections: NatsConnection[] = [];
const scratch: string[] = [];

async function start(...args: Parameters<typeof startNatsServer>): Promise<NatsServerProcess> {
  const server = await startNatsServer(...args);
  servers.push(server);
  return server;
}

async function client(url: string): Promise<NatsConnection> {
  const nc = await connect({ servers: url, reconnectTimeWait: 100, maxReconnectAttempts: -1 });
  connections.push(nc);
  return nc;
}

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), "natsd-test-"));
  scratch.push(dir);
  return dir;
}

afterEach(async () => {
  await Promise.all(connections.splice(0).map((nc) => nc.close()));
});
afterAll(async () => {
  await Promise.all(servers.splice(0).map((s) => s.stop()));
  await Promise.all(scratch.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe("startNatsServer", () => {
  it("starts a JetStream server that answers request/reply", async () => {
    const server = await start();
    expect(server.url).toBe(`nats://127.0.0.1:${server.port}`);
    expect(server.port).not.toBe(4222);
    expect(server.version).toMatch(/^\d+\.\d+\.\d+/);
    expect(server.running).toBe(true);
    expect(server.pid).toBeGreaterThan(0);

    const nc = await client(server.url);
    const sub = nc.subscribe("echo", {
      callback: (_err, msg) => {
        msg.respond(`echo:${msg.string()}`);
      },
    });
    const reply = await nc.request("echo", "hello", { timeout: 2_000 });
    expect(reply.string()).toBe("echo:hello");
    sub.unsubscribe();

    const jsm = await jetstreamManager(nc);
    const account = await jsm.getAccountInfo();
    expect(account.limits).toBeDefined();
    expect(server.logs().some((line) => line.includes("Server is ready"))).toBe(true);
  });

  it("stop() ends the process and removes its temp store dir", async () => {
    const server = await start();
    expect(existsSync(server.storeDir)).toBe(true);
    await server.stop();
    expect(server.running).toBe(false);
    expect(existsSync(server.storeDir)).toBe(false);
    await server.stop(); // idempotent
    await expect(server.restart()).rejects.toThrow(/stopped/);
  });

  it("keeps the store dir with keepStore, and never removes a store dir it was given", async () => {
    const kept = await start({ keepStore: true });
    await kept.stop();
    expect(existsSync(kept.storeDir)).toBe(true);
    scratch.push(kept.storeDir);

    const given = join(await tempDir(), "store");
    const server = await start({ storeDir: given });
    expect(server.storeDir).toBe(given);
    await server.stop();
    expect(existsSync(given)).toBe(true);
  });

  it("keeps port and JetStream data across SIGKILL and restart", async () => {
    const server = await start();
    const { port, storeDir } = server;
    const firstPid = server.pid;
    {
      const nc = await client(server.url);
      const jsm = await jetstreamManager(nc);
      await jsm.streams.add({ name: "DURABLE", subjects: ["durable.>"] });
      const ack = await jetstream(nc).publish("durable.one", "kept", { msgID: "m-1" });
      expect(ack.seq).toBe(1);
      await nc.close();
    }

    await server.kill("SIGKILL");
    expect(server.running).toBe(false);
    expect(await server.exited).toBeNull();

    await server.restart();
    expect(server.running).toBe(true);
    expect(server.port).toBe(port);
    expect(server.storeDir).toBe(storeDir);
    expect(server.pid).not.toBe(firstPid);

    const nc = await client(server.url);
    const jsm = await jetstreamManager(nc);
    const stored = await jsm.streams.getMessage("DURABLE", { seq: 1 });
    expect(stored?.string()).toBe("kept");
    expect(server.logs().some((line) => line.includes("[natsd] restarting"))).toBe(true);
  });

  it("restart() of a running server stops it gracefully first", async () => {
    const server = await start();
    const firstPid = server.pid;
    await server.restart();
    // nats-server 2.9.10 exits with code 1 on SIGTERM even after a clean shutdown.
    expect(server.logs()).toContainEqual(expect.stringContaining("Server Exiting"));
    expect(server.running).toBe(true);
    expect(server.pid).not.toBe(firstPid);
  });

  it("rejects with the server's last log lines when it exits early", async () => {
    const first = await start();
    const error = await startNatsServer({ port: first.port }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsServerStartError);
    expect(String((error as Error).message)).toMatch(/exited before it was ready[\s\S]*address already in use/);
  });

  it("rejects when the server is not ready in time, and leaves no process behind", async () => {
    // A "server" that never listens: a real one with a 1 ms deadline can still win the race
    // when a loaded machine delays the first probe until it is up.
    const bin = join(await tempDir(), "nats-server");
    await writeFile(bin, "#!/bin/sh\nexec sleep 60\n", { mode: 0o755 });
    const error = await startNatsServer({ bin, readyTimeoutMs: 300 }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NatsServerStartError);
    expect((error as Error).message).toMatch(/not ready within 300 ms/);
    expect((error as NatsServerStartError).logs).toContainEqual(
      expect.stringMatching(/\[natsd\] nats-server pid \d+ exited/),
    );
  });

  it("sets max_payload through a generated config that includes the caller's config", async () => {
    const dir = await tempDir();
    const configFile = join(dir, "extra.conf");
    await writeFile(configFile, "max_connections: 77\n");
    const server = await start({ maxPayload: 2 * 1024 * 1024, configFile, jetstream: false });
    const info = await fetchServerInfo(server.url);
    expect(info.max_payload).toBe(2 * 1024 * 1024);
    expect(info.jetstream).toBeFalsy();
  });

  it("appends its log to logFile and honours an explicit port", async () => {
    const logFile = join(await tempDir(), "logs", "nats.log");
    const port = await freePort();
    const server = await start({ port, logFile, serverName: "named" });
    expect(server.port).toBe(port);
    expect((await fetchServerInfo(server.url)).server_name).toBe("named");
    await server.stop();
    expect(await readFile(logFile, "utf8")).toContain("Server is ready");
  });
});

describe("syncInterval", () => {
  it("makes JetStream fsync every write (sync_interval: always) on a server that has it", async () => {
    const { bin } = await ensureNatsServer({ minVersion: SYNC_ALWAYS_NATS_SERVER_VERSION, log: () => {} });
    const server = await start({ bin, syncInterval: "always" });
    const { body } = await getJson(`${server.monitorUrl}/varz`);
    expect(body).toMatchObject({ jetstream: { config: { sync_always: true } } });
    const plain = await start({ bin });
    expect((await getJson(`${plain.monitorUrl}/varz`)).body).not.toMatchObject({
      jetstream: { config: { sync_always: true } },
    });
  });

  it("refuses settings the server would misread, before taking a port", async () => {
    await expect(start({ syncInterval: "always; max_payload: 1" })).rejects.toThrow(RangeError);
    await expect(start({ syncInterval: "always", configFile: "/etc/nats.conf" })).rejects.toThrow(/configFile/);
    await expect(start({ syncInterval: "10s", jetstream: false })).rejects.toThrow(/jetstream on/);
  });
});
