/**
 * The strategy lifecycle end to end: two registry shards and a risk guard on a
 * real nats-server, driven through the SDK. A strategy earns activation through
 * the quality gates (every gate listed with its value, threshold and verdict),
 * every move is recorded with who and why, lifecycle events reach live
 * subscribers and late consumers alike, operators set thresholds per family,
 * a family that tried many variants faces a higher Deflated Sharpe bar, and
 * nothing activates while trading is halted, even when the halt races it.
 */
import { followLifecycleEvents, type RiskClient, type StreamedLifecycleEvent, TemplatesClient } from "@stratreg/client";
import {
  decode,
  ErrorCodes,
  type GatesReply,
  type LifecycleContext,
  type LifecycleEventMessage,
  type Strategy,
  type StratregError,
} from "@stratreg/protocol";
import { refusal, type ServiceProcess, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { contextOf, goodEvidence, weakEvidence } from "./support/evidence.js";
import { startRegistry, type TestRegistry } from "./support/registry.js";
import { activeGuard, riskClient, startGuard } from "./support/risk.js";

let registry: TestRegistry;
let cluster: string;
let risk: RiskClient;
let guard: ServiceProcess;
const by = "quant-1";

async function register(id: string, family?: string): Promise<Strategy> {
  return registry.client.register({ id, name: id, owner: "desk-1", ...(family === undefined ? {} : { family }) });
}

/** Registers a strategy and takes it to `validated` with good evidence. */
async function validated(id: string, family?: string): Promise<Strategy> {
  await register(id, family);
  await registry.client.attachEvidence(id, goodEvidence(), { by });
  return registry.client.transition(id, "validate", { by, reason: "backtests done" });
}

function gate(reply: GatesReply, name: string) {
  const found = reply.gates.find((g) => g.gate === name);
  expect(found, `gate ${name}`).toBeDefined();
  return found as GatesReply["gates"][number];
}

beforeAll(async () => {
  cluster = uniqueClusterName("life");
  registry = await startRegistry(inject("natsUrl"), cluster, ["life-shard-1", "life-shard-2"], { partitions: 8 });
  guard = startGuard(inject("natsUrl"), cluster, "life-guard");
  risk = riskClient(registry.nc, cluster);
  await activeGuard(risk, ["life-guard"]);
  // Both shards know the trading state before the tests ask them to activate anything.
  await waitFor(async () => (await risk.state()).state === "ACTIVE", { timeoutMs: 10_000 });
});

afterAll(async () => {
  await guard?.kill("SIGKILL").catch(() => undefined);
  await registry?.close();
});

describe("the way to live trading", () => {
  it("takes a candidate through backtesting and validation to active, recording every move", async () => {
    const created = await register("life-good");
    expect(created).toMatchObject({ state: "candidate", version: 1 });
    const testing = await registry.client.attachEvidence("life-good", goodEvidence(), { by });
    expect(testing).toMatchObject({ state: "backtesting", version: 2 });
    const evidence = contextOf(testing).evidence as { summary: Record<string, unknown> };
    expect(evidence.summary).toMatchObject({ periods: 1260, trades: 1200 });

    const dryRun = await registry.client.gates("life-good");
    expect(dryRun.passed).toBe(true);
    expect(dryRun.gates.map((g) => g.gate)).toEqual([
      "trades",
      "sharpe",
      "maxDrawdown",
      "outOfSample",
      "walkForward",
      "monteCarlo",
      "parameterStability",
      "regimes",
      "deflatedSharpe",
    ]);
    expect(gate(dryRun, "trades")).toMatchObject({ value: 1200, threshold: 1000, comparison: ">=", passed: true });
    expect(gate(dryRun, "sharpe")).toMatchObject({ threshold: 1, comparison: ">", passed: true });

    const valid = await registry.client.transition("life-good", "validate", { by, reason: "backtests done" });
    expect(valid).toMatchObject({ state: "validated", version: 3 });
    const live = await registry.client.transition("life-good", "activate", { by: "pm-1", reason: "approved" });
    expect(live).toMatchObject({ state: "active", version: 4, lifecycle: { value: { active: "birth" } } });
    const suspended = await registry.client.transition("life-good", "suspend", { by: "pm-1", reason: "review" });
    expect(suspended.state).toBe("suspended");
    const resumed = await registry.client.transition("life-good", "resume", { by: "pm-1", reason: "reviewed" });
    expect(resumed.lifecycle?.value).toEqual({ active: "birth" });

    const history = contextOf(resumed).history;
    expect(history?.map((h) => [h.event, h.from, h.to, h.by])).toEqual([
      ["ATTACH_EVIDENCE", "candidate", "backtesting", by],
      ["VALIDATE", "backtesting", "validated", by],
      ["ACTIVATE", "validated", "active.birth", "pm-1"],
      ["SUSPEND", "active.birth", "suspended", "pm-1"],
      ["RESUME", "suspended", "active.birth", "pm-1"],
    ]);
    expect(history?.[2]?.reason).toBe("approved");
    expect((await registry.client.get("life-good")).version).toBe(6);
    const kept = await registry.client.evidence("life-good");
    expect(kept).toMatchObject({ id: "life-good", by, evidence: { oosStart: 840 } });
  });

  it("refuses a move the state does not allow, naming the state and the moves it allows", async () => {
    await register("life-illegal");
    const err = await refusal(registry.client.transition("life-illegal", "activate", { by, reason: "eager" }));
    expect(err.code).toBe(ErrorCodes.InvalidTransition);
    expect(err.details).toMatchObject({
      state: "candidate",
      event: "ACTIVATE",
      allowed: ["ATTACH_EVIDENCE", "RETIRE", "START_BACKTEST", "UPDATE"],
    });
    expect((await registry.client.get("life-illegal")).version).toBe(1);
  });

  it("refuses validation on weak evidence with every gate listed, keeps the refusal in the history, and answers a retry the same", async () => {
    await register("life-weak");
    await registry.client.attachEvidence("life-weak", weakEvidence(), { by });
    const cid = `weak-${process.pid}`;
    const err = await refusal(registry.client.transition("life-weak", "validate", { by, reason: "try", cid }));
    expect(err.code).toBe(ErrorCodes.GatesFailed);
    const details = err.details as unknown as GatesReply;
    expect(details.passed).toBe(false);
    expect(details.gates).toHaveLength(9);
    expect(gate(details, "trades")).toMatchObject({ value: 300, threshold: 1000, passed: false });
    expect(gate(details, "outOfSample").passed).toBe(false);
    expect(err.message).toContain("trades");

    const after = await registry.client.get("life-weak");
    expect(after.state).toBe("backtesting");
    const context = after.lifecycle?.context as LifecycleContext;
    expect(context.history?.at(-1)).toMatchObject({ event: "RECORD_GATES", from: "backtesting", to: "backtesting" });
    expect(context.gates?.passed).toBe(false);

    const again = await refusal(registry.client.transition("life-weak", "validate", { by, reason: "try", cid }));
    expect(again.code).toBe(ErrorCodes.GatesFailed);
    expect((await registry.client.get("life-weak")).version).toBe(after.version);
  });

  it("computes the gates' Sharpe ratio and drawdown as the registry's own metrics do on reported returns", async () => {
    await register("life-reported");
    const evidence = goodEvidence(21);
    await registry.client.attachEvidence("life-reported", evidence, { by });
    const times = evidence.returns.map((_, i) => 1_700_000_000_000 + i * 86_400_000);
    await registry.client.report([{ id: "life-reported", seq: 1, returns: evidence.returns, times }]);
    const perf = await registry.client.perf("life-reported");
    const dryRun = await registry.client.gates("life-reported");
    expect(gate(dryRun, "sharpe").value).toBeCloseTo(perf.metrics?.sharpe as number, 9);
    expect(gate(dryRun, "maxDrawdown").value).toBeCloseTo(Math.abs(perf.metrics?.maxDrawdown as number), 9);
  });

  it("says a strategy nobody has reported on has no performance yet: nothing counted, no metric, the default conventions", async () => {
    await register("life-unreported", "quiet-family");
    const perf = await registry.client.perf("life-unreported");
    expect(perf).toMatchObject({
      id: "life-unreported",
      seq: 0,
      missing: [],
      periods: 0,
      trades: 0,
      since: null,
      lastAt: null,
      regimes: {},
      moments: { mean: null, skewness: null, kurtosis: null },
      conventions: { periodsPerYear: 252, riskFree: 0, mar: 0 },
      family: "quiet-family",
      state: "candidate",
    });
    expect(Object.values(perf.metrics ?? {}).length).toBeGreaterThan(0);
    expect(Object.values(perf.metrics ?? {}).every((value) => value === null)).toBe(true);
    expect(perf.stamp).toMatchObject({ partition: registry.client.partitionOf("life-unreported") });
    expect(perf.stamp.seq).toBeGreaterThan(0);
  });
});

describe("maturity", () => {
  it("moves an active strategy's phase with its live returns, and publishes each change", async () => {
    await validated("life-mature");
    await registry.client.transition("life-mature", "activate", { by, reason: "live" });
    const events: LifecycleEventMessage[] = [];
    const sub = registry.nc.subscribe(`${cluster}.lifecycle.maturity.*`, {
      callback: (err, msg) => {
        if (err === null) events.push(decode(msg.data) as LifecycleEventMessage);
      },
    });
    const day = 86_400_000;
    let seq = 0;
    let t = 1_750_000_000_000;
    const report = async (n: number, mean: number) => {
      const returns = Array.from({ length: n }, (_, i) => mean + (i % 2 === 0 ? 0.01 : -0.01));
      const times = returns.map(() => (t += day));
      const reply = await registry.client.report([{ id: "life-mature", seq: ++seq, returns, times }]);
      expect(reply.accepted).toBe(1);
    };
    const phase = async () => (await registry.client.get("life-mature")).lifecycle?.value;
    // A steady live record, long enough to leave birth: maturity.
    await report(126, 0.001);
    await waitFor(async () => JSON.stringify(await phase()) === '{"active":"maturity"}', { timeoutMs: 5000 });
    // Recent returns far above the long run: growth.
    await report(84, 0.006);
    await waitFor(async () => JSON.stringify(await phase()) === '{"active":"growth"}', { timeoutMs: 5000 });
    await waitFor(() => events.filter((e) => e.ids.includes("life-mature")).length >= 2, { timeoutMs: 5000 });
    sub.unsubscribe();
    const mine = events.filter((e) => e.ids.includes("life-mature"));
    expect(mine.map((e) => [e.from, e.to, e.by])).toEqual([
      ["active.birth", "active.maturity", "registry"],
      ["active.maturity", "active.growth", "registry"],
    ]);
    expect(mine[1]?.reason).toMatch(/^\d+ returns: recent Sharpe [\d.]+ against [\d.]+ over the whole live record$/);
    const history = contextOf(await registry.client.get("life-mature")).history ?? [];
    expect(history.at(-1)).toMatchObject({ event: "MATURITY", by: "registry", to: "active.growth" });
  });
});

describe("thresholds and trials", () => {
  it("lets operators raise a family's bar; the dry run shows the threshold in force", async () => {
    await validated("life-strict-1", "strict");
    const set = await registry.client.setGateThresholds(
      { family: "strict" },
      { minTrades: 2000 },
      { by: "operator-1", note: "longer track records" },
    );
    expect(set.inForce.minTrades).toBe(2000);
    expect(set.sources).toEqual(["family:strict"]);
    const dryRun = await registry.client.gates("life-strict-1");
    expect(gate(dryRun, "trades")).toMatchObject({ value: 1200, threshold: 2000, passed: false });
    const err = await refusal(registry.client.transition("life-strict-1", "activate", { by, reason: "go" }));
    expect(err.code).toBe(ErrorCodes.GatesFailed);
    expect((await registry.client.get("life-strict-1")).state).toBe("validated");

    const stale = await refusal(
      registry.client.setGateThresholds(
        { family: "strict" },
        { minTrades: 10 },
        { by: "operator-2", expectedRevision: 0 },
      ),
    );
    expect(stale.code).toBe(ErrorCodes.Conflict);
    const read = await registry.client.gateThresholds({ family: "strict" });
    expect(read.setting).toMatchObject({ thresholds: { minTrades: 2000 }, by: "operator-1" });
  });

  it("counts every trial of members attaching evidence at once on both shards", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `life-busy-${i}`);
    await registry.client.registerMany(ids.map((id) => ({ id, name: id, owner: "desk-1", family: "busy" })));
    await Promise.all(
      ids.map((id, i) => registry.client.attachEvidence(id, { ...goodEvidence(40 + i), trials: 3 }, { by })),
    );
    const reply = await registry.client.gates("life-busy-0");
    expect(reply.trials.trials).toBe(120);
    // One Sharpe ratio per attach: their variance is known.
    expect(reply.trials.sharpeVariance).toBeGreaterThan(0);
  });

  it("passes the same track record with one family trial and fails it with a thousand", async () => {
    await register("life-alone", "alone");
    await registry.client.attachEvidence("life-alone", goodEvidence(31), { by });
    const alone = await registry.client.gates("life-alone");
    expect(gate(alone, "deflatedSharpe").passed).toBe(true);
    expect(alone.trials.trials).toBe(1);

    await register("life-crowd-0", "crowd");
    await registry.client.attachEvidence("life-crowd-0", { ...goodEvidence(99), trials: 999 }, { by });
    await register("life-crowd-1", "crowd");
    await registry.client.attachEvidence("life-crowd-1", goodEvidence(31), { by });
    const crowded = await registry.client.gates("life-crowd-1");
    expect(crowded.trials.trials).toBe(1000);
    expect(gate(crowded, "deflatedSharpe").passed).toBe(false);
    expect(gate(crowded, "sharpe").value).toBe(gate(alone, "sharpe").value);
  });
});

describe("templates", () => {
  it("checks an instance's parameters against its template version: one registered around the check fails the template gate", async () => {
    const templates = new TemplatesClient(registry.nc, { cluster, timeoutMs: 15_000 });
    await templates.put({
      id: "breakout",
      name: "Breakout",
      params: {
        lookback: { type: "integer", min: 10, max: 200, default: 50 },
        stopLoss: { type: "number", min: 0.001, max: 0.1, risk: true },
      },
    });
    const instance = await templates.instantiate(
      "breakout",
      { id: "life-tpl-ok", name: "Breakout ok", owner: "desk-1" },
      { stopLoss: 0.02 },
    );
    expect(instance).toMatchObject({ state: "candidate", template: { id: "breakout", version: 1 } });
    await registry.client.attachEvidence("life-tpl-ok", goodEvidence(), { by });
    const fits = await registry.client.gates("life-tpl-ok");
    expect(gate(fits, "template")).toMatchObject({ value: 0, passed: true });
    expect(fits.passed).toBe(true);

    // Registered directly with parameters the template refuses: nothing stopped the registration,
    // the gates stop the strategy.
    await registry.client.register({
      id: "life-tpl-bad",
      name: "Breakout bad",
      owner: "desk-1",
      template: { id: "breakout", version: 1, params: { lookback: 5, stopLoss: 0.5 } },
    });
    await registry.client.attachEvidence("life-tpl-bad", goodEvidence(), { by });
    const err = await refusal(registry.client.transition("life-tpl-bad", "validate", { by, reason: "try" }));
    expect(err.code).toBe(ErrorCodes.GatesFailed);
    const template = gate(err.details as unknown as GatesReply, "template");
    expect(template).toMatchObject({ value: 1, passed: false });
    expect(template.detail).toContain("params.lookback");
    expect(template.detail).toContain("params.stopLoss");
  });
});

describe("lifecycle events", () => {
  it("reach a live subscriber and a consumer that starts late", async () => {
    const seen: LifecycleEventMessage[] = [];
    const sub = registry.nc.subscribe(`${cluster}.lifecycle.>`, {
      callback: (err, msg) => {
        if (err === null) seen.push(decode(msg.data) as LifecycleEventMessage);
      },
    });
    await validated("life-events");
    await refusal(registry.client.transition("life-events", "suspend", { by, reason: "not live" }));
    await registry.client.retire("life-events", { reason: "done" });
    await waitFor(() => seen.filter((e) => e.ids.includes("life-events")).length >= 4, { timeoutMs: 5000 });
    sub.unsubscribe();
    const mine = seen.filter((e) => e.ids.includes("life-events"));
    // Each change names the version it wrote.
    expect(mine.map((e) => [e.kind, e.event ?? null, e.to ?? null, e.version ?? null])).toEqual([
      ["created", null, null, null],
      ["state", "ATTACH_EVIDENCE", "backtesting", 2],
      ["state", "VALIDATE", "validated", 3],
      ["state", "RETIRE", "retired", 4],
    ]);

    const late = await followLifecycleEvents(registry.nc, { cluster, from: "all", kinds: ["state", "gate-failed"] });
    const caught: StreamedLifecycleEvent[] = [];
    for await (const event of late) {
      caught.push(event);
      if (event.ids.includes("life-events") && event.event === "RETIRE") break;
    }
    await late.stop();
    expect(caught.filter((e) => e.ids.includes("life-events")).map((e) => e.event)).toEqual([
      "ATTACH_EVIDENCE",
      "VALIDATE",
      "RETIRE",
    ]);
    const failures = caught.filter((e) => e.kind === "gate-failed" && e.ids.includes("life-weak"));
    expect(failures.length).toBeGreaterThanOrEqual(1);
    expect((failures[0] as StreamedLifecycleEvent).gates).toMatchObject({ passed: false, gates: expect.any(Array) });
    expect(((failures[0] as StreamedLifecycleEvent).gates as GatesReply).gates).toHaveLength(9);
    for (let i = 1; i < caught.length; i++)
      expect(caught[i]?.streamSeq).toBeGreaterThan(caught[i - 1]?.streamSeq as number);
  });
});

describe("the trading state", () => {
  it("activates nothing while trading is halted, and activates again once resumed", async () => {
    await validated("life-halted");
    await risk.halt({ by: "operator-1", reason: "test halt" });
    const err = await refusal(registry.client.transition("life-halted", "activate", { by, reason: "go" }));
    expect(err.code).toBe(ErrorCodes.TradingHalted);
    expect(err.details).toMatchObject({ trading: "HALTED", undone: false });
    expect((await registry.client.get("life-halted")).state).toBe("validated");
    await risk.resume({ by: "operator-1", reason: "test over" });
    await waitFor(
      () =>
        registry.client.transition("life-halted", "activate", { by, reason: "go" }).then(
          (s) => s.state === "active",
          () => false,
        ),
      { timeoutMs: 10_000 },
    );
  });

  it("leaves no activation that raced a halt active, and none succeeds once the halt is acknowledged", async () => {
    const ids = Array.from({ length: 40 }, (_, i) => `life-race-${i}`);
    for (const id of ids) await validated(id);
    const outcomes = new Map<string, "active" | "refused" | "undone">();
    let halted = false;
    const activations = ids.map(async (id, i) => {
      await new Promise((resolve) => setTimeout(resolve, i * 5));
      try {
        await registry.client.transition(id, "activate", { by, reason: "race" });
        outcomes.set(id, "active");
      } catch (err) {
        expect((err as StratregError).code).toBe(ErrorCodes.TradingHalted);
        outcomes.set(id, (err as StratregError).details?.undone === true ? "undone" : "refused");
      }
    });
    await new Promise((resolve) => setTimeout(resolve, 60));
    const halt = await risk.halt({ by: "operator-1", reason: "race" });
    halted = true;
    expect(halt.missing).toEqual([]);
    const activeAtHalt = new Set<string>();
    for (const id of ids) if ((await registry.client.get(id)).state === "active") activeAtHalt.add(id);
    await Promise.all(activations);
    expect(halted).toBe(true);
    for (const id of ids) {
      const state = (await registry.client.get(id)).state;
      const outcome = outcomes.get(id);
      if (outcome === "active") expect(state).toBe("active");
      else expect(state).toBe(outcome === "undone" ? "suspended" : "validated");
      // Nothing became active after the halt was acknowledged by every shard.
      if (state === "active") expect(activeAtHalt.has(id)).toBe(true);
    }
    expect([...outcomes.values()].filter((o) => o !== "active").length).toBeGreaterThan(0);
    await risk.resume({ by: "operator-1", reason: "race over" });
  });
});
