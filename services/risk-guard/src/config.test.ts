import { describe, expect, test } from "vitest";
import { loadConfig } from "./config.js";

describe("risk guard config", () => {
  test("defaults, then the environment, then flags", () => {
    const config = loadConfig([], { STRATREG_RISK_GUARD_ID: "g-1" });
    expect(config).toMatchObject({
      member: "g-1",
      cluster: "stratreg",
      leaseMs: 3000,
      leaseMarginMs: 600,
      resumeConfirmations: 1,
      riskIntervalMs: 10_000,
      logLevel: "info",
    });
    const custom = loadConfig(["--id", "g-2", "--cluster", "c2", "--log-level", "debug"], {
      STRATREG_RISK_GUARD_ID: "g-1",
      STRATREG_RISK_LEASE_MS: "1000",
      STRATREG_RISK_RESUME_CONFIRMATIONS: "2",
    });
    expect(custom).toMatchObject({
      member: "g-2",
      cluster: "c2",
      leaseMs: 1000,
      leaseMarginMs: 200,
      resumeConfirmations: 2,
      logLevel: "debug",
    });
  });

  test("refuses a bad setting, naming it", () => {
    expect(() => loadConfig([], { STRATREG_RISK_RESUME_CONFIRMATIONS: "3" })).toThrow(
      /STRATREG_RISK_RESUME_CONFIRMATIONS/,
    );
    expect(() => loadConfig([], { STRATREG_RISK_LEASE_MS: "1000", STRATREG_RISK_LEASE_MARGIN_MS: "1000" })).toThrow(
      /STRATREG_RISK_LEASE_MARGIN_MS must be an integer in \[10, 999\]/,
    );
    expect(() => loadConfig(["--bogus"], {})).toThrow();
  });
});
