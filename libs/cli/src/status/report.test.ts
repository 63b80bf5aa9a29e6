import type { ShardStatus } from "@stratreg/protocol";
import { describe, expect, it } from "vitest";
import { type ShardReport, shardReportOf } from "./collect.js";
import { statusLines, summarize } from "./report.js";

function shard(member: string, serving: number[], loading: number[] = []): ShardReport {
  const status: ShardStatus = {
    cluster: "c",
    member,
    members: [],
    serving,
    loading,
    strategies: serving.length * 10,
    rss: 50 * 1024 * 1024,
    heapUsed: 0,
    uptimeMs: 3000,
    requests: {},
    errors: 0,
  };
  return { instance: `i-${member}`, version: "0.1.0", started: "", status };
}

describe("status report", () => {
  it("finds partitions served by nobody and by several members", () => {
    const status = summarize("c", 6, [shard("a", [0, 1, 2]), shard("b", [2, 3], [4])]);
    expect(status.unserved).toEqual([4, 5]);
    expect(status.multiServed).toEqual([2]);
    expect(status.totals).toMatchObject({ members: 2, serving: 5, loading: 1, strategies: 50 });
    expect(status.healthy).toBe(false);
    const text = statusLines(status, true).join("\n");
    expect(text).toContain("partitions served by nobody: 2 of 6 (4-5)");
    expect(text).toContain("a: serving 0-2; loading -");
  });

  it("is healthy when every partition is served exactly once", () => {
    const status = summarize("c", 4, [shard("a", [0, 2]), shard("b", [1, 3])]);
    expect(status.healthy).toBe(true);
    expect(summarize("c", undefined, []).healthy).toBe(false);
  });

  it("keeps only stats replies of this cluster's shards", () => {
    const stats = (cluster: string) => ({
      name: "stratreg-shard",
      id: "x",
      version: "0.1.0",
      started: "2024-01-01T00:00:00Z",
      metadata: { cluster, member: "a" },
      endpoints: [
        { name: "cluster-info", subject: `${cluster}.cluster.info`, data: null },
        { name: "status", subject: `${cluster}.shard.a.status`, data: shard("a", [1]).status },
      ],
    });
    expect(shardReportOf(stats("c"), "c")?.status.serving).toEqual([1]);
    expect(shardReportOf(stats("other"), "c")).toBeUndefined();
    expect(shardReportOf({ metadata: { cluster: "c" }, endpoints: [] }, "c")).toBeUndefined();
  });
});
