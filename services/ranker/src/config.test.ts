import { describe, expect, test } from "vitest";
import { loadConfig } from "./config.js";

describe("loadConfig", () => {
  test("flags override the environment; defaults fill the rest", () => {
    const config = loadConfig(["--cluster", "prod", "--id", "r-7"], {
      STRATREG_CLUSTER: "other",
      NATS_URL: "nats://a:4222,nats://b:4222",
      NATS_USER: "svc",
      NATS_PASSWORD: "pw",
      STRATREG_RANKER_STALE_MS: "5000",
    });
    expect(config).toMatchObject({
      cluster: "prod",
      member: "r-7",
      natsUrl: "nats://a:4222,nats://b:4222",
      natsUser: "svc",
      natsPassword: "pw",
      staleMs: 5000,
      requestTimeoutMs: 1000,
      maxScatters: 32,
      concurrency: 16,
    });
  });

  test("bad settings are refused, naming the setting", () => {
    expect(() => loadConfig([], { STRATREG_RANKER_STALE_MS: "soon" })).toThrow(/STRATREG_RANKER_STALE_MS/);
    expect(() => loadConfig(["--id", "a.b"], {})).toThrow(/ranker id/);
    expect(() => loadConfig(["--cluster", "Prod"], {})).toThrow(/cluster name/);
    expect(() => loadConfig(["--partitions", "4"], {})).toThrow();
  });
});
