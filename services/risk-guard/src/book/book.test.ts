/**
 * The book alone: decisions against every limit kind and scope, reduce-only and
 * the trading states, fills, cancels and expiry releasing what they should, and
 * a replay of the records giving the very same book.
 */
import {
  type CheckRequest,
  DenyReasons,
  decode,
  encode,
  LimitKinds,
  LimitScopes,
  type RiskLimits,
  TradingEvents,
  TradingStates,
} from "@stratreg/protocol";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { exposureReply } from "../reports.js";
import { type BookState, RiskBook } from "./book.js";
import { worstGross } from "./limits.js";
import { type CheckRecord, RecordKinds, type RiskRecord } from "./records.js";

let n = 0;
const order = (fields: Partial<CheckRequest> = {}): CheckRequest => ({
  orderId: `o${++n}`,
  strategy: "s1",
  venue: "v1",
  symbol: "AAA",
  side: "buy",
  quantity: 10,
  price: 10,
  ...fields,
});

/** A book with `limits`, and a helper that decides and applies like the leader does. */
function bookWith(limits: RiskLimits) {
  const book = new RiskBook();
  const records: RiskRecord[] = [];
  const apply = (record: RiskRecord) => {
    records.push(record);
    return book.apply(record);
  };
  apply({ t: RecordKinds.Limits, version: 1, limits, by: "op", note: null, at: 1 });
  const check = (fields: Partial<CheckRequest> = {}, family = "", at = 1000): CheckRecord => {
    const decision = book.decide(order(fields), family, at);
    apply(decision);
    return decision;
  };
  const fill = (orderId: string, quantity: number, price: number, fillId = `${orderId}-f${quantity}-${price}`) =>
    apply({ t: RecordKinds.Fill, orderId, fillId, quantity, price, at: 1001 });
  return { book, records, apply, check, fill };
}

describe("limits", () => {
  test.each([
    ["total", { total: { gross: 250 } }, LimitScopes.Total, ""],
    ["symbol", { symbols: { AAA: { gross: 250 } } }, LimitScopes.Symbol, "AAA"],
    ["symbol default", { symbols: { "*": { gross: 250 } } }, LimitScopes.Symbol, "AAA"],
    ["venue", { venues: { v1: { gross: 250 } } }, LimitScopes.Venue, "v1"],
    ["strategy", { strategies: { s1: { gross: 250 } } }, LimitScopes.Strategy, "s1"],
    ["family", { families: { fx: { gross: 250 } } }, LimitScopes.Family, "fx"],
  ] as const)("gross per %s: allowed up to the limit, then denied naming it", (_, limits, scope, key) => {
    const { check } = bookWith(limits as RiskLimits);
    expect(check({}, "fx").allowed).toBe(true); // 100
    expect(check({}, "fx").allowed).toBe(true); // 200
    const denied = check({ quantity: 6 }, "fx"); // 260 > 250
    expect(denied).toMatchObject({ allowed: false, reason: DenyReasons.Limit });
    expect(denied.limit).toMatchObject({ kind: LimitKinds.Gross, scope, key, max: 250, used: 200, left: -10 });
    // Exactly to the limit passes.
    expect(check({ quantity: 5 }, "fx").allowed).toBe(true);
  });

  test("net: buys and sells of different positions offset; the worst case counts open orders", () => {
    const { check, fill } = bookWith({ total: { net: 150 } });
    const buy = check({ strategy: "s1" });
    fill(buy.orderId, 10, 10); // s1 long 100
    const sell = check({ strategy: "s2", side: "sell", quantity: 20 }); // worst net: max(|100|, |100-200|) = 100
    expect(sell.allowed).toBe(true);
    const more = check({ strategy: "s2", side: "sell", quantity: 6 }); // |100 - 260| = 160 > 150
    expect(more).toMatchObject({ allowed: false, limit: { kind: LimitKinds.Net, scope: LimitScopes.Total } });
    expect(check({ strategy: "s3", quantity: 5 }).allowed).toBe(true); // |150| on the long side
  });

  test("order notional, order rate and open orders per strategy", () => {
    const { check, apply } = bookWith({
      orderNotional: 500,
      strategies: { s1: { orderRate: 2, openOrders: 3 }, s2: { orderNotional: 50 } },
    });
    expect(check({ quantity: 51 })).toMatchObject({
      allowed: false,
      limit: { kind: LimitKinds.OrderNotional, max: 500 },
    });
    expect(check({ strategy: "s2" })).toMatchObject({
      allowed: false,
      limit: { kind: LimitKinds.OrderNotional, max: 50 },
    });
    const a = check({}, "", 1000);
    check({}, "", 1100);
    expect(check({}, "", 1200)).toMatchObject({ allowed: false, limit: { kind: LimitKinds.OrderRate, used: 2 } });
    // A second later the rate allows it, but three orders are open.
    expect(check({}, "", 2150).allowed).toBe(true);
    expect(check({}, "", 3300)).toMatchObject({ allowed: false, limit: { kind: LimitKinds.OpenOrders, used: 3 } });
    apply({ t: RecordKinds.Cancel, orderId: a.orderId, at: 3301 });
    expect(check({}, "", 3400).allowed).toBe(true);
  });

  test("cluster: strategies correlated above ρ share one limit, from when the clusters are recorded", () => {
    const { check, apply } = bookWith({ cluster: { rho: 0.8, gross: 250 } });
    check({ strategy: "s1" });
    check({ strategy: "s2" });
    expect(check({ strategy: "s3" }).allowed).toBe(true); // no clusters yet
    apply({ t: RecordKinds.Clusters, clusters: { s1: "s1", s2: "s1" }, rho: 0.8, at: 2 });
    const denied = check({ strategy: "s2", quantity: 6 });
    expect(denied.limit).toMatchObject({ kind: LimitKinds.Gross, scope: LimitScopes.Cluster, key: "s1", used: 200 });
    expect(check({ strategy: "s3", quantity: 6 }).allowed).toBe(true);
  });

  test("an order that leaves an exceeded worst case no worse passes", () => {
    const { check, fill, apply } = bookWith({});
    const buy = check();
    fill(buy.orderId, 10, 10);
    apply({ t: RecordKinds.Limits, version: 2, limits: { total: { net: 50 } }, by: "op", note: null, at: 2 });
    expect(check({ strategy: "s2" }).allowed).toBe(false);
    expect(check({ strategy: "s2", side: "sell", quantity: 5 }).allowed).toBe(true);
  });
});

describe("trading states and reducing orders", () => {
  test("HALTED denies everything; REDUCING only what reduces; reduce-only never increases", () => {
    const { check, fill, apply, book } = bookWith({});
    const buy = check({ quantity: 10 });
    fill(buy.orderId, 10, 10); // long 10
    expect(check({ side: "sell", quantity: 11, reduceOnly: true })).toMatchObject({
      allowed: false,
      reason: DenyReasons.ReduceOnlyWouldIncrease,
    });
    apply({ t: RecordKinds.Trading, event: { type: TradingEvents.Reduce, by: "op", reason: "r", at: 5 } });
    expect(book.status.state).toBe(TradingStates.Reducing);
    expect(check({ quantity: 1 })).toMatchObject({ allowed: false, reason: DenyReasons.Reducing, state: "REDUCING" });
    const reduce = check({ side: "sell", quantity: 6 });
    expect(reduce).toMatchObject({ allowed: true, reduces: true });
    // Only 4 left to reduce while that order is open.
    expect(check({ side: "sell", quantity: 5 }).reason).toBe(DenyReasons.Reducing);
    expect(check({ side: "sell", quantity: 4, reduceOnly: true }).allowed).toBe(true);
    apply({ t: RecordKinds.Trading, event: { type: TradingEvents.Halt, by: "op", reason: "stop", at: 6 } });
    expect(check({ side: "sell", quantity: 1 })).toMatchObject({ allowed: false, reason: DenyReasons.Halted });
  });

  test("a reducing order that other fills turn into an increasing one is reserved like any other", () => {
    const { check, fill, book } = bookWith({ total: { gross: 10_000 } });
    const gross = () => worstGross(book.scopeTotals(LimitScopes.Total, "") as never);
    fill(check({ quantity: 10, price: 100 }).orderId, 10, 100); // long 10: 1,000
    const reducing = check({ side: "sell", quantity: 10, price: 100 });
    expect(reducing).toMatchObject({ allowed: true, reduces: true });
    const big = check({ side: "sell", quantity: 30, price: 100 });
    expect(big).toMatchObject({ allowed: true, reduces: false });
    expect(gross()).toBeCloseTo(4000);
    fill(big.orderId, 30, 100); // short 20: the open sell of 10 would now take it to 30
    expect(gross()).toBeCloseTo(3000);
    // 7,000 of room is left, not 8,000: the order that no longer reduces holds its share.
    expect(check({ quantity: 71, price: 100 })).toMatchObject({ allowed: false, reason: DenyReasons.Limit });
    expect(check({ quantity: 70, price: 100 }).allowed).toBe(true);
    fill(reducing.orderId, 10, 100);
    expect(book.scopeTotals(LimitScopes.Total, "")?.gross).toBeCloseTo(3000);
    expect(gross()).toBeCloseTo(10_000);
  });

  test("whatever order fills arrive in, the worst-case gross after each event stays within the limit", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            side: fc.constantFrom("buy" as const, "sell" as const),
            quantity: fc.integer({ min: 1, max: 60 }),
            // Which open order the step then fills or cancels, and how.
            pick: fc.nat(),
            next: fc.constantFrom("fill", "cancel", "wait"),
          }),
          { maxLength: 80 },
        ),
        (steps) => {
          const { check, fill, apply, book, records } = bookWith({ total: { gross: 1000 } });
          const gross = () =>
            worstGross(
              book.scopeTotals(LimitScopes.Total, "") ?? { gross: 0, net: 0, buyReserved: 0, sellReserved: 0 },
            );
          const open: CheckRecord[] = [];
          for (const step of steps) {
            const d = check({ side: step.side, quantity: step.quantity, price: 10 });
            if (d.allowed) open.push(d);
            expect(gross()).toBeLessThanOrEqual(1000 + 1e-6);
            if (step.next === "wait" || open.length === 0) continue;
            const [chosen] = open.splice(step.pick % open.length, 1) as [CheckRecord];
            if (step.next === "fill") fill(chosen.orderId, chosen.quantity, 10);
            else apply({ t: RecordKinds.Cancel, orderId: chosen.orderId, at: 1002 });
            expect(gross()).toBeLessThanOrEqual(1000 + 1e-6);
          }
          const again = new RiskBook();
          for (const r of records) again.apply(r);
          expect(again.toState()).toEqual(book.toState());
        },
      ),
      { numRuns: 1000 },
    );
  });
});

describe("order events", () => {
  test("fills move positions and release reservations; repeats change nothing; cancel and expiry release the rest", () => {
    const { check, fill, apply, book } = bookWith({ total: { gross: 1000 } });
    const a = check({ quantity: 50 }); // reserves 500
    const total = () => [...book.allTotals()].find((t) => t.scope === LimitScopes.Total)?.totals;
    expect(total()).toMatchObject({ gross: 0, buyReserved: 500 });
    expect(fill(a.orderId, 20, 11)).toEqual({ applied: true, openQuantity: 30, position: 20 });
    expect(fill(a.orderId, 20, 11)).toEqual({ applied: false, openQuantity: 30, position: 20 });
    expect(total()).toMatchObject({ gross: 220, net: 220, buyReserved: 300 });
    expect(apply({ t: RecordKinds.Cancel, orderId: a.orderId, at: 2000 })).toEqual({
      applied: true,
      openQuantity: 0,
      position: 20,
    });
    expect(worstGross(total() as never)).toBeCloseTo(220);
    const b = check({ quantity: 10 }, "", 3000);
    expect(book.expired(b.expiresAt as number, 10)).toEqual([b.orderId]);
    apply({ t: RecordKinds.Expire, orderId: b.orderId, at: b.expiresAt as number });
    expect(book.openOrders).toBe(0);
    expect(worstGross(total() as never)).toBeCloseTo(220);
  });

  test("equity marks positions at their last price; a drawdown is measured from the peak", () => {
    const { check, fill, apply, book } = bookWith({});
    const a = check({ quantity: 10, price: 100 });
    fill(a.orderId, 10, 100);
    expect(book.equity).toBeCloseTo(0);
    apply({
      t: RecordKinds.Position,
      strategy: "s1",
      family: "",
      venue: "v1",
      symbol: "AAA",
      quantity: 10,
      price: 120,
      at: 5,
    });
    expect(book.equity).toBeCloseTo(200);
    apply({
      t: RecordKinds.Position,
      strategy: "s1",
      family: "",
      venue: "v1",
      symbol: "AAA",
      quantity: 10,
      price: 90,
      at: 6,
    });
    expect(book.equity).toBeCloseTo(-100);
    expect(book.peakEquity - book.equity).toBeCloseTo(300);
    expect(exposureReply(book, null, {}).pnl).toEqual({
      equity: book.equity,
      peak: 200,
      drawdown: book.peakEquity - book.equity,
    });
  });
});

describe("replay", () => {
  test("applying the same records to a new book gives the same exposures, orders and state", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            strategy: fc.constantFrom("s1", "s2", "s3"),
            symbol: fc.constantFrom("AAA", "BBB"),
            side: fc.constantFrom("buy" as const, "sell" as const),
            quantity: fc.integer({ min: 1, max: 40 }),
            price: fc.integer({ min: 1, max: 20 }),
            next: fc.constantFrom("fill", "half", "cancel", "open"),
          }),
          { maxLength: 60 },
        ),
        (orders) => {
          const { book, records, check, fill, apply } = bookWith({
            total: { gross: 5000 },
            symbols: { "*": { net: 2000 } },
          });
          for (const o of orders) {
            const d = check({
              strategy: o.strategy,
              symbol: o.symbol,
              side: o.side,
              quantity: o.quantity,
              price: o.price,
            });
            if (!d.allowed) continue;
            if (o.next === "fill") fill(d.orderId, o.quantity, o.price);
            if (o.next === "half") fill(d.orderId, Math.ceil(o.quantity / 2), o.price);
            if (o.next === "cancel") apply({ t: RecordKinds.Cancel, orderId: d.orderId, at: 1002 });
          }
          const again = new RiskBook();
          for (const r of records) again.apply(r);
          expect(exposureReply(again, null, {})).toEqual(exposureReply(book, null, {}));
          expect(again.openOrders).toBe(book.openOrders);
          // Filled at the prices checked, the worst case never passes the limit the decisions were made under.
          const total = [...book.allTotals()].find((t) => t.scope === LimitScopes.Total)?.totals;
          if (total !== undefined) expect(worstGross(total)).toBeLessThanOrEqual(5000 + 1e-6);
        },
      ),
      { numRuns: 100 },
    );
  });
});

describe("snapshots", () => {
  test("a book restored from its state (through msgpack) and given the rest of the records equals one given all of them", () => {
    fc.assert(
      fc.property(
        fc.array(
          fc.record({
            strategy: fc.constantFrom("s1", "s2", "s3"),
            side: fc.constantFrom("buy" as const, "sell" as const),
            quantity: fc.integer({ min: 1, max: 40 }),
            next: fc.constantFrom("fill", "cancel", "open", "halt", "resume", "cluster"),
          }),
          { minLength: 1, maxLength: 40 },
        ),
        fc.nat(),
        (steps, cut) => {
          const { book, records, check, fill, apply } = bookWith({
            total: { gross: 3000 },
            cluster: { rho: 0.5, gross: 2000 },
          });
          steps.forEach((o, i) => {
            const d = check(
              { orderId: `snap-${i}`, strategy: o.strategy, side: o.side, quantity: o.quantity, price: 10 },
              "",
              1000 + i,
            );
            if (o.next === "halt")
              apply({ t: RecordKinds.Trading, event: { type: TradingEvents.Halt, by: "op", reason: "r", at: i } });
            if (o.next === "resume") {
              apply({
                t: RecordKinds.Trading,
                event: { type: TradingEvents.Resume, by: "op", reason: "r", at: i, confirmations: 1 },
              });
            }
            if (o.next === "cluster")
              apply({ t: RecordKinds.Clusters, clusters: { s1: "s1", s2: "s1" }, rho: 0.5, at: i });
            if (!d.allowed) return;
            if (o.next === "fill") fill(d.orderId, o.quantity, 11);
            if (o.next === "cancel") apply({ t: RecordKinds.Cancel, orderId: d.orderId, at: 1000 + i });
          });
          const at = cut % (records.length + 1);
          const first = new RiskBook();
          for (const r of records.slice(0, at)) first.apply(r);
          const restored = RiskBook.fromState(decode(encode(first.toState())) as BookState);
          for (const r of records.slice(at)) restored.apply(r);
          expect(exposureReply(restored, null, {})).toEqual(exposureReply(book, null, {}));
          expect(restored.toState()).toEqual(book.toState());
          expect(restored.expired(Number.MAX_SAFE_INTEGER, 1000)).toEqual(book.expired(Number.MAX_SAFE_INTEGER, 1000));
        },
      ),
      { numRuns: 150 },
    );
  });

  test("a state of another version is refused", () => {
    expect(() => RiskBook.fromState({ ...new RiskBook().toState(), v: 2 as 1 })).toThrow(/version 2/);
  });
});

describe("memory", () => {
  test("closed orders are forgotten past the retention; open ones never are", () => {
    const book = new RiskBook({ closedMs: 1000, closedMax: 2 });
    const decide = (orderId: string, at: number) => {
      const d = book.decide(order({ orderId }), "", at);
      book.apply(d);
      return d;
    };
    decide("keep-open", 0);
    for (let i = 0; i < 3; i++) {
      decide(`c${i}`, 10 + i);
      book.apply({ t: RecordKinds.Cancel, orderId: `c${i}`, at: 10 + i });
    }
    // Three closed, two kept: the oldest is forgotten.
    expect(book.decisionOf("c0")).toBeUndefined();
    expect(book.decisionOf("c2")).toBeDefined();
    // Time passes: a close far later forgets everything closed more than closedMs before it.
    decide("late", 5000);
    book.apply({ t: RecordKinds.Cancel, orderId: "late", at: 5000 });
    expect(book.decisionOf("c2")).toBeUndefined();
    expect(book.decisionOf("late")).toBeDefined();
    expect(book.decisionOf("keep-open")).toBeDefined();
    // Events for orders never seen change nothing.
    expect(book.apply({ t: RecordKinds.Fill, orderId: "nobody", fillId: "f", quantity: 1, price: 1, at: 1 })).toEqual({
      applied: false,
      openQuantity: 0,
      position: 0,
    });
    expect(book.apply({ t: RecordKinds.Cancel, orderId: "nobody", at: 1 })).toEqual({
      applied: false,
      openQuantity: 0,
      position: 0,
    });
  });

  test("a book that only applies (a standby) keeps the order-rate window short", () => {
    const leader = new RiskBook();
    const standby = new RiskBook();
    for (let i = 0; i < 500; i++) {
      const d = leader.decide(order({ orderId: `r${i}` }), "", i * 100);
      leader.apply(d);
      standby.apply(d);
      leader.apply({ t: RecordKinds.Cancel, orderId: `r${i}`, at: i * 100 });
      standby.apply({ t: RecordKinds.Cancel, orderId: `r${i}`, at: i * 100 });
    }
    const window = (b: RiskBook) => (b as unknown as { recent: Map<string, number[]> }).recent.get("s1")?.length;
    expect(window(standby)).toBeLessThanOrEqual(10);
    expect(window(standby)).toBe(window(leader));
  });

  test("the audit trail keeps the latest 100 changes, newest first, each with what it replaced", () => {
    const book = new RiskBook();
    for (let v = 1; v <= 120; v++) {
      book.apply({ t: RecordKinds.Limits, version: v, limits: { orderNotional: v }, by: `op${v}`, note: null, at: v });
    }
    expect(book.audit).toHaveLength(100);
    expect(book.audit[0]).toMatchObject({
      version: 120,
      by: "op120",
      previous: { orderNotional: 119 },
      limits: { orderNotional: 120 },
    });
    expect(book.audit[99]?.version).toBe(21);
    expect(book.limitsVersion).toBe(120);
  });

  test("regrouping clusters rebuilds their totals from the strategies', skipping strategies without exposure", () => {
    const { book, check, apply } = bookWith({});
    check({ strategy: "s1" });
    apply({ t: RecordKinds.Clusters, clusters: { s1: "s1", s9: "s1" }, rho: 0.5, at: 3 });
    const cluster = () => [...book.allTotals()].find((t) => t.scope === LimitScopes.Cluster)?.totals;
    expect(cluster()).toMatchObject({ buyReserved: 100 });
    apply({ t: RecordKinds.Clusters, clusters: {}, rho: 0.5, at: 4 });
    expect(cluster()).toBeUndefined();
    expect(book.clusterMap().size).toBe(0);
  });
});
