/**
 * Discovery end to end: a discovery process, two registry shards and a risk guard on a real
 * nats-server, driven through the SDK as an operator and a feed would. Bars go in through the
 * edge (bad ones refused, re-imports harmless); a run mines a synthetic market with planted
 * patterns and registers what survives validation as candidate strategies with their family,
 * template and report; a halt stops a run before it is acknowledged and refuses new ones; a
 * stopped run resumes from its checkpoint; a discovery process killed with SIGKILL is replaced by
 * one that holds the same bars and candidates.
 */
import { fileURLToPath } from "node:url";
import { DiscoveryClient, type RiskClient } from "@stratreg/client";
import { type BarSeries, generateMarket } from "@stratreg/market";
import { type CandidateMessage, clusterSubjects, decode, ErrorCodes, type RunProgress } from "@stratreg/protocol";
import { refusal, type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";
import { activeGuard, riskClient, startGuard } from "./support/risk.js";

const DISCOVERY_ENTRY = fileURLToPath(new URL("../services/discovery/dist/main.js", import.meta.url));

let registry: TestRegistry;
let cluster: string;
let risk: RiskClient;
let guard: ServiceProcess;
let discovery: ServiceProcess;
let client: DiscoveryClient;
const market = generateMarket({ seed: 11, symbols: 4, bars: 3000, planted: 3, sharpe: [2.5, 3.5] });

function startDiscovery(member: string, env: Record<string, string> = {}): ServiceProcess {
  return spawnService({
    entry: DISCOVERY_ENTRY,
    name: member,
    env: {
      NATS_URL: inject("natsUrl"),
      STRATREG_CLUSTER: cluster,
      STRATREG_DISCOVERY_ID: member,
      STRATREG_DISCOVERY_THREADS: "2",
      LOG_LEVEL: "info",
      ...env,
    },
  });
}

function barsOf(series: BarSeries) {
  return Array.from({ length: series.length }, (_, i) => {
    const { spread, ...bar } = series.bar(i);
    return Number.isFinite(spread) ? { ...bar, spread } : bar;
  });
}

/** Starts a run and waits for its outcome, collecting its progress messages. */
async function runToEnd(request: Parameters<DiscoveryClient["run"]>[0]): Promise<{
  started: RunProgress;
  ended: RunProgress;
  progress: RunProgress[];
}> {
  const progress: RunProgress[] = [];
  let resolveEnd: (p: RunProgress) => void = () => undefined;
  const ended = new Promise<RunProgress>((resolve) => {
    resolveEnd = resolve;
  });
  let runId: string | undefined;
  const follower = client.followProgress((p) => {
    progress.push(p);
    if (p.runId === runId && p.outcome !== undefined) resolveEnd(p);
  });
  await follower.ready;
  const started = await client.run(request, { timeoutMs: 10_000 });
  runId = started.runId;
  const early = progress.find((p) => p.runId === runId && p.outcome !== undefined);
  if (early !== undefined) resolveEnd(early);
  const end = await ended;
  follower.stop();
  return { started, ended: end, progress: progress.filter((p) => p.runId === runId) };
}

beforeAll(async () => {
  cluster = uniqueClusterName("disc");
  registry = await startRegistry(inject("natsUrl"), cluster, ["disc-shard-1", "disc-shard-2"], { partitions: 8 });
  // A halt's acknowledgement from discovery comes only once its run has stopped and checkpointed,
  // which a loaded 2-core machine can take past the guard's default 1 s wait: this test is about
  // the order (stopped, then acknowledged), so the guard waits as long as the halt's caller does.
  guard = startGuard(inject("natsUrl"), cluster, "disc-guard", { STRATREG_RISK_ACK_TIMEOUT_MS: "25000" });
  risk = riskClient(registry.nc, cluster);
  await activeGuard(risk, ["disc-guard"]);
  discovery = startDiscovery("disc-1");
  client = new DiscoveryClient(registry.nc, { cluster, timeoutMs: 10_000 });
  await waitFor(async () => (await client.status({ timeoutMs: 500 }).catch(() => undefined))?.trading === "ACTIVE", {
    timeoutMs: 30_000,
    message: "discovery did not start and hear the trading state",
  });
});

afterAll(async () => {
  await discovery?.kill("SIGKILL").catch(() => undefined);
  await guard?.kill("SIGKILL").catch(() => undefined);
  await registry?.close();
});

describe("market data in", () => {
  it("imports every series, and a re-import appends nothing", async () => {
    for (const series of market.series) {
      const reply = await client.importSeries(barsOf(series), { timeoutMs: 30_000 });
      expect(reply).toMatchObject({ symbol: series.symbol, venue: series.venue, appended: 3000, bars: 3000 });
    }
    const again = await client.importSeries(barsOf(market.series[0] as BarSeries));
    expect(again).toMatchObject({ appended: 0, duplicates: 3000, bars: 3000 });
    const { series } = await client.data();
    expect(series.map((s) => [`${s.symbol}@${s.venue}`, s.bars])).toEqual(
      market.series.map((s) => [s.key, 3000]).sort(),
    );
  });

  it("refuses an inconsistent bar, naming it, and writes none of the batch", async () => {
    const first = market.series[1] as BarSeries;
    const late = {
      t: (first.t[first.length - 1] as number) + 86_400_000,
      open: 10,
      high: 9,
      low: 8,
      close: 9.5,
      volume: 1,
    };
    const good = { ...late, t: late.t + 86_400_000, high: 11 };
    const err = await refusal(client.importBars({ symbol: first.symbol, venue: first.venue, bars: [good, late] }));
    expect(err.code).toBe(ErrorCodes.InvalidField);
    expect(err.field).toBe("body.bars[1].high");
    const held = (await client.data()).series.find((s) => s.symbol === first.symbol);
    expect(held?.bars).toBe(3000);
  });

  it("answers malformed bytes with MALFORMED and keeps serving", async () => {
    const reply = await registry.nc.request(clusterSubjects(cluster).discovery("import"), new Uint8Array([0xc1, 0xff]));
    const body = decode(reply.data) as { ok: boolean; error: { code: string } };
    expect(body.ok).toBe(false);
    expect(body.error.code).toBe(ErrorCodes.Malformed);
    expect((await client.status()).state).toBe("idle");
  });
});

describe("a run", () => {
  let candidates: CandidateMessage[] = [];
  const published: CandidateMessage[] = [];

  it("mines, validates and registers the survivors as candidates, with the progress on the way", async () => {
    const follower = client.followCandidates((c) => published.push(c));
    await follower.ready;
    const { started, ended, progress } = await runToEnd({
      budgetMs: 300_000,
      population: 120,
      generations: 8,
      seed: 1,
    });
    follower.stop();
    expect(started.phase).toBe("loading");
    expect(ended.outcome).toBe("completed");
    expect(ended.targetsDone).toBe(4);
    expect(new Set(progress.map((p) => p.phase))).toEqual(
      new Set(["scanning", "mining", "validating", "synthesising", "publishing"]),
    );
    ({ candidates } = await client.candidates({ runId: started.runId, limit: 50 }));
    expect(candidates.length).toBeGreaterThan(0);
    expect(ended.candidates).toBe(candidates.length);
    expect(published.map((c) => c.id).sort()).toEqual(candidates.map((c) => c.id).sort());
    // Patterns were planted on three of the four symbols; what is found trades those.
    const planted = new Set(market.planted.map((p) => p.rule.target));
    for (const c of candidates) expect(planted.has(c.target), c.expression).toBe(true);
    expect(new Set(candidates.map((c) => c.target)).size).toBeGreaterThanOrEqual(2);
  });

  it("lands each candidate in the registry as a candidate strategy with its lineage and report", async () => {
    for (const c of candidates) {
      expect(c.report.passed).toBe(true);
      expect(c.report.checks.every((check) => check.passed)).toBe(true);
      const strategy = await registry.client.get(c.id);
      expect(strategy).toMatchObject({
        state: "candidate",
        owner: "discovery",
        family: `discovered:${c.target}`,
        parents: c.parents,
        venues: [{ venue: c.target.split("@")[1], symbols: [c.target.split("@")[0]] }],
      });
      expect(strategy.template).toMatchObject({
        id: "discovered-pattern",
        version: 1,
        params: { expression: c.expression, target: c.target, origin: c.origin, runId: c.runId },
      });
      for (const parent of c.parents) expect((await registry.client.get(parent)).owner).toBe("discovery");
    }
  });

  it("does not register a pattern twice: a second search finds the same bets already known", async () => {
    const { ended } = await runToEnd({ budgetMs: 300_000, population: 120, generations: 8, seed: 1, synthesis: false });
    expect(ended.outcome).toBe("completed");
    expect(ended.candidates).toBe(0);
  });
});

describe("the trading state and runs", () => {
  it("stops a run when trading halts, before acknowledging it, and runs nothing while halted", async () => {
    const progress: RunProgress[] = [];
    const follower = client.followProgress((p) => progress.push(p));
    await follower.ready;
    const started = await client.run({ budgetMs: 600_000, population: 200, generations: 1000, seed: 7 });
    await waitFor(() => progress.some((p) => p.runId === started.runId && p.generation >= 2), {
      timeoutMs: 60_000,
      message: "the run did not get to its second generation",
    });
    const halt = await risk.halt({ by: "operator-1", reason: "discovery test" }, { timeoutMs: 30_000 });
    expect(halt.acks.map((a) => a.member)).toContain("disc-1");
    expect(halt.missing).toEqual([]);
    // Acknowledged means stopped: the run's end was published before the acknowledgement.
    const end = progress.find((p) => p.runId === started.runId && p.outcome !== undefined);
    expect(end?.outcome).toBe("halted");
    follower.stop();
    const status = await client.status();
    expect(status.state).toBe("halted");
    const refused = await refusal(client.run({ budgetMs: 10_000 }));
    expect(refused.code).toBe(ErrorCodes.TradingHalted);

    await risk.resume({ by: "operator-1", reason: "done" }, { timeoutMs: 30_000 });
    await waitFor(async () => (await client.status()).state === "idle", { timeoutMs: 10_000 });
    // The halted run resumes from its checkpoint, from the generation it had reached.
    const reached = Math.max(...progress.filter((p) => p.runId === started.runId).map((p) => p.generation));
    const resumed: RunProgress[] = [];
    const again = client.followProgress((p) => resumed.push(p));
    await again.ready;
    const restarted = await client.run({ resume: started.runId });
    expect(restarted.runId).toBe(started.runId);
    await waitFor(() => resumed.some((p) => p.runId === started.runId && p.generation > reached), {
      timeoutMs: 60_000,
      message: "the resumed run did not go past the generation it had reached",
    });
    const busy = await refusal(client.run({ budgetMs: 10_000 }));
    expect(busy.code).toBe(ErrorCodes.Conflict);
    const stopped = await client.stop(started.runId, { timeoutMs: 60_000 });
    expect(stopped?.outcome).toBe("stopped");
    again.stop();
  });

  it("refuses a resume of a run without a checkpoint", async () => {
    const err = await refusal(client.run({ resume: "run-that-never-was" }));
    expect(err.code).toBe(ErrorCodes.NotFound);
  });
});

describe("a discovery process killed with SIGKILL", () => {
  it("is replaced by one holding the same bars and candidates", async () => {
    const before = await client.candidates({ limit: 200 });
    await discovery.kill("SIGKILL");
    discovery = startDiscovery("disc-2", { STRATREG_DISCOVERY_AUTO_RUN_BARS: "40" });
    await waitFor(async () => (await client.status({ timeoutMs: 500 }).catch(() => undefined))?.member === "disc-2", {
      timeoutMs: 30_000,
    });
    const { series } = await client.data();
    expect(series.map((s) => s.bars)).toEqual([3000, 3000, 3000, 3000]);
    const after = await client.candidates({ limit: 200 });
    expect(after.candidates.map((c) => c.id).sort()).toEqual(before.candidates.map((c) => c.id).sort());
  });
});

describe("new data", () => {
  it("starts a run by itself once enough new bars have arrived (STRATREG_DISCOVERY_AUTO_RUN_BARS)", async () => {
    const progress: RunProgress[] = [];
    const follower = client.followProgress((p) => progress.push(p));
    await follower.ready;
    const day = 86_400_000;
    for (const series of market.series.slice(0, 2)) {
      const { spread: _spread, ...last } = series.bar(series.length - 1);
      await client.importSeries(Array.from({ length: 25 }, (_, i) => ({ ...last, t: last.t + (i + 1) * day })));
    }
    // 50 new bars against a threshold of 40: one run, started by discovery itself.
    const auto = await waitFor(() => progress.find((p) => p.runId.startsWith("auto-")), {
      timeoutMs: 20_000,
      message: "no run started by itself",
    });
    expect((await client.status()).state).toBe("running");
    const stopped = await client.stop(auto.runId, { timeoutMs: 60_000 });
    expect(stopped?.runId).toBe(auto.runId);
    expect(new Set(progress.filter((p) => p.runId.startsWith("auto-")).map((p) => p.runId)).size).toBe(1);
    follower.stop();
  });
});
