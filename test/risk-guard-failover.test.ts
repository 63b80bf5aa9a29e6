/**
 * The risk guard's life as a process, as the people who run it see it: a guard
 * that cannot reach NATS, or finds no registry, exits 2 saying why; with three
 * guards, a SIGKILLed leader is replaced by exactly one of the two standbys; a
 * SIGTERMed leader exits 0 and hands over to the last; with the registry
 * SIGKILLed, the guard still decides for strategies it knows and decides none it
 * cannot look up until the registry is back; and when the NATS server
 * itself is SIGKILLed, stays away long enough for the leader's appends to fail,
 * and is restarted under a stream of checks, every check is answered in the end,
 * none is decided twice or forgotten, and both guards are back in their roles.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import { connect } from "@nats-io/transport-node";
import type { RiskClient } from "@stratreg/client";
import { freePort, type NatsServerProcess, startNatsServer } from "@stratreg/natsd";
import { type CheckReply, type CheckRequest, ErrorCodes } from "@stratreg/protocol";
import { RecordKinds } from "@stratreg/risk-guard";
import { type ServiceProcess, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, describe, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";
import { activeGuard, readLedger, riskClient, startGuard } from "./support/risk.js";

const started: ServiceProcess[] = [];
const registries: TestRegistry[] = [];
const servers: NatsServerProcess[] = [];
const connections: NatsConnection[] = [];
let orderSeq = 0;
/** How long the NATS server stays away once killed. */
const OUTAGE_MS = 6000;

function guardOn(natsUrl: string, cluster: string, member: string, env: Record<string, string> = {}): ServiceProcess {
  const guard = startGuard(natsUrl, cluster, member, env);
  started.push(guard);
  return guard;
}

function order(fields: Partial<CheckRequest> = {}): CheckRequest {
  return {
    orderId: `fo-${process.pid}-${++orderSeq}`,
    strategy: "fo-1",
    venue: "xlon",
    symbol: "VOD",
    side: "buy",
    quantity: 1,
    price: 70,
    ...fields,
  };
}

async function roleOf(risk: RiskClient, member: string): Promise<unknown> {
  return (await risk.status(member, { timeoutMs: 500 }).catch(() => undefined))?.role;
}

/** Each order id's count of check records in the guard's log. */
async function decisionCounts(nc: NatsConnection, cluster: string): Promise<Map<string, number>> {
  const counts = new Map<string, number>();
  for (const { entry } of await readLedger(nc, cluster)) {
    for (const record of entry.r) {
      if (record.t === RecordKinds.Check) counts.set(record.orderId, (counts.get(record.orderId) ?? 0) + 1);
    }
  }
  return counts;
}

/** A registry for `cluster` with the strategies these tests trade. */
async function registryFor(natsUrl: string, cluster: string, shard: string): Promise<TestRegistry> {
  const registry = await startRegistry(natsUrl, cluster, [shard], { partitions: 4 });
  registries.push(registry);
  await registry.client.registerMany(["fo-1", "fo-2"].map((id) => ({ id, name: id, owner: "desk-fo", family: "fo" })));
  return registry;
}

afterAll(async () => {
  await Promise.all(started.map((g) => g.kill("SIGKILL").catch(() => undefined)));
  await Promise.all(registries.map((r) => r.close()));
  await Promise.all(connections.map((nc) => nc.close().catch(() => undefined)));
  await Promise.all(servers.map((s) => s.stop()));
});

describe("a guard that cannot start", () => {
  it("exits 2 saying it could not start when nothing listens at its NATS address", async () => {
    const port = await freePort();
    const guard = guardOn(`nats://127.0.0.1:${port}`, uniqueClusterName("fonats"), "fo-unreachable");
    expect(await guard.exited).toEqual({ code: 2, signal: null });
    const fatal = guard.logs().find((line) => line.includes("could not start"));
    expect(fatal).toBeDefined();
    expect(fatal).toContain("risk-guard could not start");
  });

  it("exits 2 saying it could not start when no registry answers for its cluster", async () => {
    const cluster = uniqueClusterName("fonoreg");
    const guard = guardOn(inject("natsUrl"), cluster, "fo-lonely", { STRATREG_RISK_START_TIMEOUT_MS: "300" });
    expect(await guard.exited).toEqual({ code: 2, signal: null });
    expect(guard.logs().some((line) => line.includes("risk-guard could not start"))).toBe(true);
    // It left nothing serving the cluster's risk subjects.
    const nc = await connect({ servers: inject("natsUrl") });
    connections.push(nc);
    await expect(riskClient(nc, cluster).state({ timeoutMs: 500 })).rejects.toMatchObject({
      code: expect.stringMatching(new RegExp(`^(${ErrorCodes.Unavailable}|${ErrorCodes.Timeout})$`)),
    });
  });
});

describe("three guards", () => {
  it("a SIGKILLed leader is replaced by one standby while the other stands by; a SIGTERMed one exits 0 and hands over", async () => {
    const cluster = uniqueClusterName("fothree");
    const registry = await registryFor(inject("natsUrl"), cluster, "fothree-shard-1");
    const members = ["fo-guard-a", "fo-guard-b", "fo-guard-c"];
    const guards = new Map(members.map((m) => [m, guardOn(inject("natsUrl"), cluster, m)]));
    const risk = riskClient(registry.nc, cluster);
    await risk.setLimits({ limits: { total: { gross: 1e9 } }, by: "fo-operator" });
    const first = await activeGuard(risk, members);
    const decided: Array<{ request: CheckRequest; reply: CheckReply }> = [];
    const decide = async (request: CheckRequest) => decided.push({ request, reply: await risk.check(request) });
    for (let i = 0; i < 5; i++) await decide(order());

    await guards.get(first)?.kill("SIGKILL");
    const rest = members.filter((m) => m !== first);
    const second = await activeGuard(risk, rest);
    const third = rest.find((m) => m !== second) as string;
    await waitFor(async () => (await roleOf(risk, third)) === "standby", {
      timeoutMs: 10_000,
      message: `${third} did not stand by`,
    });
    // The new leader remembers every decision, and decides new orders.
    for (const { request, reply } of decided) {
      expect(await risk.check(request)).toEqual({ ...reply, duplicate: true });
    }
    await decide(order({ strategy: "fo-2" }));
    expect(decided.at(-1)?.reply.allowed).toBe(true);
    const epochSecond = (await risk.status()).epoch as number;
    expect(await roleOf(risk, third)).toBe("standby");

    // A graceful stop: it exits by itself with code 0, and the last guard leads.
    const stopping = guards.get(second) as ServiceProcess;
    expect(await stopping.stop()).toEqual({ code: 0, signal: null });
    expect(stopping.logs().some((line) => line.includes("risk guard stopped"))).toBe(true);
    expect(await activeGuard(risk, [third])).toBe(third);
    expect((await risk.status()).epoch as number).toBeGreaterThan(epochSecond);
    for (const { request, reply } of decided) {
      expect(await risk.check(request)).toEqual({ ...reply, duplicate: true });
    }
    expect([...(await decisionCounts(registry.nc, cluster)).values()].every((n) => n === 1)).toBe(true);
  });
});

describe("the registry behind the guard", () => {
  it("SIGKILLed: strategies the guard knows are still decided, an unknown one is not until the registry is back", async () => {
    const cluster = uniqueClusterName("foreg");
    const registry = await registryFor(inject("natsUrl"), cluster, "foreg-shard-1");
    const guard = guardOn(inject("natsUrl"), cluster, "fo-reg-guard");
    const risk = riskClient(registry.nc, cluster);
    await risk.setLimits({ limits: { total: { gross: 1e9 } }, by: "fo-operator" });
    await activeGuard(risk, ["fo-reg-guard"]);
    expect((await risk.check(order({ strategy: "fo-1" }))).allowed).toBe(true);

    await registry.shards.get("foreg-shard-1")?.kill("SIGKILL");
    // Known (looked up a moment ago): decided as usual.
    expect((await risk.check(order({ strategy: "fo-1" }))).allowed).toBe(true);
    // Never looked up: no decision while nobody can say what it is.
    const unknown = order({ strategy: "fo-2" });
    await expect(risk.check(unknown, { timeoutMs: 5000 })).rejects.toMatchObject({
      code: expect.stringMatching(new RegExp(`^(${ErrorCodes.Unavailable}|${ErrorCodes.Timeout})$`)),
    });
    expect((await decisionCounts(registry.nc, cluster)).get(unknown.orderId)).toBeUndefined();

    registry.startShard("foreg-shard-1");
    const decided = await risk.check(unknown, { timeoutMs: 30_000 });
    expect(decided).toMatchObject({ orderId: unknown.orderId, allowed: true, duplicate: false });
    expect((await decisionCounts(registry.nc, cluster)).get(unknown.orderId)).toBe(1);
    expect(await guard.stop()).toEqual({ code: 0, signal: null });
  });
});

describe("the NATS server under the guards", () => {
  it("SIGKILLed and restarted under a stream of checks: every check is answered, none decided twice or forgotten", async () => {
    const server = await startNatsServer();
    servers.push(server);
    const cluster = uniqueClusterName("forestart");
    const registry = await registryFor(server.url, cluster, "forestart-shard-1");
    const members = ["fo-restart-a", "fo-restart-b"];
    const guards = new Map(members.map((m) => [m, guardOn(server.url, cluster, m)]));
    const risk = riskClient(registry.nc, cluster);
    await risk.setLimits({ limits: { total: { gross: 1e9 } }, by: "fo-operator" });
    const leading = await activeGuard(risk, members);
    const standing = members.find((m) => m !== leading) as string;
    await waitFor(async () => (await roleOf(risk, standing)) === "standby", { timeoutMs: 20_000 });

    const answers = new Map<string, { request: CheckRequest; reply: CheckReply }>();
    let stop = false;
    const stream = async (w: number) => {
      while (!stop) {
        const request = order({ orderId: `fo-restart-${w}-${++orderSeq}`, strategy: w % 2 === 0 ? "fo-1" : "fo-2" });
        // Patient: the server is away for a while, and the SDK retries the same check until it is answered.
        answers.set(request.orderId, { request, reply: await risk.check(request, { timeoutMs: 60_000 }) });
      }
    };
    const workers = Array.from({ length: 4 }, (_, w) => stream(w));
    await waitFor(async () => answers.size >= 20, { timeoutMs: 10_000 });
    const beforeKill = new Map(answers);
    await server.kill("SIGKILL");
    // Away longer than an append may take (5 s): the leader's appends in flight fail, and it steps down.
    await new Promise((resolve) => setTimeout(resolve, OUTAGE_MS));
    await server.restart();
    const atRestart = answers.size;
    await waitFor(async () => answers.size >= atRestart + 20, {
      timeoutMs: 60_000,
      message: "checks were not answered after the NATS server came back",
    });
    stop = true;
    await Promise.all(workers);

    // Every check answered before the kill is remembered: asked again, the first decision.
    for (const { request, reply } of beforeKill.values()) {
      expect(await risk.check(request)).toEqual({ ...reply, duplicate: true });
    }
    // The log decides each order id once, and holds every check that was answered.
    const counts = await decisionCounts(registry.nc, cluster);
    expect([...answers.keys()].filter((id) => counts.get(id) !== 1)).toEqual([]);
    expect([...counts.values()].every((n) => n === 1)).toBe(true);
    // One guard leads; the other stands by again.
    const leader = await activeGuard(risk, members);
    const other = members.find((m) => m !== leader) as string;
    await waitFor(async () => (await roleOf(risk, other)) === "standby", {
      timeoutMs: 20_000,
      message: `${other} did not stand by again after the NATS server came back`,
    });
    // Stopped gracefully, the standby exits 0 and the leader keeps leading; then the leader exits 0 too.
    expect(await guards.get(other)?.stop()).toEqual({ code: 0, signal: null });
    expect((await risk.status()).member).toBe(leader);
    const last = [...beforeKill.values()][0] as { request: CheckRequest; reply: CheckReply };
    expect(await risk.check(last.request)).toEqual({ ...last.reply, duplicate: true });
    expect(await guards.get(leader)?.stop()).toEqual({ code: 0, signal: null });
  });
});
