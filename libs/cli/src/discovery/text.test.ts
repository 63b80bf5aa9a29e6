import type { DiscoveryStatus, RunProgress, ScanFindings } from "@stratreg/client";
import { describe, expect, it } from "vitest";
import {
  formatSpan,
  formatTime,
  importSummaryLines,
  progressLine,
  runEndReport,
  scanLines,
  seriesLines,
  statusLines,
} from "./text.js";

const T0 = Date.UTC(2026, 10, 27, 9, 0);

function run(overrides: Partial<RunProgress> = {}): RunProgress {
  return {
    runId: "run-mh2x1-4fz",
    startedAt: T0,
    budgetMs: 600_000,
    elapsedMs: 65_000,
    phase: "mining",
    targets: ["BTC@binance", "ETH@binance", "SOL@binance"],
    targetsDone: 1,
    target: "ETH@binance",
    generation: 4,
    evaluated: 12_345,
    bestTrainSharpe: 1.2345,
    candidates: 3,
    ...overrides,
  };
}

describe("spans and times", () => {
  it("prints spans without zero parts", () => {
    expect(formatSpan(0)).toBe("0 s");
    expect(formatSpan(5000)).toBe("5 s");
    expect(formatSpan(45_230)).toBe("45.2 s");
    expect(formatSpan(90_000)).toBe("1 min 30 s");
    expect(formatSpan(600_000)).toBe("10 min");
    expect(formatSpan(3_600_000)).toBe("1 h");
    expect(formatSpan(7_500_000)).toBe("2 h 5 min");
  });

  it("prints times in UTC, without milliseconds when there are none", () => {
    expect(formatTime(T0)).toBe("2026-11-27T09:00:00Z");
    expect(formatTime(T0 + 5)).toBe("2026-11-27T09:00:00.005Z");
    expect(formatTime(null)).toBe("–");
  });
});

describe("a run's progress line", () => {
  it("says phase, series, generation, evaluated, best train Sharpe, candidates and time", () => {
    expect(progressLine(run())).toBe(
      "mining ETH@binance (series 2/3) | generation 4 | 12,345 evaluated | best train Sharpe 1.23 | 3 candidates | 1 min 5 s of 10 min",
    );
  });

  it("leaves out what a run does not have yet", () => {
    expect(
      progressLine(
        run({
          phase: "loading",
          targets: [],
          targetsDone: 0,
          target: null,
          generation: 0,
          evaluated: 0,
          bestTrainSharpe: null,
          candidates: 1,
          elapsedMs: 200,
        }),
      ),
    ).toBe("loading | 0 evaluated | best train Sharpe – | 1 candidate | 0.2 s of 10 min");
    expect(progressLine(run({ phase: "publishing", target: null, targetsDone: 3, generation: 0 }))).toBe(
      "publishing (series 3/3) | 12,345 evaluated | best train Sharpe 1.23 | 3 candidates | 1 min 5 s of 10 min",
    );
  });
});

describe("how a run ended", () => {
  it("completed", () => {
    expect(runEndReport(run({ outcome: "completed", targetsDone: 3, elapsedMs: 598_000 }))).toEqual({
      lines: ["run run-mh2x1-4fz completed in 9 min 58 s: 3 series mined, 12,345 evaluated, 3 candidates"],
      warnings: [],
    });
  });

  it("stopped and halted runs say how to resume them", () => {
    expect(runEndReport(run({ outcome: "stopped" })).lines).toEqual([
      "run run-mh2x1-4fz stopped after 1 min 5 s (mining ETH@binance, generation 4): 1 series mined, 12,345 evaluated, 3 candidates; its checkpoint is kept",
      "resume it with: stratreg discover --resume run-mh2x1-4fz",
    ]);
    expect(runEndReport(run({ outcome: "halted", phase: "validating", generation: 0 })).lines).toEqual([
      "run run-mh2x1-4fz halted after 1 min 5 s (validating ETH@binance): trading was HALTED; 1 series mined, 12,345 evaluated, 3 candidates; its checkpoint is kept",
      "once trading resumes, resume it with: stratreg discover --resume run-mh2x1-4fz",
    ]);
  });

  it("failed runs say why on stderr", () => {
    const report = runEndReport(run({ outcome: "failed", error: "no market data held", elapsedMs: 10, candidates: 0 }));
    expect(report.lines).toEqual([
      "run run-mh2x1-4fz failed after 0 s: 1 series mined, 12,345 evaluated, 0 candidates",
    ]);
    expect(report.warnings).toEqual(["error: run run-mh2x1-4fz failed: no market data held"]);
  });
});

describe("discover status", () => {
  it("prints the state, trading, the run in progress and the latest runs", () => {
    const status: DiscoveryStatus = {
      member: "discovery-0",
      state: "running",
      trading: "ACTIVE",
      run: run(),
      runs: [
        run({ runId: "run-old", outcome: "halted", elapsedMs: 30_000, targetsDone: 0, candidates: 0, evaluated: 800 }),
      ],
      series: 3,
      candidates: 12,
    };
    expect(statusLines(status)).toEqual([
      "discovery running (discovery-0); trading ACTIVE; 3 series, 12 candidates held",
      "run run-mh2x1-4fz in progress: mining ETH@binance (series 2/3) | generation 4 | 12,345 evaluated | best train Sharpe 1.23 | 3 candidates | 1 min 5 s of 10 min",
      "latest runs:",
      "  RUN      STARTED               OUTCOME  SERIES  EVALUATED  CANDIDATES  TOOK",
      "  run-old  2026-11-27T09:00:00Z  halted      0/3        800           0  30 s",
    ]);
  });

  it("says when trading is unknown and nothing ran yet", () => {
    expect(statusLines({ state: "idle", trading: null, run: null, runs: [] })).toEqual([
      "discovery idle; trading state unknown (no risk guard heard yet)",
      "no run in progress",
      "no runs yet",
    ]);
  });
});

describe("data list", () => {
  it("lists the series by symbol and venue, then the totals", () => {
    expect(
      seriesLines({
        series: [
          { symbol: "ETH", venue: "binance", bars: 1500, from: T0, to: T0 + 86_400_000 },
          { symbol: "BTC", venue: "binance", bars: 20_000, from: T0, to: T0 + 3_600_000 },
        ],
        skipped: 0,
      }),
    ).toEqual([
      "SYMBOL  VENUE      BARS  FROM                  TO",
      "BTC     binance  20,000  2026-11-27T09:00:00Z  2026-11-27T10:00:00Z",
      "ETH     binance   1,500  2026-11-27T09:00:00Z  2026-11-28T09:00:00Z",
      "2 series, 21,500 bars",
    ]);
    expect(seriesLines({ series: [], skipped: 0 })).toEqual([
      "no market data held: import bars with `stratreg data import <file.csv>`",
    ]);
  });
});

describe("data import summary", () => {
  it("prints appended and duplicates per series, skipped lines and failures", () => {
    expect(
      importSummaryLines({
        file: "bars.csv",
        series: [
          { symbol: "BTC", venue: "binance", appended: 2499, duplicates: 1, bars: 2500 },
          { symbol: "BRK_B", venue: "XNYS", appended: 10, duplicates: 0, bars: 10, fileKey: "BRK.B@XNYS" },
        ],
        failed: [{ series: "ETH@binance", error: "INVALID_FIELD: body.bars[3].t: …", appended: 1000 }],
        skippedLines: 2,
        elapsedMs: 1234,
        interrupted: false,
      }),
    ).toEqual([
      "imported bars.csv: 2 series, 2,509 bars appended, 1 already held, in 1.2 s",
      "  SERIES       APPENDED  DUPLICATES   HELD",
      "  BTC@binance     2,499           1  2,500",
      "  BRK_B@XNYS         10           0     10",
      "  skipped lines: 2 (listed on stderr)",
      "  failed: ETH@binance: INVALID_FIELD: body.bars[3].t: … (1,000 bars appended before)",
    ]);
  });
});

describe("scan", () => {
  it("prints regimes, lead-lag, weekday effects and anomalies", () => {
    const scan: ScanFindings = {
      at: T0,
      bars: 5000,
      regimeNames: ["calm-ranging", "calm-trending", "volatile-ranging", "volatile-trending"],
      regimes: {
        current: "calm-trending",
        shares: { "calm-ranging": 0.3, "calm-trending": 0.41, "volatile-ranging": 0.2, "volatile-trending": 0.09 },
      },
      leadLag: [{ leader: "BTC@binance", follower: "ETH@binance", lag: 1, correlation: 0.1234 }],
      calendar: [{ series: "SPY@arca", weekday: 1, meanReturn: 0.00123, t: 3.456 }],
      anomalies: [{ series: "BTC@binance", field: "volume", t: T0 - 60_000, score: 9.87 }],
    };
    expect(scanLines(scan)).toEqual([
      "scan of 5,000 aligned bars at 2026-11-27T09:00:00Z",
      "regime now: calm-trending",
      "  REGIME             SHARE",
      "  calm-trending      41.0%",
      "  calm-ranging       30.0%",
      "  volatile-ranging   20.0%",
      "  volatile-trending   9.0%",
      "lead-lag (significant after a Bonferroni correction):",
      "  LEADER       FOLLOWER       LAG  CORRELATION",
      "  BTC@binance  ETH@binance  1 bar        0.123",
      "weekday effects (UTC):",
      "  SERIES    WEEKDAY  MEAN RETURN      T",
      "  SPY@arca  Monday        0.123%  3.456",
      "latest anomalies:",
      "  SERIES       FIELD   AT                    SCORE",
      "  BTC@binance  volume  2026-11-27T08:59:00Z    9.9",
    ]);
  });

  it("says when nothing was found, or nothing scanned yet", () => {
    const empty = {
      at: T0,
      bars: 40,
      regimeNames: [],
      regimes: { current: "calm-ranging", shares: {} },
      leadLag: [],
      calendar: [],
      anomalies: [],
    };
    expect(scanLines(empty).slice(2)).toEqual([
      "  REGIME  SHARE",
      "lead-lag: none significant",
      "weekday effects: none significant",
      "anomalies: none",
    ]);
    expect(scanLines(null)).toEqual(["no scan yet: discovery scans the market at the start of each run"]);
  });
});
