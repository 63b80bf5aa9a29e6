import { describe, expect, it } from "vitest";
import { CLUSTER_NAME_PATTERN, uniqueClusterName, WaitForTimeoutError, waitFor } from "./mod.js";

describe("waitFor", () => {
  it("resolves with the first truthy value", async () => {
    let calls = 0;
    const value = await waitFor(async () => (++calls >= 3 ? { calls } : undefined), { intervalMs: 5 });
    expect(value).toEqual({ calls: 3 });
  });

  it("treats a throw as not yet", async () => {
    let calls = 0;
    const value = await waitFor(
      () => {
        calls++;
        if (calls < 3) throw new Error("not yet");
        return "done";
      },
      { intervalMs: 5 },
    );
    expect(value).toBe("done");
  });

  it("times out with the message and the last error", async () => {
    const error = await waitFor(
      () => {
        throw new Error("lease still held");
      },
      { timeoutMs: 100, intervalMs: 10, message: "the partition to move" },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(WaitForTimeoutError);
    expect((error as Error).message).toMatch(/waiting for the partition to move .*lease still held/);
    expect((error as WaitForTimeoutError).attempts).toBeGreaterThan(1);
    expect((error as Error).cause).toBeInstanceOf(Error);
  });
});

describe("uniqueClusterName", () => {
  it("makes valid, distinct names", () => {
    const names = Array.from({ length: 1000 }, () => uniqueClusterName());
    for (const name of names) expect(name).toMatch(CLUSTER_NAME_PATTERN);
    expect(new Set(names).size).toBe(1000);
    expect(uniqueClusterName("shard_test")).toMatch(/^shard_test-[a-z0-9]{10}$/);
  });

  it("refuses prefixes that would make an invalid name", () => {
    expect(() => uniqueClusterName("Upper")).toThrow(RangeError);
    expect(() => uniqueClusterName("9lives")).toThrow(RangeError);
    expect(() => uniqueClusterName("a".repeat(22))).toThrow(RangeError);
  });
});
