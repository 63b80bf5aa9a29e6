/**
 * Strategies stored as `draft` keep working. The fixture is a partition log
 * written by the registry before the lifecycle had quality gates (twenty-one
 * strategies registered as drafts, one updated, one retired); a shard of this
 * build replays it and every lifecycle move treats a draft as a candidate.
 */
import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";
import { jetstream } from "@nats-io/jetstream";
import { ErrorCodes, StratregError } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { contextOf, goodEvidence } from "./support/evidence.js";
import { startRegistry, type TestRegistry, waitForServing } from "./support/registry.js";

const FIXTURE = fileURLToPath(new URL("./fixtures/legacy-draft-log.json", import.meta.url));
const fixture = JSON.parse(readFileSync(FIXTURE, "utf8")) as {
  partitions: number;
  entries: Array<{ subject: string; data: string }>;
};

let registry: TestRegistry;
let cluster: string;
const by = "quant-1";

beforeAll(async () => {
  cluster = uniqueClusterName("legacy");
  registry = await startRegistry(inject("natsUrl"), cluster, ["legacy-shard"], { partitions: fixture.partitions });
  // Stop the shard, write the old log into the cluster's log stream, and start it again: it replays the old entries.
  await registry.shards.get("legacy-shard")?.kill("SIGKILL");
  const js = jetstream(registry.nc);
  for (const entry of fixture.entries)
    await js.publish(`${cluster}.${entry.subject}`, Buffer.from(entry.data, "base64"));
  registry.startShard("legacy-shard");
  await waitForServing(registry.nc, cluster, fixture.partitions, ["legacy-shard"]);
});

afterAll(async () => {
  await registry?.close();
});

describe("a log written before the lifecycle had quality gates", () => {
  it("reads back every strategy as it was stored: drafts, one edited, one retired", async () => {
    const all = [];
    for await (const strategy of registry.client.listAll()) all.push(strategy);
    expect(all).toHaveLength(21);
    expect(all.filter((s) => s.state === "draft")).toHaveLength(20);
    expect(await registry.client.get("legacy-1")).toMatchObject({
      state: "draft",
      version: 2,
      description: "edited before the lifecycle had gates",
    });
    expect((await registry.client.get("legacy-2")).state).toBe("retired");
  });

  it("treats a draft as a candidate for every move", async () => {
    const updated = await registry.client.update("legacy-3", 1, { tags: ["legacy", "kept"] });
    expect(updated).toMatchObject({ state: "candidate", version: 2, lifecycle: { value: "candidate" } });

    const testing = await registry.client.attachEvidence("legacy-4", goodEvidence(), { by });
    expect(testing.state).toBe("backtesting");
    expect(contextOf(testing).history?.[0]).toMatchObject({
      event: "ATTACH_EVIDENCE",
      from: "candidate",
      to: "backtesting",
    });
    const valid = await registry.client.transition("legacy-4", "validate", { by, reason: "gates" });
    expect(valid.state).toBe("validated");

    expect((await registry.client.transition("legacy-5", "backtest", { by, reason: "start" })).state).toBe(
      "backtesting",
    );
    expect((await registry.client.retire("legacy-6", { reason: "old" })).state).toBe("retired");

    const refused = await registry.client.transition("legacy-0", "activate", { by, reason: "eager" }).catch((e) => e);
    expect(refused).toBeInstanceOf(StratregError);
    expect(refused).toMatchObject({ code: ErrorCodes.InvalidTransition, details: { state: "candidate" } });
  });

  it("keeps a strategy retired before the change retired", async () => {
    const refused = await registry.client.update("legacy-2", 2, { name: "back" }).catch((e) => e);
    expect(refused).toMatchObject({ code: ErrorCodes.InvalidTransition, details: { state: "retired" } });
  });
});
