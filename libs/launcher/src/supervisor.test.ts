/**
 * The supervisor starts each service with the operator's Node options (STRATREG_SERVICE_NODE_ARGS,
 * e.g. to profile them), on a real nats-server: what `ps` shows of a running shard.
 */
import { mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect } from "@nats-io/transport-node";
import { clusterStatus } from "@stratreg/client";
import { uniqueClusterName, waitFor } from "@stratreg/testkit";
import { afterAll, expect, inject, it } from "vitest";
import { ServiceSupervisor, serviceEntry } from "./supervisor.js";

const logDir = mkdtempSync(join(tmpdir(), "stratreg-supervisor-"));
afterAll(() => rmSync(logDir, { recursive: true, force: true }));

/** A process's argv, as the kernel reports it. */
const argv = (pid: number) =>
  readFileSync(`/proc/${pid}/cmdline`, "utf8")
    .split("\0")
    .filter((arg) => arg !== "");

it("runs a shard with the operator's Node options, and the shard serves", async () => {
  const cluster = uniqueClusterName("supervisor");
  const supervisor = new ServiceSupervisor(
    {
      ...process.env,
      NATS_URL: inject("natsUrl"),
      STRATREG_CLUSTER: cluster,
      STRATREG_PARTITIONS: "4",
      STRATREG_SERVICE_NODE_ARGS: " --stack-trace-limit=20  --max-semi-space-size=16",
      LOG_LEVEL: "warn",
    },
    logDir,
    () => undefined,
  );
  const nc = await connect({ servers: inject("natsUrl") });
  try {
    supervisor.start("shard-1");
    const pid = supervisor.pids()["shard-1"] as number;
    expect(argv(pid).slice(1)).toEqual(["--stack-trace-limit=20", "--max-semi-space-size=16", serviceEntry("shard")]);
    // The options are ones Node accepts: the shard comes up and serves every partition.
    await waitFor(
      async () => {
        const status = await clusterStatus(nc, cluster, 4, 300);
        return status.shards.length === 1 && status.unserved.length === 0 && status.contested.length === 0;
      },
      { timeoutMs: 30_000, message: "the shard to serve every partition" },
    );
  } finally {
    await supervisor.stopAll();
    await nc.close();
  }
});
