/**
 * On a 3-node JetStream cluster with replicated logs (R3), the registry keeps
 * serving and keeps every acknowledged write when a NATS server is SIGKILLed.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { startNatsCluster, uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, expect, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";

let natsCluster: Awaited<ReturnType<typeof startNatsCluster>>;
let registry: TestRegistry;
let cluster: string;

beforeAll(async () => {
  natsCluster = await startNatsCluster({ size: 3 });
  cluster = uniqueClusterName("r3");
  // Each shard connects to every server, so losing one only moves its connection.
  registry = await startRegistry(natsCluster.urls.join(","), cluster, ["r-1", "r-2"], {
    partitions: 8,
    env: { STRATREG_REPLICAS: "3" },
    servers: natsCluster.urls,
  });
});
afterAll(async () => {
  await registry?.close();
  await natsCluster?.stop();
});

it("replicates the log on three servers and survives SIGKILL of one of them", async () => {
  const jsm = await jetstreamManager(registry.nc);
  const info = await jsm.streams.info(`${cluster}-log`);
  expect(info.config.num_replicas).toBe(3);

  const first = Array.from({ length: 500 }, (_, i) => ({ id: `r3-a-${i}`, name: `a${i}`, owner: "o" }));
  expect((await registry.client.registerMany(first)).registered).toBe(500);

  const victim = natsCluster.servers[0];
  await victim?.kill("SIGKILL");

  const second = Array.from({ length: 500 }, (_, i) => ({ id: `r3-b-${i}`, name: `b${i}`, owner: "o" }));
  const result = await registry.client.registerMany(second, { timeoutMs: 30_000 });
  expect(result.registered).toBe(500);
  const { missing } = await registry.client.getMany(
    [...first, ...second].map((s) => s.id),
    { timeoutMs: 30_000 },
  );
  expect(missing).toEqual([]);

  await victim?.restart();
  const third = await registry.client.register(
    { id: "r3-after-restart", name: "c", owner: "o" },
    { timeoutMs: 30_000 },
  );
  expect(third.version).toBe(1);
});
