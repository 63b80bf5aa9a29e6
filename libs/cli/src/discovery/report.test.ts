import type { CandidateMessage } from "@stratreg/client";
import type { ValidationReport } from "@stratreg/protocol";
import { describe, expect, it } from "vitest";
import { candidateReportLines, candidateTableLines, checksOf, figure, testSharpe } from "./report.js";

const AT = Date.UTC(2026, 10, 27, 18, 30);

/** A report as discovery's validation writes it (the fields the CLI reads). */
const FULL_REPORT = {
  expression: "gt(close, sma(close, 20))",
  target: "BTC@binance",
  passed: false,
  train: { periods: 2999, sharpe: 2.104, trades: 410 },
  validation: { periods: 999, sharpe: 1.387, trades: 120 },
  test: { periods: 999, sharpe: 1.2291, trades: 131 },
  checks: [
    { name: "trades", value: 251, threshold: 100, comparison: ">=", passed: true },
    { name: "testSharpe", value: 1.2291, threshold: 0, comparison: ">", passed: true },
    {
      name: "testPValue",
      value: 0.0004,
      threshold: 0.000625,
      comparison: "<=",
      passed: true,
      note: "α 0.05 / 80 tested",
    },
    {
      name: "deflatedSharpe",
      value: 0.81,
      threshold: 0.95,
      comparison: ">=",
      passed: false,
      note: "over 12,400 trials",
    },
    { name: "capacity", value: null, threshold: 100_000, comparison: ">=", passed: false, note: "no trades" },
  ],
  regimes: [
    { regime: "calm-trending", periods: 700, sharpe: 1.8 },
    { regime: "volatile-ranging", periods: 12, sharpe: null },
  ],
  estimate: {
    sharpe: 1.2291,
    sharpeInterval: [0.412, 1.918],
    annualReturn: 0.1834,
    annualReturnInterval: [0.05, 0.31],
    level: 0.9,
    resamples: 2000,
    blockLength: 10,
    feeBps: 1,
    slippageBps: 2,
    turnoverPerYear: 25.13,
    capacity: 1_234_567.8,
    participation: 0.01,
  },
} as unknown as ValidationReport;

/** A report from a build that wrote fewer fields: the CLI reads what is there. */
const partial = (report: Record<string, unknown>) => report as unknown as ValidationReport;

function candidate(overrides: Partial<CandidateMessage> = {}): CandidateMessage {
  return {
    id: "disc-0a1b2c3d4e5f6071",
    runId: "run-1",
    origin: "mined",
    expression: "gt(close, sma(close, 20))",
    target: "BTC@binance",
    family: "trend",
    parents: [],
    report: FULL_REPORT,
    at: AT,
    ...overrides,
  };
}

describe("figures", () => {
  it("prints integers as they are and others to four significant digits", () => {
    expect(figure(251)).toBe("251");
    expect(figure(1_234_567)).toBe("1,234,567");
    expect(figure(1.22913)).toBe("1.229");
    expect(figure(0.000625)).toBe("0.000625");
    expect(figure(1_234_567.8)).toBe("1,234,568");
    expect(figure(5000)).toBe("5,000");
    expect(figure(null)).toBe("–");
  });
});

describe("candidates show", () => {
  it("prints every check with value, threshold and verdict, the splits, regimes, estimate and capacity", () => {
    expect(candidateReportLines(candidate())).toEqual([
      "disc-0a1b2c3d4e5f6071: mined by run run-1 at 2026-11-27T18:30:00.000Z",
      "target:      BTC@binance",
      "family:      trend",
      "expression:  gt(close, sma(close, 20))",
      "validation:  not passed",
      "",
      "CHECK            VALUE  THRESHOLD    RESULT  NOTE",
      "trades             251  >= 100       pass",
      "testSharpe       1.229  > 0          pass",
      "testPValue      0.0004  <= 0.000625  pass    α 0.05 / 80 tested",
      "deflatedSharpe    0.81  >= 0.95      FAIL    over 12,400 trials",
      "capacity             –  >= 100,000   FAIL    no trades",
      "2 of 5 checks fail",
      "",
      "Sharpe by split: train 2.10 (410 trades), validation 1.39 (120 trades), test 1.23 (131 trades)",
      "",
      "held-out Sharpe by regime:",
      "  REGIME            PERIODS  SHARPE",
      "  calm-trending         700    1.80",
      "  volatile-ranging       12       –",
      "",
      "estimate (test split, net of costs: fees 1 bp, slippage 2 bp):",
      "  Sharpe 1.23, 90% interval [0.41, 1.92]",
      "  annual return 18.3%, 90% interval [5.0%, 31.0%]",
      "  turnover 25.13 a year",
      "",
      "capacity: 1,234,568 notional at 1.0% of each bar's traded value",
    ]);
  });

  it("reads a report that carries only its verdict, and one with parents", () => {
    const lines = candidateReportLines(
      candidate({ origin: "synthesised", parents: ["disc-a", "disc-b"], report: partial({ passed: true }) }),
    );
    expect(lines).toEqual([
      "disc-0a1b2c3d4e5f6071: synthesised by run run-1 at 2026-11-27T18:30:00.000Z",
      "target:      BTC@binance",
      "family:      trend",
      "expression:  gt(close, sma(close, 20))",
      "parents:     disc-a, disc-b",
      "validation:  passed",
      "",
      "the report lists no checks",
    ]);
  });

  it("skips checks it cannot read and takes a capacity the report carries itself", () => {
    const report = {
      passed: true,
      checks: [null, 7, { name: "trades", value: 9, threshold: 5, comparison: ">=", passed: true }],
      capacity: 5000,
    };
    expect(checksOf(report)).toEqual([
      { name: "trades", value: 9, threshold: 5, comparison: ">=", passed: true, note: undefined },
    ]);
    const lines = candidateReportLines(candidate({ report: partial(report) }));
    expect(lines).toContain("every check passes (1)");
    expect(lines.at(-1)).toBe("capacity: 5,000 notional");
  });
});

describe("the candidates table", () => {
  it("lists id, target, origin, test Sharpe with its interval, and the expression last", () => {
    const lines = candidateTableLines([
      candidate(),
      candidate({
        id: "disc-2",
        target: "ETH@kraken",
        origin: "synthesised",
        expression: "and(a, b)",
        report: partial({ passed: true }),
      }),
    ]);
    expect(lines).toEqual([
      "ID                     TARGET       ORIGIN       TEST SHARPE  90% INTERVAL  EXPRESSION",
      "disc-0a1b2c3d4e5f6071  BTC@binance  mined               1.23  [0.41, 1.92]  gt(close, sma(close, 20))",
      "disc-2                 ETH@kraken   synthesised            –             –  and(a, b)",
    ]);
    expect(candidateTableLines([])).toEqual(["no candidates"]);
  });

  it("finds the test Sharpe in the estimate or the checks when the test window is missing", () => {
    expect(testSharpe({ estimate: { sharpe: 0.7 } })).toBe(0.7);
    expect(
      testSharpe({ checks: [{ name: "testSharpe", value: 0.5, threshold: 0, comparison: ">", passed: true }] }),
    ).toBe(0.5);
    expect(testSharpe({ passed: true })).toBeNull();
  });
});
