import { describe, expect, it } from "vitest";
import { loadConfig } from "./config.js";

describe("loadConfig", () => {
  it("takes the defaults, the environment and the flags, flags first", () => {
    expect(loadConfig([], { STRATREG_VERSIONS_ID: "versions-1" })).toMatchObject({
      member: "versions-1",
      cluster: "stratreg",
      maxLagEntries: 10_000,
      maxInFlight: 256,
      concurrency: 16,
      cacheStrategies: 4096,
      checkpointMs: 250,
    });
    const config = loadConfig(["--id", "v-2", "--cluster", "c2"], {
      STRATREG_VERSIONS_ID: "versions-1",
      STRATREG_VERSIONS_MAX_IN_FLIGHT: "8",
      STRATREG_VERSIONS_CACHE_STRATEGIES: "0",
    });
    expect(config).toMatchObject({ member: "v-2", cluster: "c2", maxInFlight: 8, cacheStrategies: 0 });
  });

  it("names a bad setting and its range", () => {
    expect(() => loadConfig([], { STRATREG_VERSIONS_CONCURRENCY: "0" })).toThrow(
      'STRATREG_VERSIONS_CONCURRENCY must be an integer in [1, 1024], got "0"',
    );
    expect(() => loadConfig(["--replicas", "3"], {})).toThrow(/replicas/);
  });
});
