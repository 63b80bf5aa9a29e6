/**
 * The search endpoints on a real nats-server, with handlers of the test's own:
 * the bounded queue (OVERLOADED at once past it), requests whose caller gave
 * up while they waited (dropped), a process still loading (UNAVAILABLE), bad
 * input (stable codes), and the services framework finding it.
 */
import { Svcm } from "@nats-io/services";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import { decode, ErrorCodes, encode, PROTOCOL_VERSION, type Reply } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { registerSearchService, SearchCounters, type SearchHandlers } from "./service.js";

let nc: NatsConnection;
const cluster = uniqueClusterName("searchsvc");
let ready = false;
const counters = new SearchCounters();

/** Busy for `ms` on the event loop, as a query over many strategies is. */
function busy(ms: number): void {
  const until = performance.now() + ms;
  while (performance.now() < until) {
    // a query's scan
  }
}

const handlers: SearchHandlers = {
  ready: () => ready,
  query: (body) => {
    busy(30);
    return { hits: [], total: 0, next: null, echo: body.filter ?? null };
  },
  similar: () => ({ hits: [], by: "content" }),
  status: () => ({ member: "svc-test", ready }),
  lineage: (body) => ({ id: body.id, direction: body.direction, depth: body.depth ?? 8 }),
  family: (body) => ({ family: body.family }),
  breeding: () => ({ children: [], total: 0, next: null }),
  dynasties: (body) => ({ k: body.k ?? 3, dynasties: [], total: 0 }),
};

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  await registerSearchService(nc, {
    cluster,
    member: "svc-test",
    version: "0.0.0",
    maxInFlight: 3,
    handlers,
    counters,
    logger: pino({ level: "silent" }),
  });
});
afterAll(async () => {
  await nc?.close();
});

async function ask(op: string, body: unknown, deadlineMs?: number, timeout = 5000): Promise<Reply<unknown>> {
  const envelope: Record<string, unknown> = { v: PROTOCOL_VERSION, body };
  if (deadlineMs !== undefined) envelope.deadlineMs = deadlineMs;
  const msg = await nc.request(`${cluster}.search.${op}`, encode(envelope), { timeout });
  return decode(msg.data) as Reply<unknown>;
}

it("answers status while loading, and refuses queries until it is ready", async () => {
  expect(await ask("status", {})).toMatchObject({ ok: true, body: { member: "svc-test", ready: false } });
  expect(await ask("query", { filter: "id = 'x'" })).toMatchObject({
    ok: false,
    error: { code: ErrorCodes.Unavailable, retryable: true },
  });
  ready = true;
  expect(await ask("query", { filter: "id = 'x'" })).toMatchObject({ ok: true, body: { echo: "id = 'x'" } });
  expect(await ask("similar", { id: "x" })).toMatchObject({ ok: true, body: { by: "content" } });
});

it("answers OVERLOADED at once past its queue, and every request it took gets its answer", async () => {
  ready = true;
  const replies = await Promise.all(Array.from({ length: 12 }, (_, i) => ask("query", { filter: `id = '${i}'` })));
  const overloaded = replies.filter((r) => !r.ok && r.error.code === ErrorCodes.Overloaded);
  const answered = replies.filter((r) => r.ok);
  expect(overloaded.length).toBeGreaterThan(0);
  expect(answered.length).toBeGreaterThanOrEqual(3);
  expect(overloaded.length + answered.length).toBe(12);
  expect(counters.overloaded).toBeGreaterThan(0);
});

it("drops a request whose caller gave up while it waited", async () => {
  ready = true;
  const before = counters.expired;
  const slow = ask("query", { filter: "id = 'first'" });
  // Queued behind a 30 ms query, with 1 ms to live: never answered.
  const late = ask("query", { filter: "id = 'late'" }, 1, 300).catch((err: unknown) => err);
  await slow;
  expect(await late).toBeInstanceOf(Error);
  expect(counters.expired).toBe(before + 1);
});

it("refuses bad input with stable codes and keeps serving", async () => {
  ready = true;
  expect(await ask("query", { colour: "red" })).toMatchObject({ ok: false, error: { code: ErrorCodes.UnknownField } });
  expect(await ask("similar", { k: 0 })).toMatchObject({ ok: false, error: { code: ErrorCodes.InvalidField } });
  const garbage = await nc.request(`${cluster}.search.query`, new Uint8Array([0xc1]), { timeout: 5000 });
  expect(decode(garbage.data)).toMatchObject({ ok: false, error: { code: ErrorCodes.Malformed } });
  expect(await ask("query", {})).toMatchObject({ ok: true });
});

it("refuses bad genealogy requests with stable codes naming the field, and keeps serving", async () => {
  ready = true;
  const refused = async (op: string, body: unknown, code: string, field: string) =>
    expect(await ask(op, body)).toMatchObject({ ok: false, error: { code, field } });
  await refused("lineage", { id: "a", direction: "both", colour: "red" }, ErrorCodes.UnknownField, "body.colour");
  await refused("lineage", { id: "a", direction: "sideways" }, ErrorCodes.InvalidField, "body.direction");
  await refused("lineage", { id: "a", direction: "both", depth: 65 }, ErrorCodes.InvalidField, "body.depth");
  await refused("lineage", { id: "a", direction: "both", depth: 0 }, ErrorCodes.InvalidField, "body.depth");
  await refused("lineage", { id: "a", direction: "up", depth: "3" }, ErrorCodes.InvalidField, "body.direction");
  await refused("lineage", { direction: "both" }, ErrorCodes.MissingField, "body.id");
  await refused("family", { family: "f", metric: "luck" }, ErrorCodes.InvalidField, "body.metric");
  await refused("family", { family: 7 }, ErrorCodes.InvalidField, "body.family");
  await refused("breeding", { limit: 1001 }, ErrorCodes.InvalidField, "body.limit");
  await refused("dynasties", { k: 0 }, ErrorCodes.InvalidField, "body.k");
  await refused("dynasties", { k: 2, generations: 1 }, ErrorCodes.UnknownField, "body.generations");
  expect(await ask("lineage", { id: "a", direction: "ancestors", depth: 64 })).toMatchObject({
    ok: true,
    body: { id: "a", direction: "ancestors", depth: 64 },
  });
  expect(await ask("dynasties", {})).toMatchObject({ ok: true, body: { k: 3 } });
});

it("is found by the NATS services framework", async () => {
  const found = await new Svcm(nc).client().ping("stratreg-search");
  const names: string[] = [];
  for await (const info of found) names.push(info.name);
  expect(names).toContain("stratreg-search");
});
