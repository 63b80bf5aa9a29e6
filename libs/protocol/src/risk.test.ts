import { describe, expect, test } from "vitest";
import { ErrorCodes } from "./errors.js";
import { clusterSubjects } from "./subjects.js";
import { riskLimitsError } from "./validate.js";

describe("risk limits", () => {
  test("valid limits have no error; an invalid one names its field and code", () => {
    expect(riskLimitsError({})).toBeUndefined();
    expect(
      riskLimitsError({
        total: { gross: 1e6 },
        symbols: { "*": { net: 0 } },
        cluster: { rho: 0.8 },
        reservationTtlMs: 100,
      }),
    ).toBeUndefined();
    expect(riskLimitsError({ symbols: { AAPL: { gros: 1 } } })).toMatchObject({
      code: ErrorCodes.UnknownField,
      field: "symbols.AAPL.gros",
    });
    expect(riskLimitsError({ cluster: {} })).toMatchObject({ code: ErrorCodes.MissingField, field: "cluster.rho" });
    expect(riskLimitsError({ strategies: { s: { openOrders: 1.5 } } })).toMatchObject({
      code: ErrorCodes.InvalidField,
      field: "strategies.s.openOrders",
    });
  });

  test("subjects of the risk guard", () => {
    const s = clusterSubjects("c1");
    expect([s.risk("check"), s.riskControl("halt"), s.riskGuardStatus("g-1"), s.tradingState]).toEqual([
      "c1.risk.check",
      "c1.control.risk.halt",
      "c1.riskguard.g-1.status",
      "c1.trading.state",
    ]);
    expect([s.riskLog("entries"), s.riskLogAll, s.riskLogStream, s.riskBucket, s.riskLeaseKey]).toEqual([
      "c1.risklog.entries",
      "c1.risklog.>",
      "c1-risk",
      "c1-risk",
      "leader",
    ]);
  });
});
