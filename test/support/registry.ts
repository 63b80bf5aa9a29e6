/**
 * Test support for cross-service tests: real shard processes on a real
 * nats-server, and a client once every partition is served.
 */
import { fileURLToPath } from "node:url";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { clusterStatus, StratregClient } from "@stratreg/client";
import { type ServiceProcess, spawnService, waitFor } from "@stratreg/testkit";

export const SHARD_ENTRY = fileURLToPath(new URL("../../services/registry-shard/dist/main.js", import.meta.url));

/** Fast membership timings so tests settle in well under a second. */
export const FAST_MEMBERSHIP = {
  STRATREG_HEARTBEAT_MS: "150",
  STRATREG_MEMBER_TTL_MS: "600",
  STRATREG_JOIN_GRACE_MS: "300",
  STRATREG_LEASE_MS: "1000",
  LOG_LEVEL: "info",
};

export interface ShardOptions {
  natsUrl: string;
  cluster: string;
  member: string;
  partitions?: number;
  env?: Record<string, string>;
}

/** Starts one shard process. */
export function startShard(options: ShardOptions): ServiceProcess {
  return spawnService({
    entry: SHARD_ENTRY,
    name: options.member,
    env: {
      ...FAST_MEMBERSHIP,
      NATS_URL: options.natsUrl,
      STRATREG_CLUSTER: options.cluster,
      STRATREG_MEMBER_ID: options.member,
      ...(options.partitions === undefined ? {} : { STRATREG_PARTITIONS: String(options.partitions) }),
      ...options.env,
    },
  });
}

/** Waits until `members` (exactly) serve every partition of `cluster`, each partition once. */
export async function waitForServing(
  nc: NatsConnection,
  cluster: string,
  partitions: number,
  members: string[],
  timeoutMs = 30_000,
): Promise<void> {
  const want = [...members].sort().join(",");
  await waitFor(
    async () => {
      const status = await clusterStatus(nc, cluster, partitions, 150);
      const serving = status.shards
        .filter((s) => s.serving.length > 0)
        .map((s) => s.member)
        .sort()
        .join(",");
      return status.unserved.length === 0 && status.contested.length === 0 && serving === want;
    },
    { timeoutMs, intervalMs: 100, message: `shards ${want} did not settle on ${partitions} partitions of ${cluster}` },
  );
}

/** Which member serves each partition now. */
export async function ownership(nc: NatsConnection, cluster: string, partitions: number): Promise<Map<number, string>> {
  const status = await clusterStatus(nc, cluster, partitions, 150);
  const owners = new Map<number, string>();
  for (const shard of status.shards) for (const p of shard.serving) owners.set(p, shard.member);
  return owners;
}

/** A running test cluster: shard processes, a connection and a client. */
export interface TestRegistry {
  nc: NatsConnection;
  client: StratregClient;
  shards: Map<string, ServiceProcess>;
  startShard(member: string): ServiceProcess;
  close(): Promise<void>;
}

/** Starts `members` as shard processes and waits until they serve every partition. */
export async function startRegistry(
  natsUrl: string,
  cluster: string,
  members: string[],
  options: { partitions?: number; env?: Record<string, string>; servers?: string[] } = {},
): Promise<TestRegistry> {
  const shards = new Map<string, ServiceProcess>();
  const start = (member: string) => {
    const shard = startShard({ natsUrl, cluster, member, partitions: options.partitions, env: options.env });
    shards.set(member, shard);
    return shard;
  };
  for (const member of members) start(member);
  const nc = await connect({ servers: options.servers ?? natsUrl, maxReconnectAttempts: -1, reconnectTimeWait: 200 });
  const client = await StratregClient.connect(nc, { cluster, timeoutMs: 15_000 });
  await waitForServing(nc, cluster, client.partitions, members);
  return {
    nc,
    client,
    shards,
    startShard: start,
    close: async () => {
      await nc.close().catch(() => undefined);
      await Promise.all([...shards.values()].map((s) => s.kill("SIGKILL").catch(() => undefined)));
    },
  };
}

/**
 * Writes each of `ids` again, unchanged but for its version, which supersedes
 * about half of what their partitions' logs hold, and waits until each of those
 * partitions has snapshotted by itself: loading them then reads a snapshot and
 * the log after it.
 */
export async function supersedeOnce(registry: TestRegistry, cluster: string, ids: string[]): Promise<void> {
  const { client, nc } = registry;
  for (const id of ids) {
    const current = await client.get(id);
    await client.update(id, current.version, { description: current.description });
  }
  const partitions = new Set(ids.map((id) => client.partitionOf(id)));
  await waitFor(
    async () => {
      const status = await clusterStatus(nc, cluster, client.partitions, 150);
      const snapshotted = status.shards.flatMap((s) => s.partitions ?? []).filter((p) => p.snapshotSeq > 0);
      return [...partitions].every((p) => snapshotted.some((s) => s.partition === p));
    },
    { timeoutMs: 15_000, message: "partitions whose strategies were all updated did not snapshot" },
  );
}
