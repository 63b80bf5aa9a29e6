/**
 * The versions endpoints on a real nats-server, with handlers of the test's
 * own: the bounded queue (OVERLOADED at once past it, up to `concurrency`
 * running), requests whose caller gave up while they waited (dropped), a
 * process still copying (UNAVAILABLE), writes without a command id (refused),
 * and the services framework finding it.
 */
import { Svcm } from "@nats-io/services";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decode, ErrorCodes, encode, PROTOCOL_VERSION, type Reply } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { registerVersionsService, VersionCounters, type VersionHandlers } from "./service.js";

let nc: NatsConnection;
const cluster = uniqueClusterName("versionssvc");
let ready = false;
let running = 0;
let mostRunning = 0;
const counters = new VersionCounters();

const handlers: VersionHandlers = {
  ready: () => ready,
  answer: async (op, request) => {
    running++;
    mostRunning = Math.max(mostRunning, running);
    // Waiting on JetStream or a shard, as every operation does.
    await new Promise((resolve) => setTimeout(resolve, 30));
    running--;
    return { op, body: request.body, cid: request.cid ?? null };
  },
  status: () => ({ member: "svc-test", ready }),
};

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  await registerVersionsService(nc, {
    cluster,
    member: "svc-test",
    version: "0.0.0",
    maxInFlight: 4,
    concurrency: 2,
    handlers,
    counters,
    logger: pino({ level: "silent" }),
  });
});
afterAll(async () => {
  await nc?.close();
});

async function ask(op: string, envelope: Record<string, unknown>, timeout = 5000): Promise<Reply<unknown>> {
  const msg = await nc.request(`${cluster}.versions.${op}`, encode({ v: PROTOCOL_VERSION, ...envelope }), { timeout });
  return decode(msg.data) as Reply<unknown>;
}

it("answers status while copying, and refuses the rest until it has caught up", async () => {
  expect(await ask("status", { body: {} })).toMatchObject({ ok: true, body: { member: "svc-test", ready: false } });
  expect(await ask("log", { body: { id: "s-1" } })).toMatchObject({
    ok: false,
    error: { code: ErrorCodes.Unavailable, retryable: true },
  });
  ready = true;
  expect(await ask("log", { body: { id: "s-1", limit: 5 } })).toMatchObject({
    ok: true,
    body: { op: "log", body: { id: "s-1", limit: 5 } },
  });
});

it("runs at most `concurrency` at once, answers OVERLOADED past its bound, and answers every request it took", async () => {
  mostRunning = 0;
  const replies = await Promise.all(
    Array.from({ length: 12 }, (_, i) => ask("diff", { body: { id: `s-${i}`, from: 1, to: "main" } })),
  );
  const overloaded = replies.filter((r) => !r.ok && r.error.code === ErrorCodes.Overloaded);
  const answered = replies.filter((r) => r.ok);
  expect(overloaded.length).toBeGreaterThan(0);
  expect(answered.length).toBeGreaterThanOrEqual(4);
  expect(overloaded.length + answered.length).toBe(12);
  expect(mostRunning).toBe(2);
  expect(overloaded[0]).toMatchObject({ error: { retryable: true, details: { retryAfterMs: 50 } } });
});

it("drops a request whose caller gave up while it waited", async () => {
  const before = counters.expired;
  const first = [ask("show", { body: { id: "a", version: 1 } }), ask("show", { body: { id: "b", version: 1 } })];
  // Queued behind two 30 ms requests, with 1 ms to live: never answered.
  const late = ask("show", { body: { id: "late", version: 1 }, deadlineMs: 1 }, 300).catch((err: unknown) => err);
  await Promise.all(first);
  expect(await late).toBeInstanceOf(Error);
  expect(counters.expired).toBe(before + 1);
});

it("needs a command id and issue time on rollback and merge, which reach the handler", async () => {
  const body = { id: "s-1", version: 1, by: "alice" };
  expect(await ask("rollback", { body })).toMatchObject({
    ok: false,
    error: { code: ErrorCodes.MissingField, field: "cid" },
  });
  expect(await ask("rollback", { cid: "c-1", issued: Date.now(), body })).toMatchObject({
    ok: true,
    body: { cid: "c-1" },
  });
  expect(await ask("tag", { body: { id: "s-1", version: 2, tag: "prod!" } })).toMatchObject({
    ok: false,
    error: { code: ErrorCodes.InvalidField, field: "body.tag" },
  });
});

it("is found by the NATS services framework", async () => {
  const found = await new Svcm(nc).client().ping("stratreg-versions");
  const names: string[] = [];
  for await (const info of found) names.push(info.name);
  expect(names).toContain("stratreg-versions");
});
