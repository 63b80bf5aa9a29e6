/**
 * Where the retention cuts a partition log (`firstSince`), against a real
 * nats-server: partitions interleaved on one stream, entries deleted inside
 * the range, and the bounds.
 */
import { jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { clusterSubjects } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { ensureLogStream, PartitionLog } from "./log.js";

let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
});
afterAll(async () => {
  await nc?.close();
});

it("finds the first entry written since a time, below a bound, across other partitions' entries and holes", async () => {
  const subjects = clusterSubjects(uniqueClusterName("since"));
  const js = jetstream(nc);
  const jsm = await jetstreamManager(nc);
  await ensureLogStream(jsm, subjects, 1);
  const log = new PartitionLog(js, jsm, subjects);
  const append = async (partition: number) => (await js.publish(subjects.log(partition), new Uint8Array([1]))).seq;
  // Older entries of partition 0 between partition 1's, then, after a pause, younger ones.
  const older: number[] = [];
  for (let i = 0; i < 40; i++) {
    older.push(await append(0));
    await append(1);
  }
  await new Promise((resolve) => setTimeout(resolve, 50));
  const since = Date.now();
  await new Promise((resolve) => setTimeout(resolve, 50));
  const younger: number[] = [];
  for (let i = 0; i < 40; i++) {
    await append(1);
    younger.push(await append(0));
  }
  const head = (younger.at(-1) as number) + 1;
  /** A cut keeps every younger entry and no older one: it lies after the last older entry, at or before the first younger. */
  const expectCut = async (cut: number, lastOlder: number, firstYounger: number) => {
    expect(cut).toBeGreaterThan(lastOlder);
    expect(cut).toBeLessThanOrEqual(firstYounger);
  };
  await expectCut(await log.firstSince(0, since, head), older.at(-1) as number, younger[0] as number);
  // Holes where the answer would be, and around it.
  for (const seq of [younger[0], younger[1], older.at(-1)] as number[]) {
    await jsm.streams.deleteMessage(subjects.logStream, seq);
  }
  await expectCut(await log.firstSince(0, since, head), older.at(-2) as number, younger[2] as number);
  // A bound below every younger entry: everything below it is older, so the cut reaches the bound.
  await expectCut(await log.firstSince(0, since, older[10] as number), older[9] as number, older[10] as number);
  // Everything younger than a time long past; nothing younger than one to come.
  expect(await log.firstSince(0, since - 3_600_000, head)).toBe(older[0]);
  expect(await log.firstSince(0, Date.now() + 3_600_000, head)).toBe(head);
  // A partition with no entries, and a bound at the start.
  expect(await log.firstSince(2, since, head)).toBe(head);
  expect(await log.firstSince(0, since, 1)).toBe(1);
});
