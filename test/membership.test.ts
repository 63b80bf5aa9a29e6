/**
 * Membership and ownership with real shard processes: partitions follow
 * rendezvous hashing over the live shards, adding or removing one shard of N
 * moves about 1/N of the partitions and no others, data stays readable
 * throughout, and a shard whose config disagrees with the cluster refuses to start.
 */

import { partitionsOwnedBy } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { ownership, startRegistry, startShard, type TestRegistry, waitForServing } from "./support/registry.js";

const PARTITIONS = 64;

describe("scaling by adding and removing shards", () => {
  let registry: TestRegistry;
  let cluster: string;
  beforeAll(async () => {
    cluster = uniqueClusterName("scale");
    registry = await startRegistry(inject("natsUrl"), cluster, ["m-1", "m-2", "m-3"], { partitions: PARTITIONS });
    const inputs = Array.from({ length: 2000 }, (_, i) => ({ id: `sc-${i}`, name: `s${i}`, owner: "o" }));
    expect((await registry.client.registerMany(inputs)).registered).toBe(2000);
  });
  afterAll(async () => {
    await registry?.close();
  });

  it("serves each partition from the member rendezvous hashing picks", async () => {
    const owners = await ownership(registry.nc, cluster, PARTITIONS);
    for (const member of ["m-1", "m-2", "m-3"]) {
      const expected = partitionsOwnedBy(member, PARTITIONS, ["m-1", "m-2", "m-3"]);
      expect(
        [...owners]
          .filter(([, m]) => m === member)
          .map(([p]) => p)
          .sort((a, b) => a - b),
      ).toEqual(expected);
    }
  });

  it("moves only the partitions the new shard wins when a fourth joins, about a quarter", async () => {
    const before = await ownership(registry.nc, cluster, PARTITIONS);
    registry.startShard("m-4");
    await waitForServing(registry.nc, cluster, PARTITIONS, ["m-1", "m-2", "m-3", "m-4"]);
    const after = await ownership(registry.nc, cluster, PARTITIONS);
    const moved = [...after].filter(([p, m]) => before.get(p) !== m);
    expect(moved.every(([, m]) => m === "m-4")).toBe(true);
    expect(moved.length).toBe(partitionsOwnedBy("m-4", PARTITIONS, ["m-1", "m-2", "m-3", "m-4"]).length);
    expect(moved.length).toBeGreaterThan(PARTITIONS / 4 / 2);
    expect(moved.length).toBeLessThan((PARTITIONS / 4) * 2);
    const { missing } = await registry.client.getMany(Array.from({ length: 2000 }, (_, i) => `sc-${i}`));
    expect(missing).toEqual([]);
  });

  it("hands a stopped shard's partitions to the others and moves nothing else", async () => {
    const before = await ownership(registry.nc, cluster, PARTITIONS);
    const leaving = await registry.shards.get("m-2")?.stop();
    expect(leaving?.code).toBe(0);
    await waitForServing(registry.nc, cluster, PARTITIONS, ["m-1", "m-3", "m-4"]);
    const after = await ownership(registry.nc, cluster, PARTITIONS);
    for (const [p, m] of after) if (before.get(p) !== "m-2") expect(m, `partition ${p}`).toBe(before.get(p));
    const { missing, strategies } = await registry.client.getMany(Array.from({ length: 2000 }, (_, i) => `sc-${i}`));
    expect(missing).toEqual([]);
    expect(strategies).toHaveLength(2000);
    // And it keeps taking writes.
    expect((await registry.client.register({ id: "after-leave", name: "n", owner: "o" })).version).toBe(1);
  });
});

describe("cluster config", () => {
  it("refuses to start a shard configured with another partition count, with exit code 2", async () => {
    const cluster = uniqueClusterName("cfg");
    const natsUrl = inject("natsUrl");
    const registry = await startRegistry(natsUrl, cluster, ["c-1"], { partitions: 8 });
    try {
      const odd = startShard({ natsUrl, cluster, member: "c-2", partitions: 16 });
      const exit = await odd.exited;
      expect(exit.code).toBe(2);
      expect(odd.logs().join("\n")).toMatch(/has 8 partitions but this shard was configured with 16/);
      // A shard without an explicit count adopts the cluster's.
      registry.startShard("c-3");
      await waitForServing(registry.nc, cluster, 8, ["c-1", "c-3"]);
    } finally {
      await registry.close();
    }
  });

  it("stops a second process that claims a member id already in use, without evicting the first", async () => {
    const cluster = uniqueClusterName("twin");
    const natsUrl = inject("natsUrl");
    const registry = await startRegistry(natsUrl, cluster, ["twin", "other"], { partitions: 8 });
    try {
      const impostor = startShard({ natsUrl, cluster, member: "twin", partitions: 8 });
      const exit = await impostor.exited;
      expect(exit.code).toBe(2);
      expect(impostor.logs().join("\n")).toMatch(/another process is running as member twin/);
      // The peer never heard "twin" leave, and both original members still serve their share.
      const other = registry.shards.get("other");
      expect(other?.logs().some((line) => line.includes('"member left"') && line.includes('"peer":"twin"'))).toBe(
        false,
      );
      await waitForServing(registry.nc, cluster, 8, ["other", "twin"]);
    } finally {
      await registry.close();
    }
  });
});
