import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type ServiceProcess, spawnService, WaitForLogError } from "./mod.js";

// A stand-in for a service: pino-style JSON lines, a plain line, stderr, then it idles
// until signalled. On SIGTERM it logs and exits 0, as a well-behaved service should.
const SERVICE = `
const log = (level, msg, extra = {}) => console.log(JSON.stringify({ level, time: Date.now(), pid: process.pid, msg, ...extra }));
log(30, "starting", { name: process.env.SERVICE_NAME });
console.log("plain text line");
console.error("to stderr");
setTimeout(() => log(30, "ready", { port: 1234, args: process.argv.slice(2) }), 100);
process.on("SIGTERM", () => { log(30, "draining"); setTimeout(() => process.exit(0), 50); });
setInterval(() => {}, 1000);
`;

describe("spawnService", () => {
  let dir: string;
  let entry: string;
  const spawned: ServiceProcess[] = [];
  const start = (extra: Partial<Parameters<typeof spawnService>[0]> = {}): ServiceProcess => {
    const service = spawnService({ entry, name: "fake", env: { SERVICE_NAME: "fake-1" }, ...extra });
    spawned.push(service);
    return service;
  };

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "testkit-svc-"));
    entry = join(dir, "service.mjs");
    await writeFile(entry, SERVICE);
  });
  afterAll(async () => {
    await Promise.all(spawned.map((s) => s.kill()));
    await rm(dir, { recursive: true, force: true });
  });

  it("finds JSON log lines by their fields, and plain lines by text", async () => {
    const service = start({ args: ["--shard", "3"] });
    expect(service.pid).toBeGreaterThan(0);
    const ready = await service.waitForLog((_line, json) => json?.msg === "ready", 5_000);
    expect(ready.json).toMatchObject({ msg: "ready", port: 1234, args: ["--shard", "3"] });
    const starting = await service.waitForLog((_line, json) => json?.msg === "starting");
    expect(starting.json?.name).toBe("fake-1");
    const plain = await service.waitForLog((line) => line === "plain text line");
    expect(plain.json).toBeUndefined();
    expect(service.logs()).toContain("to stderr");
    await expect(service.waitForLog((line) => line === "plain text line", 200, { fromNow: true })).rejects.toThrow(
      WaitForLogError,
    );
  });

  it("reports SIGKILL as the exit signal", async () => {
    const service = start();
    await service.waitForLog((_l, json) => json?.msg === "ready");
    const status = await service.kill("SIGKILL");
    expect(status).toEqual({ code: null, signal: "SIGKILL" });
    expect(service.running).toBe(false);
    expect(await service.exited).toEqual(status);
  });

  it("stop() lets the service drain on SIGTERM", async () => {
    const service = start();
    await service.waitForLog((_l, json) => json?.msg === "ready");
    const status = await service.stop();
    expect(status).toEqual({ code: 0, signal: null });
    expect(service.logs().some((line) => line.includes('"draining"'))).toBe(true);
  });

  it("stop() continues a paused process so it can drain", async () => {
    const service = start();
    await service.waitForLog((_l, json) => json?.msg === "ready");
    service.pause();
    expect(await service.stop()).toEqual({ code: 0, signal: null });
  });

  it("stop() escalates to SIGKILL when SIGTERM is ignored", async () => {
    const stubborn = join(dir, "stubborn.mjs");
    await writeFile(stubborn, 'process.on("SIGTERM", () => {}); console.log("up"); setInterval(() => {}, 1000);');
    const service = start({ entry: stubborn });
    await service.waitForLog((line) => line === "up");
    expect(await service.stop(300)).toEqual({ code: null, signal: "SIGKILL" });
  });

  it("rejects waitForLog when the process exits first, with its output", async () => {
    const crashing = join(dir, "crash.mjs");
    await writeFile(crashing, 'console.log("about to fail"); process.exit(3);');
    const service = start({ entry: crashing });
    const error = await service.waitForLog((line) => line === "never printed", 5_000).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitForLogError);
    expect((error as WaitForLogError).message).toContain("about to fail");
    expect(await service.exited).toEqual({ code: 3, signal: null });
    // Lines printed before the exit stay searchable afterwards.
    expect((await service.waitForLog((line) => line === "about to fail")).line).toBe("about to fail");
    await expect(service.waitForLog((line) => line === "never printed")).rejects.toThrow(/is not running/);
  });

  it("rejects waitForLog on timeout", async () => {
    const service = start();
    await expect(service.waitForLog(() => false, 150)).rejects.toThrow(/within 150 ms/);
  });
});
