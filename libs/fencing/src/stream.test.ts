/**
 * A log's stream and its fenced appends against a real nats-server: processes starting
 * together all get the one stream, and an append says whether another writer led or the
 * log could not be reached.
 */
import { type JetStreamManager, jetstream, jetstreamManager } from "@nats-io/jetstream";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { ErrorCodes, StratregError } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, expect, inject, test } from "vitest";
import { appendFenced, ensureStream, FencedAppendError } from "./stream.js";

let nc: NatsConnection;
let jsm: JetStreamManager;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  jsm = await jetstreamManager(nc);
});
afterAll(async () => {
  await nc?.close();
});

test("processes starting together with different settings all get the one stream the first made", async () => {
  const name = uniqueClusterName("fence-race");
  const infos = await Promise.all(
    [10, 20, 30, 40].map((maxMsgs) => ensureStream(jsm, { name, subjects: [`${name}.>`], max_msgs: maxMsgs })),
  );
  const kept = (await jsm.streams.info(name)).config.max_msgs;
  expect([10, 20, 30, 40]).toContain(kept);
  for (const info of infos) {
    expect(info.config.name).toBe(name);
    expect(info.config.max_msgs).toBe(kept);
  }
  // A stream that exists is returned as it is, whatever the caller asks for.
  const again = await ensureStream(jsm, { name, subjects: [`${name}.>`], max_msgs: 99 });
  expect(again.config.max_msgs).toBe(kept);
  await jsm.streams.delete(name);
});

test("a stream the server refuses to create fails with the server's reason", async () => {
  const name = uniqueClusterName("fence-bad");
  const err = await ensureStream(jsm, { name, subjects: [`${name}.>`], max_msgs: 1, num_replicas: 7 }).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  expect(String(err)).toMatch(/replicas/i);
  await expect(jsm.streams.info(name)).rejects.toThrow(/not found/i);
});

test("an append lands only on the last sequence it expects; another writer's lead is NOT_OWNER", async () => {
  const name = uniqueClusterName("fence-append");
  await ensureStream(jsm, { name, subjects: [`${name}.>`] });
  const js = jetstream(nc);
  const first = await appendFenced(js, "test log", `${name}.log`, Uint8Array.of(1), 0, 2000);
  expect(first).toBe(1);
  expect(await appendFenced(js, "test log", `${name}.log`, Uint8Array.of(2), first, 2000)).toBe(2);

  // A writer that still believes the log ends at 1 is refused, and nothing is written.
  const stale = await appendFenced(js, "test log", `${name}.log`, Uint8Array.of(3), first, 2000).catch(
    (e: unknown) => e,
  );
  expect(stale).toBeInstanceOf(FencedAppendError);
  expect((stale as FencedAppendError).code).toBe(ErrorCodes.NotOwner);
  expect((stale as FencedAppendError).retryable).toBe(true);
  expect((stale as FencedAppendError).message).toBe(
    "the test log was written by another leader (expected last sequence 1)",
  );
  expect((await jsm.streams.info(name)).state.messages).toBe(2);
  await jsm.streams.delete(name);
});

test("an append no stream takes is UNAVAILABLE, naming the log", async () => {
  const name = uniqueClusterName("fence-none");
  const err = await appendFenced(jetstream(nc), "missing log", `${name}.log`, Uint8Array.of(1), 0, 2000).catch(
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(StratregError);
  expect((err as StratregError).code).toBe(ErrorCodes.Unavailable);
  expect((err as StratregError).message).toMatch(/^missing log append failed: /);
});
