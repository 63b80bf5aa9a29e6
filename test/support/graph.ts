/**
 * Test support for the graph service: graph processes on a real nats-server,
 * and a reader of the graph log (the record of every edge decision).
 */
import { fileURLToPath } from "node:url";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import type { NatsConnection } from "@nats-io/transport-node";
import { readSubject } from "@stratreg/fencing";
import type { GraphEntry } from "@stratreg/graph-service";
import { clusterSubjects, decode } from "@stratreg/protocol";
import { type ServiceProcess, spawnService } from "@stratreg/testkit";

export const GRAPH_ENTRY = fileURLToPath(new URL("../../services/graph/dist/main.js", import.meta.url));

/** Starts one graph process with a short lease, so takeovers happen within a test's patience. */
export function startGraph(
  natsUrl: string,
  cluster: string,
  member: string,
  env: Record<string, string> = {},
): ServiceProcess {
  return spawnService({
    entry: GRAPH_ENTRY,
    name: member,
    env: {
      NATS_URL: natsUrl,
      STRATREG_CLUSTER: cluster,
      STRATREG_GRAPH_ID: member,
      STRATREG_GRAPH_LEASE_MS: "1000",
      LOG_LEVEL: "info",
      ...env,
    },
  });
}

/** Waits until `graph` leads. */
export function graphLeading(graph: ServiceProcess, timeoutMs = 20_000): Promise<unknown> {
  return graph.waitForLog((_line, json) => json?.msg === "graph leader", timeoutMs);
}

/** Every entry of the graph log, in order, with its sequence. */
export async function readGraphLog(
  nc: NatsConnection,
  cluster: string,
): Promise<Array<{ seq: number; entry: GraphEntry }>> {
  const subjects = clusterSubjects(cluster);
  const jsm = await jetstreamManager(nc);
  const last = (await jsm.streams.info(subjects.graphLogStream)).state.last_seq;
  const out: Array<{ seq: number; entry: GraphEntry }> = [];
  if (last === 0) return out;
  await readSubject(
    jetstream(nc),
    subjects.graphLogStream,
    subjects.graphLog,
    1,
    last,
    (data, seq) => out.push({ seq, entry: decode(data) as GraphEntry }),
    10_000,
  );
  return out;
}

/** Whether `to` is reachable from `from` along `edges` (brute force, for checking the service). */
export function reachable(edges: ReadonlyMap<string, ReadonlySet<string>>, from: string, to: string): boolean {
  const seen = new Set<string>();
  const stack = [from];
  while (stack.length > 0) {
    const at = stack.pop() as string;
    if (at === to) return true;
    if (seen.has(at)) continue;
    seen.add(at);
    for (const next of edges.get(at) ?? []) stack.push(next);
  }
  return false;
}
