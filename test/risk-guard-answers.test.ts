/**
 * What trading services and operators are answered by the active risk guard
 * when things are not the usual: order events for orders it never checked,
 * repeated fills and cancels, the same check sent twice at once, a check whose
 * caller already gave up, a full queue to the log, commands that change nothing,
 * a resume that needs a second operator, limits changed against a stale version
 * or retried, a drawdown crossing its levels, and followers that do not
 * acknowledge. One registry shard and one
 * guard process on a real nats-server; the guard's queue to its log holds one
 * record, so a burst of checks finds it full.
 */
import type { NatsConnection } from "@nats-io/transport-node";
import type { RiskClient } from "@stratreg/client";
import { followTradingState } from "@stratreg/client";
import {
  type CheckRequest,
  DenyReasons,
  decode,
  ErrorCodes,
  encode,
  PROTOCOL_VERSION,
  RiskControlOps,
  type RiskOp,
  RiskOps,
  TradingStates,
  type TradingStatus,
} from "@stratreg/protocol";
import { RecordKinds } from "@stratreg/risk-guard";
import { type ServiceProcess, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";
import { activeGuard, readLedger, riskClient, startGuard } from "./support/risk.js";

const GUARD = "answers-guard";
let registry: TestRegistry;
let cluster: string;
let guard: ServiceProcess;
let risk: RiskClient;
let orderSeq = 0;

/** The trading state once it is `state`: a drawdown moves it in the background. */
function tradingBecomes(state: TradingStatus["state"]): Promise<TradingStatus> {
  return waitFor(
    async () => {
      const now = await risk.state();
      return now.state === state ? now : undefined;
    },
    { timeoutMs: 5000, message: `the drawdown did not move trading to ${state}` },
  );
}

function order(fields: Partial<CheckRequest> = {}): CheckRequest {
  return {
    orderId: `ans-${process.pid}-${++orderSeq}`,
    strategy: "desk-a-1",
    venue: "xnas",
    symbol: "MSFT",
    side: "buy",
    quantity: 10,
    price: 400,
    ...fields,
  };
}

interface WireReply {
  ok: boolean;
  body?: unknown;
  error?: { code: string; message: string; retryable: boolean; field?: string; details?: Record<string, unknown> };
}

/** One request as any NATS client would send it: no retry, the reply as it came. */
async function raw(
  nc: NatsConnection,
  op: RiskOp,
  body: unknown,
  envelope: Record<string, unknown> = {},
  timeout = 5000,
): Promise<WireReply> {
  const msg = await nc.request(risk.subjects.risk(op), encode({ v: PROTOCOL_VERSION, ...envelope, body }), {
    timeout,
  });
  return decode(msg.data) as WireReply;
}

/** How many check records the guard's log holds for `orderId`. */
async function decisionsLogged(orderId: string): Promise<number> {
  let n = 0;
  for (const { entry } of await readLedger(registry.nc, cluster)) {
    for (const record of entry.r) if (record.t === RecordKinds.Check && record.orderId === orderId) n++;
  }
  return n;
}

beforeAll(async () => {
  cluster = uniqueClusterName("riskans");
  registry = await startRegistry(inject("natsUrl"), cluster, ["riskans-shard-1"], { partitions: 4 });
  await registry.client.registerMany(
    ["desk-a-1", "desk-a-2", "desk-a-3", "desk-a-4"].map((id) => ({ id, name: id, owner: "desk-a", family: "desk-a" })),
  );
  guard = startGuard(inject("natsUrl"), cluster, GUARD, {
    STRATREG_RISK_QUEUE_MAX: "1",
    STRATREG_RISK_APPENDS_IN_FLIGHT: "1",
    // Long enough for a follower on a loaded machine to acknowledge; a silent one costs each change this much.
    STRATREG_RISK_ACK_TIMEOUT_MS: "1500",
    STRATREG_RISK_RESUME_CONFIRMATIONS: "2",
    // Strategies looked up once stay known for the whole file: a burst of checks then finds them cached.
    STRATREG_RISK_STRATEGY_CACHE_MS: "3600000",
  });
  risk = riskClient(registry.nc, cluster);
  await activeGuard(risk, [GUARD]);
  await risk.setLimits({ limits: { total: { gross: 1e9 } }, by: "desk-head" });
});

afterAll(async () => {
  // A graceful stop, so the guard hands its lease back and exits by itself.
  await guard?.stop();
  await registry?.close();
});

describe("order events the guard cannot apply", () => {
  it("a fill or cancel of an order it never checked is refused NOT_FOUND on body.orderId, and nothing is logged", async () => {
    const before = (await readLedger(registry.nc, cluster)).length;
    await expect(
      risk.fill({ orderId: "never-checked-1", fillId: "never-checked-1-f", quantity: 1, price: 10 }),
    ).rejects.toMatchObject({ code: ErrorCodes.NotFound, field: "body.orderId", retryable: false });
    await expect(risk.cancel({ orderId: "never-checked-2" })).rejects.toMatchObject({
      code: ErrorCodes.NotFound,
      field: "body.orderId",
      retryable: false,
    });
    expect((await readLedger(registry.nc, cluster)).length).toBe(before);
  });

  it("a position of a strategy the registry does not know is refused NOT_FOUND on body.strategy", async () => {
    const error = await risk
      .position({ strategy: "nobody-7", venue: "xnas", symbol: "MSFT", quantity: 5, price: 400 })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({ code: ErrorCodes.NotFound, field: "body.strategy" });
    expect((error as Error).message).toContain("nobody-7");
    expect((await risk.exposure({ strategy: "nobody-7" })).scopes).toEqual([]);
  });

  it("a fill reported twice and a cancel reported twice change the book once; the repeats say applied: false", async () => {
    const checked = await risk.check(order({ strategy: "desk-a-2", symbol: "NVDA", quantity: 10, price: 100 }));
    expect(checked.allowed).toBe(true);
    const fill = { orderId: checked.orderId, fillId: `${checked.orderId}-f1`, quantity: 4, price: 100 };
    expect(await risk.fill(fill)).toEqual({ applied: true, openQuantity: 6, position: 4 });
    expect(await risk.fill(fill)).toEqual({ applied: false, openQuantity: 6, position: 4 });
    expect(await risk.cancel({ orderId: checked.orderId })).toEqual({ applied: true, openQuantity: 0, position: 4 });
    expect(await risk.cancel({ orderId: checked.orderId })).toEqual({ applied: false, openQuantity: 0, position: 4 });
    // The strategy's exposure is the 4 filled, nothing reserved.
    const scope = (await risk.exposure({ strategy: "desk-a-2" })).scopes.find((s) => s.scope === "strategy");
    expect(scope).toMatchObject({ key: "desk-a-2", gross: 400, net: 400, reserved: 0 });
  });
});

describe("checks sent twice, or too late", () => {
  it("the same check sent twice at once, for a strategy not looked up yet, gets one decision; one answer says duplicate", async () => {
    const request = order({ strategy: "desk-a-3", quantity: 3 });
    const [a, b] = await Promise.all([risk.check(request), risk.check(request)]);
    expect([a.duplicate, b.duplicate].sort()).toEqual([false, true]);
    expect({ ...a, duplicate: false }).toEqual({ ...b, duplicate: false });
    expect(a.allowed).toBe(true);
    expect(await decisionsLogged(request.orderId)).toBe(1);
    await risk.cancel({ orderId: request.orderId });
  });

  it("a check whose caller has already given up is not decided: no answer, nothing reserved, decided when asked again", async () => {
    // The first for a strategy not looked up yet, the second for one known: both wait for no one.
    for (const strategy of ["desk-a-4", "desk-a-1"]) {
      const request = order({ strategy, symbol: "LATE", quantity: 2 });
      await expect(raw(registry.nc, RiskOps.Check, request, { deadlineMs: 1 }, 700)).rejects.toThrow();
      expect((await risk.exposure({ strategy })).openOrders).toBe(0);
      expect(await decisionsLogged(request.orderId)).toBe(0);
      const decided = await risk.check(request);
      expect(decided).toMatchObject({ orderId: request.orderId, allowed: true, duplicate: false });
      expect(await decisionsLogged(request.orderId)).toBe(1);
      await risk.cancel({ orderId: request.orderId });
    }
  });
});

describe("a full queue to the log", () => {
  it("refuses checks OVERLOADED (retryable, retry after 20 ms) without deciding them; the SDK's retries get each decided once", async () => {
    // The strategy is known, so every check of the burst is decided at once or refused at once.
    await risk.cancel({ orderId: (await risk.check(order({ quantity: 1 }))).orderId });
    const burst = Array.from({ length: 40 }, () => order({ symbol: "BURST", quantity: 1 }));
    const replies = await Promise.all(burst.map((request) => raw(registry.nc, RiskOps.Check, request)));
    const refused = burst.filter((_, i) => replies[i]?.ok === false);
    const answered = burst.filter((_, i) => replies[i]?.ok === true);
    expect(refused.length).toBeGreaterThan(0);
    expect(answered.length).toBeGreaterThan(0);
    for (const reply of replies.filter((r) => !r.ok)) {
      expect(reply.error).toMatchObject({
        code: ErrorCodes.Overloaded,
        retryable: true,
        details: { retryAfterMs: 20 },
      });
    }
    for (const request of refused) expect(await decisionsLogged(request.orderId)).toBe(0);
    // Through the SDK the same burst is answered in full: the refused ones decided now, the others repeated.
    const again = await Promise.all(burst.map((request) => risk.check(request)));
    expect(again.every((r) => r.allowed)).toBe(true);
    expect(again.filter((r) => r.duplicate).map((r) => r.orderId)).toEqual(answered.map((r) => r.orderId));
    for (const request of burst) expect(await decisionsLogged(request.orderId)).toBe(1);
    await Promise.all(burst.map((request) => risk.cancel({ orderId: request.orderId })));
    expect((await risk.exposure()).openOrders).toBe(0);
  });
});

describe("operators' commands", () => {
  it("reduce and halt without a reason say why by default; repeating one, or reducing a halt, changes nothing", async () => {
    const start = await risk.state();
    expect(start.state).toBe(TradingStates.Active);

    const reduce = await risk.reduce({ by: "op-ana" });
    expect(reduce.status).toMatchObject({
      state: TradingStates.Reducing,
      by: "op-ana",
      reason: "reduce only",
      version: start.version + 1,
    });
    expect(reduce.awaitingConfirmation).toBe(false);
    // REDUCING: an order that adds to a position is denied.
    expect(await risk.check(order({ symbol: "REDUCE" }))).toMatchObject({
      allowed: false,
      reason: DenyReasons.Reducing,
    });
    const reduceAgain = await risk.reduce({ by: "op-ben", reason: "me too" });
    expect(reduceAgain.status).toEqual(reduce.status);
    expect(reduceAgain.awaitingConfirmation).toBe(false);

    const halt = await risk.halt({ by: "op-ana" });
    expect(halt.status).toMatchObject({
      state: TradingStates.Halted,
      by: "op-ana",
      reason: "emergency halt",
      version: start.version + 2,
    });
    const haltAgain = await risk.halt({ by: "op-ben", reason: "second halt" });
    expect(haltAgain.status).toEqual(halt.status);
    expect((await risk.state()).version).toBe(start.version + 2);
    // Reducing a halted platform would loosen it: nothing changes.
    const reduceHalted = await risk.reduce({ by: "op-ben" });
    expect(reduceHalted.status).toEqual(halt.status);
  });

  it("a resume waits for a second, different operator; the first asking again does not resume", async () => {
    const halted = await risk.state();
    expect(halted.state).toBe(TradingStates.Halted);

    const first = await risk.resume({ by: "op-ana" });
    expect(first.awaitingConfirmation).toBe(true);
    expect(first.status).toMatchObject({ state: TradingStates.Halted, pendingResume: { by: "op-ana" } });
    // Still halted for checks.
    expect(await risk.check(order({ symbol: "WAIT" }))).toMatchObject({ allowed: false, reason: DenyReasons.Halted });

    // The same operator again changes nothing, and the reply still says a second operator is needed.
    const same = await risk.resume({ by: "op-ana", reason: "really" });
    expect(same.status).toEqual(first.status);
    expect(same.awaitingConfirmation).toBe(true);
    expect((await risk.state()).state).toBe(TradingStates.Halted);

    const second = await risk.resume({ by: "op-ben" });
    expect(second.awaitingConfirmation).toBe(false);
    expect(second.status).toMatchObject({
      state: TradingStates.Active,
      by: "op-ben",
      reason: "resumed",
      version: first.status.version + 1,
      pendingResume: null,
    });
    const allowed = await risk.check(order({ symbol: "AFTER" }));
    expect(allowed.allowed).toBe(true);
    await risk.cancel({ orderId: allowed.orderId });
  });
});

describe("limits", () => {
  it("a change against a stale version is refused CONFLICT with both versions, and nothing changes", async () => {
    const current = await risk.limits();
    const error = await risk
      .setLimits({ limits: { orderNotional: 1 }, by: "op-ana", expectedVersion: current.version + 3 })
      .catch((err: unknown) => err);
    expect(error).toMatchObject({
      code: ErrorCodes.Conflict,
      details: { expected: current.version + 3, actual: current.version },
    });
    expect(await risk.limits()).toEqual(current);
    // With the version it holds, the change goes through.
    const changed = await risk.setLimits({
      limits: { total: { gross: 1e9 }, orderNotional: 1e6 },
      by: "op-ana",
      note: "order cap",
      expectedVersion: current.version,
    });
    expect(changed.version).toBe(current.version + 1);
    expect(changed.audit[0]).toMatchObject({ version: changed.version, by: "op-ana", note: "order cap" });
  });

  it("a change retried with its command id answers the first reply and is stored once", async () => {
    const before = await risk.limits();
    const request = {
      limits: { total: { gross: 2e9 }, orderNotional: 1e6 },
      by: "op-ben",
      note: "raise the total",
    };
    const first = await risk.setLimits(request, { cid: `limits-${process.pid}-retry` });
    const retried = await risk.setLimits(request, { cid: `limits-${process.pid}-retry` });
    expect(first.version).toBe(before.version + 1);
    expect(retried).toEqual(first);
    const after = await risk.limits(100);
    expect(after.version).toBe(first.version);
    expect(after.audit.filter((c) => c.note === "raise the total")).toHaveLength(1);
  });

  it("a change sent without a command id by a plain NATS client is stored, and read back", async () => {
    const before = await risk.limits();
    const request = { limits: before.limits, by: "op-script", note: "sent without a command id" };
    const msg = await registry.nc.request(
      risk.subjects.riskControl(RiskControlOps.SetLimits),
      encode({ v: PROTOCOL_VERSION, body: request }),
      { timeout: 5000 },
    );
    const reply = decode(msg.data) as WireReply;
    expect(reply.ok).toBe(true);
    expect(reply.body).toMatchObject({ version: before.version + 1, limits: before.limits });
    expect((await risk.limits(1)).audit[0]).toMatchObject({
      version: before.version + 1,
      by: "op-script",
      note: "sent without a command id",
    });
  });

  it("the limits and the correlation read back by a client that leaves out how many to list", async () => {
    const all = await raw(registry.nc, RiskOps.Limits, {});
    expect(all.ok).toBe(true);
    const limits = all.body as { version: number; audit: unknown[] };
    expect(limits.version).toBe((await risk.limits()).version);
    // The default: the ten latest changes (fewer when fewer were made).
    expect(limits.audit).toHaveLength(Math.min(10, limits.version));
    expect((await risk.limits(1)).audit).toHaveLength(1);
    const correlation = await raw(registry.nc, RiskOps.Correlation, {});
    expect(correlation.ok).toBe(true);
    expect(correlation.body).toMatchObject({ pairs: [], clusters: [] });
  });
});

describe("drawdown", () => {
  /** Reports the drawdown book's whole position, marked at `price`; answers once stored. */
  const mark = (price: number) =>
    risk.position({ strategy: "desk-a-4", venue: "xnas", symbol: "DRAW", quantity: 1000, price });

  it("moves trading to REDUCING, then HALTED, by the guard itself, once a level is crossed and only then", async () => {
    const base = (await risk.exposure()).pnl.drawdown;
    const total = { gross: 2e9 };
    const halt = base + 50_000;
    await risk.setLimits({ limits: { total, drawdown: { halt } }, by: "desk-head", note: "halt level only" });
    await mark(100);
    const active = await risk.state();
    // 10,000 lost: short of the only level set.
    await mark(90);
    expect((await risk.exposure()).pnl.drawdown).toBeCloseTo(base + 10_000, 6);
    expect(await risk.state()).toEqual(active);

    await risk.setLimits({ limits: { total, drawdown: { reduce: base + 8_000, halt } }, by: "desk-head" });
    // 11,000 lost: past the reduce level.
    await mark(89);
    const reducing = await tradingBecomes(TradingStates.Reducing);
    expect(reducing).toMatchObject({ by: "risk-guard", version: active.version + 1 });
    expect(reducing.reason).toBe(
      `portfolio drawdown ${(base + 11_000).toFixed(2)} reached the reduce level ${base + 8_000}`,
    );
    // 12,000 lost: still past the reduce level and short of the halt level: nothing more changes.
    await mark(88);
    expect(await risk.state()).toEqual(reducing);

    // 60,000 lost: past the halt level.
    await mark(40);
    const halted = await tradingBecomes(TradingStates.Halted);
    expect(halted).toMatchObject({ by: "risk-guard", version: reducing.version + 1 });
    expect(halted.reason).toBe(`portfolio drawdown ${(base + 60_000).toFixed(2)} reached the halt level ${halt}`);
    expect(await risk.check(order({ symbol: "DRAWN" }))).toMatchObject({ allowed: false, reason: DenyReasons.Halted });

    // A recovery does not resume trading; two operators do.
    await mark(100);
    expect((await risk.state()).state).toBe(TradingStates.Halted);
    await risk.setLimits({ limits: { total }, by: "desk-head", note: "drawdown levels off" });
    await risk.resume({ by: "op-ana", reason: "loss reviewed" });
    expect((await risk.resume({ by: "op-ben", reason: "loss reviewed" })).status.state).toBe(TradingStates.Active);
  });
});

describe("followers", () => {
  it("a halt lists the follower that acknowledged with its kind, and the one that named itself but stayed silent as missing", async () => {
    const heard: string[] = [];
    const follower = followTradingState(registry.nc, {
      cluster,
      member: "trader-fast",
      kind: "trader",
      onChange: (status) => heard.push(status.state),
    });
    try {
      await waitFor(async () => follower.current !== undefined, { timeoutMs: 10_000 });
      // A trading service that asked for the state naming itself, and will never acknowledge.
      const hello = await raw(registry.nc, RiskOps.State, { follower: { member: "trader-silent", kind: "trader" } });
      expect(hello.body).toMatchObject({ state: TradingStates.Active });

      const halt = await risk.halt({ by: "op-ana", reason: "followers drill" });
      expect(halt.acks).toEqual(
        expect.arrayContaining([
          expect.objectContaining({ member: "trader-fast", kind: "trader" }),
          expect.objectContaining({ member: "riskans-shard-1", kind: "shard" }),
        ]),
      );
      expect(halt.missing).toEqual(["trader-silent"]);
      expect(halt.lastAckMs).not.toBeNull();
      expect(follower.current?.state).toBe(TradingStates.Halted);
      expect(heard).toContain(TradingStates.Halted);
    } finally {
      follower.stop();
      await risk.resume({ by: "op-ana" });
      await risk.resume({ by: "op-ben" });
    }
    expect((await risk.state()).state).toBe(TradingStates.Active);
  });
});

describe("the checks decided here", () => {
  it("are each in the guard's log exactly once", async () => {
    const counts = new Map<string, number>();
    for (const { entry } of await readLedger(registry.nc, cluster)) {
      for (const record of entry.r) {
        if (record.t === RecordKinds.Check) counts.set(record.orderId, (counts.get(record.orderId) ?? 0) + 1);
      }
    }
    expect(counts.size).toBeGreaterThan(40);
    expect([...counts].filter(([, n]) => n !== 1)).toEqual([]);
  });
});
