import type { PartitionStatus, ShardStatus } from "@stratreg/protocol";
import { describe, expect, it } from "vitest";
import type { ShardReport } from "./collect.js";
import { PartitionFlags, partitionTableLines, partitionView, stateTableLines } from "./partitions.js";

function claim(partition: number, state: string, epoch: number, extra: Partial<PartitionStatus> = {}): PartitionStatus {
  return { partition, state, epoch, leaseAgeMs: 120, logSeq: 40, snapshotSeq: 0, queued: 0, strategies: 5, ...extra };
}

function shard(member: string, serving: number[], loading: number[], partitions?: PartitionStatus[]): ShardReport {
  const status: ShardStatus = {
    cluster: "c",
    member,
    members: [],
    serving,
    loading,
    strategies: 0,
    rss: 0,
    heapUsed: 0,
    uptimeMs: 0,
    requests: {},
    errors: 0,
  };
  if (partitions !== undefined) status.partitions = partitions;
  return { instance: member, version: "0.2.0", started: "", status };
}

describe("partition view", () => {
  // Partition 1 is moving from a to b; partition 3 has no owner at all.
  const a = shard("a", [0], [], [claim(0, "serving", 3), claim(1, "handing-off", 2, { queued: 4 })]);
  const b = shard("b", [2], [1], [claim(1, "acquiring", 0, { leaseAgeMs: -1 }), claim(2, "serving", 1)]);

  it("has a row per claim, sorted, and one per partition nobody claims", () => {
    const view = partitionView([b, a], 4, []);
    expect(view.rows.map((row) => [row.partition, row.owner, row.state, row.flag])).toEqual([
      [0, "a", "serving", null],
      [1, "a", "handing-off", null],
      [1, "b", "acquiring", null],
      [2, "b", "serving", null],
      [3, null, "unowned", PartitionFlags.NoOwner],
    ]);
    expect(view.unowned).toEqual([3]);
    expect(view.withoutDetails).toEqual([]);
  });

  it("counts claims by state, in all and per member", () => {
    const { states } = partitionView([a, b], 4, []);
    expect(states.total).toEqual({ serving: 2, "handing-off": 1, acquiring: 1 });
    expect(states.members).toEqual({ a: { serving: 1, "handing-off": 1 }, b: { acquiring: 1, serving: 1 } });
    expect(stateTableLines(states)).toEqual([
      "MEMBER  ACQUIRING  SERVING  HANDING-OFF",
      "a               0        1            1",
      "b               1        1            0",
      "total           1        2            1",
    ]);
  });

  it("flags partitions several members serve", () => {
    const twice = shard("c", [2], [], [claim(2, "serving", 2)]);
    const view = partitionView([a, b, twice], 4, [2]);
    expect(view.rows.filter((row) => row.flag === PartitionFlags.MultiServed).map((row) => row.owner)).toEqual([
      "b",
      "c",
    ]);
  });

  it("still counts shards that send no partition details, by their serving and loading lists", () => {
    const old = shard("old", [0, 1], [2]);
    const view = partitionView([old], 4, []);
    expect(view.withoutDetails).toEqual(["old"]);
    expect(view.unowned).toEqual([3]);
    expect(view.rows[2]).toEqual({
      partition: 2,
      owner: "old",
      state: "loading",
      epoch: null,
      leaseAgeMs: null,
      logSeq: null,
      snapshotSeq: null,
      queued: null,
      strategies: null,
      flag: null,
    });
    expect(view.states.total).toEqual({ serving: 2, loading: 1 });
  });

  it("finds no unowned partitions when the partition count is unknown", () => {
    expect(partitionView([a], undefined, []).unowned).toEqual([]);
    expect(stateTableLines({ total: {}, members: {} })).toEqual([]);
  });

  it("renders every row as a table, unknown numbers and absent leases as -", () => {
    const view = partitionView([a, b, shard("old", [], [3])], 5, []);
    expect(partitionTableLines(view.rows)).toEqual([
      "PARTITION  OWNER  STATE        EPOCH  LEASE AGE (ms)  LOG SEQ  SNAPSHOT SEQ  QUEUED  STRATEGIES  FLAG",
      "        0  a      serving          3             120       40             0       0           5",
      "        1  a      handing-off      2             120       40             0       4           5",
      "        1  b      acquiring        0               -       40             0       0           5",
      "        2  b      serving          1             120       40             0       0           5",
      "        3  old    loading          -               -        -             -       -           -",
      "        4  -      unowned          -               -        -             -       -           -  no-owner",
    ]);
  });
});
