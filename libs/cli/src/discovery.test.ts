/**
 * `stratreg data`, `discover`, `candidates` and `scan` end to end: the built
 * CLI as a child process against discovery played on its real subjects of the
 * test run's nats-server (testing/discovery.ts; the service itself is tested in
 * services/discovery). Each test has its own cluster name and stand-in.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  type CandidateMessage,
  ConflictError,
  ErrorCodes,
  type RunProgress,
  StratregError,
  type ValidationReport,
} from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, inject, it } from "vitest";
import { runCli, startCli } from "./testing/cli.js";
import { FakeDiscovery } from "./testing/discovery.js";

const DAY_MS = 86_400_000;
const START = Date.UTC(2024, 0, 1);

let nc: NatsConnection;
let dir: string;
let fake: FakeDiscovery;
let env: NodeJS.ProcessEnv;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  dir = await mkdtemp(join(tmpdir(), "stratreg-cli-discovery-"));
});

beforeEach(async () => {
  const cluster = uniqueClusterName("cli-disc");
  env = { NATS_URL: inject("natsUrl"), STRATREG_CLUSTER: cluster };
  fake = await FakeDiscovery.start(nc, cluster);
});

afterEach(() => {
  fake?.close();
});

afterAll(async () => {
  await nc?.close();
  if (dir !== undefined) await rm(dir, { recursive: true, force: true });
});

const cli = (args: string[]) => runCli(args, env);

function barLine(symbol: string, venue: string, day: number, close = 100 + (day % 7)): string {
  const time = new Date(START + day * DAY_MS).toISOString().slice(0, 10);
  return `${symbol},${venue},${time},${close},${close + 2},${close - 2},${close + 1},${1000 + day}`;
}

const candidate: CandidateMessage = {
  id: "disc-00aa11bb22cc33dd",
  runId: "",
  origin: "mined",
  expression: "gt(close, sma(close, 20))",
  target: "BTC@binance",
  family: "trend",
  parents: [],
  // The fields of a report the CLI prints.
  report: {
    passed: true,
    test: { periods: 300, sharpe: 1.42, trades: 80 },
    checks: [
      { name: "trades", value: 120, threshold: 100, comparison: ">=", passed: true },
      { name: "deflatedSharpe", value: 0.97, threshold: 0.95, comparison: ">=", passed: true },
    ],
    regimes: [{ regime: "calm-trending", periods: 200, sharpe: 1.9 }],
    estimate: {
      sharpe: 1.42,
      sharpeInterval: [0.5, 2.2],
      level: 0.9,
      annualReturn: 0.2,
      capacity: 250_000,
      participation: 0.01,
    },
  } as unknown as ValidationReport,
  at: START,
};

/** A run over two series: it scans, mines each for two generations, validates and publishes. */
const MINING: Array<Partial<RunProgress>> = [
  { phase: "scanning" },
  {
    phase: "mining",
    targets: ["BTC@binance", "ETH@binance"],
    target: "BTC@binance",
    generation: 1,
    evaluated: 200,
    bestTrainSharpe: 0.8,
  },
  { generation: 2, evaluated: 400, bestTrainSharpe: 1.1 },
  { targetsDone: 1, target: "ETH@binance", generation: 1, evaluated: 600 },
  { phase: "validating", targetsDone: 2, target: null, generation: 0 },
  { phase: "publishing" },
];

describe("stratreg data", () => {
  it("imports a CSV in batches, reports a bad line by number and exits 1, then lists the series", async () => {
    const lines = ["symbol,venue,time,open,high,low,close,volume"];
    for (let day = 0; day < 1500; day++) lines.push(barLine("BTC", "binance", day));
    lines.push("ETH,binance,2024-01-01,10,9,8,10,5"); // high below open: line 1502
    for (let day = 1; day < 4; day++) lines.push(barLine("ETH", "binance", day));
    const file = join(dir, "bars.csv");
    await writeFile(file, `${lines.join("\n")}\n`);

    const run = await cli(["data", "import", file]);
    expect(run.stderr).toContain("line 1502: high 9 is below max(open 10, close 10) (field high)\n");
    expect(run.code).toBe(1);
    const out = run.stdout.split("\n");
    expect(out[0]).toMatch(/^imported .*bars\.csv: 2 series, 1,503 bars appended, 0 already held, in [\d.]+ s$/);
    expect(out.slice(1, 4)).toEqual([
      "  SERIES       APPENDED  DUPLICATES   HELD",
      "  BTC@binance     1,500           0  1,500",
      "  ETH@binance         3           0      3",
    ]);
    expect(out).toContain("  skipped lines: 1 (listed on stderr)");
    // One request per batch of at most 1,000 bars of one series.
    expect(fake.bodies("import").map((b) => [b.symbol, (b.bars as unknown[]).length])).toEqual([
      ["BTC", 1000],
      ["BTC", 500],
      ["ETH", 3],
    ]);

    const again = await cli(["data", "import", file, "--symbol", "ETH", "--json"]);
    expect(again.code).toBe(1);
    const summary = JSON.parse(again.stdout) as { series: unknown[]; notes: string[]; problems: unknown[] };
    expect(summary.series).toEqual([{ symbol: "ETH", venue: "binance", appended: 0, duplicates: 3, bars: 3 }]);
    expect(summary.notes).toEqual(["1,500 bars of other series left out (--symbol ETH)"]);
    expect(summary.problems).toEqual([
      { line: 1502, field: "high", message: "high 9 is below max(open 10, close 10)" },
    ]);

    const list = await cli(["data", "list"]);
    expect(list.code).toBe(0);
    expect(list.stdout.split("\n").slice(0, 3)).toEqual([
      "SYMBOL  VENUE     BARS  FROM                  TO",
      "BTC     binance  1,500  2024-01-01T00:00:00Z  2028-02-08T00:00:00Z",
      "ETH     binance      3  2024-01-02T00:00:00Z  2024-01-04T00:00:00Z",
    ]);
  });

  it("imports nothing from a malformed file, saying why, and exits 1", async () => {
    const file = join(dir, "no-close.csv");
    await writeFile(file, "symbol,venue,time,open,high,low,volume\nBTC,binance,2024-01-01,1,2,1,5\n");
    const run = await cli(["data", "import", file]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    expect(run.stderr).toBe(
      "line 1: required column missing from the header (field close)\n" +
        `error: ${file} holds no bars to import (problems listed above); nothing was imported\n`,
    );
    expect(fake.bodies("import")).toEqual([]);
  });

  it("names the series of a file without symbol and venue columns from the flags", async () => {
    const run = await runCli(
      ["data", "import", "-", "--symbol", "BRK.B", "--venue", "XNYS"],
      env,
      "time,open,high,low,close,volume\n2024-01-02,400,410,395,405,1000\n2024-01-03,405,409,400,401,900\n",
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toBe(
      "importing BRK_B@XNYS (series 1/1) | 0 of 2 bars sent | 0 appended\n" +
        "importing BRK_B@XNYS (series 1/1) | 2 of 2 bars sent | 2 appended\n",
    );
    expect(run.stdout).toContain("  BRK_B@XNYS         2           0     2");
  });
});

describe("stratreg discover", () => {
  it("follows a run that completes, then lists its candidates (exit 0)", async () => {
    fake.plan = { steps: MINING, outcome: "completed", candidates: [candidate] };
    const run = await cli(["discover", "--symbols", "BTC,ETH", "--budget", "90s", "--seed", "7", "--no-synthesis"]);
    expect(run.code).toBe(0);
    expect(fake.bodies("run")).toEqual([{ symbols: ["BTC", "ETH"], budgetMs: 90_000, seed: 7, synthesis: false }]);
    expect(run.stderr).toContain("run run-1 started (budget 1 min 30 s); Ctrl-C stops it, keeping its checkpoint\n");
    expect(run.stderr).toMatch(
      /^mining BTC@binance \(series 1\/2\) \| generation 1 \| 200 evaluated \| best train Sharpe 0\.80 \| 0 candidates \| .* of 1 min 30 s$/m,
    );
    const out = run.stdout.split("\n");
    expect(out[0]).toMatch(/^run run-1 completed in [\d.]+ s: 2 series mined, 600 evaluated, 1 candidate$/);
    expect(out.slice(1, 4)).toEqual([
      "",
      "ID                     TARGET       ORIGIN  TEST SHARPE  90% INTERVAL  EXPRESSION",
      "disc-00aa11bb22cc33dd  BTC@binance  mined          1.42  [0.50, 2.20]  gt(close, sma(close, 20))",
    ]);
  });

  it("prints the run and its candidates as JSON with --json", async () => {
    fake.plan = { steps: MINING.slice(0, 2), outcome: "completed", candidates: [candidate] };
    const run = await cli(["discover", "--json"]);
    expect(run.code).toBe(0);
    const result = JSON.parse(run.stdout) as { run: RunProgress; candidates: CandidateMessage[] };
    expect(result.run).toMatchObject({ runId: "run-1", outcome: "completed", candidates: 1 });
    expect(result.candidates.map((c) => [c.id, c.runId])).toEqual([["disc-00aa11bb22cc33dd", "run-1"]]);
  });

  it("exits 3 for a run halted with trading, saying how to resume it", async () => {
    fake.plan = { steps: MINING.slice(0, 3), outcome: "halted" };
    const run = await cli(["discover"]);
    expect(run.code).toBe(3);
    expect(run.stdout).toMatch(
      /^run run-1 halted after [\d.]+ s \(mining BTC@binance, generation 2\): trading was HALTED; 0 series mined, 400 evaluated, 0 candidates; its checkpoint is kept\nonce trading resumes, resume it with: stratreg discover --resume run-1\n$/,
    );

    fake.plan = { steps: MINING.slice(3), outcome: "completed" };
    const resumed = await cli(["discover", "--resume", "run-1"]);
    expect(resumed.code).toBe(0);
    expect(fake.bodies("run").at(-1)).toEqual({ resume: "run-1" });
    expect(resumed.stderr).toContain("run run-1 resumed");
    expect(resumed.stdout).toMatch(/^run run-1 completed in/);
  });

  it("exits 1 for a failed run, with its reason on stderr", async () => {
    fake.plan = { steps: [], outcome: "failed", error: "no bars of DOGE" };
    const run = await cli(["discover", "--symbols", "DOGE"]);
    expect(run.code).toBe(1);
    expect(run.stderr).toContain("error: run run-1 failed: no bars of DOGE\n");
  });

  it("stops the run on Ctrl-C, keeping its checkpoint, and exits 3", async () => {
    fake.plan = { steps: MINING.slice(0, 2), stepMs: 100 };
    const running = startCli(["discover"], env);
    await running.stderrContains("Ctrl-C stops it");
    await running.stderrContains("mining BTC@binance");
    running.kill("SIGINT");
    const run = await running.done;
    expect(run.code).toBe(3);
    expect(fake.bodies("stop")).toEqual([{ runId: "run-1" }]);
    expect(run.stderr).toContain("stopping run run-1, keeping its checkpoint (Ctrl-C again to quit now)");
    expect(run.stdout).toMatch(
      /^run run-1 stopped after .*; its checkpoint is kept\nresume it with: stratreg discover --resume run-1\n$/,
    );
  });

  it("starts a run and returns with --detach; stop and status see it", async () => {
    fake.plan = { steps: MINING.slice(0, 2), stepMs: 100 };
    const run = await cli(["discover", "--detach", "--budget", "10m"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toBe(
      "run run-1 started (budget 10 min)\nwatch it with `stratreg discover status`; stop it with `stratreg discover stop run-1`\n",
    );

    const status = await cli(["discover", "status"]);
    expect(status.code).toBe(0);
    expect(status.stdout).toMatch(
      /^discovery running \(fake-discovery\); trading ACTIVE; 0 series, 0 candidates held\nrun run-1 in progress: mining BTC@binance/,
    );

    const stop = await cli(["discover", "stop", "run-1"]);
    expect(stop.code).toBe(0);
    expect(stop.stdout).toMatch(/^run run-1 stopped after .*\nresume it with: stratreg discover --resume run-1\n$/);

    const nothing = await cli(["discover", "stop"]);
    expect(nothing.stdout).toBe("no run in progress: nothing to stop\n");
    const unknown = await cli(["discover", "stop", "run-9"]);
    expect(unknown.code).toBe(1);
    expect(unknown.stderr).toBe("error NOT_FOUND: run run-9 is not in progress (field body.runId)\n");

    const after = await cli(["discover", "status"]);
    expect(after.stdout).toContain("no run in progress\nlatest runs:\n");
    expect(after.stdout).toMatch(/ {2}run-1 +\S+ +stopped +0\/2 +200 +0 /);
  });

  it("turns refusals into clear messages: trading halted, a run in progress, nobody answering", async () => {
    fake.refuseRun = new StratregError(ErrorCodes.TradingHalted, "trading is HALTED: discovery does not run", {
      details: { trading: "HALTED" },
    });
    const halted = await cli(["discover"]);
    expect(halted.code).toBe(1);
    expect(halted.stderr).toBe(
      "error TRADING_HALTED: trading is HALTED: discovery does not run: see `stratreg risk`; once trading is resumed, start the run again\n",
    );

    fake.refuseRun = new ConflictError(ErrorCodes.Conflict, "run run-7 is in progress", {
      details: { runId: "run-7" },
    });
    const conflict = await cli(["discover", "--detach"]);
    expect(conflict.code).toBe(1);
    expect(conflict.stderr).toBe(
      "error CONFLICT: run run-7 is in progress: watch it with `stratreg discover status`, or stop it with `stratreg discover stop run-7` (and later `stratreg discover --resume run-7`)\n",
    );
    expect(fake.bodies("run")).toHaveLength(2);

    const nobody = await runCli(["scan", "--timeout", "400"], {
      ...env,
      STRATREG_CLUSTER: uniqueClusterName("cli-none"),
    });
    expect(nobody.code).toBe(1);
    expect(nobody.stderr).toMatch(
      /^error TIMEOUT: no discovery process is answering on cluster "cli-none-\w+" at nats:\/\/\S+ \(waited 400 ms; is discovery running, and is --cluster right\?\)\n$/,
    );
  });
});

describe("stratreg candidates and scan", () => {
  it("lists candidates, shows one's report, and says when there is no such candidate", async () => {
    fake.plan = { steps: [], outcome: "completed", candidates: [candidate] };
    expect((await cli(["discover"])).code).toBe(0);

    const list = await cli(["candidates", "--run", "run-1", "--limit", "5"]);
    expect(list.code).toBe(0);
    expect(fake.bodies("candidates").at(-1)).toEqual({ runId: "run-1", limit: 5 });
    expect(list.stdout).toContain("disc-00aa11bb22cc33dd  BTC@binance  mined          1.42  [0.50, 2.20]");

    const show = await cli(["candidates", "show", "disc-00aa11bb22cc33dd"]);
    expect(show.code).toBe(0);
    expect(show.stdout.split("\n")).toEqual([
      "disc-00aa11bb22cc33dd: mined by run run-1 at 2024-01-01T00:00:00.000Z",
      "target:      BTC@binance",
      "family:      trend",
      "expression:  gt(close, sma(close, 20))",
      "validation:  passed",
      "",
      "CHECK           VALUE  THRESHOLD  RESULT  NOTE",
      "trades            120  >= 100     pass",
      "deflatedSharpe   0.97  >= 0.95    pass",
      "every check passes (2)",
      "",
      "Sharpe by split: test 1.42 (80 trades)",
      "",
      "held-out Sharpe by regime:",
      "  REGIME         PERIODS  SHARPE",
      "  calm-trending      200    1.90",
      "",
      "estimate (test split, net of costs):",
      "  Sharpe 1.42, 90% interval [0.50, 2.20]",
      "  annual return 20.0%, 90% interval –",
      "",
      "capacity: 250,000 notional at 1.0% of each bar's traded value",
      "",
    ]);

    const missing = await cli(["candidates", "show", "disc-nope"]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^error NOT_FOUND: no candidate disc-nope among the latest 1 discovery keeps/);
  });

  it("says when nothing was scanned yet", async () => {
    const scan = await cli(["scan"]);
    expect(scan.code).toBe(0);
    expect(scan.stdout).toBe("no scan yet: discovery scans the market at the start of each run\n");
  });
});
