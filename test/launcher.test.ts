/**
 * `npm start` end to end: the launcher starts its own nats-server, shards and
 * the demo, stays up for --duration, then drains and stops cleanly; it joins
 * the server NATS_URL names instead; a usage mistake starts nothing.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { spawnService, uniqueClusterName } from "@stratreg/testkit";
import { afterAll, expect, inject, it } from "vitest";

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

it("joins the server NATS_URL names, with its own cluster, and stops cleanly", async () => {
  const cluster = uniqueClusterName("launch-join");
  const launcher = spawnService({
    entry: LAUNCHER,
    args: ["--shards", "1", "--demo", "0", "--duration", "1", "--data-dir", join(dataDir, "join")],
    env: { NATS_URL: inject("natsUrl"), STRATREG_CLUSTER: cluster, NATS_WS_URL: undefined },
  });
  const exit = await launcher.exited;
  const out = launcher.logs().join("\n");
  expect(exit.code, out).toBe(0);
  expect(out).toContain(`joining the NATS server at ${inject("natsUrl")}`);
  expect(out).toContain("durability: whatever that server's config says");
  expect(out).toMatch(new RegExp(`cluster "${cluster}" is serving all \\d+ partitions`));
  expect(out).toContain("console: not served (no WebSocket listener: set NATS_WS_URL");
  expect(out).toMatch(/stopped cleanly/);
});

it("refuses a usage mistake with one line and exit code 2, starting nothing", async () => {
  const mistakes: Array<[string[], string, NodeJS.ProcessEnv?]> = [
    [["--shards", "0"], "--shards must be 1..64"],
    [["--demo=-1"], "--demo must be a count ≥ 0"],
    [["--duration=-5"], "--duration must be seconds ≥ 0"],
    [["--nats-cluster", "2"], "--nats-cluster must be 3, 4 or 5 nats-servers"],
    [["--sync", "never"], "--sync must be default or always"],
    [["--discovery-budget", "1.5"], "--discovery-budget must be whole seconds (0: no discovery run)"],
    [
      ["--sync", "always"],
      "--nats-cluster and --sync configure the servers npm start runs itself; unset NATS_URL",
      { NATS_URL: inject("natsUrl") },
    ],
  ];
  for (const [args, message, env] of mistakes) {
    const launcher = spawnService({
      entry: LAUNCHER,
      args: [...args, "--data-dir", join(dataDir, "mistakes")],
      env: { NATS_URL: undefined, ...env },
    });
    const exit = await launcher.exited;
    const out = launcher.logs().filter((line) => !line.startsWith("[testkit]"));
    expect(exit.code, out.join("\n")).toBe(2);
    expect(out).toEqual([`stratreg: ${message}`]);
  }
  const unknown = spawnService({ entry: LAUNCHER, args: ["--shard", "2"], env: { NATS_URL: undefined } });
  const exit = await unknown.exited;
  expect(exit.code).toBe(2);
  expect(unknown.logs().join("\n")).toMatch(/^stratreg: Unknown option '--shard'/);
});
