/**
 * Test support for the graph service: graph processes on a real nats-server,
 * and a reader of the graph log (the record of every edge decision).
 */
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/transport-node";
import type { GraphEntry } from "@stratreg/graph-service";
import { clusterSubjects, decode } from "@stratreg/protocol";
import { type ServiceProcess, spawnService } from "@stratreg/testkit";
import { readLog } from "./logs.js";

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
export function readGraphLog(nc: NatsConnection, cluster: string): Promise<Array<{ seq: number; entry: GraphEntry }>> {
  const subjects = clusterSubjects(cluster);
  return readLog(nc, subjects.graphLogStream, subjects.graphLog, (data) => decode(data) as GraphEntry);
}
