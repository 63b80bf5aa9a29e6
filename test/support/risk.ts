/**
 * Test support for the risk guard: guard processes on a real nats-server, a
 * way to find the active one, and a reader of its log (the decision ledger).
 */
import { fileURLToPath } from "node:url";
import type { NatsConnection } from "@nats-io/transport-node";
import { RiskClient } from "@stratreg/client";
import { clusterSubjects } from "@stratreg/protocol";
import { decodeEntry, type RiskEntry } from "@stratreg/risk-guard";
import { type ServiceProcess, spawnService, waitFor } from "@stratreg/testkit";
import { readLog } from "./logs.js";

export const GUARD_ENTRY = fileURLToPath(new URL("../../services/risk-guard/dist/main.js", import.meta.url));

/** Starts one risk guard process with a short lease, so takeovers happen within a test's patience. */
export function startGuard(
  natsUrl: string,
  cluster: string,
  member: string,
  env: Record<string, string> = {},
): ServiceProcess {
  return spawnService({
    entry: GUARD_ENTRY,
    name: member,
    env: {
      NATS_URL: natsUrl,
      STRATREG_CLUSTER: cluster,
      STRATREG_RISK_GUARD_ID: member,
      STRATREG_RISK_LEASE_MS: "1000",
      LOG_LEVEL: "info",
      ...env,
    },
  });
}

/** The member id of the active guard, once one is active. */
export async function activeGuard(risk: RiskClient, members: string[], timeoutMs = 20_000): Promise<string> {
  return waitFor(
    async () => {
      for (const member of members) {
        const status = await risk.status(member, { timeoutMs: 300 }).catch(() => undefined);
        if (status?.role === "active") return member;
      }
      return undefined;
    },
    { timeoutMs, intervalMs: 100, message: `none of ${members.join(", ")} became the active risk guard` },
  );
}

/** Every entry of the guard's log, in order, with its sequence. */
export function readLedger(nc: NatsConnection, cluster: string): Promise<Array<{ seq: number; entry: RiskEntry }>> {
  const subjects = clusterSubjects(cluster);
  return readLog(nc, subjects.riskLogStream, subjects.riskLogAll, (data) => decodeEntry(data).entry);
}

/** A risk client for `cluster` over `nc` with a patient deadline. */
export function riskClient(nc: NatsConnection, cluster: string): RiskClient {
  return new RiskClient(nc, { cluster, timeoutMs: 15_000 });
}
