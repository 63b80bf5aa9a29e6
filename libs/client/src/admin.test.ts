/**
 * The operator helpers against peers that misbehave, on the test run's real
 * nats-server: a foreign service answering the shards' status sweep with
 * garbage, a member that is seen but does not take drain requests, one that
 * never answers, one that refuses, and an event feed carrying things that are
 * not events. (Drains of real shards are tested end to end in the CLI's tests.)
 */
import { connect, type NatsConnection, type Subscription } from "@nats-io/transport-node";
import {
  ConflictError,
  clusterSubjects,
  ErrorCodes,
  encode,
  PROTOCOL_VERSION,
  SHARD_SERVICE_NAME,
  type ShardStatus,
  StratregError,
} from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from "vitest";
import { AdminError, AdminErrorCodes, drainShard, shardStatuses, watchOwnership } from "./admin.js";

let nc: NatsConnection;
const subscriptions: Subscription[] = [];

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
});

afterEach(() => {
  for (const sub of subscriptions.splice(0)) sub.unsubscribe();
});

afterAll(async () => {
  await nc?.close();
});

function status(cluster: string, member: string, extra: Partial<ShardStatus> = {}): ShardStatus {
  return {
    cluster,
    member,
    members: [member],
    serving: [0, 1],
    loading: [],
    strategies: 0,
    rss: 0,
    heapUsed: 0,
    uptimeMs: 1,
    requests: {},
    errors: 0,
    ...extra,
  };
}

/** Answers the shards' status sweep (`$SRV.STATS.<shard service>`) as a shard of `cluster` would. */
async function answerSweep(reply: () => Uint8Array | string): Promise<void> {
  subscriptions.push(
    nc.subscribe(`$SRV.STATS.${SHARD_SERVICE_NAME}`, {
      callback: (_err, msg) => {
        msg.respond(reply());
      },
    }),
  );
  await nc.flush();
}

const statsOf = (s: ShardStatus) =>
  JSON.stringify({
    name: SHARD_SERVICE_NAME,
    metadata: { cluster: s.cluster, member: s.member },
    endpoints: [{ subject: `${s.cluster}.shard.${s.member}.status`, data: s }],
  });

async function answer(subject: string, respond: (reply: (data: Uint8Array) => void) => void): Promise<void> {
  subscriptions.push(nc.subscribe(subject, { callback: (_err, msg) => respond((data) => msg.respond(data)) }));
  await nc.flush();
}

describe("the cluster's status", () => {
  it("leaves out answers to the sweep that are not a shard's status, and shards of other clusters", async () => {
    const cluster = uniqueClusterName("admin-sweep");
    await answerSweep(() => "not json {");
    await answerSweep(() => statsOf(status("another-cluster", "shard-z")));
    await answerSweep(() => JSON.stringify({ name: SHARD_SERVICE_NAME, metadata: { cluster }, endpoints: [] }));
    await answerSweep(() => statsOf(status(cluster, "shard-a")));
    const shards = await shardStatuses(nc, cluster, 300);
    expect(shards.map((s) => s.member)).toEqual(["shard-a"]);
  });
});

describe("draining a member", () => {
  it("refuses a member id that is not one, before anything is sent", async () => {
    await expect(drainShard(nc, "any", "shard.*")).rejects.toThrow(TypeError);
    await expect(drainShard(nc, "any", "shard.*")).rejects.toThrow('"shard.*" is not a member id');
  });

  it("says so when the member is seen but does not take drain requests", async () => {
    const cluster = uniqueClusterName("admin-old");
    await answerSweep(() => statsOf(status(cluster, "shard-a")));
    await answerSweep(() => statsOf(status(cluster, "shard-b")));
    const err = await drainShard(nc, cluster, "shard-a", { partitions: 2, sweepMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdminError);
    expect((err as AdminError).code).toBe(AdminErrorCodes.NotDrainable);
    expect((err as AdminError).message).toContain("stop it with SIGTERM");
  });

  it("reports a member that never answers the request as a retryable NO_REPLY", async () => {
    const cluster = uniqueClusterName("admin-silent");
    await answerSweep(() => statsOf(status(cluster, "shard-a")));
    await answerSweep(() => statsOf(status(cluster, "shard-b")));
    await answer(clusterSubjects(cluster).drain("shard-a"), () => undefined);
    const err = await drainShard(nc, cluster, "shard-a", {
      partitions: 2,
      sweepMs: 200,
      requestTimeoutMs: 300,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(AdminError);
    expect(err).toMatchObject({ code: AdminErrorCodes.NoReply, retryable: true });
    expect((err as AdminError).message).toBe("shard shard-a did not answer the drain request within 300 ms");
  });

  it("hands back the member's own refusal as its error", async () => {
    const cluster = uniqueClusterName("admin-refused");
    await answerSweep(() => statsOf(status(cluster, "shard-a")));
    await answerSweep(() => statsOf(status(cluster, "shard-b")));
    const refusal = new ConflictError(ErrorCodes.Conflict, "already handing off a partition");
    await answer(clusterSubjects(cluster).drain("shard-a"), (reply) =>
      reply(encode({ v: PROTOCOL_VERSION, ok: false, error: refusal.toWire() })),
    );
    const err = await drainShard(nc, cluster, "shard-a", { partitions: 2, sweepMs: 200 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StratregError);
    expect(err).toMatchObject({ code: ErrorCodes.Conflict, message: "already handing off a partition" });
  });

  it("waits on a member already draining, and says the wait timed out while it stays", async () => {
    const cluster = uniqueClusterName("admin-draining");
    await answerSweep(() => statsOf(status(cluster, "shard-a", { draining: true })));
    await answerSweep(() => statsOf(status(cluster, "shard-b", { serving: [] })));
    const accepted: unknown[] = [];
    const result = await drainShard(nc, cluster, "shard-a", {
      partitions: 2,
      sweepMs: 150,
      pollMs: 50,
      timeoutMs: 1200,
      onAccepted: (reply) => accepted.push(reply),
    });
    expect(accepted).toEqual([undefined]);
    expect(result).toMatchObject({ outcome: "timed-out", alreadyDraining: true, reply: undefined, partitions: 2 });
    expect(result.last).toMatchObject({ present: true, held: 2, members: ["shard-a", "shard-b"], unserved: [] });
  });
});

describe("the ownership event feed", () => {
  it("yields only events, skipping messages that do not decode or are not events", async () => {
    const cluster = uniqueClusterName("admin-events");
    const watch = await watchOwnership(nc, cluster);
    const event = { partition: 3, epoch: 7, at: Date.now(), member: "shard-a", change: "acquired" };
    nc.publish(watch.subject, Uint8Array.of(0xc1));
    nc.publish(watch.subject, encode({ partition: "3", member: "shard-a" }));
    nc.publish(watch.subject, encode(event));
    await nc.flush();
    const seen: unknown[] = [];
    for await (const e of watch) {
      seen.push(e);
      break;
    }
    watch.stop();
    expect(seen).toEqual([event]);
  });
});
