/**
 * `npm start` with its own NATS cluster and with `--sync always`: the launcher runs the
 * servers, the shards and the demo, says what it runs, then stops cleanly. (The default,
 * one embedded server, is test/launcher.test.ts.)
 */
import { existsSync, mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, isAtLeast, REPLICATED_NATS_SERVER_VERSION, SYNC_ALWAYS_NATS_SERVER_VERSION } from "@stratreg/natsd";
import { spawnService } from "@stratreg/testkit";
import { afterAll, expect, it } from "vitest";

const LAUNCHER = fileURLToPath(new URL("../dist/main.js", import.meta.url));
const scratch = mkdtempSync(join(tmpdir(), "stratreg-launch-nats-"));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** Runs the launcher to the end with the given flags; returns its output once it exited 0. */
async function launch(dataDir: string, ...flags: string[]): Promise<string> {
  const launcher = spawnService({
    entry: LAUNCHER,
    args: ["--shards", "2", "--demo", "1000", "--duration", "0", "--data-dir", dataDir, ...flags],
    // Without NATS_URL the launcher starts its own servers.
    env: { NATS_URL: undefined, STRATREG_CLUSTER: undefined, STRATREG_REPLICAS: undefined },
  });
  const exit = await launcher.exited;
  const out = launcher.logs().join("\n");
  expect(exit.code, out).toBe(0);
  expect(out).toMatch(/cluster "stratreg" is serving all 256 partitions/);
  expect(out).toMatch(/verified\s+1,000\/1,000 read back exactly as registered/);
  expect(out).toMatch(/stopped cleanly/);
  // No shard died on the way (the supervisor would have restarted it).
  expect(out).not.toMatch(/shard shard-\d exited/);
  return out;
}

it("--nats-cluster 3 --sync always runs three nats-servers >= 2.10.27 and shards whose logs have 3 replicas", async () => {
  const dataDir = join(scratch, "cluster");
  const out = await launch(dataDir, "--nats-cluster", "3", "--sync", "always");

  const nodes = [...out.matchAll(/(stratreg-nats-n\d): nats-server (\S+) on nats:\/\/127\.0\.0\.1:(\d+)/g)];
  expect(nodes.map((n) => n[1])).toEqual(["stratreg-nats-n1", "stratreg-nats-n2", "stratreg-nats-n3"]);
  for (const [, , version] of nodes) expect(isAtLeast(version ?? "", REPLICATED_NATS_SERVER_VERSION)).toBe(true);
  expect(out).toMatch(
    /durability: R3 on 3 nats-servers on this machine, sync_interval: always \(confirmed by \/varz\)/,
  );
  expect(out).toMatch(/STRATREG_REPLICAS=3/);
  // Every node holds a replica of the registry's log stream (an R1 stream lives on one node).
  for (const node of ["n1", "n2", "n3"]) {
    const stream = join(dataDir, "nats-cluster", `stratreg-nats-${node}`, "jetstream", "$G", "streams", "stratreg-log");
    expect(existsSync(stream), stream).toBe(true);
  }
  // Nothing left behind: every server's port is free again.
  for (const [, , , port] of nodes) expect(await freePort(Number(port))).toBe(Number(port));
  // Three servers fsyncing every write, two shards, a ranker and two risk guards on two cores: slow.
}, 120_000);

it("--sync always on the embedded server runs nats-server >= 2.10 with every write fsynced", async () => {
  const out = await launch(join(scratch, "single"), "--sync", "always");
  const version = /nats-server (\S+) started on nats:\/\/127\.0\.0\.1:\d+/.exec(out)?.[1];
  expect(isAtLeast(version ?? "0.0.0", SYNC_ALWAYS_NATS_SERVER_VERSION), out).toBe(true);
  expect(out).toMatch(/durability: sync_interval: always \(confirmed by \/varz\): every write is fsynced/);
});
