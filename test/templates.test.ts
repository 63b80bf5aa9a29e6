/**
 * Strategy templates end to end: real shard processes on a real nats-server, used
 * through the SDK. Versions are stored once each and read back latest or by number;
 * concurrent puts through different shards never share a version; instantiating
 * checks the parameters (every violation named by field, nothing registered) and
 * registers a candidate linked to the template version with the resolved parameters,
 * once however often the command is sent; bad requests are answers, and the
 * shards serve on.
 */
import {
  ConflictError,
  NotFoundError,
  type Template,
  type TemplateInput,
  TemplatesClient,
  ValidationError,
} from "@stratreg/client";
import {
  clusterSubjects,
  decode,
  encode,
  PROTOCOL_VERSION,
  type Reply,
  type TemplateViolation,
} from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";

const PARTITIONS = 8;
let registry: TestRegistry;
let cluster: string;
let templates: TemplatesClient;

/** Mean reversion with a required venue, a risk parameter (the stop-loss) and two best-practice rules. */
const MEAN_REVERSION: TemplateInput = {
  id: "mean-reversion",
  name: "Mean reversion",
  description: "fade moves away from a rolling mean",
  family: "reversion",
  tags: ["template", "reversion"],
  params: {
    lookback: { type: "integer", min: 5, max: 250, default: 20 },
    entryZ: { type: "number", min: 0.5, max: 5, default: 2 },
    side: { type: "string", enum: ["long", "short", "both"], default: "both" },
    venue: { type: "string", required: true },
    stopLoss: { type: "number", min: 0.001, max: 0.2, risk: true, description: "fraction of notional" },
    takeProfit: { type: "number", min: 0.001, max: 1, default: 0.05 },
  },
  rules: [
    { param: "stopLoss", op: "<", other: "takeProfit", message: "keep the stop inside the target" },
    { param: "lookback", op: ">=", value: 10, message: "short lookbacks overfit" },
  ],
};

beforeAll(async () => {
  cluster = uniqueClusterName("tpl");
  registry = await startRegistry(inject("natsUrl"), cluster, ["tpl-shard-a", "tpl-shard-b"], {
    partitions: PARTITIONS,
  });
  templates = new TemplatesClient(registry.nc, { cluster, timeoutMs: 15_000 });
});
afterAll(async () => {
  await registry?.close();
});

async function rejection(work: Promise<unknown>): Promise<Error & Record<string, unknown>> {
  const err = await work.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err).toBeInstanceOf(Error);
  return err as Error & Record<string, unknown>;
}

/** Sends raw bytes to a template subject and decodes the reply. */
async function raw(subject: string, payload: Uint8Array): Promise<Reply<unknown>> {
  const msg = await registry.nc.request(subject, payload, { timeout: 5000 });
  return decode(msg.data) as Reply<unknown>;
}

describe("storing and reading template versions", () => {
  let v1: Template;
  let v2: Template;

  it("puts version 1, then version 2 of the same id", async () => {
    const before = Date.now();
    v1 = await templates.put(MEAN_REVERSION, { by: "ops-alice", expectedVersion: 0 });
    expect(v1).toMatchObject({ ...MEAN_REVERSION, version: 1, createdBy: "ops-alice" });
    expect(v1.createdAt).toBeGreaterThanOrEqual(before);
    v2 = await templates.put(
      { ...MEAN_REVERSION, params: { ...MEAN_REVERSION.params, lookback: { type: "integer", min: 10, max: 500 } } },
      { expectedVersion: 1 },
    );
    expect(v2).toMatchObject({ id: "mean-reversion", version: 2, params: { lookback: { min: 10, max: 500 } } });
    expect(v2.createdBy).toBeUndefined();
  });

  it("gets the latest version, or a given one, from whichever shard answers", async () => {
    for (let i = 0; i < 6; i++) {
      expect(await templates.get("mean-reversion")).toEqual(v2);
      expect(await templates.get("mean-reversion", 1)).toEqual(v1);
    }
    const none = await rejection(templates.get("no-such-template"));
    expect(none).toBeInstanceOf(NotFoundError);
    expect(none).toMatchObject({ code: "NOT_FOUND", field: "body.id" });
    const later = await rejection(templates.get("mean-reversion", 3));
    expect(later).toMatchObject({ code: "NOT_FOUND", field: "body.version", details: { latest: 2 } });
    expect(later.message).toBe("template mean-reversion has no version 3 (the latest is 2)");
  });

  it("refuses a stale expectedVersion with CONFLICT naming the latest", async () => {
    const stale = await rejection(templates.put(MEAN_REVERSION, { expectedVersion: 1 }));
    expect(stale).toBeInstanceOf(ConflictError);
    expect(stale).toMatchObject({
      code: "CONFLICT",
      field: "body.expectedVersion",
      details: { expected: 1, actual: 2 },
    });
    expect((await templates.get("mean-reversion")).version).toBe(2);
  });

  it("refuses an unsound template, naming every problem by field, and stores nothing", async () => {
    const unsound = await rejection(
      templates.put({
        id: "unsound",
        name: "Unsound",
        params: {
          window: { type: "integer", min: 50, max: 10 },
          stop: { type: "number", risk: true },
          mode: { type: "string", enum: ["a", "b"], default: "c" },
        },
        rules: [{ param: "ghost", op: "<", value: 1, message: "m" }],
      }),
    );
    expect(unsound).toBeInstanceOf(ValidationError);
    expect(unsound).toMatchObject({ code: "INVALID_FIELD", field: "body.template.params.window.min" });
    const violations = (unsound.details as { violations: TemplateViolation[] }).violations;
    expect(violations.map((v) => v.field)).toEqual([
      "body.template.params.window.min",
      "body.template.params.stop.risk",
      "body.template.params.mode.default",
      "body.template.rules[0].param",
    ]);
    expect(await rejection(templates.get("unsound"))).toBeInstanceOf(NotFoundError);
  });

  it("concurrent puts through both shards each get their own version; with one expected version, one wins", async () => {
    const base = { id: "breakout", name: "Breakout", params: { n: { type: "integer" as const, default: 20 } } };
    // The queue group spreads them over both shards, which race for each version.
    const puts = await Promise.all(
      Array.from({ length: 10 }, (_, i) => templates.put({ ...base, name: `Breakout ${i}` })),
    );
    expect(puts.map((t) => t.version).sort((a, b) => a - b)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    for (const put of puts) expect(await templates.get("breakout", put.version)).toEqual(put);

    const racing = await Promise.allSettled(
      Array.from({ length: 6 }, (_, i) => templates.put({ ...base, name: `Racer ${i}` }, { expectedVersion: 10 })),
    );
    expect(racing.filter((r) => r.status === "fulfilled").map((r) => r.value.version)).toEqual([11]);
    const lost = racing.filter((r) => r.status === "rejected").map((r) => r.reason as ConflictError);
    expect(lost).toHaveLength(5);
    for (const err of lost) expect(err).toMatchObject({ code: "CONFLICT", details: { expected: 10, actual: 11 } });
    expect((await templates.get("breakout")).version).toBe(11);
    // Both shards stored some (16 puts landing on one shard of two: 1 in 32,768).
    for (const shard of registry.shards.values()) {
      const stored = shard.logs().filter((line) => line.includes('"template":"breakout"'));
      expect(stored.length, shard.name).toBeGreaterThan(0);
    }
  });

  it("a put sent again with its command id is stored once", async () => {
    const first = await templates.put({ ...MEAN_REVERSION, id: "once" }, { cid: "put-once-1" });
    const again = await templates.put({ ...MEAN_REVERSION, id: "once" }, { cid: "put-once-1" });
    expect(again).toEqual(first);
    expect((await templates.get("once")).version).toBe(1);
  });

  it("lists the latest version of each template, in id order, page by page", async () => {
    const all = [];
    for await (const summary of templates.listAll({ pageSize: 2 })) all.push(summary);
    expect(all.map((t) => [t.id, t.version])).toEqual([
      ["breakout", 11],
      ["mean-reversion", 2],
      ["once", 1],
    ]);
    expect(all[1]).toEqual({
      id: "mean-reversion",
      version: 2,
      name: "Mean reversion",
      description: "fade moves away from a rolling mean",
      family: "reversion",
      tags: ["template", "reversion"],
      params: ["lookback", "entryZ", "side", "venue", "stopLoss", "takeProfit"],
      riskParams: ["stopLoss"],
      createdAt: v2.createdAt,
      createdBy: null,
    });
    const page = await templates.list({ limit: 1 });
    expect(page).toMatchObject({ templates: [{ id: "breakout" }], nextCursor: "breakout" });
  });
});

describe("instantiating a template", () => {
  it("registers a candidate linked to the template version, with the parameters resolved", async () => {
    const strategy = await templates.instantiate(
      "mean-reversion",
      { id: "mr-eurusd-1", name: "MR EURUSD", owner: "fx-desk" },
      { venue: "lmax", stopLoss: 0.01, lookback: 40 },
      { version: 1 },
    );
    expect(strategy).toMatchObject({
      id: "mr-eurusd-1",
      name: "MR EURUSD",
      owner: "fx-desk",
      version: 1,
      state: "candidate",
      family: "reversion",
      tags: ["template", "reversion"],
      template: {
        id: "mean-reversion",
        version: 1,
        params: { lookback: 40, entryZ: 2, side: "both", venue: "lmax", stopLoss: 0.01, takeProfit: 0.05 },
      },
    });
    // What the registry stores, as any reader gets it.
    expect(await registry.client.get("mr-eurusd-1")).toEqual(strategy);
  });

  it("uses the latest version by default, and the caller's family and tags over the template's", async () => {
    const strategy = await templates.instantiate(
      "mean-reversion",
      { id: "mr-gbpusd-1", name: "MR GBPUSD", owner: "fx-desk", family: null, tags: ["gbp"], description: "cable" },
      { venue: "ebs", stopLoss: 0.02, lookback: 300 },
    );
    expect(strategy).toMatchObject({
      family: null,
      tags: ["gbp"],
      description: "cable",
      template: { id: "mean-reversion", version: 2, params: { lookback: 300, stopLoss: 0.02 } },
    });
    expect((await registry.client.get("mr-gbpusd-1")).template).toEqual(strategy.template);
  });

  it("names every bad parameter in one error, and registers nothing", async () => {
    const err = await rejection(
      templates.instantiate(
        "mean-reversion",
        { id: "mr-bad-1", name: "MR bad", owner: "fx-desk" },
        { lookback: 3, entryZ: "high", side: "sideways", colour: "red", takeProfit: 0.01, stopLoss: 0.05 },
        { version: 1 },
      ),
    );
    expect(err).toBeInstanceOf(ValidationError);
    expect(err).toMatchObject({
      code: "INVALID_FIELD",
      field: "body.params.lookback",
      details: { template: "mean-reversion", version: 1 },
    });
    const violations = (err.details as { violations: TemplateViolation[] }).violations;
    expect(violations.map((v) => [v.field, v.code])).toEqual([
      ["body.params.lookback", "INVALID_FIELD"], // below min 5
      ["body.params.entryZ", "INVALID_FIELD"], // not a number
      ["body.params.side", "INVALID_FIELD"], // not in the enum
      ["body.params.venue", "MISSING_FIELD"], // required
      ["body.params.colour", "UNKNOWN_FIELD"], // not a parameter
      ["body.params.stopLoss", "INVALID_FIELD"], // rule: the stop inside the target (0.05 < 0.01 fails)
    ]);
    expect(violations[5]?.message).toBe("keep the stop inside the target: stopLoss (0.05) must be < takeProfit (0.01)");
    expect(await rejection(registry.client.get("mr-bad-1"))).toBeInstanceOf(NotFoundError);

    // A risk parameter without a value is missing even when everything else is fine.
    const noStop = await rejection(
      templates.instantiate("mean-reversion", { id: "mr-bad-2", name: "x", owner: "o" }, { venue: "lmax" }),
    );
    expect(noStop).toMatchObject({ code: "MISSING_FIELD", field: "body.params.stopLoss" });
    expect(await rejection(registry.client.get("mr-bad-2"))).toBeInstanceOf(NotFoundError);
  });

  it("an unknown template or version is NOT_FOUND naming the field", async () => {
    const strategy = { id: "mr-none", name: "x", owner: "o" };
    expect(await rejection(templates.instantiate("nope", strategy))).toMatchObject({
      code: "NOT_FOUND",
      field: "body.template",
    });
    expect(await rejection(templates.instantiate("mean-reversion", strategy, {}, { version: 9 }))).toMatchObject({
      code: "NOT_FOUND",
      field: "body.version",
    });
  });

  it("registers once however often the command is sent; another command for the same id is ALREADY_EXISTS", async () => {
    const command = { cid: "inst-cmd-1", issued: Date.now() };
    const strategy = { id: "mr-once", name: "MR once", owner: "fx-desk" };
    const params = { venue: "lmax", stopLoss: 0.01, lookback: 20 };
    const sent = await Promise.all(
      Array.from({ length: 4 }, () => templates.instantiate("mean-reversion", strategy, params, command)),
    );
    for (const reply of sent) expect(reply).toEqual(sent[0]);
    const again = await templates.instantiate("mean-reversion", strategy, params, command);
    expect(again).toEqual(sent[0]);
    expect(await registry.client.get("mr-once")).toEqual(sent[0]);
    const other = await rejection(templates.instantiate("mean-reversion", strategy, params));
    expect(other).toBeInstanceOf(ConflictError);
    expect(other).toMatchObject({ code: "ALREADY_EXISTS" });
  });
});

describe("bad requests on the template subjects", () => {
  it("are answered with a stable code and field; the shards serve on", async () => {
    const s = clusterSubjects(cluster);
    const list = s.templates("list");
    const get = s.templates("get");
    const instantiate = s.templates("instantiate");
    const put = s.templatesControl("put");
    const cases: Array<[string, Uint8Array, string, string | undefined]> = [
      [get, Uint8Array.of(0xc1), "MALFORMED", undefined],
      [get, encode([1, 2]), "MALFORMED", undefined],
      [get, encode({ body: { id: "x" } }), "MISSING_FIELD", "v"],
      [get, encode({ v: 2, body: { id: "x" } }), "UNSUPPORTED_VERSION", "v"],
      [get, encode({ v: PROTOCOL_VERSION, body: { id: "x", colour: 1 } }), "UNKNOWN_FIELD", "body.colour"],
      [get, encode({ v: PROTOCOL_VERSION, body: { id: 7 } }), "INVALID_FIELD", "body.id"],
      [get, encode({ v: PROTOCOL_VERSION, body: { id: "has.dot" } }), "INVALID_FIELD", "body.id"],
      [get, encode({ v: PROTOCOL_VERSION, body: { id: "x", version: 0 } }), "INVALID_FIELD", "body.version"],
      [list, encode({ v: PROTOCOL_VERSION, body: { limit: 0 } }), "INVALID_FIELD", "body.limit"],
      [
        instantiate,
        encode({
          v: PROTOCOL_VERSION,
          body: { template: "mean-reversion", strategy: { id: "a", name: "a", owner: "o" } },
        }),
        "MISSING_FIELD",
        "cid",
      ],
      [
        instantiate,
        encode({ v: PROTOCOL_VERSION, cid: "c-1", issued: 1, body: { template: "mean-reversion" } }),
        "MISSING_FIELD",
        "body.strategy",
      ],
      [
        instantiate,
        encode({
          v: PROTOCOL_VERSION,
          cid: "c-2",
          issued: Date.now(),
          body: { template: "mean-reversion", strategy: { id: "a b", name: "a", owner: "o" } },
        }),
        "INVALID_FIELD",
        "body.strategy.id",
      ],
      [put, encode({ v: PROTOCOL_VERSION, body: {} }), "MISSING_FIELD", "body.template"],
      [
        put,
        encode({ v: PROTOCOL_VERSION, body: { template: { ...MEAN_REVERSION, params: { x: { type: "decimal" } } } } }),
        "INVALID_FIELD",
        "body.template.params.x.type",
      ],
      [
        put,
        encode({ v: PROTOCOL_VERSION, body: { template: { ...MEAN_REVERSION, owner: "me" } } }),
        "UNKNOWN_FIELD",
        "body.template.owner",
      ],
    ];
    for (const [subject, payload, code, field] of cases) {
      const reply = await raw(subject, payload);
      expect(reply, `${subject} ${code}`).toMatchObject({ ok: false, error: { code, retryable: false } });
      if (!reply.ok) expect(reply.error.field, `${subject} ${code}`).toBe(field);
    }
    // Nothing was stored or registered, and both shards still answer.
    expect((await templates.get("mean-reversion")).version).toBe(2);
    expect(await rejection(registry.client.get("a"))).toBeInstanceOf(NotFoundError);
    for (const [member, shard] of registry.shards) {
      expect(shard.running).toBe(true);
      const status = await raw(s.shardStatus(member), encode({ v: PROTOCOL_VERSION, body: {} }));
      expect(status).toMatchObject({ ok: true, body: { member } });
      // Bad input is not an internal error: nothing was logged as a failed request.
      expect(shard.logs().filter((line) => line.includes("request failed"))).toEqual([]);
    }
  });
});
