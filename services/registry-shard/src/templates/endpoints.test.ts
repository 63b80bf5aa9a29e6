/**
 * The template endpoints' own handling, with a store that answers when the test says: at most
 * TEMPLATE_REQUESTS_IN_FLIGHT requests are worked on at once (the next is OVERLOADED at once,
 * retryable), bad bytes are an error reply, a store failure is an INTERNAL reply that is
 * logged, and the endpoints serve on after each.
 */
import type { Msg } from "@nats-io/transport-node";
import { connect, type NatsConnection } from "@nats-io/transport-node";
import {
  clusterSubjects,
  decode,
  encode,
  PROTOCOL_VERSION,
  type Reply,
  type Template,
  TemplateOps,
} from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, inject, test } from "vitest";
import { TEMPLATE_REQUESTS_IN_FLIGHT, TemplateEndpoints } from "./endpoints.js";
import type { TemplateStore } from "./store.js";

let nc: NatsConnection;

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
});
afterAll(async () => {
  await nc?.close();
});

const TEMPLATE: Template = { id: "t", name: "T", params: { n: { type: "integer" } }, version: 1, createdAt: 0 };

/** A store whose reads wait until the test releases them (or fail, when told to). */
function heldStore() {
  const waiting: Array<() => void> = [];
  let failing = false;
  const store = {
    get: async () => {
      if (failing) throw new TypeError("the store broke");
      await new Promise<void>((resolve) => waiting.push(resolve));
      return TEMPLATE;
    },
  };
  return {
    store: store as unknown as TemplateStore,
    waiting,
    release: () => {
      for (const wake of waiting.splice(0)) wake();
    },
    fail: (on: boolean) => {
      failing = on;
    },
  };
}

/** A request message whose replies the test reads. */
function request(payload: Uint8Array, replies: Array<Reply<unknown>>): Msg {
  return {
    subject: "x.templates.get",
    data: payload,
    reply: "_INBOX.test",
    respond: (bytes: Uint8Array) => {
      replies.push(decode(bytes) as Reply<unknown>);
      return true;
    },
  } as unknown as Msg;
}

const get = encode({ v: PROTOCOL_VERSION, body: { id: "t" } });

describe("TemplateEndpoints", () => {
  test("works on a bounded number at once, answers the next OVERLOADED, and serves on", async () => {
    const held = heldStore();
    const logged: string[] = [];
    const logger = pino({ level: "error" }, { write: (line: string) => logged.push(line) });
    const endpoints = await TemplateEndpoints.create({
      nc,
      subjects: clusterSubjects(uniqueClusterName("tpl-ep")),
      store: held.store,
      partitions: 4,
      logger,
    });
    const replies: Array<Reply<unknown>> = [];
    for (let i = 0; i < TEMPLATE_REQUESTS_IN_FLIGHT; i++) endpoints.handle(TemplateOps.Get, request(get, replies));
    await new Promise((resolve) => setImmediate(resolve));
    expect(held.waiting).toHaveLength(TEMPLATE_REQUESTS_IN_FLIGHT);
    expect(replies).toEqual([]);

    endpoints.handle(TemplateOps.Get, request(get, replies));
    expect(replies).toEqual([
      {
        v: PROTOCOL_VERSION,
        ok: false,
        error: {
          code: "OVERLOADED",
          message: "too many template requests at this shard; retry shortly",
          retryable: true,
          details: { retryAfterMs: 50 },
        },
      },
    ]);
    expect(endpoints.counters.overloaded).toBe(1);

    held.release();
    await expect.poll(() => replies.length).toBe(TEMPLATE_REQUESTS_IN_FLIGHT + 1);
    expect(replies.slice(1).every((r) => r.ok)).toBe(true);

    // Bad bytes are answered at once and take no place.
    endpoints.handle(TemplateOps.Get, request(Uint8Array.of(0xc1), replies));
    expect(replies.at(-1)).toMatchObject({ ok: false, error: { code: "MALFORMED" } });

    // Room again; a store failure is INTERNAL, logged, and the next request is answered.
    held.fail(true);
    endpoints.handle(TemplateOps.Get, request(get, replies));
    await expect.poll(() => replies.length).toBe(TEMPLATE_REQUESTS_IN_FLIGHT + 3);
    expect(replies.at(-1)).toMatchObject({ ok: false, error: { code: "INTERNAL", retryable: false } });
    expect(logged.some((line) => line.includes("the store broke"))).toBe(true);
    held.fail(false);
    endpoints.handle(TemplateOps.Get, request(get, replies));
    held.release();
    await expect.poll(() => replies.length).toBe(TEMPLATE_REQUESTS_IN_FLIGHT + 4);
    expect(replies.at(-1)).toEqual({ v: PROTOCOL_VERSION, ok: true, body: { template: TEMPLATE } });
    expect(endpoints.counters).toMatchObject({
      requests: { get: TEMPLATE_REQUESTS_IN_FLIGHT + 4 },
      errors: 3,
      overloaded: 1,
      internalErrors: 1,
    });
  });
});
