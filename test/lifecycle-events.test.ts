/**
 * Lifecycle events across a takeover: the owner of a partition is SIGKILLed
 * after its moves, the other shard takes the partition and publishes again the
 * events of the recent entries it read, and the stream's duplicate window keeps
 * exactly one of each: a late consumer sees every event once.
 */
import { followLifecycleEvents, type StreamedLifecycleEvent } from "@stratreg/client";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { ownership, startRegistry, type TestRegistry, waitForServing } from "./support/registry.js";

let registry: TestRegistry;
let cluster: string;
const PARTITIONS = 4;

beforeAll(async () => {
  cluster = uniqueClusterName("life-ev");
  registry = await startRegistry(inject("natsUrl"), cluster, ["ev-shard-1", "ev-shard-2"], { partitions: PARTITIONS });
});

afterAll(async () => {
  await registry?.close();
});

it("keeps one event per entry when a new owner publishes the recent ones again", async () => {
  const ids = Array.from({ length: 12 }, (_, i) => `ev-${i}`);
  await registry.client.registerMany(ids.map((id) => ({ id, name: id, owner: "desk" })));
  for (const id of ids) await registry.client.transition(id, "backtest", { by: "quant", reason: "start" });
  const owners = await ownership(registry.nc, cluster, PARTITIONS);
  const victim = owners.get(registry.client.partitionOf("ev-0")) as string;
  const survivor = victim === "ev-shard-1" ? "ev-shard-2" : "ev-shard-1";
  await registry.shards.get(victim)?.kill("SIGKILL");
  await waitForServing(registry.nc, cluster, PARTITIONS, [survivor]);
  // A move after the takeover: the survivor's own events follow the republished ones.
  await registry.client.transition("ev-0", "retire", { by: "quant", reason: "done" });

  const follower = await followLifecycleEvents(registry.nc, { cluster, from: "all" });
  const seen: StreamedLifecycleEvent[] = [];
  for await (const event of follower) {
    seen.push(event);
    if (event.ids.includes("ev-0") && event.event === "RETIRE") break;
  }
  await follower.stop();
  const moves = seen.filter((e) => e.kind === "state");
  for (const id of ids) {
    expect(
      moves.filter((e) => e.ids.includes(id) && e.event === "START_BACKTEST"),
      id,
    ).toHaveLength(1);
  }
  const created = seen.filter((e) => e.kind === "created").flatMap((e) => e.ids);
  expect(created.sort()).toEqual([...ids].sort());
  const identities = seen.map((e) => `${e.partition}:${e.seq}:${e.kind}`);
  expect(new Set(identities).size).toBe(identities.length);
});
