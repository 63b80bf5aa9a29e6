/**
 * The risk guard's view of the portfolio, end to end: strategies report
 * returns to the registry and positions to the guard; the guard's correlation
 * pairs, clusters, VaR and ES equal values computed here from the returns
 * sent, by plain formulas (the library is held to numpy and scipy by its golden
 * tests); a cluster limit binds strategies that move together; a drawdown moves
 * trading to REDUCING and then HALTED by itself; a reservation nobody fills or
 * cancels expires.
 */

import { DenyReasons, LimitKinds, LimitScopes, TradingStates } from "@stratreg/protocol";
import { normalQuantile } from "@stratreg/quant";
import { type ServiceProcess, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";
import { activeGuard, riskClient, startGuard } from "./support/risk.js";

const PERIODS = 80;
const IDS = ["q-0", "q-1", "q-2", "q-3"];
let registry: TestRegistry;
let cluster: string;
let guard: ServiceProcess;
let risk: ReturnType<typeof riskClient>;
const returns = new Map<string, number[]>();

/** A small deterministic generator, so a failure can be replayed. */
function random(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (Math.imul(s, 1664525) + 1013904223) >>> 0;
    return s / 2 ** 32;
  };
}

function pearson(a: number[], b: number[]): number {
  const n = a.length;
  const ma = a.reduce((x, y) => x + y, 0) / n;
  const mb = b.reduce((x, y) => x + y, 0) / n;
  let ab = 0;
  let aa = 0;
  let bb = 0;
  for (let i = 0; i < n; i++) {
    ab += ((a[i] as number) - ma) * ((b[i] as number) - mb);
    aa += ((a[i] as number) - ma) ** 2;
    bb += ((b[i] as number) - mb) ** 2;
  }
  return ab / Math.sqrt(aa * bb);
}

/** numpy's default (linear) quantile. */
function quantile(sorted: number[], q: number): number {
  const h = (sorted.length - 1) * q;
  const lo = Math.floor(h);
  const hi = Math.min(sorted.length - 1, lo + 1);
  return (sorted[lo] as number) + (h - lo) * ((sorted[hi] as number) - (sorted[lo] as number));
}

beforeAll(async () => {
  cluster = uniqueClusterName("riskq");
  registry = await startRegistry(inject("natsUrl"), cluster, ["riskq-shard-1"], { partitions: 4 });
  await registry.client.registerMany(IDS.map((id) => ({ id, name: id, owner: "desk-q", family: "q" })));
  // q-0 and q-1 share a factor; q-2 and q-3 are their own.
  const rand = random(7);
  const normal = () => Math.sqrt(-2 * Math.log(rand() + 1e-12)) * Math.cos(2 * Math.PI * rand());
  const start = Date.now() - PERIODS * 86_400_000;
  const times = Array.from({ length: PERIODS }, (_, i) => start + i * 86_400_000);
  const factor = times.map(() => normal() * 0.01);
  returns.set(
    "q-0",
    factor.map((f) => 0.0005 + f + normal() * 0.002),
  );
  returns.set(
    "q-1",
    factor.map((f) => 0.0003 + f + normal() * 0.002),
  );
  returns.set(
    "q-2",
    times.map(() => 0.0004 + normal() * 0.01),
  );
  returns.set(
    "q-3",
    times.map(() => -0.0002 + normal() * 0.015),
  );
  await registry.client.report(IDS.map((id) => ({ id, seq: 1, times, returns: returns.get(id) as number[] })));
  guard = startGuard(inject("natsUrl"), cluster, "riskq-guard", { STRATREG_RISK_INTERVAL_MS: "300" });
  risk = riskClient(registry.nc, cluster);
  await activeGuard(risk, ["riskq-guard"]);
});

afterAll(async () => {
  await guard?.kill("SIGKILL").catch(() => undefined);
  await registry?.close();
});

describe("portfolio risk", () => {
  const exposure = { "q-0": 100_000, "q-1": 50_000, "q-2": 80_000, "q-3": 20_000 } as Record<string, number>;

  it("correlation pairs, VaR and ES equal what the returns sent give", async () => {
    for (const id of IDS) {
      await risk.position({
        strategy: id,
        venue: "xnys",
        symbol: `SYM-${id}`,
        quantity: (exposure[id] as number) / 100,
        price: 100,
      });
    }
    const reply = await waitFor(
      async () => {
        const r = await risk.exposure();
        return r.risk !== null && r.risk.contributions.length === IDS.length ? r : undefined;
      },
      { timeoutMs: 15_000, message: "the guard computed no VaR" },
    );
    const figures = reply.risk as NonNullable<typeof reply.risk>;
    expect(figures.periods).toBe(PERIODS);
    // P&L per period: each strategy's exposure times its return.
    const pnl = Array.from({ length: PERIODS }, (_, t) =>
      IDS.reduce((sum, id) => sum + (exposure[id] as number) * ((returns.get(id) as number[])[t] as number), 0),
    );
    const sorted = [...pnl].sort((a, b) => a - b);
    const var95 = -quantile(sorted, 0.05);
    const var99 = -quantile(sorted, 0.01);
    const es = (v: number) => {
      const tail = sorted.filter((x) => x <= -v);
      return -tail.reduce((a, b) => a + b, 0) / tail.length;
    };
    expect(figures.historical.var95).toBeCloseTo(var95, 6);
    expect(figures.historical.var99).toBeCloseTo(var99, 6);
    expect(figures.historical.es95).toBeCloseTo(es(var95), 6);
    expect(figures.historical.es99).toBeCloseTo(es(var99), 6);
    const mean = pnl.reduce((a, b) => a + b, 0) / PERIODS;
    const sd = Math.sqrt(pnl.reduce((a, b) => a + (b - mean) ** 2, 0) / (PERIODS - 1));
    expect(figures.parametric.var99).toBeCloseTo(normalQuantile(0.99) * sd - mean, 6);
    // Euler: the contributions add up to the parametric VaR.
    const sum = figures.contributions.reduce((a, c) => a + c.component, 0);
    expect(sum).toBeCloseTo(figures.parametric.var99, 6);

    const correlation = await risk.correlation(10);
    expect(correlation.strategies).toEqual(IDS);
    const top = correlation.pairs[0] as { a: string; b: string; rho: number };
    expect([top.a, top.b]).toEqual(["q-0", "q-1"]);
    const sample = pearson(returns.get("q-0") as number[], returns.get("q-1") as number[]);
    expect(sample).toBeGreaterThan(0.9);
    // The matrix is shrunk towards the identity by the reported intensity.
    expect(top.rho).toBeCloseTo((1 - correlation.shrinkage) * sample, 9);
    expect(correlation.clusters).toEqual([expect.objectContaining({ key: "q-0", members: ["q-0", "q-1"] })]);
  });

  it("a cluster limit binds strategies whose returns move together", async () => {
    await risk.setLimits({ limits: { cluster: { rho: 0.8, gross: 200_000 } }, by: "test-operator" });
    // The clusters are recorded in the log once computed under the new ρ.
    await waitFor(async () => ((await risk.status()).records as Record<string, number>).clusters !== undefined, {
      timeoutMs: 10_000,
      message: "no clusters were recorded",
    });
    const denied = await risk.check({
      orderId: "cl-1",
      strategy: "q-1",
      venue: "xnys",
      symbol: "SYM-q-1",
      side: "buy",
      quantity: 600,
      price: 100,
    });
    expect(denied).toMatchObject({ allowed: false, reason: DenyReasons.Limit });
    expect(denied.limit).toMatchObject({
      kind: LimitKinds.Gross,
      scope: LimitScopes.Cluster,
      key: "q-0",
      used: 150_000,
    });
    // q-2 is alone: the same order passes for it.
    const allowed = await risk.check({
      orderId: "cl-2",
      strategy: "q-2",
      venue: "xnys",
      symbol: "SYM-q-2",
      side: "buy",
      quantity: 600,
      price: 100,
    });
    expect(allowed.allowed).toBe(true);
    await risk.cancel({ orderId: "cl-2" });
  });

  it("a reservation nobody fills or cancels expires", async () => {
    await risk.setLimits({ limits: { reservationTtlMs: 300 }, by: "test-operator" });
    const reply = await risk.check({
      orderId: "ttl-1",
      strategy: "q-3",
      venue: "xnys",
      symbol: "TTL",
      side: "buy",
      quantity: 1,
      price: 100,
    });
    expect(reply.expiresAt).toBe((reply.decidedAt as number) + 300);
    expect((await risk.exposure()).openOrders).toBe(1);
    await waitFor(async () => (await risk.exposure()).openOrders === 0, {
      timeoutMs: 5000,
      message: "the reservation did not expire",
    });
    // A cancel after the expiry changes nothing.
    expect(await risk.cancel({ orderId: "ttl-1" })).toMatchObject({ applied: false, openQuantity: 0 });
  });

  it("a drawdown moves trading to REDUCING, a deeper one to HALTED, and only an operator resumes", async () => {
    const before = (await risk.exposure()).pnl;
    await risk.setLimits({ limits: { drawdown: { reduce: 5_000, halt: 20_000 } }, by: "test-operator" });
    // q-0 marked 6 % down: 6,000 below the peak.
    await risk.position({ strategy: "q-0", venue: "xnys", symbol: "SYM-q-0", quantity: 1000, price: 94 });
    await waitFor(async () => (await risk.state()).state === TradingStates.Reducing, { timeoutMs: 5000 });
    const reducing = await risk.state();
    expect(reducing).toMatchObject({ by: "risk-guard" });
    expect(reducing.reason).toContain("drawdown");
    await risk.position({ strategy: "q-0", venue: "xnys", symbol: "SYM-q-0", quantity: 1000, price: 70 });
    await waitFor(async () => (await risk.state()).state === TradingStates.Halted, { timeoutMs: 5000 });
    const pnl = (await risk.exposure()).pnl;
    expect(pnl.drawdown).toBeCloseTo(pnl.peak - pnl.equity, 6);
    expect(pnl.peak).toBeGreaterThanOrEqual(before.peak);
    // A recovery does not resume trading by itself.
    await risk.position({ strategy: "q-0", venue: "xnys", symbol: "SYM-q-0", quantity: 1000, price: 100 });
    expect((await risk.state()).state).toBe(TradingStates.Halted);
    await risk.setLimits({ limits: {}, by: "test-operator" });
    expect((await risk.resume({ by: "test-operator", reason: "reviewed" })).status.state).toBe(TradingStates.Active);
  });
});
