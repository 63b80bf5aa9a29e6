/**
 * `npm start` end to end: the launcher starts its own nats-server, shards and
 * the demo, stays up for --duration, then drains and stops cleanly.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnService } from "@stratreg/testkit";
import { afterAll, expect, it } from "vitest";

const LAUNCHER = fileURLToPath(new URL("../libs/launcher/dist/main.js", import.meta.url));
const dataDir = mkdtempSync(join(tmpdir(), "stratreg-launch-"));
afterAll(() => rmSync(dataDir, { recursive: true, force: true }));

const processAlive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

it("starts an embedded server, shards and the demo, then stops cleanly", async () => {
  const launcher = spawnService({
    entry: LAUNCHER,
    args: ["--shards", "2", "--demo", "3000", "--duration", "1", "--data-dir", dataDir],
    // Without NATS_URL the launcher must start its own server.
    env: { NATS_URL: undefined, STRATREG_CLUSTER: undefined },
  });
  const exit = await launcher.exited;
  const out = launcher.logs().join("\n");
  expect(exit.code, out).toBe(0);
  expect(out).toMatch(/nats-server 2\.\d+\.\d+ started on nats:\/\/127\.0\.0\.1:\d+/);
  expect(out).toMatch(/cluster "stratreg" is serving all 256 partitions/);
  expect(out).toMatch(/registered\s+3,000 strategies in [\d,]+ ms = [\d,]+ strategies\/s \(0 rejected\)/);
  expect(out).toMatch(/verified\s+1,000\/1,000 read back exactly as registered/);
  expect(out).toMatch(/started versions \(keeps every version\)/);
  // The operator console: its URL printed, with the embedded server's WebSocket listener.
  expect(out).toMatch(/console: http:\/\/127\.0\.0\.1:\d+\/ \(NATS over WebSocket at ws:\/\/127\.0\.0\.1:\d+;/);
  expect(out).toMatch(/stopped cleanly/);
  // Nothing left behind: the server's port is free again.
  const port = Number(/127\.0\.0\.1:(\d+)/.exec(out)?.[1]);
  const { freePort } = await import("@stratreg/natsd");
  expect(await freePort(port)).toBe(port);
  expect(processAlive(launcher.pid)).toBe(false);
});
