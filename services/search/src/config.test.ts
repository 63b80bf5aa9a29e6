import { describe, expect, test } from "vitest";
import { loadConfig } from "./config.js";

describe("loadConfig", () => {
  test("defaults fill every setting the environment leaves out", () => {
    const config = loadConfig([], { STRATREG_SEARCH_ID: "search-1" });
    expect(config).toMatchObject({
      member: "search-1",
      maxLagMs: 2000,
      probeMs: 100,
      maxInFlight: 64,
      startTimeoutMs: 30_000,
      natsUrl: "nats://127.0.0.1:4222",
      natsUser: undefined,
    });
    // Without an id, one from the host and the process.
    expect(loadConfig([], {}).member).toMatch(new RegExp(`^search-.+-${process.pid}$`));
  });

  test("the environment overrides the defaults, and flags override the environment", () => {
    const config = loadConfig(["--cluster", "prod", "--id", "s-7"], {
      STRATREG_CLUSTER: "other",
      STRATREG_SEARCH_ID: "s-env",
      NATS_URL: "nats://a:4222,nats://b:4222",
      NATS_USER: "svc",
      NATS_PASSWORD: "pw",
      STRATREG_SEARCH_MAX_LAG_MS: "500",
      STRATREG_SEARCH_PROBE_MS: "50",
      STRATREG_SEARCH_MAX_IN_FLIGHT: "8",
      STRATREG_SEARCH_START_TIMEOUT_MS: "1000",
    });
    expect(config).toMatchObject({
      cluster: "prod",
      member: "s-7",
      natsUrl: "nats://a:4222,nats://b:4222",
      natsUser: "svc",
      natsPassword: "pw",
      maxLagMs: 500,
      probeMs: 50,
      maxInFlight: 8,
      startTimeoutMs: 1000,
    });
  });

  test("bad settings are refused, naming the setting", () => {
    expect(() => loadConfig([], { STRATREG_SEARCH_MAX_LAG_MS: "soon" })).toThrow(/STRATREG_SEARCH_MAX_LAG_MS/);
    expect(() => loadConfig([], { STRATREG_SEARCH_PROBE_MS: "1" })).toThrow(/STRATREG_SEARCH_PROBE_MS/);
    expect(() => loadConfig([], { STRATREG_SEARCH_MAX_IN_FLIGHT: "0" })).toThrow(/STRATREG_SEARCH_MAX_IN_FLIGHT/);
    expect(() => loadConfig([], { STRATREG_SEARCH_START_TIMEOUT_MS: "2.5" })).toThrow(
      /STRATREG_SEARCH_START_TIMEOUT_MS/,
    );
    expect(() => loadConfig(["--id", "a.b"], {})).toThrow(/search id/);
    expect(() => loadConfig([], { STRATREG_SEARCH_ID: "a b" })).toThrow(/search id/);
    expect(() => loadConfig(["--cluster", "Prod"], {})).toThrow(/cluster name/);
  });
});
