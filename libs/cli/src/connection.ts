/**
 * Opening and closing the NATS connection and the registry client around one
 * command, with failures explained in terms an operator can act on.
 */
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { StratregClient } from "@stratreg/client";
import { StratregError } from "@stratreg/protocol";
import { CliError } from "./errors.js";
import type { GlobalOptions } from "./options.js";

/** Connects to NATS; an unreachable or refusing server becomes a CliError naming the URL. */
export async function openNats(options: GlobalOptions): Promise<NatsConnection> {
  try {
    return await connect({
      servers: options.nats.split(",").map((url) => url.trim()),
      user: options.user,
      pass: options.password,
      name: "stratreg-cli",
      // A person is waiting: fail the first connect quickly instead of the default 20 s.
      timeout: Math.min(options.timeout, 10_000),
    });
  } catch (err) {
    const reason = err instanceof Error ? err.message : String(err);
    throw new CliError(
      `cannot connect to NATS at ${options.nats}: ${reason} (set --nats or NATS_URL, and --user/--password if the server needs them)`,
      { cause: err },
    );
  }
}

/** Closes `nc`, flushing what was published; never throws (the command's own result matters more). */
export async function closeNats(nc: NatsConnection): Promise<void> {
  if (!nc.isClosed()) await nc.drain().catch(() => nc.close().catch(() => undefined));
}

/** A registry client for the cluster; a cluster that does not answer is explained, keeping the error code. */
export async function openClient(nc: NatsConnection, options: GlobalOptions): Promise<StratregClient> {
  try {
    return await StratregClient.connect(nc, { cluster: options.cluster, timeoutMs: options.timeout });
  } catch (err) {
    if (!(err instanceof StratregError)) throw err;
    // The client only asks `<cluster>.cluster.info` here, so any failure means no shard of that cluster answered.
    throw new StratregError(
      err.code,
      `no shard of cluster "${options.cluster}" answered within ${options.timeout} ms at ${options.nats} (is --cluster right, and is a shard running?): ${err.message}`,
      { cause: err, retryable: err.retryable },
    );
  }
}

/** Runs `work` with a registry client, closing the connection afterwards whatever happens. */
export async function withClient<T>(options: GlobalOptions, work: (client: StratregClient) => Promise<T>): Promise<T> {
  const nc = await openNats(options);
  try {
    return await work(await openClient(nc, options));
  } finally {
    await closeNats(nc);
  }
}

/** Runs `work` with a bare NATS connection, closing it afterwards whatever happens. */
export async function withNats<T>(options: GlobalOptions, work: (nc: NatsConnection) => Promise<T>): Promise<T> {
  const nc = await openNats(options);
  try {
    return await work(nc);
  } finally {
    await closeNats(nc);
  }
}
