/**
 * `stratreg top`, `stratreg rank` and `stratreg perf` end to end: the built CLI
 * against real shards and a real ranker process. The reports come from the
 * client SDK (as a trading service sends them); what the CLI prints is checked
 * against rankings computed here with libs/quant from the very returns sent.
 */
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import type { PerformanceReply, PerformanceReport, RankReply, TopReply } from "@stratreg/protocol";
import { metricsOf } from "@stratreg/quant";
import { type ServiceProcess, spawnService, uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { runCli, startCluster, type TestCluster } from "./testing/cli.js";

const RANKER_ENTRY = fileURLToPath(new URL("../../../services/ranker/dist/main.js", import.meta.url));
const PARTITIONS = 8;
const DAY_MS = 86_400_000;
const START = Date.UTC(2026, 0, 5);

let cluster: TestCluster;
let ranker: ServiceProcess;
let nc: NatsConnection;
let client: StratregClient;

interface Sent {
  id: string;
  family: string;
  returns: number[];
  calm: number[];
}
const sent: Sent[] = [];

/** Twelve strategies, three families; returns differ by a drift so the ranking is clear. */
function market(): {
  reports: PerformanceReport[];
  strategies: Array<{ id: string; name: string; owner: string; family: string }>;
} {
  const families = ["momentum", "carry", "reversion"];
  const reports: PerformanceReport[] = [];
  const strategies = [];
  for (let i = 0; i < 12; i++) {
    const id = `cli-perf-${String(i).padStart(2, "0")}`;
    const family = families[i % 3] as string;
    strategies.push({ id, name: `Strategy ${i}`, owner: "desk", family });
    const drift = (i - 5) * 0.0007;
    const returns = Array.from({ length: 20 }, (_, t) => drift + ((t * 7 + i * 3) % 11) * 0.002 - 0.01);
    const times = returns.map((_, t) => START + t * DAY_MS);
    const calm = returns.slice(0, 12);
    reports.push(
      { id, seq: 1, regime: "calm", returns: calm, times: times.slice(0, 12), trades: [10, -4, 6] },
      { id, seq: 2, regime: "stress", returns: returns.slice(12), times: times.slice(12) },
    );
    sent.push({ id, family, returns, calm });
  }
  return { reports, strategies };
}

/** The ranking by Sharpe, best first (ties by id), computed from what was sent. */
function bySharpe(pick: (s: Sent) => number[], filter: (s: Sent) => boolean = () => true) {
  return sent
    .filter(filter)
    .map((s) => ({ id: s.id, score: metricsOf(pick(s)).sharpe }))
    .sort((a, b) => (a.score === b.score ? (a.id < b.id ? -1 : 1) : b.score - a.score));
}

beforeAll(async () => {
  const natsUrl = inject("natsUrl");
  const name = uniqueClusterName("cli-perf");
  cluster = await startCluster(natsUrl, name, 2, PARTITIONS);
  ranker = spawnService({
    entry: RANKER_ENTRY,
    name: "cli-ranker",
    env: { NATS_URL: natsUrl, STRATREG_CLUSTER: name, STRATREG_RANKER_ID: "cli-ranker", LOG_LEVEL: "warn" },
  });
  nc = await connect({ servers: natsUrl });
  client = await StratregClient.connect(nc, { cluster: name, timeoutMs: 15_000 });
  const { reports, strategies } = market();
  expect((await client.registerMany(strategies)).registered).toBe(strategies.length);
  // One strategy with a single period (sharpe undefined), one that skipped report 2.
  await client.registerMany([
    { id: "cli-perf-new", name: "New", owner: "desk", family: "carry" },
    { id: "cli-perf-gap", name: "Gap", owner: "desk" },
  ]);
  reports.push(
    { id: "cli-perf-new", seq: 1, returns: [0.01], times: [START] },
    { id: "cli-perf-gap", seq: 1, returns: [0.01, -0.02], times: [START, START + DAY_MS] },
    { id: "cli-perf-gap", seq: 3, returns: [0.005], times: [START + 3 * DAY_MS] },
  );
  const reply = await client.report(reports);
  expect(reply).toMatchObject({ accepted: reports.length, rejected: [], late: [] });
  sent.push({ id: "cli-perf-gap", family: "", returns: [0.01, -0.02, 0.005], calm: [] });
  // The ranker holds every partition and has every strategy with a Sharpe ratio.
  await waitFor(
    async () => {
      const top = await client.top({ metric: "sharpe", k: 100 }, { timeoutMs: 2000 }).catch(() => undefined);
      return top !== undefined && top.freshness.missing.length === 0 && top.entries.length === sent.length;
    },
    { timeoutMs: 30_000, message: "the ranker to hold every partition" },
  );
}, 120_000);

afterAll(async () => {
  await nc?.close();
  await ranker?.stop();
  await cluster?.stop();
});

describe("stratreg top", () => {
  it("prints the best k as an aligned table, and how fresh the answer is on stderr", async () => {
    const run = await runCli(["top", "-k", "3"], cluster.env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(/^rank +strategy +sharpe +sharpe +sortino +maxDD +periods +trades +family +state$/);
    const want = bySharpe((s) => s.returns).slice(0, 3);
    expect(lines.slice(1).map((l) => l.split(/ +/).slice(0, 3))).toEqual(
      want.map((w, i) => [String(i + 1), w.id, w.score.toFixed(3)]),
    );
    // Every row: 20 periods, 3 trades, its family, a candidate.
    for (const line of lines.slice(1)) expect(line).toMatch(/ 20 +3 +(momentum|carry|reversion) +candidate$/);
    expect(run.stderr).toMatch(/^\(as of \d+ ms ago(; \d+ partitions? asked directly)?\)\n$/);
  });

  it("--json prints the ranker's reply; scope, regime and --worst choose the ranking", async () => {
    const run = await runCli(
      ["top", "--json", "-k", "2", "--family", "carry", "--regime", "calm", "--worst"],
      cluster.env,
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const reply = JSON.parse(run.stdout) as TopReply;
    const want = bySharpe(
      (s) => s.calm,
      (s) => s.family === "carry" && s.calm.length > 0,
    )
      .reverse()
      .slice(0, 2);
    expect(reply.entries.map((e) => [e.rank, e.id])).toEqual(want.map((w, i) => [i + 1, w.id]));
    reply.entries.forEach((e, i) => {
      expect(e.score).toBeCloseTo(want[i]?.score as number, 9);
    });
    expect(reply.freshness).toMatchObject({ missing: [] });
    expect(reply.freshness.asOf).toBeGreaterThan(0);
  });

  it("filters by periods and trades, and prints only the header when nothing qualifies", async () => {
    const run = await runCli(["top", "--min-periods", "21"], cluster.env);
    expect(run.code).toBe(0);
    expect(run.stdout.trimEnd().split("\n")).toHaveLength(1);
    const traded = await runCli(["top", "--json", "-k", "100", "--min-trades", "3"], cluster.env);
    expect((JSON.parse(traded.stdout) as TopReply).entries).toHaveLength(12);
  });

  it("turns bad input away with one error line and exit code 1", async () => {
    const metric = await runCli(["top", "--metric", "alpha"], cluster.env);
    expect(metric.code).toBe(1);
    expect(metric.stderr).toMatch(/argument 'alpha' is invalid/);
    expect(metric.stdout).toBe("");

    const k = await runCli(["top", "-k", "0"], cluster.env);
    expect(k.code).toBe(1);
    expect(k.stderr).toMatch(/^error INVALID_FIELD: .*\(field body\.k\)\n$/);

    const notNumber = await runCli(["top", "-k", "many"], cluster.env);
    expect(notNumber.code).toBe(1);
    expect(notNumber.stderr).toMatch(/^error INVALID_FIELD: .*\n$/);
  });
});

describe("stratreg rank", () => {
  it("prints one line with rank, peers, score and percentile", async () => {
    const want = bySharpe((s) => s.returns);
    const target = want[4] as { id: string; score: number };
    const run = await runCli(["rank", target.id], cluster.env);
    expect(run.code).toBe(0);
    const percentile = ((100 * (want.length - 4)) / want.length).toFixed(1);
    expect(run.stdout).toBe(
      `${target.id}: rank 5 of ${want.length} by sharpe (${target.score.toFixed(3)}) among all strategies, percentile ${percentile}\n`,
    );
    expect(run.stderr).toMatch(/^\(as of \d+ ms ago(; \d+ partitions? asked directly)?\)\n$/);
  });

  it("among its family, in a regime, as JSON", async () => {
    const target = sent[3] as Sent;
    const want = bySharpe(
      (s) => s.calm,
      (s) => s.family === target.family && s.calm.length > 0,
    );
    const run = await runCli(["rank", target.id, "--family", "--regime", "calm", "--json"], cluster.env);
    expect(run.code).toBe(0);
    const reply = JSON.parse(run.stdout) as RankReply;
    const at = want.findIndex((w) => w.id === target.id);
    expect(reply).toMatchObject({ id: target.id, metric: "sharpe", among: "family", regime: "calm", rank: at + 1 });
    expect(reply.of).toBe(want.length);
    expect(reply.score).toBeCloseTo(want[at]?.score as number, 9);
  });

  it("says so when the metric is not defined yet, and fails on an unknown strategy", async () => {
    const young = await runCli(["rank", "cli-perf-new"], cluster.env);
    expect(young.code).toBe(0);
    expect(young.stdout).toBe("cli-perf-new: sharpe is not defined yet (too few periods)\n");

    const family = await runCli(["rank", "cli-perf-gap", "--family"], cluster.env);
    expect(family.code).toBe(1);
    expect(family.stderr).toMatch(/^error INVALID_FIELD: .*has no family/);

    const unknown = await runCli(["rank", "no-such-strategy"], cluster.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error NOT_FOUND: /);
    expect(unknown.stdout).toBe("");
  });
});

describe("stratreg perf", () => {
  it("prints every metric, each regime and the conventions", async () => {
    const target = sent[7] as Sent;
    const run = await runCli(["perf", target.id], cluster.env);
    expect(run.code).toBe(0);
    expect(run.stderr).toBe("");
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe(`${target.id}: 20 periods, 3 trades, last report #2`);
    const m = metricsOf(target.returns);
    expect(lines).toContain(`  sharpe        ${m.sharpe.toFixed(4)}`);
    expect(lines).toContain(`  maxDrawdown   ${m.maxDrawdown.toFixed(4)}`);
    expect(lines).toContain(`  winRate       ${(2 / 3).toFixed(4)}`);
    expect(lines).toContain(
      `  in calm: 12 periods, sharpe ${metricsOf(target.calm).sharpe.toFixed(3)}, sortino ${metricsOf(target.calm).sortino.toFixed(3)}`,
    );
    expect(lines).toContain(
      `  in stress: 8 periods, sharpe ${metricsOf(target.returns.slice(12)).sharpe.toFixed(3)}, sortino ${metricsOf(target.returns.slice(12)).sortino.toFixed(3)}`,
    );
    expect(lines.at(-1)).toBe("  (annualised over 252 periods a year, risk-free 0, MAR 0 per period)");
  });

  it("names the reports never received, and shows a dash where a metric is undefined", async () => {
    const run = await runCli(["perf", "cli-perf-gap"], cluster.env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toBe("cli-perf-gap: 3 periods, 0 trades, last report #3");
    expect(lines[1]).toBe("  reports never received: 2");
    expect(lines).toContain("  winRate       –");
    expect(lines).toContain("  profitFactor  –");
  });

  it("--json prints the partition's reply; an unknown strategy fails with exit code 1", async () => {
    const run = await runCli(["perf", "cli-perf-gap", "--json"], cluster.env);
    expect(run.code).toBe(0);
    const reply = JSON.parse(run.stdout) as PerformanceReply;
    expect(reply).toMatchObject({
      id: "cli-perf-gap",
      seq: 3,
      missing: [2],
      periods: 3,
      trades: 0,
      state: "candidate",
    });
    expect(reply.metrics.sharpe).toBeCloseTo(metricsOf([0.01, -0.02, 0.005]).sharpe, 9);

    const unknown = await runCli(["perf", "no-such-strategy"], cluster.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error NOT_FOUND: /);
  });
});

describe("stratreg forecast and select", () => {
  it("forecast prints the shrunk Sharpe with its interval, the raw one and the peers it was shrunk toward", async () => {
    const id = "cli-perf-11";
    const run = await runCli(["forecast", id], cluster.env);
    expect(run.code).toBe(0);
    const lines = run.stdout.trimEnd().split("\n");
    expect(lines[0]).toMatch(
      new RegExp(`^${id}: Sharpe forecast -?\\d+\\.\\d\\d \\(90% interval -?\\d+\\.\\d\\d to -?\\d+\\.\\d\\d\\)$`),
    );
    const raw = metricsOf((sent.find((x) => x.id === id) as Sent).returns).sharpe;
    expect(lines[1]).toContain(`own record ${raw.toFixed(2)} over 20 periods`);
    expect(lines[1]).toMatch(/toward 3 peers \(family\)/);
    expect(lines[2]).toMatch(/^ {2}next period's return -?\d+\.\d{3}% \(90%: /);
    const json = JSON.parse(
      (await runCli(["forecast", id, "--regime", "calm", "--confidence", "0.8", "--json"], cluster.env)).stdout,
    );
    expect(json).toMatchObject({ id, regime: "calm", periods: 12, confidence: 0.8 });
    expect(json.sharpe.raw).toBeCloseTo(metricsOf((sent.find((x) => x.id === id) as Sent).calm).sharpe, 9);
    const unknown = await runCli(["forecast", id, "--regime", "euphoria"], cluster.env);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toMatch(/^error INVALID_FIELD: /);
  });

  it("select lists the chosen strategies best first, and those passed over with the reason", async () => {
    const run = await runCli(["select", "-k", "3", "--max-correlation", "0.5"], cluster.env);
    expect(run.code).toBe(0);
    const chosen = run.stdout.split("\n").filter((line) => /^\d+\. /.test(line));
    expect(chosen).toHaveLength(3);
    expect(chosen[0]).toMatch(new RegExp(`^1\\. ${bySharpe((x) => x.returns)[0]?.id} {2}sharpe `));
    const json = JSON.parse(
      (await runCli(["select", "-k", "3", "--max-correlation", "0.5", "--json"], cluster.env)).stdout,
    );
    expect(json.selected.map((x: { id: string }) => x.id)).toEqual(chosen.map((line) => line.split(" ")[1]));
    for (const skipped of json.skipped) {
      expect(run.stdout).toContain(`passed over ${skipped.id}: correlation`);
    }
    expect(run.stderr).toMatch(/^\(as of \d+ ms ago/);
  });
});

describe("without a ranker", () => {
  it("top fails with one error line and exit code 1 once its deadline passes", async () => {
    await ranker.stop();
    const run = await runCli(["top", "--timeout", "1500"], cluster.env);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toMatch(/^error [A-Z_]+: .*\n$/);
    // perf needs only the strategy's partition.
    expect((await runCli(["perf", "cli-perf-new"], cluster.env)).code).toBe(0);
  });
});
