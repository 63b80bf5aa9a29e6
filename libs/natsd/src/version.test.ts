import { describe, expect, it } from "vitest";
import { compareVersions, isAtLeast, REPLICATED_NATS_SERVER_VERSION } from "./mod.js";
import { debianUpstreamVersion } from "./version.js";

describe("compareVersions", () => {
  it("compares numerically, part by part", () => {
    expect(compareVersions("2.9.10", "2.10.27")).toBeLessThan(0);
    expect(compareVersions("2.10.27", "2.9.10")).toBeGreaterThan(0);
    expect(compareVersions("2.10.27", "2.10.27")).toBe(0);
    expect(compareVersions("2.10.100", "2.10.27")).toBeGreaterThan(0);
    expect(compareVersions("10.0.0", "9.99.99")).toBeGreaterThan(0);
  });

  it("puts a prerelease before its release", () => {
    expect(compareVersions("2.10.0-beta.1", "2.10.0")).toBeLessThan(0);
    expect(compareVersions("2.10.0", "2.10.0-rc.2")).toBeGreaterThan(0);
    expect(compareVersions("2.10.0-beta.1", "2.10.0-rc.1")).toBeLessThan(0);
    expect(compareVersions("2.10.0-rc.1", "2.9.99")).toBeGreaterThan(0);
  });

  it("refuses what is not a version, so no check passes by accident", () => {
    expect(() => compareVersions("2.10", "2.10.0")).toThrow(RangeError);
    expect(() => compareVersions("v2.10.0", "2.10.0")).toThrow(RangeError);
    expect(() => compareVersions("2.10.0", "")).toThrow(RangeError);
  });

  it("tells which servers can run replicated streams", () => {
    expect(isAtLeast("2.9.10", REPLICATED_NATS_SERVER_VERSION)).toBe(false);
    expect(isAtLeast("2.10.26", REPLICATED_NATS_SERVER_VERSION)).toBe(false);
    expect(isAtLeast("2.10.27", REPLICATED_NATS_SERVER_VERSION)).toBe(true);
    expect(isAtLeast("2.15.1", REPLICATED_NATS_SERVER_VERSION)).toBe(true);
  });
});

describe("debianUpstreamVersion", () => {
  it("drops the epoch, the Debian revision and repack suffixes", () => {
    expect(debianUpstreamVersion("2.10.27-1+b2")).toBe("2.10.27");
    expect(debianUpstreamVersion("2.15.1-1")).toBe("2.15.1");
    expect(debianUpstreamVersion("1:2.15.1-1")).toBe("2.15.1");
    expect(debianUpstreamVersion("2.9.10+ds-3")).toBe("2.9.10");
    expect(debianUpstreamVersion("2.11.0~rc1-1")).toBe("2.11.0-rc1");
    expect(debianUpstreamVersion("2.10.27")).toBe("2.10.27");
  });
});
