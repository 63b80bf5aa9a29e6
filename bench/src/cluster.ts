/**
 * The clusters a figure runs on its own: shards (and rankers) supervised on the
 * bench's nats-server under a cluster name of the figure's, waiting until they
 * serve, and registering pre-encoded batches.
 */
import { performance } from "node:perf_hooks";
import { DiscardPolicy, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { type NatsConnection, RequestError, TimeoutError } from "@nats-io/transport-node";
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
 * Sends a pre-encoded write and its reply body, resending the same bytes as the
 * SDK does (the command id applies it at most once) when an attempt goes
 * unanswered (an owner whose lease looks stale, a starved process, stays
 * silent), nobody serves the partition (it is moving), or the reply is a
 * retryable error; throws on any other error reply.
 */
export async function sendWrite<B>(
  nc: NatsConnection,
  subject: string,
  payload: Uint8Array,
  options: { attemptMs?: number; timeoutMs?: number; onRetry?: () => void } = {},
): Promise<B> {
  const deadline = performance.now() + (options.timeoutMs ?? 60_000);
  for (let attempt = 0; ; attempt++) {
    const attemptMs = Math.max(1, Math.min(options.attemptMs ?? 10_000, deadline - performance.now()));
    let why: string;
    try {
      const reply = decode((await nc.request(subject, payload, { timeout: attemptMs })).data) as Reply<B>;
      if (reply.ok) return reply.body;
      why = `${reply.error.code} ${reply.error.message}`;
      if (!reply.error.retryable) throw new Error(`${subject}: ${why}`);
    } catch (err) {
      const unanswered = err instanceof TimeoutError || (err instanceof RequestError && err.isNoResponders());
      if (!unanswered) throw err;
      why = (err as Error).message;
    }
    if (performance.now() >= deadline) throw new Error(`${subject}: no answer before the deadline (${why})`);
    options.onRetry?.();
    await new Promise((r) => setTimeout(r, Math.min(100 * 2 ** attempt, 1000)));
  }
}

/** Registers pre-encoded batches, 32 in flight; throws on the first error reply. */
export async function register(nc: NatsConnection, client: StratregClient, batches: EncodedBatch[]): Promise<void> {
  await drain(batches, 32, async (b) => {
    await sendWrite(nc, client.subjects.partition(b.partition, PartitionOps.RegisterBatch), b.payload);
  });
}

/**
 * The raw baseline of registration: a file stream `name` taking `<name>.<partition>`
 * subjects, and an append of the same batches to it, `concurrency` in flight, that
 * resolves with the seconds it took.
 */
export async function rawAppender(
  nc: NatsConnection,
  name: string,
  concurrency: number,
): Promise<(batches: EncodedBatch[]) => Promise<number>> {
  await (await jetstreamManager(nc)).streams.add({
    name,
    subjects: [`${name}.*`],
    storage: StorageType.File,
    discard: DiscardPolicy.Old,
  });
  const js = jetstream(nc);
  return (batches) =>
    drain(batches, concurrency, (b) => js.publish(`${name}.${b.partition}`, b.payload, { timeout: 60_000 }));
}
