/**
 * The template store on a real nats-server: versions 1, 2, … each stored once; the latest
 * seen by another store (another shard) at once; concurrent puts through two stores never
 * share a version; expectedVersion and a repeated command id; entries it cannot read and a
 * bucket it cannot reach.
 */
import { jetstream } from "@nats-io/jetstream";
import { Kvm } from "@nats-io/kv";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { type ClusterSubjects, clusterSubjects, ErrorCodes, encode, type TemplateInput } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { TemplateStore } from "./store.js";

let nc: NatsConnection;
let subjects: ClusterSubjects;
/** Two stores over one bucket, as two shards hold them. */
let a: TemplateStore;
let b: TemplateStore;

const input = (id: string, name = `template ${id}`): TemplateInput => ({
  id,
  name,
  params: { lookback: { type: "integer", min: 1, max: 100, default: 20 } },
});

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  subjects = clusterSubjects(uniqueClusterName("tpl-store"));
  await TemplateStore.ensureBucket(jetstream(nc), subjects, 1);
  a = await TemplateStore.open(nc, subjects);
  b = await TemplateStore.open(nc, subjects);
});

afterAll(async () => {
  await nc?.close();
});

async function rejection(work: Promise<unknown>): Promise<Record<string, unknown>> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Record<string, unknown>;
}

describe("TemplateStore", () => {
  test("versions 1 and 2, the latest and a given one, from either store", async () => {
    expect(await a.find("mr")).toBeUndefined();
    expect(await rejection(a.get("mr"))).toMatchObject({ code: ErrorCodes.NotFound, field: "id" });
    const v1 = await a.put(input("mr", "first"), { by: "alice" });
    expect(v1).toMatchObject({ id: "mr", name: "first", version: 1, createdBy: "alice" });
    expect(typeof v1.createdAt).toBe("number");
    // b has not seen mr yet, then sees version 1; after a's second put, b finds version 2 as the latest.
    expect(await b.get("mr")).toEqual(v1);
    const v2 = await a.put(input("mr", "second"));
    expect(v2).toMatchObject({ version: 2, name: "second" });
    expect(v2.createdBy).toBeUndefined();
    expect(await b.get("mr")).toEqual(v2);
    expect(await b.latestVersion("mr")).toBe(2);
    expect(await b.get("mr", 1)).toEqual(v1);
    expect(await rejection(b.get("mr", 3))).toMatchObject({
      code: ErrorCodes.NotFound,
      field: "version",
      details: { latest: 2 },
    });
    // A store that starts cold lists how far the versions go.
    const cold = await TemplateStore.open(nc, subjects);
    expect(await cold.latestVersion("mr")).toBe(2);
  });

  test("expectedVersion: 0 for a new id, the latest for the next; anything else is CONFLICT", async () => {
    expect(await a.put(input("ev"), { expectedVersion: 0 })).toMatchObject({ version: 1 });
    expect(await rejection(a.put(input("ev"), { expectedVersion: 0 }))).toMatchObject({
      code: ErrorCodes.Conflict,
      field: "expectedVersion",
      details: { expected: 0, actual: 1 },
    });
    expect(await b.put(input("ev"), { expectedVersion: 1 })).toMatchObject({ version: 2 });
    expect(await rejection(a.put(input("ev"), { expectedVersion: 1 }))).toMatchObject({
      code: ErrorCodes.Conflict,
      details: { expected: 1, actual: 2 },
    });
  });

  test("concurrent puts through two stores: every put gets its own version, none is lost", async () => {
    const puts = Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? a : b).put(input("race", `put ${i}`)));
    const stored = await Promise.all(puts);
    expect(stored.map((t) => t.version).sort((x, y) => x - y)).toEqual(Array.from({ length: 12 }, (_, i) => i + 1));
    for (const template of stored) expect(await a.get("race", template.version)).toEqual(template);
  });

  test("concurrent puts expecting the same version: one wins, the others get CONFLICT", async () => {
    await a.put(input("cas"));
    const outcomes = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? a : b).put(input("cas", `cas ${i}`), { expectedVersion: 1 })),
    );
    const won = outcomes.filter((o) => o.status === "fulfilled");
    const lost = outcomes.filter((o) => o.status === "rejected");
    expect(won).toHaveLength(1);
    expect(won[0]).toMatchObject({ value: { version: 2 } });
    for (const o of lost) expect(o).toMatchObject({ reason: { code: ErrorCodes.Conflict, details: { actual: 2 } } });
    expect(await b.latestVersion("cas")).toBe(2);
  });

  test("a put sent again with its command id answers the version it made, at any store", async () => {
    const first = await a.put(input("dup"), { cid: "put-1" });
    const again = await b.put(input("dup"), { cid: "put-1", expectedVersion: 0 });
    expect(again).toEqual(first);
    expect(await b.latestVersion("dup")).toBe(1);
    // Two copies of one command racing each other store it once.
    const racing = await Promise.all([a.put(input("dup"), { cid: "put-2" }), b.put(input("dup"), { cid: "put-2" })]);
    expect(racing[0]).toEqual(racing[1]);
    expect(await a.latestVersion("dup")).toBe(2);
    expect(await a.put(input("dup"), { cid: "put-3" })).toMatchObject({ version: 3 });
  });

  test("a template too large to store is PAYLOAD_TOO_LARGE, and nothing is stored", async () => {
    const big: TemplateInput = { ...input("big"), description: "x".repeat(4000), params: {} };
    for (let i = 0; i < 64; i++) big.params[`p${i}`] = { type: "number", description: "d".repeat(500) };
    big.rules = Array.from({ length: 64 }, () => ({
      param: "p0",
      op: "<" as const,
      value: 1,
      message: "m".repeat(500),
    }));
    expect(await rejection(a.put(big))).toMatchObject({ code: ErrorCodes.PayloadTooLarge, field: "template" });
    expect(await a.find("big")).toBeUndefined();
  });

  test("list: the latest version of each id in id order, paged by cursor and by size", async () => {
    const own = clusterSubjects(uniqueClusterName("tpl-list"));
    await TemplateStore.ensureBucket(jetstream(nc), own, 1);
    const dir = await TemplateStore.open(nc, own);
    for (const id of ["c", "a", "b", "d"]) await dir.put(input(id));
    await dir.put(input("b", "b two"));
    const page = await dir.list({ limit: 2 });
    expect(page.templates.map((t) => [t.id, t.version])).toEqual([
      ["a", 1],
      ["b", 2],
    ]);
    expect(page.nextCursor).toBe("b");
    const rest = await dir.list({ cursor: page.nextCursor, limit: 2 });
    expect(rest.templates.map((t) => t.id)).toEqual(["c", "d"]);
    expect(rest.nextCursor).toBeNull();
    // A size budget cuts the page short (but never below one template) and says where to go on.
    const small = await dir.list({ limit: 10, maxBytes: 150, size: () => 100 });
    expect(small.templates.map((t) => t.id)).toEqual(["a"]);
    expect(small.nextCursor).toBe("a");
    expect((await dir.list()).templates).toHaveLength(4);
  });
  test("a bucket entry this shard cannot read is an INTERNAL error naming it; an unreachable bucket is UNAVAILABLE", async () => {
    const own = clusterSubjects(uniqueClusterName("tpl-bad"));
    await TemplateStore.ensureBucket(jetstream(nc), own, 1);
    const kv = await new Kvm(jetstream(nc)).open(own.templateBucket);
    await kv.put("garbled.1", Uint8Array.of(0x92, 0x01));
    await kv.put("foreign.1", encode({ v: 2, template: { id: "foreign", version: 1 } }));
    await kv.put("misfiled.1", encode({ v: 1, template: { id: "misfiled", version: 3 } }));
    const store = await TemplateStore.open(nc, own);
    const garbled = await rejection(store.get("garbled", 1));
    expect(garbled.code).toBe(ErrorCodes.Internal);
    expect(garbled.message).toMatch(/^template garbled\.1 is not readable: /);
    for (const id of ["foreign", "misfiled"]) {
      expect(await rejection(store.get(id, 1))).toMatchObject({
        code: ErrorCodes.Internal,
        message: `template ${id}.1 is not a template version this shard reads`,
      });
    }
    // The store carries on: a template put now is read back.
    expect(await store.put(input("fine"))).toMatchObject({ id: "fine", version: 1 });

    const gone = await connect({ servers: inject("natsUrl") });
    const cut = await TemplateStore.open(gone, own);
    await gone.close();
    const unreachable = await rejection(cut.get("fine", 1));
    expect(unreachable).toMatchObject({ code: ErrorCodes.Unavailable, retryable: true });
    expect(unreachable.message).toMatch(/^the template store did not answer: /);
  });
});
