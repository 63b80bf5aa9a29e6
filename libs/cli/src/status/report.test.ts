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
    const text = statusLines(status, { ranges: true }).join("\n");
    expect(text).toContain("partitions served by nobody: 2 of 6 (4-5)");
    expect(text).toContain("a: serving 0-2; loading -");
  });

  it("counts partitions by state, flags those with no owner, and lists every partition on request", () => {
    const status = summarize("c", 3, [shard("a", [0]), shard("b", [1])]);
    expect(status.unowned).toEqual([2]);
    expect(status.states).toEqual({ total: { serving: 2 }, members: { a: { serving: 1 }, b: { serving: 1 } } });
    expect(status.withoutPartitionDetails).toEqual(["a", "b"]);
    const brief = statusLines(status).join("\n");
    expect(brief).toContain("partitions by state:\nMEMBER  SERVING\na             1\nb             1\ntotal         2");
    expect(brief).toContain("partitions with no owner: 1 of 3 (2)");
    expect(brief).toContain("a sent no partition details (an older shard): its partitions show their state only");
    expect(brief).not.toContain("PARTITION ");
    const full = statusLines(status, { partitions: true });
    expect(full.slice(-4)).toEqual([
      "PARTITION  OWNER  STATE    EPOCH  LEASE AGE (ms)  LOG SEQ  SNAPSHOT SEQ  QUEUED  STRATEGIES  FLAG",
      "        0  a      serving      -               -        -             -       -           -",
      "        1  b      serving      -               -        -             -       -           -",
      "        2  -      unowned      -               -        -             -       -           -  no-owner",
    ]);
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

  it("keeps a shard's partition details only when every one of them can be read", () => {
    const details = { partition: 1, state: "serving", epoch: 2, leaseAgeMs: 5, logSeq: 9, snapshotSeq: 0, queued: 0 };
    const stats = (partitions: unknown) => ({
      metadata: { cluster: "c" },
      endpoints: [{ subject: "c.shard.a.status", data: { ...shard("a", [1]).status, partitions } }],
    });
    expect(shardReportOf(stats([{ ...details, strategies: 3 }]), "c")?.status.partitions).toHaveLength(1);
    // A field missing: the report falls back on `serving` rather than showing partition 1 as unowned.
    const missing = shardReportOf(stats([details]), "c");
    expect(missing?.status.partitions).toBeUndefined();
    expect(missing?.status.serving).toEqual([1]);
    expect(shardReportOf(stats("all"), "c")?.status.partitions).toBeUndefined();
  });
});
