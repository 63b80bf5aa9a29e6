import type { ExposureReply, LimitsChange, TradingCommandReply, TradingStatus } from "@stratreg/protocol";
import { describe, expect, it } from "vitest";
import {
  acknowledgementLines,
  auditLines,
  BAR_WIDTH,
  commandReport,
  exposureLines,
  flattenLimits,
  formatAge,
  formatAmount,
  formatSetting,
  formatShare,
  headroomBar,
  limitsDiff,
  limitsLines,
  limitsReplyLines,
  pathText,
  riskLines,
  scopeTable,
  stateLine,
  usedShare,
} from "./format.js";

const NOW = Date.UTC(2026, 0, 5, 12, 0, 0);

const halted: TradingStatus = {
  state: "HALTED",
  reason: "fat finger on desk 7",
  by: "alice",
  at: NOW - 12_300,
  version: 3,
  pendingResume: null,
};

function reply(overrides: Partial<TradingCommandReply> = {}): TradingCommandReply {
  return {
    status: halted,
    acks: [
      { member: "shard-0", kind: "shard", ms: 1.2 },
      { member: "shard-1", kind: "shard", ms: 3.456 },
      { member: "ranker-1", kind: "ranker", ms: 2 },
    ],
    missing: [],
    lastAckMs: 3.456,
    awaitingConfirmation: false,
    ...overrides,
  };
}

describe("numbers", () => {
  it("groups thousands, fixes decimals and prints what is not there as a dash", () => {
    expect(formatAmount(1234567.891)).toBe("1,234,568");
    expect(formatAmount(1234567.891, 2)).toBe("1,234,567.89");
    expect(formatAmount(-98765.4, 2)).toBe("-98,765.40");
    expect(formatAmount(0)).toBe("0");
    expect(formatAmount(-0.001, 2)).toBe("0.00");
    expect(formatAmount(-0.4)).toBe("0");
    expect(formatAmount(null)).toBe("–");
    expect(formatAmount(undefined)).toBe("–");
    expect(formatAmount(Number.NaN)).toBe("–");
    expect(formatSetting(0.85)).toBe("0.85");
    expect(formatSetting(2_500_000)).toBe("2,500,000");
  });

  it("says how long ago in the largest units that matter, never negative", () => {
    expect(formatAge(400)).toBe("0.4 s");
    expect(formatAge(-50)).toBe("0.0 s");
    expect(formatAge(125_000)).toBe("2 min 5 s");
    expect(formatAge(3 * 3_600_000 + 12 * 60_000 + 5000)).toBe("3 h 12 min");
    expect(formatAge(2 * 86_400_000 + 4 * 3_600_000 + 1)).toBe("2 d 4 h");
  });

  it("shares of a limit, with a zero limit used up by anything", () => {
    expect(usedShare(45, 100)).toBe(0.45);
    expect(usedShare(45, null)).toBeNull();
    expect(usedShare(0, 0)).toBe(0);
    expect(usedShare(1, 0)).toBe(Number.POSITIVE_INFINITY);
    expect(formatShare(0.454)).toBe("45%");
    expect(formatShare(1.2)).toBe("120%");
    expect(formatShare(null)).toBe("–");
    expect(formatShare(Number.POSITIVE_INFINITY)).toBe("∞%");
  });
});

describe("headroomBar", () => {
  it("fills 20 cells by used/limit, then a space, or ! when over", () => {
    expect(headroomBar(0, 1000)).toBe(`${"░".repeat(20)} `);
    expect(headroomBar(450, 1000)).toBe(`${"█".repeat(9)}${"░".repeat(11)} `);
    expect(headroomBar(1000, 1000)).toBe(`${"█".repeat(20)} `);
    expect(headroomBar(1200, 1000)).toBe(`${"█".repeat(20)}!`);
    expect(headroomBar(5, 0)).toBe(`${"█".repeat(20)}!`);
    for (const used of [0, 1, 450, 999, 1000, 5000]) expect(headroomBar(used, 1000)).toHaveLength(BAR_WIDTH + 1);
  });

  it("shows any use as one cell, and a full bar only at the limit", () => {
    expect(headroomBar(1, 1000)).toBe(`█${"░".repeat(19)} `);
    expect(headroomBar(999, 1000)).toBe(`${"█".repeat(19)}░ `);
    expect(headroomBar(3, 10, 5)).toBe("██░░░ ");
  });

  it("is blank without a limit, so the column stays aligned", () => {
    expect(headroomBar(500, null)).toBe(" ".repeat(BAR_WIDTH + 1));
  });
});

describe("the trading state and the acknowledgements", () => {
  it("one line: state, since when and how long, by whom, why, version", () => {
    expect(stateLine(halted, NOW)).toBe(
      "trading HALTED since 2026-01-05T11:59:47.700Z (12.3 s ago) by alice: fat finger on desk 7 (state version 3)",
    );
    const initial: TradingStatus = { state: "ACTIVE", reason: "initial state", by: "risk-guard", at: 0, version: 0 };
    expect(stateLine(initial, NOW)).toBe("trading ACTIVE by risk-guard: initial state (state version 0)");
    const pending = { ...halted, pendingResume: { by: "bob", at: NOW - 5000 } };
    expect(stateLine(pending, NOW)).toMatch(/; resume asked by bob 5\.0 s ago, waiting for a second operator$/);
  });

  it("counts the acknowledgements by kind with the slowest, and warns of those missing", () => {
    expect(acknowledgementLines(reply())).toEqual({
      lines: ["acknowledged by 3 followers (1 ranker, 2 shard), slowest 3.5 ms"],
      warnings: [],
    });
    const missing = acknowledgementLines(reply({ missing: ["trader-9", "shard-2"] }));
    expect(missing.warnings).toEqual([
      "warning: 2 followers did not acknowledge in time: shard-2, trader-9 (they may still act on the old state until they hear the next broadcast)",
    ]);
    const nobody = acknowledgementLines(reply({ acks: [], missing: ["shard-0"], lastAckMs: null }));
    expect(nobody.lines).toEqual([]);
    expect(nobody.warnings[0]).toMatch(/^warning: 1 follower did not acknowledge in time: shard-0 /);
    expect(acknowledgementLines(reply({ acks: [], lastAckMs: null })).lines).toEqual([
      "no follower to acknowledge it: none was heard from recently (services not started, or not following)",
    ]);
  });

  it("says when a command changed nothing, or waits for a second operator", () => {
    const mine = commandReport("halt", { by: "alice", reason: "fat finger on desk 7" }, reply(), NOW);
    expect(mine.lines).toEqual([
      stateLine(halted, NOW),
      "acknowledged by 3 followers (1 ranker, 2 shard), slowest 3.5 ms",
    ]);

    const again = commandReport("halt", { by: "bob", reason: "me too" }, reply(), NOW);
    expect(again.lines[1]).toBe("nothing changed: trading was already HALTED");

    const reduce = commandReport("reduce", { by: "alice", reason: "fat finger on desk 7" }, reply(), NOW);
    expect(reduce.lines[1]).toMatch(/^nothing changed: trading is HALTED, which is stricter than REDUCING/);

    const waiting = commandReport(
      "resume",
      { by: "bob" },
      reply({ status: { ...halted, pendingResume: { by: "bob", at: NOW } }, awaitingConfirmation: true }),
      NOW,
    );
    expect(waiting.lines[1]).toBe(
      "resume recorded: a second operator must confirm it before trading resumes (stratreg resume --by <another operator>)",
    );

    const resumed = { ...halted, state: "ACTIVE" as const, by: "carol", reason: "resumed", version: 4 };
    const confirmed = commandReport("resume", { by: "carol" }, reply({ status: resumed }), NOW);
    expect(confirmed.lines).toHaveLength(2);
  });
});

const exposure: ExposureReply = {
  status: halted,
  limitsVersion: 4,
  openOrders: 2,
  scopes: [
    {
      scope: "symbol",
      key: "EURUSD",
      gross: 1_200_000,
      net: -600_000,
      reserved: 50_000,
      grossLimit: 1_000_000,
      netLimit: 500_000,
    },
    { scope: "total", key: "", gross: 450_000, net: 150_000, reserved: 0, grossLimit: 1_000_000, netLimit: 400_000 },
    { scope: "venue", key: "lmax", gross: 75_500.4, net: 0, reserved: 0, grossLimit: null, netLimit: null },
  ],
  pnl: { equity: -12_345.678, peak: 3000, drawdown: 15_345.678 },
  risk: null,
};

describe("stratreg risk", () => {
  it("tables the scopes with right-aligned amounts, bars, ! over a limit and dashes without one", () => {
    expect(scopeTable(exposure.scopes)).toEqual([
      "SCOPE   KEY         GROSS      LIMIT  USED                              NET  NET LIMIT  NET USED  RESERVED",
      `symbol  EURUSD  1,200,000  1,000,000  ${"█".repeat(20)}!  120%  -600,000    500,000     120%!    50,000`,
      `total             450,000  1,000,000  ${"█".repeat(9)}${"░".repeat(11)}    45%   150,000    400,000      38%          0`,
      "venue   lmax       75,500          –                                      0          –                   0",
    ]);
  });

  it("prints the state, the table, P&L, and says when VaR is not computed yet", () => {
    const lines = exposureLines(exposure, NOW);
    expect(lines[0]).toBe(stateLine(halted, NOW));
    expect(lines[1]).toBe("limits version 4, 2 open orders");
    expect(lines).toContain("P&L: equity -12,345.68, peak 3,000.00, drawdown 15,345.68");
    expect(lines.at(-1)).toMatch(/^VaR\/ES: not computed yet/);
    expect(exposureLines({ ...exposure, scopes: [] }, NOW)).toContain("no exposure and no limits");
  });

  it("prints VaR and ES both ways, and the largest contributions with their share", () => {
    const risk: ExposureReply["risk"] = {
      historical: { var95: 12_000, var99: 18_500.5, es95: 16_000, es99: 21_000 },
      parametric: { var95: 11_500, var99: 20_000, es95: 14_400, es99: 18_700 },
      periods: 120,
      contributions: [
        { strategy: "small", exposure: 10_000, component: 1000, marginal: 0.1 },
        { strategy: "big", exposure: 500_000, component: 15_000, marginal: 0.03 },
        { strategy: "mid", exposure: 200_000, component: 4000, marginal: 0.02 },
      ],
      at: NOW - 3200,
    };
    expect(riskLines(risk, NOW, 2)).toEqual([
      "VaR/ES of one period's P&L, losses positive (120 periods of returns, computed 3.2 s ago):",
      "                 VAR 95     VAR 99      ES 95      ES 99",
      "  historical  12,000.00  18,500.50  16,000.00  21,000.00",
      "  parametric  11,500.00  20,000.00  14,400.00  18,700.00",
      "top 2 contributions to the parametric VaR 99:",
      "  STRATEGY  EXPOSURE  COMPONENT  SHARE  MARGINAL",
      "  big        500,000  15,000.00    75%    0.0300",
      "  mid        200,000   4,000.00    20%    0.0200",
    ]);
    expect(riskLines(risk, NOW, 5)[4]).toBe("contributions to the parametric VaR 99:");
    expect(riskLines({ ...risk, contributions: [] }, NOW)).toHaveLength(4);
  });
});

describe("limits", () => {
  const limits = {
    total: { gross: 5_000_000, net: 2_000_000 },
    symbols: { EURUSD: { gross: 1_000_000 }, "*": { gross: 250_000, net: 100_000 } },
    strategies: { "mr-1": { gross: 600_000, orderRate: 20, openOrders: 10 } },
    orderNotional: 250_000,
    cluster: { rho: 0.8, gross: 1_500_000 },
    drawdown: { reduce: 50_000, halt: 100_000 },
    reservationTtlMs: 30_000,
  };

  it("names a value by its path, quoting keys that are not plain words", () => {
    expect(pathText(["symbols", "EURUSD", "gross"])).toBe("symbols.EURUSD.gross");
    expect(pathText(["symbols", "*", "net"])).toBe("symbols.*.net");
    expect(pathText(["symbols", "BRK.B", "gross"])).toBe('symbols["BRK.B"].gross');
    expect(flattenLimits({ total: { gross: 1 }, symbols: {}, reservationTtlMs: 100 })).toEqual([
      [["total", "gross"], 1],
      [["reservationTtlMs"], 100],
    ]);
  });

  it("diffs two versions value by value: changed, added, removed", () => {
    const next = {
      ...limits,
      total: { gross: 6_000_000, net: 2_000_000 },
      symbols: { EURUSD: { gross: 1_000_000 }, "BRK.B": { gross: 100_000 } },
      cluster: undefined,
    };
    expect(limitsDiff(limits, JSON.parse(JSON.stringify(next)))).toEqual([
      "total.gross: 5,000,000 → 6,000,000",
      "symbols.*.gross: 250,000 → –",
      "symbols.*.net: 100,000 → –",
      "cluster.rho: 0.8 → –",
      "cluster.gross: 1,500,000 → –",
      'symbols["BRK.B"].gross: – → 100,000',
    ]);
    expect(limitsDiff({}, { orderNotional: 5 })).toEqual(["orderNotional: – → 5"]);
    expect(limitsDiff(limits, limits)).toEqual([]);
  });

  it("shows the scoped limits as a table (default key first) and the portfolio settings in words", () => {
    expect(limitsLines(limits)).toEqual([
      "SCOPE     KEY         GROSS        NET  ORDER NOTIONAL  ORDERS/S  OPEN ORDERS",
      "total             5,000,000  2,000,000               –         –            –",
      "symbol    *         250,000    100,000               –         –            –",
      "symbol    EURUSD  1,000,000          –               –         –            –",
      "strategy  mr-1      600,000          –               –        20           10",
      "(key * is the default for every key without its own row)",
      "any one order: at most 250,000",
      "strategies whose returns correlate above ρ 0.8 share one limit: gross 1,500,000",
      "drawdown from peak equity: REDUCING at 50,000, HALTED at 100,000",
      "reservations expire after 30.0 s unless filled or cancelled",
    ]);
    expect(limitsLines({ venues: { lmax: { gross: 1 } } })).toEqual([
      "SCOPE  KEY   GROSS  NET",
      "venue  lmax      1    –",
    ]);
    expect(limitsLines({})).toEqual(["no limits are set"]);
    // A setting a newer guard knows is shown as it is.
    expect(limitsLines({ maxLeverage: 3 } as never)).toEqual(["maxLeverage: 3"]);
  });

  it("lists the audit trail newest first, each change with a short diff", () => {
    const audit: LimitsChange[] = [
      {
        version: 12,
        by: "bob",
        at: NOW,
        note: "raise the total",
        previous: { total: { gross: 1 } },
        limits: { total: { gross: 2 } },
      },
      {
        version: 11,
        by: "alice",
        at: NOW - 60_000,
        note: null,
        previous: {},
        limits: { total: { gross: 1, net: 1 }, orderNotional: 3, reservationTtlMs: 1000 },
      },
      { version: 9, by: "alice", at: NOW - 120_000, note: null, previous: {}, limits: {} },
    ];
    expect(auditLines(audit, 2)).toEqual([
      "v12  2026-01-05T12:00:00.000Z  bob    raise the total",
      "      total.gross: 1 → 2",
      "v11  2026-01-05T11:59:00.000Z  alice",
      "      total.gross: – → 1",
      "      total.net: – → 1",
      "      … and 2 more changes",
      " v9  2026-01-05T11:58:00.000Z  alice",
      "      (no change)",
    ]);
    expect(auditLines([])).toEqual(["no changes yet"]);
    const lines = limitsReplyLines({ version: 12, limits: { total: { gross: 2 } }, audit });
    expect(lines[0]).toBe("limits version 12 (set 2026-01-05T12:00:00.000Z by bob)");
    expect(lines).toContain("changes, newest first:");
    expect(limitsReplyLines({ version: 0, limits: {}, audit: [] })).toEqual([
      "limits version 0 (never set)",
      "  no limits are set",
      "",
      "changes, newest first:",
      "  no changes yet",
    ]);
  });
});
