/**
 * Drain, events and template puts under the shipped server config (config/nats-server.conf):
 * only an operator may send the control messages or follow the events; a trader is told so and
 * nothing happens. The cluster is `stratreg` because the config's subjects name it.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { freePort, type NatsServerProcess, startNatsServer, testNatsConfig } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runCli, startCluster, type TestCluster } from "./testing/cli.js";

const CONFIG = fileURLToPath(new URL("../../../config/nats-server.conf", import.meta.url));
/** Passwords the config parser reads as plain strings: a letter, then [a-z0-9_]. */
const password = (): string => `pw_${randomBytes(12).toString("hex")}`;
const passwords = { shard: password(), trader: password(), operator: password(), viewer: password() };
const as = (user: keyof typeof passwords) => ({ NATS_USER: user, NATS_PASSWORD: passwords[user] });

let dir: string;
let server: NatsServerProcess;
let cluster: TestCluster;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), "stratreg-cli-perm-"));
  // nats-server 2.9 refuses `-sd` next to the file's store_dir; the testkit passes `-js -sd <temp>`.
  const config = testNatsConfig(await readFile(CONFIG, "utf8"), await freePort());
  await writeFile(join(dir, "nats-server.conf"), config);
  server = await startNatsServer({
    configFile: join(dir, "nats-server.conf"),
    env: {
      ...process.env,
      SHARD_PASSWORD: passwords.shard,
      TRADER_PASSWORD: passwords.trader,
      OPERATOR_PASSWORD: passwords.operator,
      VIEWER_PASSWORD: passwords.viewer,
    },
  });
  cluster = await startCluster(server.url, "stratreg", 2, 8, { shardEnv: as("shard"), cliEnv: as("operator") });
});

afterAll(async () => {
  await cluster?.stop();
  await server?.stop();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

describe("template permissions", () => {
  it("tells a trader that template put is for operators; a trader lists and instantiates what an operator put", async () => {
    const template = JSON.stringify({
      id: "perm-cli",
      name: "permissions",
      params: { stop: { type: "number", min: 0.001, max: 0.1, default: 0.01, risk: true } },
    });
    const trader = { ...cluster.env, ...as("trader") };
    const refused = await runCli(["template", "put", "-", "--by", "mallory"], trader, template);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toBe(
      "error PERMISSION_DENIED: not permitted to publish stratreg.control.templates.put: template put is for operators (connect as a NATS user allowed stratreg.control.>)\n",
    );
    expect((await runCli(["template", "list"], trader)).stdout).toBe("no templates\n");
    const stored = await runCli(["template", "put", "-", "--by", "ops"], cluster.env, template);
    expect(stored).toMatchObject({ code: 0, stdout: "template perm-cli version 1 stored by ops\n" });
    const instance = await runCli(
      ["template", "instantiate", "perm-cli", "--id", "perm-cli-1", "--name", "one", "--owner", "desk"],
      trader,
    );
    expect(instance.stderr).toBe("");
    expect(instance.stdout).toMatch(/^template: +perm-cli v1 \{stop: 0\.01\}$/m);
  });
});

describe("drain and events permissions", () => {
  it("tells a trader that drain and events are for operators, and drains nothing", async () => {
    const drain = await runCli(["drain", "shard-1"], { ...cluster.env, ...as("trader") });
    expect(drain.code).toBe(1);
    expect(drain.stderr).toBe(
      "error PERMISSION_DENIED: not permitted to publish stratreg.control.drain.shard-1: drain is for operators (connect as a NATS user allowed stratreg.control.>)\n",
    );
    const events = await runCli(["events"], { ...cluster.env, ...as("trader") });
    expect(events.code).toBe(1);
    expect(events.stderr).toBe(
      "error PERMISSION_DENIED: not permitted to subscribe to stratreg.events.ownership: it is for operators\n",
    );
    expect(cluster.shards[1]?.running).toBe(true);
  });

  it("lets an operator drain a shard", async () => {
    const drain = await runCli(["drain", "shard-1"], cluster.env);
    expect(drain.code).toBe(0);
    expect(drain.stdout).toMatch(/^drained shard-1 in [\d.]+ s: shard-0 serves all 8 partitions$/m);
    expect(await cluster.shards[1]?.exited).toEqual({ code: 0, signal: null });
  });
});
