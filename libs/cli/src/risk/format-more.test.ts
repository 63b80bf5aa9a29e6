/**
 * What the risk commands print for the less usual replies: followers that do not
 * say what they are, a reply without timings, a portfolio whose parametric VaR is
 * not a loss, settings that are not numbers, default rows among other keys, and a
 * cluster or drawdown limit with only some of its levels set.
 */
import type { ExposureReply, LimitsChange, RiskLimits, TradingCommandReply, TradingStatus } from "@stratreg/protocol";
import { describe, expect, it } from "vitest";
import {
  acknowledgementLines,
  auditLines,
  commandReport,
  DASH,
  limitsDiff,
  limitsLines,
  limitsReplyLines,
  riskLines,
} from "./format.js";

const NOW = Date.UTC(2026, 2, 9, 8, 30, 0);

const halted: TradingStatus = {
  state: "HALTED",
  reason: "venue outage",
  by: "alice",
  at: NOW - 2_000,
  version: 7,
  pendingResume: null,
};

function reply(overrides: Partial<TradingCommandReply>): TradingCommandReply {
  return { status: halted, acks: [], missing: [], lastAckMs: null, awaitingConfirmation: false, ...overrides };
}

describe("acknowledgements of followers that say little", () => {
  it("counts a follower that names no kind as 'unknown', beside the kinds that were named", () => {
    const report = acknowledgementLines(
      reply({
        acks: [
          { member: "trader-eu", kind: "", ms: 4.04 },
          { member: "trader-us", kind: "", ms: 1 },
          { member: "shard-0", kind: "shard", ms: 2.5 },
        ],
        lastAckMs: 4.04,
      }),
    );
    expect(report).toEqual({
      lines: ["acknowledged by 3 followers (1 shard, 2 unknown), slowest 4.0 ms"],
      warnings: [],
    });
  });

  it("leaves out the slowest time when the reply carries none, and still warns of the one missing", () => {
    const report = acknowledgementLines(
      reply({ acks: [{ member: "ranker-1", kind: "ranker", ms: 3 }], missing: ["trader-asia"], lastAckMs: null }),
    );
    expect(report.lines).toEqual(["acknowledged by 1 follower (1 ranker)"]);
    expect(report.warnings).toEqual([
      "warning: 1 follower did not acknowledge in time: trader-asia (they may still act on the old state until they hear the next broadcast)",
    ]);
  });

  it("an operator's own halt with nobody following prints the state and that no follower heard it", () => {
    const report = commandReport("halt", { by: "alice" }, reply({}), NOW);
    expect(report.lines).toEqual([
      "trading HALTED since 2026-03-09T08:29:58.000Z (2.0 s ago) by alice: venue outage (state version 7)",
      "no follower to acknowledge it: none was heard from recently (services not started, or not following)",
    ]);
    expect(report.warnings).toEqual([]);
  });
});

describe("VaR contributions when the parametric VaR is not a loss", () => {
  const figures = { var95: -150, var99: 0, es95: -20, es99: 10 };
  const risk: NonNullable<ExposureReply["risk"]> = {
    historical: { var95: 1200, var99: 2500, es95: 1800, es99: 3000 },
    parametric: figures,
    periods: 1,
    contributions: [
      { strategy: "hedge-1", exposure: -40_000, component: -75, marginal: -0.001875 },
      { strategy: "carry-2", exposure: 60_000, component: 75, marginal: 0.00125 },
    ],
    at: NOW - 500,
  };

  it("prints the shares as dashes rather than dividing by a VaR of zero, biggest contribution first", () => {
    expect(riskLines(risk, NOW)).toEqual([
      "VaR/ES of one period's P&L, losses positive (1 period of returns, computed 0.5 s ago):",
      "                VAR 95    VAR 99     ES 95     ES 99",
      "  historical  1,200.00  2,500.00  1,800.00  3,000.00",
      "  parametric   -150.00      0.00    -20.00     10.00",
      "contributions to the parametric VaR 99:",
      "  STRATEGY  EXPOSURE  COMPONENT  SHARE  MARGINAL",
      `  carry-2     60,000      75.00      ${DASH}    0.0013`,
      `  hedge-1    -40,000     -75.00      ${DASH}   -0.0019`,
    ]);
  });

  it("a negative parametric VaR (expected gains) also gets no shares", () => {
    const lines = riskLines({ ...risk, parametric: { ...figures, var99: -80 } }, NOW, 1);
    expect(lines.slice(4)).toEqual([
      "top 1 contributions to the parametric VaR 99:",
      "  STRATEGY  EXPOSURE  COMPONENT  SHARE  MARGINAL",
      `  carry-2     60,000      75.00      ${DASH}    0.0013`,
    ]);
  });
});

describe("limits with unusual settings", () => {
  it("sorts the default key * first wherever it stands among the keys of every table", () => {
    const limits: RiskLimits = {
      symbols: { TSLA: { gross: 3 }, "*": { gross: 1 }, AAPL: { gross: 2 }, MSFT: { net: 4 } },
      venues: { xnas: { gross: 10 }, xnys: { gross: 20 }, "*": { net: 5 } },
      families: { "*": { gross: 7 }, momentum: { gross: 8 } },
    };
    expect(limitsLines(limits)).toEqual([
      "SCOPE   KEY       GROSS  NET",
      "symbol  *             1    –",
      "symbol  AAPL          2    –",
      "symbol  MSFT          –    4",
      "symbol  TSLA          3    –",
      "venue   *             –    5",
      "venue   xnas         10    –",
      "venue   xnys         20    –",
      "family  *             7    –",
      "family  momentum      8    –",
      "(key * is the default for every key without its own row)",
    ]);
  });

  it("a cluster limit with only a net level, or with no level at all, says which", () => {
    expect(limitsLines({ cluster: { rho: 0.75, net: 400_000 } })).toEqual([
      "strategies whose returns correlate above ρ 0.75 share one limit: net 400,000",
    ]);
    expect(limitsLines({ cluster: { rho: 0.9, gross: 1_000_000, net: 250_000.5 } })).toEqual([
      "strategies whose returns correlate above ρ 0.9 share one limit: gross 1,000,000, net 250,000.5",
    ]);
    expect(limitsLines({ cluster: { rho: 0.6 } })).toEqual([
      "strategies whose returns correlate above ρ 0.6 share one limit: none set",
    ]);
  });

  it("a drawdown limit with one level, or none, says which", () => {
    expect(limitsLines({ drawdown: { halt: 75_000 } })).toEqual(["drawdown from peak equity: HALTED at 75,000"]);
    expect(limitsLines({ drawdown: { reduce: 12_500.25 } })).toEqual([
      "drawdown from peak equity: REDUCING at 12,500.25",
    ]);
    expect(limitsLines({ drawdown: {} })).toEqual(["drawdown from peak equity: no level set"]);
  });

  it("diffs settings that are not numbers (from a newer guard) as JSON", () => {
    const before = { orderNotional: 100, killSwitch: { armed: false } } as unknown as RiskLimits;
    const after = {
      orderNotional: 100,
      killSwitch: { armed: "manual" },
      venuesAllowed: ["xnys"],
    } as unknown as RiskLimits;
    expect(limitsDiff(before, after)).toEqual(['killSwitch.armed: false → "manual"', 'venuesAllowed: – → ["xnys"]']);
    expect(limitsDiff(after, {})).toEqual([
      "orderNotional: 100 → –",
      'killSwitch.armed: "manual" → –',
      'venuesAllowed: ["xnys"] → –',
    ]);
  });

  it("the audit trail of a change to such a setting shows it, and the latest change's author heads the reply", () => {
    const audit: LimitsChange[] = [
      {
        version: 3,
        by: "carol",
        at: NOW,
        note: "arm by hand",
        previous: { killSwitch: null } as unknown as RiskLimits,
        limits: { killSwitch: "manual" } as unknown as RiskLimits,
      },
    ];
    expect(auditLines(audit)).toEqual([
      "v3  2026-03-09T08:30:00.000Z  carol  arm by hand",
      '      killSwitch: null → "manual"',
    ]);
    // The audit asked for may not reach the version in force: no author is named then.
    expect(limitsReplyLines({ version: 4, limits: {}, audit })[0]).toBe("limits version 4");
  });
});
