/**
 * The SDK's request path against a real nats-server: replies reach their own
 * callers however many are in flight, one subscription serves every client of
 * a connection, and each way a request can fail (no responder, no reply in
 * time, a closed connection) fails that request alone. A publish the server
 * refuses fails the requests on that subject (test/permissions.test.ts).
 */
import { connect, headers, type NatsConnection } from "@nats-io/transport-node";
import { ErrorCodes, encode, StratregError } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { callWithRetry, DEFAULT_RETRY } from "./call.js";
import { NoRespondersError, ReplyTimeoutError, RequestClosedError, RequestMux } from "./request-mux.js";

let nc: NatsConnection;
let responder: NatsConnection;
const subject = uniqueClusterName("mux");

beforeAll(async () => {
  nc = await connect({ servers: inject("natsUrl") });
  responder = await connect({ servers: inject("natsUrl") });
  // Echoes the request reversed, after a delay it reads from the first byte (ms), and never answers 255.
  responder.subscribe(`${subject}.echo`, {
    callback: (_err, msg) => {
      const delay = msg.data[0] ?? 0;
      if (delay === 255) return;
      setTimeout(() => msg.respond(Uint8Array.from(msg.data).reverse(), { headers: msg.headers }), delay);
    },
  });
  await responder.flush();
});

afterAll(async () => {
  await nc.close();
  await responder.close();
});

describe("RequestMux", () => {
  it("gives each of 2,000 requests in flight its own reply, in whatever order replies come", async () => {
    const mux = RequestMux.of(nc);
    const replies = await Promise.all(
      Array.from({ length: 2000 }, (_, i) =>
        mux.request(`${subject}.echo`, Uint8Array.of(i % 7, i & 0xff, i >> 8), { timeout: 5000 }),
      ),
    );
    replies.forEach((msg, i) => {
      expect([...msg.data]).toEqual([i >> 8, i & 0xff, i % 7]);
    });
    expect(mux.pending).toBe(0);
  });

  it("is one per connection, shared by every client on it", () => {
    expect(RequestMux.of(nc)).toBe(RequestMux.of(nc));
    expect(RequestMux.of(responder)).not.toBe(RequestMux.of(nc));
  });

  it("takes its inbox under the connection's inbox prefix", async () => {
    const own = await connect({ servers: inject("natsUrl"), inboxPrefix: "_STRATREG_TEST" });
    const seen: string[] = [];
    const sub = responder.subscribe(`${subject}.where`, {
      callback: (_err, msg) => {
        seen.push(msg.reply ?? "");
        msg.respond(Uint8Array.of(1));
      },
    });
    await responder.flush();
    await RequestMux.of(own).request(`${subject}.where`, Uint8Array.of(0), { timeout: 5000 });
    expect(seen[0]).toMatch(/^_STRATREG_TEST\./);
    sub.unsubscribe();
    await own.close();
  });

  it("carries headers both ways", async () => {
    const h = headers();
    h.set("Stratreg-Test", "yes");
    const msg = await RequestMux.of(nc).request(`${subject}.echo`, Uint8Array.of(0), { timeout: 5000, headers: h });
    expect(msg.headers?.get("Stratreg-Test")).toBe("yes");
  });

  it("fails at once with NoRespondersError when nobody listens, and on time with ReplyTimeoutError when nobody answers", async () => {
    const mux = RequestMux.of(nc);
    const began = performance.now();
    await expect(mux.request(`${subject}.nobody`, Uint8Array.of(1), { timeout: 5000 })).rejects.toBeInstanceOf(
      NoRespondersError,
    );
    expect(performance.now() - began).toBeLessThan(4000);
    const silent = mux.request(`${subject}.echo`, Uint8Array.of(255), { timeout: 200 });
    await expect(silent).rejects.toBeInstanceOf(ReplyTimeoutError);
    await expect(silent).rejects.toThrow(`no reply on ${subject}.echo in time`);
    // The others are unaffected.
    const ok = await mux.request(`${subject}.echo`, Uint8Array.of(0, 9), { timeout: 5000 });
    expect([...ok.data]).toEqual([9, 0]);
    expect(mux.pending).toBe(0);
  });

  it("fails what waits when the connection closes, and makes no mux on a closed connection", async () => {
    const own = await connect({ servers: inject("natsUrl") });
    const mux = RequestMux.of(own);
    const waiting = mux.request(`${subject}.echo`, Uint8Array.of(255), { timeout: 30_000 });
    await own.flush();
    await own.close();
    await expect(waiting).rejects.toBeInstanceOf(RequestClosedError);
    expect(() => RequestMux.of(own)).toThrow(/closed/);
  });
});

describe("callWithRetry over the mux", () => {
  it("asks again while nobody serves the subject, until someone does", async () => {
    const late = `${subject}.late`;
    setTimeout(() => {
      responder.subscribe(late, {
        callback: (_err, msg) => {
          msg.respond(encode({ v: 1, ok: true, body: { answered: "late" } }));
        },
      });
    }, 150);
    const reply = await callWithRetry(nc, late, Uint8Array.of(1), performance.now() + 5000, DEFAULT_RETRY).catch(
      (e: unknown) => e,
    );
    expect(reply).toEqual({ answered: "late" });
  });

  it("gives up at the deadline with TIMEOUT, its stack naming the caller, and fails at once on a closed connection", async () => {
    async function askedByTheTradingService(): Promise<unknown> {
      return await callWithRetry(nc, `${subject}.nobody`, Uint8Array.of(1), performance.now() + 300, DEFAULT_RETRY);
    }
    const err = await askedByTheTradingService().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StratregError);
    expect((err as StratregError).code).toBe(ErrorCodes.Timeout);
    expect((err as Error).stack).toContain("askedByTheTradingService");
    const own = await connect({ servers: inject("natsUrl") });
    await own.close();
    const closed = await callWithRetry(
      own,
      `${subject}.echo`,
      Uint8Array.of(0),
      performance.now() + 5000,
      DEFAULT_RETRY,
    )
      .then(() => undefined)
      .catch((e: unknown) => e);
    expect(closed).toBeInstanceOf(StratregError);
    expect((closed as StratregError).code).toBe(ErrorCodes.Unavailable);
    expect((closed as StratregError).retryable).toBe(false);
  });
});
