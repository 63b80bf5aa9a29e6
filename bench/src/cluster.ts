/**
 * The clusters a figure runs on its own: shards (and rankers) supervised on the
 * bench's nats-server under a cluster name of the figure's, waiting until they
 * serve, and registering pre-encoded batches.
 */
import { performance } from "node:perf_hooks";
import { type Msg, type NatsConnection, TimeoutError } from "@nats-io/transport-node";
import { clusterStatus, type StratregClient } from "@stratreg/client";
import { ServiceSupervisor } from "@stratreg/launcher";
import { decode, PartitionOps, type Reply } from "@stratreg/protocol";
import type { EncodedBatch } from "./batches.js";
import { drain } from "./loop.js";

/** Partitions of every cluster the bench starts. */
export const PARTITIONS = 256;

/** The bench's nats-server, as a figure needs it. */
export interface Server {
  url: string;
  storeDir: string;
}

/** Where the shards of `cluster` write their logs (BENCH_LOG_DIR keeps them past the run). */
function logDir(server: Server, cluster: string): string {
  return `${process.env.BENCH_LOG_DIR ?? server.storeDir}/logs-${cluster}`;
}

/** A supervisor of services of `cluster` on the bench's server. */
export function supervisor(
  server: Server,
  cluster: string,
  say: (line: string) => void,
  env: Record<string, string> = {},
): ServiceSupervisor {
  return new ServiceSupervisor(
    {
      ...process.env,
      NATS_URL: server.url,
      STRATREG_CLUSTER: cluster,
      STRATREG_PARTITIONS: String(PARTITIONS),
      // BENCH_SHARD_LOG_LEVEL=info (with BENCH_LOG_DIR) to read what the shards did.
      LOG_LEVEL: process.env.BENCH_SHARD_LOG_LEVEL ?? "warn",
      ...env,
    },
    logDir(server, cluster),
    say,
  );
}

/** Waits until exactly `members` serve every partition; returns when (monotonic ms). */
export async function settled(nc: NatsConnection, cluster: string, members: number): Promise<number> {
  for (;;) {
    const status = await clusterStatus(nc, cluster, PARTITIONS, 200);
    const serving = status.shards.filter((s) => s.serving.length > 0).length;
    if (serving === members && status.unserved.length === 0 && status.contested.length === 0) return performance.now();
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** The ids of the strategies of `batches`, in batch order. */
export function idsOf(batches: EncodedBatch[]): string[] {
  return batches.flatMap((b) =>
    (decode(b.payload) as { body: { strategies: Array<{ id: string }> } }).body.strategies.map((s) => s.id),
  );
}

/**
 * Sends a pre-encoded write and resends the same bytes when an attempt goes
 * unanswered, as the SDK does: an owner whose lease looks stale (a starved
 * process) stays silent, and the same command id is applied at most once.
 */
export async function sendWrite(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array,
  options: { attemptMs?: number; timeoutMs?: number; onRetry?: () => void } = {},
): Promise<Msg> {
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  for (;;) {
    const attempt = Math.max(1, Math.min(options.attemptMs ?? 10_000, deadline - performance.now()));
    try {
      return await nc.request(subject, payload, { timeout: attempt });
    } catch (err) {
      if (!(err instanceof TimeoutError) || performance.now() >= deadline) throw err;
      options.onRetry?.();
    }
  }
}

/** Registers pre-encoded batches, 32 in flight; throws on the first error reply. */
export async function register(nc: NatsConnection, client: StratregClient, batches: EncodedBatch[]): Promise<void> {
  await drain(batches, 32, async (b) => {
    const msg = await sendWrite(nc, client.subjects.partition(b.partition, PartitionOps.RegisterBatch), b.payload);
    const reply = decode(msg.data) as Reply<unknown>;
    if (!reply.ok) throw new Error(`register-batch failed: ${reply.error.code} ${reply.error.message}`);
  });
}
