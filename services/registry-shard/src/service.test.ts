/**
 * Partition endpoints on a real nats-server: an owner whose lease has aged
 * past its answer window (a paused process waking up) stays silent, as does
 * one that learnt it was taken over; a fresh owner answers.
 */
import { performance } from "node:perf_hooks";
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { Lease } from "@stratreg/fencing";
import { clusterSubjects, decode, encode, PROTOCOL_VERSION, partitionOf, type Reply } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { Partition, type PartitionContext } from "./partition.js";
import { PartitionEndpoints, RequestCounters } from "./service.js";
import { ensureLogStream, PartitionLog } from "./store/log.js";
import { SnapshotStore } from "./store/snapshots.js";

const subjects = clusterSubjects(uniqueClusterName("svc"));
let nc: NatsConnection;
let context: PartitionContext;
let endpoints: PartitionEndpoints;
const counters = new RequestCounters();

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureLogStream(jsm, subjects, 1);
  const logger = pino({ level: "silent" });
  context = {
    log: new PartitionLog(js, jsm, subjects),
    snapshots: await SnapshotStore.open(js, subjects, 1),
    member: "m",
    partitions: 4,
    maxEntryBytes: 1_000_000,
    maxReplyBytes: 1_000_000,
    settings: {
      queueMax: 8,
      commandWindowMs: 60_000,
      maxClockSkewMs: 1000,
      snapshotMinBytes: 1 << 30,
      topkDepth: 10,
      retentionMs: 0,
    },
    history: () => Promise.reject(new Error("this test keeps no history")),
    logger,
  };
  endpoints = new PartitionEndpoints(nc, (p) => subjects.partitionWildcard(p), counters, logger);
});
afterAll(async () => {
  await nc?.close();
});

function idOf(partition: number): string {
  for (let i = 0; ; i++) if (partitionOf(`svc-${i}`, 4) === partition) return `svc-${i}`;
}

async function ask(partition: number): Promise<Reply<unknown> | "silence"> {
  try {
    const msg = await nc.request(
      subjects.partition(partition, "get"),
      encode({ v: PROTOCOL_VERSION, body: { id: idOf(partition) } }),
      {
        timeout: 300,
      },
    );
    return decode(msg.data) as Reply<unknown>;
  } catch {
    return "silence";
  }
}

async function served(partition: number, answerWindowMs: number): Promise<Partition> {
  const p = new Partition(partition, context, new Lease(partition, 1, 0, performance.now(), answerWindowMs));
  await p.load();
  endpoints.serve(p);
  return p;
}

test("a fresh owner answers (here: NOT_FOUND for an id never registered)", async () => {
  await served(0, 60_000);
  expect(await ask(0)).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
});

test("an owner whose last renewal is older than its answer window stays silent", async () => {
  const before = counters.unanswered;
  await served(1, 60_000);
  const lease = (await served(2, 50)).lease;
  await new Promise((resolve) => setTimeout(resolve, 80));
  expect(lease.fresh()).toBe(false);
  expect(await ask(2)).toBe("silence");
  expect(counters.unanswered).toBe(before + 1);
  // A renewal makes it answer again.
  lease.renewedAt = performance.now();
  expect(await ask(2)).toMatchObject({ ok: false, error: { code: "NOT_FOUND" } });
});

test("an owner that learnt it was taken over stays silent, and after drop() no longer even hears requests", async () => {
  const p = await served(3, 60_000);
  p.stepDown("test");
  expect(await ask(3)).toBe("silence");
  endpoints.drop(p);
  const before = counters.unanswered;
  expect(await ask(3)).toBe("silence");
  expect(counters.unanswered).toBe(before);
});
