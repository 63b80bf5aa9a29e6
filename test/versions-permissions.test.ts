/**
 * The shipped server config (config/nats-server.conf) and version control: a versions process
 * runs as the services user; a trader (a quant, who edits strategies anyway) reads the log, diffs,
 * rolls back, branches, merges and tags through it, but cannot write the versions stream itself
 * nor answer in the versions service's place; an operator may use it too.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection, PermissionViolationError } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import { encode, versionSubject } from "@stratreg/protocol";
import {
  freePort,
  type NatsServerProcess,
  type ServiceProcess,
  spawnService,
  startNatsServer,
  testNatsConfig,
  waitFor,
} from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, it } from "vitest";

const ROOT = resolve(fileURLToPath(import.meta.url), "../..");
const CONFIG = join(ROOT, "config/nats-server.conf");
const password = (): string => `pw_${randomBytes(12).toString("hex")}`;
const passwords = { shard: password(), trader: password(), operator: password(), viewer: password() };

describe("config/nats-server.conf and version control", () => {
  let dir: string;
  let server: NatsServerProcess;
  let shard: ServiceProcess;
  let versions: ServiceProcess;
  const connections: NatsConnection[] = [];

  async function login(user: keyof typeof passwords) {
    const nc = await connect({ servers: server.url, user, pass: passwords[user], reconnect: false });
    connections.push(nc);
    const violations: PermissionViolationError[] = [];
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === "error" && status.error instanceof PermissionViolationError) violations.push(status.error);
      }
    })();
    return { nc, violations };
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stratreg-versions-permissions-"));
    // As test/permissions.test.ts: the shipped config minus its store_dir line (the testkit adds one).
    const shipped = await readFile(CONFIG, "utf8");
    const configFile = join(dir, "nats-server.conf");
    await writeFile(configFile, testNatsConfig(shipped, await freePort()));
    server = await startNatsServer({
      configFile,
      env: {
        ...process.env,
        SHARD_PASSWORD: passwords.shard,
        TRADER_PASSWORD: passwords.trader,
        OPERATOR_PASSWORD: passwords.operator,
        VIEWER_PASSWORD: passwords.viewer,
      },
    });
    const asServices = { NATS_URL: server.url, NATS_USER: "shard", NATS_PASSWORD: passwords.shard, LOG_LEVEL: "info" };
    shard = spawnService({
      entry: join(ROOT, "services/registry-shard/dist/main.js"),
      name: "perm-vc-shard",
      env: {
        ...asServices,
        STRATREG_MEMBER_ID: "perm-vc-shard",
        STRATREG_PARTITIONS: "4",
        STRATREG_JOIN_GRACE_MS: "100",
      },
    });
    await shard.waitForLog((_line, json) => json?.msg === "shard ready", 30_000);
    versions = spawnService({
      entry: join(ROOT, "services/versions/dist/main.js"),
      name: "perm-versions",
      env: { ...asServices, STRATREG_VERSIONS_ID: "perm-versions" },
    });
    await versions.waitForLog((_line, json) => json?.msg === "versions caught up with the history", 30_000);
  });

  afterAll(async () => {
    await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
    await versions?.stop();
    await shard?.stop();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("lets a trader use version control, but not write versions or answer for the service", async () => {
    const trader = await login("trader");
    const client = await StratregClient.connect(trader.nc, { timeoutMs: 15_000 });
    let s = await client.register({ id: "perm-vc", name: "one", owner: "desk" });
    s = await client.update("perm-vc", s.version, { name: "two" });
    await waitFor(async () => (await client.versionLog("perm-vc")).versions.length === 2, {
      timeoutMs: 15_000,
      message: "two versions copied",
    });
    expect((await client.diffVersions("perm-vc", 1, 2)).changes.map((c) => c.path)).toEqual(["name"]);
    expect((await client.rollback("perm-vc", 1, { by: "trader" })).strategy).toMatchObject({ version: 3, name: "one" });
    await client.createBranch("perm-vc", "exp", { by: "trader" });
    await client.tagVersion("perm-vc", 1, "first");

    trader.nc.publish(
      versionSubject("stratreg", "perm-vc"),
      encode({ v: 1, kind: "version", id: "perm-vc", version: 9 }),
    );
    trader.nc.subscribe("stratreg.versions.log");
    await waitFor(
      () =>
        trader.violations.some((v) => v.operation === "publish" && v.subject.startsWith("stratreg.ver.")) &&
        trader.violations.some((v) => v.operation === "subscription" && v.subject === "stratreg.versions.log"),
      { timeoutMs: 5_000, message: "both violations reported" },
    );
    expect((await client.versionLog("perm-vc")).versions.map((v) => v.version)).toEqual([3, 2, 1]);

    const operator = await login("operator");
    const operatorClient = await StratregClient.connect(operator.nc, { timeoutMs: 15_000 });
    expect(await operatorClient.versionsStatus()).toMatchObject({ member: "perm-versions", state: "serving" });
    // Nothing the services did was refused.
    expect(server.logs().filter((line) => line.includes('User "shard"'))).toEqual([]);
  });
});
