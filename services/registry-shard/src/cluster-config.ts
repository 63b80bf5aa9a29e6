/**
 * The cluster config (partition count, replicas) lives in a KV bucket. The
 * first shard creates it; every later one checks it matches, because a member
 * hashing ids into another number of partitions would route them elsewhere.
 */
import type { JetStreamClient } from "@nats-io/jetstream";
import { type KV, type KvEntry, Kvm } from "@nats-io/kv";
import { RequestError } from "@nats-io/transport-node";
import {
  type ClusterConfig,
  type ClusterSubjects,
  ErrorCodes,
  PROTOCOL_VERSION,
  StratregError,
} from "@stratreg/protocol";

const CONFIG_KEY = "config";

/**
 * Creates the cluster config, or reads the existing one. A shard that was given a
 * partition count explicitly (`wantPartitions`) refuses a cluster with another.
 */
export async function ensureClusterConfig(
  js: JetStreamClient,
  subjects: ClusterSubjects,
  defaults: { partitions: number; replicas: number },
  wantPartitions: number | undefined,
): Promise<ClusterConfig> {
  const kvm = new Kvm(js);
  const kv = await kvm.create(subjects.configBucket, { history: 1, replicas: defaults.replicas });
  const proposed: ClusterConfig = {
    cluster: subjects.cluster,
    partitions: wantPartitions ?? defaults.partitions,
    replicas: defaults.replicas,
    protocol: PROTOCOL_VERSION,
    createdAt: Date.now(),
  };
  let config: ClusterConfig;
  try {
    await kv.create(CONFIG_KEY, JSON.stringify(proposed));
    config = proposed;
  } catch {
    const entry = await getSettled(kv, CONFIG_KEY, 10_000);
    if (entry === null)
      throw new Error(`cluster config ${subjects.configBucket}/${CONFIG_KEY} could not be created or read`);
    config = entry.json<ClusterConfig>();
  }
  if (wantPartitions !== undefined && config.partitions !== wantPartitions) {
    throw new StratregError(
      ErrorCodes.ConfigMismatch,
      `cluster ${subjects.cluster} has ${config.partitions} partitions but this shard was configured with ${wantPartitions}; a cluster's partition count is fixed when it is created`,
      { details: { cluster: config.partitions, configured: wantPartitions } },
    );
  }
  return config;
}

/**
 * Reads `key`, retrying while the bucket answers "no responders": a replicated
 * bucket another shard has just created can take a moment to elect its leader.
 */
async function getSettled(kv: KV, key: string, withinMs: number): Promise<KvEntry | null> {
  const deadline = Date.now() + withinMs;
  for (;;) {
    try {
      return await kv.get(key);
    } catch (err) {
      if (!(err instanceof RequestError && err.isNoResponders()) || Date.now() > deadline) throw err;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
