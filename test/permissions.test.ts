/**
 * The shipped server config (config/nats-server.conf) decides who may do what. Against a real
 * nats-server running that config: a shard logged in as `shard` serves; a `trader` can use the
 * registry but cannot write a partition log, speak for a shard, answer in a shard's place or touch
 * JetStream; only an `operator` sends control messages, and it can look at JetStream without changing
 * it; nobody else gets in. The cluster is `stratreg` because the config's subjects name it.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { setTimeout as sleep } from "node:timers/promises";
import { fileURLToPath } from "node:url";
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { Svcm } from "@nats-io/services";
import {
  AuthorizationError,
  connect,
  type Msg,
  type NatsConnection,
  PermissionViolationError,
} from "@nats-io/transport-node";
import {
  DiscoveryClient,
  followTradingState,
  NotFoundError,
  RiskClient,
  StratregClient,
  TemplatesClient,
} from "@stratreg/client";
import { clusterSubjects, decode, encode, PROTOCOL_VERSION } from "@stratreg/protocol";
import {
  freePort,
  goodEvidence,
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
const SHARD_MAIN = join(ROOT, "services/registry-shard/dist/main.js");
const GUARD_MAIN = join(ROOT, "services/risk-guard/dist/main.js");
const DISCOVERY_MAIN = join(ROOT, "services/discovery/dist/main.js");
const SEARCH_MAIN = join(ROOT, "services/search/dist/main.js");
const GRAPH_MAIN = join(ROOT, "services/graph/dist/main.js");
const subjects = clusterSubjects("stratreg");
const MEMBER = "perm-shard-1";

/** A password the config parser reads as a plain string: starts with a letter, then [a-z0-9_]. */
const password = (): string => `pw_${randomBytes(12).toString("hex")}`;
const passwords = { shard: password(), trader: password(), operator: password(), viewer: password() };
const passwordEnv = {
  SHARD_PASSWORD: passwords.shard,
  TRADER_PASSWORD: passwords.trader,
  OPERATOR_PASSWORD: passwords.operator,
  VIEWER_PASSWORD: passwords.viewer,
};

/** The error itself or one of its causes that is a `type`, if any. */
function causeOf<T extends Error>(err: unknown, type: abstract new (...args: never[]) => T): T | undefined {
  for (let e: unknown = err; e instanceof Error; e = e.cause) if (e instanceof type) return e;
  return undefined;
}

/** A connection and the permission violations the server reported on it. */
interface Session {
  nc: NatsConnection;
  violations: PermissionViolationError[];
}

describe("config/nats-server.conf permissions", () => {
  let dir: string;
  let server: NatsServerProcess;
  let shard: ServiceProcess;
  let guard: ServiceProcess;
  const sessions: Session[] = [];

  async function login(user: keyof typeof passwords): Promise<Session> {
    const nc = await connect({ servers: server.url, user, pass: passwords[user], reconnect: false });
    const session: Session = { nc, violations: [] };
    void (async () => {
      for await (const status of nc.status()) {
        if (status.type === "error" && status.error instanceof PermissionViolationError) {
          session.violations.push(status.error);
        }
      }
    })();
    sessions.push(session);
    return session;
  }

  /** Waits until the server has reported a violation of `operation` on `subject` to `session`. */
  function violation(session: Session, operation: "publish" | "subscription", subject: string) {
    return waitFor(() => session.violations.find((v) => v.operation === operation && v.subject === subject), {
      timeoutMs: 5_000,
      message: `a ${operation} violation on ${subject}`,
    });
  }

  /** Messages a `shard` connection receives on `subject`, to prove what did (not) get through. */
  async function observe(subject: string): Promise<{ seen: Msg[]; settle: () => Promise<void> }> {
    const { nc } = await login("shard");
    const seen: Msg[] = [];
    nc.subscribe(subject, {
      callback: (_err, msg) => {
        seen.push(msg);
      },
    });
    await nc.flush();
    // After the sender's flush, a flush here returns only once everything the server routed before it arrived.
    return { seen, settle: () => nc.flush() };
  }

  async function logLength(jsm: JetStreamManager): Promise<number> {
    return (await jsm.streams.info(subjects.logStream)).state.messages;
  }

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), "stratreg-permissions-"));
    // nats-server 2.9 refuses `-sd` next to a store_dir in the file ("Duplicate 'store_dir'
    // configuration"), so the test runs the shipped config minus that one line; the testkit adds
    // `-js -sd <temp dir>`, and `-p`/`-m` override the fixed ports.
    const shipped = await readFile(CONFIG, "utf8");
    const configFile = join(dir, "nats-server.conf");
    await writeFile(configFile, testNatsConfig(shipped, await freePort()));
    server = await startNatsServer({ configFile, env: { ...process.env, ...passwordEnv } });

    shard = spawnService({
      entry: SHARD_MAIN,
      name: MEMBER,
      env: {
        NATS_URL: server.url,
        NATS_USER: "shard",
        NATS_PASSWORD: passwords.shard,
        STRATREG_CLUSTER: "stratreg",
        STRATREG_MEMBER_ID: MEMBER,
        STRATREG_PARTITIONS: "8",
        STRATREG_JOIN_GRACE_MS: "100",
        LOG_LEVEL: "info",
      },
    });
    await shard.waitForLog((_line, json) => json?.msg === "shard ready", 30_000);
    // The risk guard runs as the services' user too.
    guard = spawnService({
      entry: GUARD_MAIN,
      name: "perm-guard-1",
      env: {
        NATS_URL: server.url,
        NATS_USER: "shard",
        NATS_PASSWORD: passwords.shard,
        STRATREG_CLUSTER: "stratreg",
        STRATREG_RISK_GUARD_ID: "perm-guard-1",
        LOG_LEVEL: "info",
      },
    });
    await guard.waitForLog((_line, json) => json?.msg === "risk guard active", 30_000);
  });

  afterAll(async () => {
    await Promise.all(sessions.map(({ nc }) => nc.close().catch(() => undefined)));
    await guard?.stop();
    await shard?.stop();
    await server?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it("lets a shard logged in as `shard` serve a trader, who finds it with $SRV.PING", async () => {
    const { nc } = await login("trader");
    const client = await StratregClient.connect(nc, { timeoutMs: 15_000 });
    expect(client.partitions).toBe(8);
    const registered = await client.register(
      { id: "perm-registered", name: "mean reversion", owner: "desk-a" },
      { timeoutMs: 15_000 },
    );
    expect(registered).toMatchObject({ id: "perm-registered", version: 1 });
    expect(await client.get("perm-registered")).toMatchObject({ id: "perm-registered", name: "mean reversion" });

    const pings = [];
    for await (const ping of await new Svcm(nc).client().ping()) pings.push(ping);
    expect(pings.map((p) => p.name)).toContain("stratreg-shard");
    // Nothing the shard did was refused (its log would say so, and the server would have closed its subscriptions).
    expect(server.logs().filter((line) => line.includes('User "shard"'))).toEqual([]);
  });

  it("stops a trader from appending to a partition log, heartbeating as a shard, or calling JetStream", async () => {
    const trader = await login("trader");
    const { nc: shardNc } = await login("shard");
    const shardJsm = await jetstreamManager(shardNc);
    const client = await StratregClient.connect(trader.nc);
    await client.register({ id: "perm-kept", name: "carry", owner: "desk-b" }, { timeoutMs: 15_000 });
    const before = await logLength(shardJsm);
    const logs = await observe(`${subjects.cluster}.log.>`);
    const heartbeats = await observe(subjects.heartbeat);

    const forged = encode({ v: PROTOCOL_VERSION, member: "forged", instance: "forged", serving: [], strategies: 0 });
    trader.nc.publish(subjects.log(0), forged);
    trader.nc.publish(subjects.heartbeat, forged);
    trader.nc.publish(subjects.leave, encode({ v: PROTOCOL_VERSION, member: MEMBER }));
    // A JetStream publish is a request on the log subject; it fails at once instead of timing out.
    const append = await jetstream(trader.nc)
      .publish(subjects.log(1), forged)
      .catch((e: unknown) => e);
    expect(causeOf(append, PermissionViolationError)?.subject).toBe(subjects.log(1));
    const purge = await trader.nc.request(`$JS.API.STREAM.PURGE.${subjects.logStream}`).catch((e: unknown) => e);
    expect(causeOf(purge, PermissionViolationError)?.operation).toBe("publish");
    await expect(jetstreamManager(trader.nc)).rejects.toThrow(/Permissions Violation/);

    await violation(trader, "publish", subjects.log(0));
    await violation(trader, "publish", subjects.heartbeat);
    await violation(trader, "publish", subjects.leave);
    await trader.nc.flush();
    await logs.settle();
    await heartbeats.settle();
    const decoded = heartbeats.seen.map((m) => decode(m.data) as { member?: string });
    expect(decoded.filter((h) => h.member === "forged")).toEqual([]);
    expect(logs.seen).toEqual([]);
    expect(await logLength(shardJsm)).toBe(before);
    // The server did not drop the trader: refused messages are reported, and the connection serves on.
    expect(trader.nc.isClosed()).toBe(false);
    expect(await client.get("perm-kept")).toMatchObject({ id: "perm-kept", version: 1 });
  });

  it("stops a trader from subscribing where it could answer in a shard's place", async () => {
    const trader = await login("trader");
    for (const subject of [
      subjects.partition(0, "get"),
      `${subjects.cluster}.part.>`,
      subjects.clusterInfo,
      "$SRV.PING",
    ]) {
      const sub = trader.nc.subscribe(subject);
      // A permitted subscription never closes by itself: give up after a while instead of hanging.
      const closedWith = await Promise.race([sub.closed, sleep(5_000).then(() => "still subscribed")]);
      expect(closedWith).toBeInstanceOf(PermissionViolationError);
      expect(closedWith).toMatchObject({ operation: "subscription", subject });
    }
    // Requests still reach the real shard.
    const client = await StratregClient.connect(trader.nc);
    await expect(client.get("perm-nobody")).rejects.toBeInstanceOf(NotFoundError);
  });

  it("stops a trader from forging a partition's top-k publication or answering as a ranker; it may ask a ranker", async () => {
    const trader = await login("trader");
    const published = await observe(subjects.topkAll);
    const forged = encode({ v: PROTOCOL_VERSION, partition: 0, epoch: 1e9, n: 0, full: true });
    trader.nc.publish(subjects.topk(0), forged);
    await violation(trader, "publish", subjects.topk(0));
    await trader.nc.flush();
    await published.settle();
    expect(published.seen.filter((m) => (decode(m.data) as { epoch?: number }).epoch === 1e9)).toEqual([]);
    for (const subject of [subjects.topkAll, subjects.ranker("top")]) {
      const sub = trader.nc.subscribe(subject);
      const closedWith = await Promise.race([sub.closed, sleep(5_000).then(() => "still subscribed")]);
      expect(closedWith).toMatchObject({ operation: "subscription", subject });
    }
    // Asking a ranker is allowed: with none running the server answers "no responders", not a violation.
    const asked = await trader.nc.request(subjects.ranker("top"), encode({ v: 1, body: {} })).catch((e: unknown) => e);
    expect(causeOf(asked, PermissionViolationError)).toBeUndefined();
    expect(trader.violations.filter((v) => v.subject === subjects.ranker("top") && v.operation === "publish")).toEqual(
      [],
    );
  });

  it("lets only operators publish control messages", async () => {
    const control = `${subjects.cluster}.control.halt`;
    const received = await observe(`${subjects.cluster}.control.>`);
    const trader = await login("trader");
    const shardSession = await login("shard");
    const operator = await login("operator");

    trader.nc.publish(control, encode({ from: "trader" }));
    shardSession.nc.publish(control, encode({ from: "shard" }));
    operator.nc.publish(control, encode({ from: "operator" }));
    await violation(trader, "publish", control);
    await violation(shardSession, "publish", control);
    await Promise.all([trader.nc.flush(), shardSession.nc.flush(), operator.nc.flush()]);
    await received.settle();
    expect(received.seen.map((m) => decode(m.data))).toEqual([{ from: "operator" }]);
    expect(operator.violations).toEqual([]);
  });

  it("lets operators read JetStream, shard status and heartbeats, but not change the log", async () => {
    const operator = await login("operator");
    const heartbeat = await new Promise<Msg>((resolveBeat) => {
      operator.nc.subscribe(subjects.heartbeat, { max: 1, callback: (_err, msg) => resolveBeat(msg) });
    });
    expect(decode(heartbeat.data)).toMatchObject({ member: MEMBER });
    const jsm = await jetstreamManager(operator.nc);
    expect((await jsm.streams.info(subjects.logStream)).config.subjects).toEqual([subjects.logAll]);
    const names: string[] = [];
    for await (const name of jsm.streams.names()) names.push(name);
    expect(names).toContain(subjects.logStream);

    const status = await operator.nc.request(`${subjects.cluster}.shard.${MEMBER}.status`, encode({}), {
      timeout: 5_000,
    });
    expect(decode(status.data)).toMatchObject({ ok: true, body: { member: MEMBER } });

    const purge = await jsm.streams.purge(subjects.logStream).catch((e: unknown) => e);
    expect(causeOf(purge, PermissionViolationError)?.subject).toBe(`$JS.API.STREAM.PURGE.${subjects.logStream}`);
    const removal = await jsm.streams.delete(subjects.logStream).catch((e: unknown) => e);
    expect(causeOf(removal, PermissionViolationError)?.subject).toBe(`$JS.API.STREAM.DELETE.${subjects.logStream}`);
    operator.nc.publish(subjects.log(0), encode({ from: "operator" }));
    await violation(operator, "publish", subjects.log(0));
  });

  it("lets a trader check orders and follow the trading state, never halt, resume, change limits or forge the state", async () => {
    const trader = await login("trader");
    const operator = await login("operator");
    const risk = new RiskClient(trader.nc, { timeoutMs: 10_000 });
    const operatorRisk = new RiskClient(operator.nc, { timeoutMs: 10_000 });
    const follower = followTradingState(trader.nc, { member: "perm-trader", kind: "trader" });
    await waitFor(() => follower.current, { timeoutMs: 10_000, message: "the trader never learnt the trading state" });
    const client = await StratregClient.connect(trader.nc);
    await client.register({ id: "perm-risk", name: "risk", owner: "desk-r" }, { timeoutMs: 15_000 });
    const order = {
      strategy: "perm-risk",
      venue: "xnys",
      symbol: "AAPL",
      side: "buy" as const,
      quantity: 1,
      price: 10,
    };
    expect(await risk.check({ orderId: "perm-o1", ...order })).toMatchObject({ allowed: true });
    const limitsBefore = await operatorRisk.limits();

    // The SDK's calls fail at once with the server's refusal; raw publishes are reported as violations.
    for (const attempt of [
      risk.halt({ by: "trader", reason: "mine" }),
      risk.resume({ by: "trader" }),
      risk.setLimits({ limits: { total: { gross: 1 } }, by: "trader" }),
    ]) {
      expect(causeOf(await attempt.catch((e: unknown) => e), PermissionViolationError)?.operation).toBe("publish");
    }
    const forged = encode({ state: "HALTED", reason: "forged", by: "trader", at: Date.now(), version: 1e9 });
    trader.nc.publish(subjects.tradingState, forged);
    await violation(trader, "publish", subjects.tradingState);
    trader.nc.publish(subjects.riskLog("entries"), forged);
    await violation(trader, "publish", subjects.riskLog("entries"));
    for (const subject of [subjects.risk("check"), subjects.riskControl("halt")]) {
      const sub = trader.nc.subscribe(subject);
      const closedWith = await Promise.race([sub.closed, sleep(5_000).then(() => "still subscribed")]);
      expect(closedWith).toMatchObject({ operation: "subscription", subject });
    }

    // Nothing changed.
    expect(await operatorRisk.state()).toMatchObject({ state: "ACTIVE" });
    expect((await operatorRisk.limits()).version).toBe(limitsBefore.version);
    expect(follower.current?.state).toBe("ACTIVE");
    expect(await risk.check({ orderId: "perm-o2", ...order })).toMatchObject({ allowed: true });

    // An operator's halt reaches the trader, which acknowledges it.
    const halt = await operatorRisk.halt({ by: "perm-operator", reason: "permissions test" });
    expect(halt.acks.map((a) => a.member)).toEqual(expect.arrayContaining(["perm-trader", MEMBER]));
    expect(follower.current?.state).toBe("HALTED");
    expect(await risk.check({ orderId: "perm-o3", ...order })).toMatchObject({ allowed: false, reason: "HALTED" });
    expect((await operatorRisk.resume({ by: "perm-operator" })).status.state).toBe("ACTIVE");
    follower.stop();
  });

  it("lets traders list, read and instantiate templates, and only operators put them", async () => {
    const trader = await login("trader");
    const operator = await login("operator");
    const received = await observe(`${subjects.cluster}.control.templates.>`);
    const template = {
      id: "perm-template",
      name: "permissions",
      params: { stop: { type: "number" as const, min: 0.001, max: 0.1, default: 0.01, risk: true } },
    };
    const traderTemplates = new TemplatesClient(trader.nc, { timeoutMs: 15_000 });
    const refused = await traderTemplates.put(template).catch((e: unknown) => e);
    expect(causeOf(refused, PermissionViolationError)).toMatchObject({
      operation: "publish",
      subject: subjects.templatesControl("put"),
    });
    await trader.nc.flush();
    await received.settle();
    expect(received.seen).toEqual([]);

    // The operator's put is stored by the shard, which writes the templates bucket as `shard`.
    const stored = await new TemplatesClient(operator.nc, { timeoutMs: 15_000 }).put(template, { by: "perm-op" });
    expect(stored).toMatchObject({ id: "perm-template", version: 1, createdBy: "perm-op" });
    expect(operator.violations).toEqual([]);
    expect(await traderTemplates.get("perm-template")).toEqual(stored);
    expect((await traderTemplates.list()).templates.map((t) => t.id)).toContain("perm-template");
    const instance = await traderTemplates.instantiate("perm-template", {
      id: "perm-instance",
      name: "instance",
      owner: "desk-t",
    });
    expect(instance.template).toEqual({ id: "perm-template", version: 1, params: { stop: 0.01 } });
    expect(trader.violations).toHaveLength(1);

    // Nobody but a service answers on the template subjects.
    for (const subject of [subjects.templates("get"), subjects.templatesControl("put")]) {
      for (const session of [trader, operator]) {
        const sub = session.nc.subscribe(subject);
        const closedWith = await Promise.race([sub.closed, sleep(5_000).then(() => "still subscribed")]);
        expect(closedWith).toMatchObject({ operation: "subscription", subject });
      }
    }
    // Nothing the shard did for templates was refused (the control publish of an earlier test aside).
    const shardRefused = server.logs().filter((line) => line.includes('User "shard"'));
    expect(shardRefused.filter((line) => !line.includes('Subject "stratreg.control.halt"'))).toEqual([]);
  });

  it("lets a trader move strategies, read thresholds and follow lifecycle events; only operators set thresholds", async () => {
    const trader = await login("trader");
    const operator = await login("operator");
    const quant = await StratregClient.connect(trader.nc, { timeoutMs: 15_000 });
    const events: unknown[] = [];
    trader.nc.subscribe(`${subjects.cluster}.lifecycle.>`, {
      callback: (_err, msg) => {
        events.push(decode(msg.data));
      },
    });
    await trader.nc.flush();
    await quant.register({ id: "perm-life", name: "lifecycle", owner: "desk-t", family: "perm" });
    // Evidence, trials and the move are written by the shard as `shard` (its KV rights), answered to the trader.
    await quant.attachEvidence("perm-life", goodEvidence(), { by: "quant-t" });
    const valid = await quant.transition("perm-life", "validate", { by: "quant-t", reason: "gates" });
    expect(valid.state).toBe("validated");
    await waitFor(() => events.length >= 3, { timeoutMs: 5_000, message: "three lifecycle events" });

    const refused = await quant
      .setGateThresholds({ family: "perm" }, { minTrades: 10 }, { by: "quant-t" })
      .catch((e: unknown) => e);
    expect(causeOf(refused, PermissionViolationError)).toMatchObject({
      operation: "publish",
      subject: subjects.gatesSet,
    });
    const ops = await StratregClient.connect(operator.nc, { timeoutMs: 15_000 });
    const set = await ops.setGateThresholds({ family: "perm" }, { minTrades: 2000 }, { by: "perm-op" });
    expect(set.inForce.minTrades).toBe(2000);
    expect((await quant.gateThresholds({ family: "perm" })).setting).toMatchObject({ by: "perm-op" });
    expect(operator.violations).toEqual([]);
    // Nothing the shard did for the lifecycle was refused (the control publish of an earlier test aside).
    const shardRefused = server.logs().filter((line) => line.includes('User "shard"'));
    expect(shardRefused.filter((line) => !line.includes('Subject "stratreg.control.halt"'))).toEqual([]);
  });

  it("lets traders read discovery and follow what it publishes; only feeds (services) and operators import bars, only operators run it", async () => {
    const discovery = spawnService({
      entry: DISCOVERY_MAIN,
      name: "perm-discovery-1",
      env: {
        NATS_URL: server.url,
        NATS_USER: "shard",
        NATS_PASSWORD: passwords.shard,
        STRATREG_CLUSTER: "stratreg",
        STRATREG_DISCOVERY_ID: "perm-discovery-1",
        STRATREG_DISCOVERY_THREADS: "1",
        LOG_LEVEL: "info",
      },
    });
    try {
      await discovery.waitForLog((_line, json) => json?.msg === "discovery started", 30_000);
      const trader = await login("trader");
      const operator = await login("operator");
      const reader = new DiscoveryClient(trader.nc, { timeoutMs: 5_000 });
      const ops = new DiscoveryClient(operator.nc, { timeoutMs: 5_000 });
      const follower = reader.followProgress(() => undefined);
      await follower.ready;
      expect((await reader.status()).member).toBe("perm-discovery-1");
      expect((await reader.data()).series).toEqual([]);
      expect((await reader.candidates()).candidates).toEqual([]);

      const bars = Array.from({ length: 3 }, (_, i) => ({
        symbol: "PERM",
        venue: "V1",
        t: Date.UTC(2024, 0, 2 + i),
        open: 10,
        high: 11,
        low: 9,
        close: 10.5,
        volume: 1000,
      }));
      const imported = await reader.importSeries(bars).catch((e: unknown) => e);
      expect(causeOf(imported, PermissionViolationError)).toMatchObject({
        operation: "publish",
        subject: subjects.discovery("import"),
      });
      const run = await reader.run({ budgetMs: 1000 }).catch((e: unknown) => e);
      expect(causeOf(run, PermissionViolationError)).toMatchObject({
        operation: "publish",
        subject: subjects.discoveryControl("run"),
      });
      // Nothing the trader sent got in; an operator's import and run are answered.
      expect((await reader.data()).series).toEqual([]);
      expect(await ops.importSeries(bars)).toMatchObject({ appended: 3, bars: 3 });
      // The operator's run is answered: three bars are too few to split, which it is told.
      const tooFew = await ops.run({ budgetMs: 1000 }).catch((e: unknown) => e);
      expect(tooFew).toMatchObject({ code: "INVALID_FIELD", field: "body.symbols" });
      follower.stop();
      // The trader was refused its import and its run, and nothing else (following progress included).
      expect(trader.violations.map((v) => v.subject).sort()).toEqual(
        [subjects.discovery("import"), subjects.discoveryControl("run")].sort(),
      );
      expect(operator.violations).toEqual([]);
      // Discovery itself, as `shard`, was refused nothing: streams, KV and its subjects are its own.
      expect(server.logs().filter((line) => line.includes('User "shard"') && line.includes("discovery"))).toEqual([]);
    } finally {
      await discovery.stop();
    }
  });

  it("lets a trader search but not read the logs; a near-cache runs as the services user", async () => {
    const search = spawnService({
      entry: SEARCH_MAIN,
      name: "perm-search-1",
      env: {
        NATS_URL: server.url,
        NATS_USER: "shard",
        NATS_PASSWORD: passwords.shard,
        STRATREG_CLUSTER: "stratreg",
        STRATREG_SEARCH_ID: "perm-search-1",
        LOG_LEVEL: "info",
      },
    });
    try {
      await search.waitForLog((_line, json) => json?.msg === "search loaded every partition", 30_000);
      const trader = await login("trader");
      const client = await StratregClient.connect(trader.nc, { timeoutMs: 15_000 });
      await client.register({ id: "perm-cached", name: "Cached carry", owner: "desk-c", tags: ["carry"] });
      await waitFor(async () => (await client.search({ text: "carry" })).hits.some((h) => h.id === "perm-cached"));
      const operator = await login("operator");
      await expect((await StratregClient.connect(operator.nc)).searchStatus()).resolves.toMatchObject({
        member: "perm-search-1",
      });
      // Creating a consumer on the log would let a trader point its deliveries anywhere: refused.
      await expect(client.nearCache({ all: true })).rejects.toThrow(/Permissions Violation/);
      const services = await login("shard");
      const cache = await (await StratregClient.connect(services.nc, { timeoutMs: 15_000 })).nearCache({ all: true });
      expect(cache.lookup("perm-cached")?.name).toBe("Cached carry");
      await cache.close();
    } finally {
      await search.kill("SIGTERM");
    }
  });

  it("lets a trader link strategies through the graph service, never through the shards' own graph writes", async () => {
    const graph = spawnService({
      entry: GRAPH_MAIN,
      name: "perm-graph-1",
      env: {
        NATS_URL: server.url,
        NATS_USER: "shard",
        NATS_PASSWORD: passwords.shard,
        STRATREG_CLUSTER: "stratreg",
        STRATREG_GRAPH_ID: "perm-graph-1",
        LOG_LEVEL: "info",
      },
    });
    try {
      await graph.waitForLog((_line, json) => json?.msg === "graph leader", 30_000);
      const trader = await login("trader");
      const client = await StratregClient.connect(trader.nc, { timeoutMs: 15_000 });
      await client.register({ id: "perm-dep-a", name: "A", owner: "desk-c" });
      await client.register({ id: "perm-dep-b", name: "B", owner: "desk-c" });
      expect((await client.link("perm-dep-a", ["perm-dep-b"], { by: "trader" })).changed).toEqual(["perm-dep-b"]);
      expect((await client.impact("perm-dep-b")).nodes).toEqual([{ id: "perm-dep-a", depth: 1 }]);
      // The shards' own graph writes would skip the cycle check and the cascade: refused by the server.
      const subjects = clusterSubjects("stratreg");
      const partition = client.partitionOf("perm-dep-b");
      const forged = client.send(
        partition,
        "link",
        { id: "perm-dep-b", dependencies: { add: ["perm-dep-a"] }, by: "trader" },
        { timeoutMs: 3000 },
        true,
      );
      expect(causeOf(await forged.catch((e: unknown) => e), PermissionViolationError)?.operation).toBe("publish");
      trader.nc.publish(subjects.partition(partition, "cascade"), encode({ v: 1, body: {} }));
      await violation(trader, "publish", subjects.partition(partition, "cascade"));
      trader.nc.publish(subjects.graphLog, encode({ t: "link", from: "perm-dep-b", to: ["perm-dep-a"] }));
      await violation(trader, "publish", subjects.graphLog);
      expect((await client.get("perm-dep-b")).dependencies).toEqual([]);
      // The graph service itself, as `shard`, was refused nothing.
      expect(server.logs().filter((line) => line.includes('User "shard"') && line.includes("graph"))).toEqual([]);
    } finally {
      await graph.kill("SIGTERM");
    }
  });

  it("lets the console's viewer read and watch, never write, control, answer or read JetStream", async () => {
    const viewer = await login("viewer");
    const operator = await login("operator");
    const operatorRisk = new RiskClient(operator.nc, { timeoutMs: 10_000 });
    // Reads the console makes reach their services (or "no responders", never a violation).
    const viewerClient = await StratregClient.connect(viewer.nc);
    await expect(viewerClient.get("perm-nobody")).rejects.toBeInstanceOf(NotFoundError);
    const viewerRisk = new RiskClient(viewer.nc, { timeoutMs: 10_000 });
    expect(await viewerRisk.state()).toMatchObject({ state: "ACTIVE" });
    await viewerRisk.exposure();
    await viewerRisk.correlation();
    for (const subject of [subjects.ranker("top"), subjects.discovery("status"), subjects.search("lineage")]) {
      const asked = await viewer.nc
        .request(subject, encode({ v: 1, body: {} }), { timeout: 2000 })
        .catch((e: unknown) => e);
      expect(causeOf(asked, PermissionViolationError)).toBeUndefined();
    }
    const stats = await viewer.nc.requestMany("$SRV.STATS.stratreg-shard", undefined, {
      strategy: "timer",
      maxWait: 500,
    });
    let shards = 0;
    for await (const _ of stats) shards++;
    expect(shards).toBe(1);
    // It watches what services publish.
    const beat = await new Promise<Msg>((resolveBeat) => {
      viewer.nc.subscribe(subjects.heartbeat, { max: 1, callback: (_err, msg) => resolveBeat(msg) });
    });
    expect((decode(beat.data) as { member: string }).member).toBe(MEMBER);
    const state = await new Promise<Msg>((resolveState) => {
      viewer.nc.subscribe(subjects.tradingState, { max: 1, callback: (_err, msg) => resolveState(msg) });
    });
    expect(decode(state.data)).toMatchObject({ state: "ACTIVE" });
    expect(viewer.violations).toEqual([]);

    // Control messages, writes and reports are refused by the server, whatever a page does.
    const before = await operatorRisk.state();
    for (const attempt of [
      viewerRisk.halt({ by: "viewer", reason: "mine" }),
      viewerRisk.resume({ by: "viewer" }),
      viewerRisk.setLimits({ limits: { total: { gross: 1 } }, by: "viewer" }),
      viewerClient.register({ id: "perm-viewer", name: "v", owner: "v" }, { timeoutMs: 3000 }),
      viewerRisk.check({
        orderId: "perm-v1",
        strategy: "perm-risk",
        venue: "x",
        symbol: "A",
        side: "buy",
        quantity: 1,
        price: 1,
      }),
    ]) {
      expect(causeOf(await attempt.catch((e: unknown) => e), PermissionViolationError)?.operation).toBe("publish");
    }
    for (const subject of [
      subjects.drain(MEMBER),
      subjects.partition(0, "report"),
      "$JS.API.INFO",
      subjects.tradingState,
    ]) {
      viewer.nc.publish(subject, encode({ v: 1, body: {} }));
      await violation(viewer, "publish", subject);
    }
    // It cannot subscribe where it could answer in a service's place.
    for (const subject of [
      subjects.partition(0, "get"),
      subjects.ranker("top"),
      subjects.riskControl("halt"),
      "$SRV.PING",
    ]) {
      const sub = viewer.nc.subscribe(subject);
      const closedWith = await Promise.race([sub.closed, sleep(5_000).then(() => "still subscribed")]);
      expect(closedWith).toMatchObject({ operation: "subscription", subject });
    }
    expect((await operatorRisk.state()).version).toBe(before.version);
  });

  it("turns away unknown users, wrong passwords and anonymous clients", async () => {
    const attempts = [
      { user: "mallory", pass: "pw_guess" },
      { user: "trader", pass: passwords.shard },
      { user: "shard", pass: "" },
      {},
    ];
    for (const credentials of attempts) {
      const error = await connect({ servers: server.url, reconnect: false, ...credentials }).then(
        async (nc) => {
          await nc.close();
          return undefined;
        },
        (e: unknown) => e,
      );
      expect(error, JSON.stringify(credentials)).toBeInstanceOf(AuthorizationError);
    }
  });

  it("keeps nats-server from starting when a password variable is unset", async () => {
    const { TRADER_PASSWORD: _unset, ...env }: NodeJS.ProcessEnv = { ...process.env, ...passwordEnv };
    const failed = await startNatsServer({ configFile: CONFIG, jetstream: false, env, readyTimeoutMs: 5_000 }).then(
      async (started) => {
        await started.stop();
        return undefined;
      },
      (e: unknown) => e,
    );
    expect(failed).toBeInstanceOf(Error);
    expect((failed as Error).message).toMatch(/variable reference for 'TRADER_PASSWORD'/);
  });
});
