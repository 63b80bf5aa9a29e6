/**
 * The SDK's request path against a real nats-server: replies reach their own
 * callers however many are in flight, one subscription serves every client of
 * a connection, and each way a request can fail (no responder, no reply in
 * time, a closed connection) fails that request alone. A publish the server
 * refuses fails the requests on that subject (test/permissions.test.ts).
 */
import { JetStreamApiCodes, JetStreamApiError, jetstream, jetstreamManager, StorageType } from "@nats-io/jetstream";
import { connect, Empty, errors, headers, type NatsConnection } from "@nats-io/transport-node";
import { ErrorCodes, encode, StratregError } from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { callWithRetry, DEFAULT_RETRY } from "./call.js";
import {
  NoRespondersError,
  ReplyTimeoutError,
  RequestClosedError,
  RequestMux,
  requestsThroughMux,
} from "./request-mux.js";

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
    // Nobody was subscribed: the error says so itself, whichever way its last attempt ended.
    expect((err as StratregError).details).toMatchObject({ noResponders: true });
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

describe("callWithRetry, when someone answers", () => {
  it("reports the last answer, not the attempt the deadline cut short, and does not say nobody was there", async () => {
    const busy = `${subject}.busy`;
    const sub = responder.subscribe(busy, {
      callback: (_err, msg) => {
        const error = { code: ErrorCodes.Overloaded, message: "busy", retryable: true, details: { retryAfterMs: 20 } };
        msg.respond(encode({ v: 1, ok: false, error }));
      },
    });
    await responder.flush();
    const err = await callWithRetry(nc, busy, Uint8Array.of(1), performance.now() + 300, DEFAULT_RETRY).catch(
      (e: unknown) => e,
    );
    sub.unsubscribe();
    expect(err).toBeInstanceOf(StratregError);
    expect((err as StratregError).code).toBe(ErrorCodes.Timeout);
    expect((err as StratregError).details).toEqual({ lastCode: ErrorCodes.Overloaded });
  });
});

describe("requestsThroughMux", () => {
  it("sends a library's requests through the connection's mux, and a JetStream client works over it", async () => {
    const muxed = requestsThroughMux(nc);
    const replyTo: string[] = [];
    const sub = responder.subscribe(`${subject}.record`, {
      callback: (_err, msg) => {
        replyTo.push(msg.reply ?? "");
        msg.respond(msg.data);
      },
    });
    await responder.flush();
    await RequestMux.of(nc).request(`${subject}.record`, Uint8Array.of(1), { timeout: 2000 });
    expect([...(await muxed.request(`${subject}.record`, Uint8Array.of(2), { timeout: 2000 })).data]).toEqual([2]);
    sub.unsubscribe();
    // Both replies came to the mux's one inbox subscription.
    const [viaMux, viaLibrary] = replyTo as [string, string];
    expect(viaLibrary.slice(0, viaLibrary.lastIndexOf("."))).toBe(viaMux.slice(0, viaMux.lastIndexOf(".")));
    // Everything else is the connection's own.
    expect(muxed.getServer()).toBe(nc.getServer());
    expect(muxed.isClosed()).toBe(false);

    const stream = `${subject}-stream`;
    const jsm = await jetstreamManager(nc);
    await jsm.streams.add({
      name: stream,
      subjects: [`${stream}.>`],
      storage: StorageType.Memory,
      allow_direct: true,
    });
    try {
      const js = jetstream(muxed);
      const first = await js.publish(`${stream}.a`, Uint8Array.of(7), { expect: { lastSubjectSequence: 0 } });
      expect(first.seq).toBe(1);
      // A fenced append is refused with nats.js's own error, as without the mux.
      const fenced = await js
        .publish(`${stream}.a`, Uint8Array.of(8), { expect: { lastSubjectSequence: 0 } })
        .catch((err: unknown) => err);
      expect(fenced).toBeInstanceOf(JetStreamApiError);
      expect((fenced as JetStreamApiError).code).toBe(JetStreamApiCodes.StreamWrongLastSequence);
      // A direct get sends its query as a JSON string.
      const direct = (await js.jetstreamManager()).direct;
      expect([...((await direct.getMessage(stream, { seq: 1 }))?.data ?? [])]).toEqual([7]);
    } finally {
      await jsm.streams.delete(stream);
    }
  });

  it("fails as nats.js's request() does: no responders, timeout, a connection closing, closed or draining", async () => {
    const muxed = requestsThroughMux(nc);
    const none = await muxed.request(`${subject}.nobody`, Empty, { timeout: 2000 }).catch((err: unknown) => err);
    expect(none).toBeInstanceOf(errors.RequestError);
    expect((none as InstanceType<typeof errors.RequestError>).isNoResponders()).toBe(true);
    await expect(muxed.request(`${subject}.echo`, Uint8Array.of(255), { timeout: 100 })).rejects.toBeInstanceOf(
      errors.TimeoutError,
    );
    const closing = await connect({ servers: inject("natsUrl") });
    const muxedClosing = requestsThroughMux(closing);
    const pending = muxedClosing.request(`${subject}.echo`, Uint8Array.of(255), { timeout: 5000 });
    await closing.close();
    const closed = await pending.catch((err: unknown) => err);
    expect(closed).toBeInstanceOf(errors.RequestError);
    expect((closed as Error).message).toBe("connection closed");
    await expect(muxedClosing.request(`${subject}.echo`, Empty)).rejects.toBeInstanceOf(errors.ClosedConnectionError);
    const draining = await connect({ servers: inject("natsUrl") });
    draining.subscribe(`${subject}.hold`, { callback: () => undefined });
    const drained = draining.drain();
    await expect(requestsThroughMux(draining).request(`${subject}.echo`, Empty)).rejects.toBeInstanceOf(
      errors.DrainingConnectionError,
    );
    await drained;
  });
});
