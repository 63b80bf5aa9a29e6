/**
 * The risk guard end to end: a registry shard, two guard processes (one leads,
 * one stands by), trading services as SDK clients. Limits hold under 64
 * concurrent clients (proved on the decision ledger afterwards, for every limit
 * kind); a check is idempotent by order id; a SIGKILLed leader is replaced
 * within seconds with exposures recovered exactly and no order decided twice
 * differently; a halt is in force at once, reaches every follower, and lasts
 * until an operator resumes.
 */
import type { RiskClient } from "@stratreg/client";
import {
  type CheckReply,
  type CheckRequest,
  DenyReasons,
  decode,
  encode,
  type LimitScope,
  LimitScopes,
  type RiskLimits,
  TradingStates,
} from "@stratreg/protocol";
import {
  type CheckRecord,
  exposureReply,
  RecordKinds,
  RiskBook,
  type RiskRecord,
  worstGross,
  worstNet,
} from "@stratreg/risk-guard";
import { type ServiceProcess, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";
import { activeGuard, readLedger, riskClient, startGuard } from "./support/risk.js";

const GUARDS = ["guard-a", "guard-b"];
/** Snapshots of the book every few hundred records, so a restart is seen to use them. */
const SNAPSHOTS = { STRATREG_RISK_SNAPSHOT_RECORDS: "300", STRATREG_RISK_SNAPSHOT_EVERY_MS: "200" };
let registry: TestRegistry;
let cluster: string;
let risk: RiskClient;
const guards = new Map<string, ServiceProcess>();
let orderSeq = 0;

const STRATEGIES = [
  ...Array.from({ length: 6 }, (_, i) => ({ id: `alpha-${i}`, family: "alpha" })),
  ...Array.from({ length: 4 }, (_, i) => ({ id: `beta-${i}`, family: "beta" })),
];

function order(fields: Partial<CheckRequest> = {}): CheckRequest {
  return {
    orderId: `ord-${process.pid}-${++orderSeq}`,
    strategy: "alpha-0",
    venue: "xnys",
    symbol: "AAPL",
    side: "buy",
    quantity: 10,
    price: 100,
    ...fields,
  };
}

async function setLimits(limits: RiskLimits): Promise<number> {
  const reply = await risk.setLimits({ limits, by: "test-operator", note: "test" });
  return reply.version;
}

/** Replays the ledger into a new book, calling `after` after every allowed decision. */
async function replayLedger(after?: (book: RiskBook, record: RiskRecord) => void): Promise<RiskBook> {
  const book = new RiskBook();
  for (const { entry } of await readLedger(registry.nc, cluster)) {
    for (const record of entry.r) {
      book.apply(record);
      if (record.t === RecordKinds.Check && record.allowed) after?.(book, record);
    }
  }
  return book;
}

beforeAll(async () => {
  cluster = uniqueClusterName("risk");
  registry = await startRegistry(inject("natsUrl"), cluster, ["risk-shard-1"], { partitions: 8 });
  const registered = await registry.client.registerMany(
    [...STRATEGIES, { id: "gone-1", family: "alpha" }].map((s) => ({
      id: s.id,
      name: s.id,
      owner: "desk-1",
      family: s.family,
    })),
  );
  expect(registered.registered).toBe(STRATEGIES.length + 1);
  await registry.client.retire("gone-1", { reason: "test" });
  for (const member of GUARDS) guards.set(member, startGuard(inject("natsUrl"), cluster, member, SNAPSHOTS));
  risk = riskClient(registry.nc, cluster);
  await activeGuard(risk, GUARDS);
});

afterAll(async () => {
  await Promise.all([...guards.values()].map((g) => g.kill("SIGKILL").catch(() => undefined)));
  await registry?.close();
});

describe("one active guard", () => {
  it("leads while the other stands by; both say so, and only the active one answers checks", async () => {
    const active = await activeGuard(risk, GUARDS);
    const standby = GUARDS.find((g) => g !== active) as string;
    await waitFor(
      async () => (await risk.status(standby, { timeoutMs: 500 }).catch(() => undefined))?.role === "standby",
      {
        timeoutMs: 10_000,
      },
    );
    const status = await risk.status();
    expect(status).toMatchObject({ member: active, role: "active" });
  });

  it("answers a check with the decision, the headroom under every limit, and the same decision for a repeated order id", async () => {
    await setLimits({ total: { gross: 1e9 }, strategies: { "*": { gross: 1e6, openOrders: 1000 } } });
    const request = order();
    const first = await risk.check(request);
    expect(first).toMatchObject({
      orderId: request.orderId,
      allowed: true,
      reason: null,
      duplicate: false,
      state: "ACTIVE",
    });
    expect(first.headroom.map((h) => [h.kind, h.scope])).toEqual(
      expect.arrayContaining([
        ["gross", "total"],
        ["gross", "strategy"],
        ["openOrders", "strategy"],
      ]),
    );
    const again = await risk.check(request);
    expect(again).toEqual({ ...first, duplicate: true });
    await expect(risk.check({ ...request, quantity: 11 })).rejects.toMatchObject({ code: "CONFLICT" });
    await risk.cancel({ orderId: request.orderId });
  });

  it("denies orders of strategies that are not registered or are retired", async () => {
    expect(await risk.check(order({ strategy: "nobody-1" }))).toMatchObject({
      allowed: false,
      reason: DenyReasons.UnknownStrategy,
    });
    expect(await risk.check(order({ strategy: "gone-1" }))).toMatchObject({
      allowed: false,
      reason: DenyReasons.StrategyRetired,
    });
  });

  it("refuses bad input with a stable code and keeps serving", async () => {
    await expect(risk.check({ ...order(), quantity: -1 })).rejects.toMatchObject({
      code: "INVALID_FIELD",
      field: "body.quantity",
    });
    const raw = async (bytes: Uint8Array) =>
      decode((await registry.nc.request(risk.subjects.risk("check"), bytes, { timeout: 2000 })).data) as {
        ok: boolean;
        error?: { code: string };
      };
    expect((await raw(new Uint8Array([0xc1]))).error?.code).toBe("MALFORMED");
    expect((await raw(encode({ v: 99, body: order() }))).error?.code).toBe("UNSUPPORTED_VERSION");
    expect((await raw(encode({ v: 1, body: { ...order(), side: "short" } }))).error?.code).toBe("INVALID_FIELD");
    expect((await raw(encode({ v: 1, body: { orderId: "x" } }))).error?.code).toBe("MISSING_FIELD");
    expect((await raw(encode({ v: 1, body: { ...order(), orderId: "x".repeat(129) } }))).error?.code).toBe(
      "INVALID_FIELD",
    );
    await expect(risk.check({ ...order(), extra: 1 } as CheckRequest)).rejects.toMatchObject({ code: "UNKNOWN_FIELD" });
    expect((await risk.check(order())).allowed).toBe(true);
  });
});

describe("limits under 64 concurrent clients", () => {
  /** One round per limit kind: its own symbol, venue and strategy, so rounds do not meet. */
  interface Round {
    name: string;
    /** The round's limit, `max` being what the scope already uses plus the round's room. */
    limits: (r: RoundKeys, max: number) => RiskLimits;
    /** The value the limit bounds, in a book replayed from the ledger. */
    measure: (book: RiskBook, r: RoundKeys, record: CheckRecord | undefined, decided: CheckRecord[]) => number;
    /** How much more than what is used already the round may allow. */
    room: number;
    side?: "buy" | "sell";
    /** Orders of every strategy of the family, not of one. */
    spread?: boolean;
  }
  interface RoundKeys {
    symbol: string;
    venue: string;
    strategy: string;
  }
  const scope = (book: RiskBook, kind: LimitScope, key: string) =>
    book.scopeTotals(kind, key) ?? {
      gross: 0,
      net: 0,
      buyReserved: 0,
      sellReserved: 0,
    };
  const gross = (kind: LimitScope, key: (r: RoundKeys) => string) => (book: RiskBook, r: RoundKeys) =>
    worstGross(scope(book, kind, key(r)));
  const net = (kind: LimitScope, key: (r: RoundKeys) => string) => (book: RiskBook, r: RoundKeys) =>
    worstNet(scope(book, kind, key(r)));
  const rounds: Round[] = [
    {
      name: "gross per symbol",
      limits: (r, max) => ({ symbols: { [r.symbol]: { gross: max } } }),
      measure: gross(LimitScopes.Symbol, (r) => r.symbol),
      room: 60_000,
    },
    {
      name: "net per symbol",
      limits: (r, max) => ({ symbols: { [r.symbol]: { net: max } } }),
      measure: net(LimitScopes.Symbol, (r) => r.symbol),
      room: 40_000,
      side: "buy",
    },
    {
      name: "gross per venue",
      limits: (r, max) => ({ venues: { [r.venue]: { gross: max } } }),
      measure: gross(LimitScopes.Venue, (r) => r.venue),
      room: 60_000,
    },
    {
      name: "net per venue",
      limits: (r, max) => ({ venues: { [r.venue]: { net: max } } }),
      measure: net(LimitScopes.Venue, (r) => r.venue),
      room: 40_000,
      side: "sell",
    },
    {
      name: "gross per strategy",
      limits: (r, max) => ({ strategies: { [r.strategy]: { gross: max } } }),
      measure: gross(LimitScopes.Strategy, (r) => r.strategy),
      room: 60_000,
    },
    {
      name: "net per strategy",
      limits: (r, max) => ({ strategies: { [r.strategy]: { net: max } } }),
      measure: net(LimitScopes.Strategy, (r) => r.strategy),
      room: 40_000,
      side: "buy",
    },
    {
      name: "gross per family",
      limits: (_r, max) => ({ families: { beta: { gross: max } } }),
      measure: gross(LimitScopes.Family, () => "beta"),
      room: 60_000,
      spread: true,
    },
    {
      name: "net per family",
      limits: (_r, max) => ({ families: { beta: { net: max } } }),
      measure: net(LimitScopes.Family, () => "beta"),
      room: 40_000,
      side: "buy",
      spread: true,
    },
    {
      name: "gross in total",
      limits: (_r, max) => ({ total: { gross: max } }),
      measure: gross(LimitScopes.Total, () => ""),
      room: 60_000,
    },
    {
      name: "order notional",
      limits: (_r, max) => ({ orderNotional: max }),
      measure: (_b, _r, record) => (record === undefined ? 0 : record.quantity * record.price),
      room: 5_000,
    },
    {
      name: "open orders per strategy",
      limits: (r, max) => ({ strategies: { [r.strategy]: { openOrders: max } } }),
      measure: (book, r) => book.openOrdersOf(r.strategy),
      room: 25,
    },
    {
      name: "order rate per strategy",
      limits: (r, max) => ({ strategies: { [r.strategy]: { orderRate: max } } }),
      measure: (_b, r, record, decided) =>
        record === undefined
          ? 0
          : decided.filter(
              (d) => d.allowed && d.strategy === r.strategy && d.at > record.at - 1000 && d.at <= record.at,
            ).length,
      room: 40,
    },
  ];

  it.each(rounds.map((r, i) => [r.name, i] as const))(
    "%s: the exposure allowed never exceeds the limit, as the decision ledger shows",
    async (_name, index) => {
      const round = rounds[index] as Round;
      const keys: RoundKeys = {
        symbol: `SYM${index}`,
        venue: `ven${index}`,
        strategy: round.spread === true ? "beta-1" : (STRATEGIES[index % STRATEGIES.length]?.id as string),
      };
      // Earlier rounds left positions: the limit is what the scope uses now plus the round's room.
      const max = round.measure(await replayLedger(), keys, undefined, []) + round.room;
      await setLimits({ total: { gross: 1e13 }, ...round.limits(keys, max) });
      const fromSeq = (await readLedger(registry.nc, cluster)).length;
      const open: string[] = [];
      let sent = 0;
      let denied = 0;
      const client = async (c: number) => {
        while (sent < 1200) {
          sent++;
          const quantity = 1 + ((sent * 7919 + c) % 60);
          // One price per round: a fill at another price would re-mark the position, which no limit bounds.
          const price = 100;
          const strategy = round.spread === true ? `beta-${c % 4}` : keys.strategy;
          const side = round.side ?? ((sent + c) % 3 === 0 ? "sell" : "buy");
          const reply = await risk.check(
            order({ strategy, symbol: keys.symbol, venue: keys.venue, side, quantity, price }),
          );
          if (!reply.allowed) {
            denied++;
            continue;
          }
          // A third are filled at the price checked, a third cancelled, the rest stay open.
          if (sent % 3 === 0)
            await risk.fill({ orderId: reply.orderId, fillId: `${reply.orderId}-f`, quantity, price });
          else if (sent % 3 === 1) await risk.cancel({ orderId: reply.orderId });
          else open.push(reply.orderId);
        }
      };
      await Promise.all(Array.from({ length: 64 }, (_, c) => client(c)));
      expect(denied).toBeGreaterThan(0);
      // Replayed from the ledger, after every allowed decision of the round the bounded value is within the limit.
      const book = new RiskBook();
      const decided: CheckRecord[] = [];
      let worst = 0;
      let allowed = 0;
      for (const [n, { entry }] of (await readLedger(registry.nc, cluster)).entries()) {
        for (const record of entry.r) {
          book.apply(record);
          if (n < fromSeq || record.t !== RecordKinds.Check) continue;
          decided.push(record);
          if (!record.allowed) continue;
          allowed++;
          worst = Math.max(worst, round.measure(book, keys, record, decided));
        }
      }
      expect(allowed).toBeGreaterThan(0);
      expect(worst).toBeLessThanOrEqual(max + 1e-6);
      // The limit was reached, not merely approached.
      expect(worst).toBeGreaterThan(max - round.room * 0.2);
      await Promise.all(open.map((orderId) => risk.cancel({ orderId })));
      // The guard's own view is the replay of its log.
      expect((await risk.exposure()).scopes).toEqual(exposureReply(await replayLedger(), null, {}).scopes);
    },
  );
});

describe("emergency halt", () => {
  it("is in force at once, acknowledged by every follower, blocks increasing orders until an operator resumes", async () => {
    await setLimits({ total: { gross: 1e12 } });
    const opened = await risk.check(order({ quantity: 5 }));
    await risk.fill({ orderId: opened.orderId, fillId: `${opened.orderId}-1`, quantity: 5, price: 100 });
    let stop = false;
    const afterHalt: CheckReply[] = [];
    let haltedAt = Number.POSITIVE_INFINITY;
    const load = async () => {
      while (!stop) {
        const reply = await risk.check(order({ quantity: 1 }));
        if (reply.decidedAt > haltedAt) afterHalt.push(reply);
      }
    };
    const workers = Array.from({ length: 8 }, load);
    await new Promise((r) => setTimeout(r, 200));
    const halt = await risk.halt({ by: "test-operator", reason: "test halt" });
    haltedAt = halt.status.at;
    expect(halt.status).toMatchObject({ state: TradingStates.Halted, by: "test-operator", reason: "test halt" });
    expect(halt.acks.map((a) => a.member)).toContain("risk-shard-1");
    expect(halt.missing).toEqual([]);
    await new Promise((r) => setTimeout(r, 300));
    stop = true;
    await Promise.all(workers);
    expect(afterHalt.length).toBeGreaterThan(0);
    expect(afterHalt.every((r) => !r.allowed && r.reason === DenyReasons.Halted)).toBe(true);
    // Cancels still pass; a reducing order does not.
    const reducing = await risk.check(order({ side: "sell", quantity: 1, reduceOnly: true }));
    expect(reducing.reason).toBe(DenyReasons.Halted);
    // The shard follows the state too.
    const shardStatus = (await import("@stratreg/client")).shardStatuses;
    const statuses = await shardStatus(registry.nc, cluster, 500);
    expect(statuses[0]?.trading?.state).toBe(TradingStates.Halted);
    // Resuming needs the operator.
    const resumed = await risk.resume({ by: "test-operator", reason: "all clear" });
    expect(resumed.status.state).toBe(TradingStates.Active);
    expect((await risk.check(order({ quantity: 1 }))).allowed).toBe(true);
  });
});

describe("takeover", () => {
  it("SIGKILL of the active guard mid-stream: the standby takes over, nothing is decided twice differently, exposures are recovered exactly", async () => {
    await setLimits({ total: { gross: 5e6 }, strategies: { "*": { gross: 1e6 } } });
    const before = await activeGuard(risk, GUARDS);
    const epochBefore = (await risk.status()).epoch as number;
    const seen = new Map<string, CheckReply[]>();
    let stop = false;
    let failures = 0;
    const stream = async (w: number) => {
      let i = 0;
      while (!stop) {
        const request = order({
          orderId: `tk-${w}-${i++}`,
          strategy: STRATEGIES[w % STRATEGIES.length]?.id,
          quantity: 1 + (i % 7),
        });
        try {
          const reply = await risk.check(request, { timeoutMs: 15_000 });
          seen.set(request.orderId, [...(seen.get(request.orderId) ?? []), reply]);
          // Ask again: the answer must be the first one, before and after the takeover.
          if (i % 5 === 0) seen.get(request.orderId)?.push(await risk.check(request, { timeoutMs: 15_000 }));
        } catch {
          failures++;
        }
      }
    };
    const workers = Array.from({ length: 16 }, (_, w) => stream(w));
    await new Promise((r) => setTimeout(r, 500));
    const killedAt = performance.now();
    await guards.get(before)?.kill("SIGKILL");
    const after = await activeGuard(
      risk,
      GUARDS.filter((g) => g !== before),
    );
    const takeoverMs = performance.now() - killedAt;
    await new Promise((r) => setTimeout(r, 500));
    stop = true;
    await Promise.all(workers);
    expect(after).not.toBe(before);
    expect(takeoverMs).toBeLessThan(5000);
    expect(failures).toBe(0);
    // Every repeated check got the first decision.
    for (const [, replies] of seen) {
      const first = replies[0] as CheckReply;
      for (const r of replies)
        expect({ allowed: r.allowed, decidedAt: r.decidedAt }).toEqual({
          allowed: first.allowed,
          decidedAt: first.decidedAt,
        });
    }
    // The ledger decides each order id once; after the new leader's epoch marker, nothing of an older epoch.
    const ledger = await readLedger(registry.nc, cluster);
    const decided = new Map<string, number>();
    let newEpochAt = -1;
    const epochAfter = (await risk.status()).epoch as number;
    expect(epochAfter).toBeGreaterThan(epochBefore);
    for (const { seq, entry } of ledger) {
      for (const record of entry.r) {
        if (record.t === RecordKinds.Check) decided.set(record.orderId, (decided.get(record.orderId) ?? 0) + 1);
        if (record.t === RecordKinds.Epoch && record.epoch === epochAfter) newEpochAt = seq;
      }
      if (newEpochAt > 0 && seq > newEpochAt) expect(entry.e).toBe(epochAfter);
    }
    expect(newEpochAt).toBeGreaterThan(0);
    expect([...decided.values()].every((n) => n === 1)).toBe(true);
    for (const id of seen.keys()) expect(decided.get(id)).toBe(1);
    // The new leader's exposures are the replay of the log.
    const book = await replayLedger();
    const view = await risk.exposure();
    expect(view.scopes).toEqual(exposureReply(book, null, {}).scopes);
    expect(view.openOrders).toBe(book.openOrders);
    // The killed guard comes back as a standby.
    guards.set(before, startGuard(inject("natsUrl"), cluster, before, SNAPSHOTS));
    await waitFor(
      async () => (await risk.status(before, { timeoutMs: 500 }).catch(() => undefined))?.role === "standby",
      {
        timeoutMs: 20_000,
      },
    );
  });

  it("SIGSTOP of the active guard past its lease: the other leads, and the paused one wakes up silent and follows", async () => {
    const paused = await activeGuard(risk, GUARDS);
    const other = GUARDS.find((g) => g !== paused) as string;
    const epochBefore = (await risk.status()).epoch as number;
    guards.get(paused)?.pause();
    try {
      await activeGuard(risk, [other]);
      const during = await risk.check(order({ quantity: 1 }));
      expect(during.allowed).toBe(true);
    } finally {
      guards.get(paused)?.resume();
    }
    // Awake, it answers nothing as a leader: checks keep reaching the new one, and it becomes a standby.
    for (let i = 0; i < 20; i++) expect((await risk.check(order({ quantity: 1 }))).allowed).toBe(true);
    await waitFor(
      async () => (await risk.status(paused, { timeoutMs: 500 }).catch(() => undefined))?.role === "standby",
      {
        timeoutMs: 20_000,
        message: "the paused guard did not become a standby",
      },
    );
    expect((await risk.status()).member).toBe(other);
    // After the new leader's marker, the log holds nothing of the paused guard's epoch.
    const epochAfter = (await risk.status()).epoch as number;
    expect(epochAfter).toBeGreaterThan(epochBefore);
    let marker = -1;
    for (const { seq, entry } of await readLedger(registry.nc, cluster)) {
      if (entry.r.some((r) => r.t === RecordKinds.Epoch && r.epoch === epochAfter)) marker = seq;
      else if (marker > 0) expect(entry.e).toBe(epochAfter);
    }
    expect(marker).toBeGreaterThan(0);
  });

  it("SIGKILL of every guard: the next one restores the latest snapshot and the log after it, exactly", async () => {
    const decided = await risk.check(order({ quantity: 2 }));
    await waitFor(
      async () => {
        for (const g of guards.values()) {
          if (g.logs().some((line) => line.includes("risk book snapshot stored"))) return true;
        }
        return false;
      },
      { timeoutMs: 15_000, message: "no guard stored a snapshot of the book" },
    );
    await Promise.all([...guards.values()].map((g) => g.kill("SIGKILL")));
    const fresh = startGuard(inject("natsUrl"), cluster, "guard-c", SNAPSHOTS);
    guards.set("guard-c", fresh);
    await activeGuard(risk, ["guard-c"]);
    const rebuilt = await fresh.waitForLog((_line, json) => json?.msg === "risk book rebuilt from the log", 10_000);
    expect(rebuilt.json?.fromSnapshot).toBeGreaterThan(0);
    // The restored book is the ledger's, and remembers what it decided.
    const book = await replayLedger();
    expect((await risk.exposure()).scopes).toEqual(exposureReply(book, null, {}).scopes);
    expect(await risk.check({ ...order(), orderId: decided.orderId, quantity: 2 })).toEqual({
      ...decided,
      duplicate: true,
    });
  });
});
