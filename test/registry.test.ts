/**
 * The registry end to end, as a trading service sees it: real shard processes
 * on a real nats-server, used through the client SDK.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import { ConflictError, Encodings, NotFoundError, type StrategyInput, ValidationError } from "@stratreg/client";
import {
  decode,
  ENCODING_HEADER,
  encode,
  encodeRecords,
  PartitionOps,
  PROTOCOL_VERSION,
  type Reply,
  type Strategy,
} from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";

const PARTITIONS = 32;
let registry: TestRegistry;
let cluster: string;

const strategy = (id: string, extra: Partial<StrategyInput> = {}): StrategyInput => ({
  id,
  name: `Strategy ${id}`,
  owner: "quant-alpha",
  ...extra,
});

beforeAll(async () => {
  cluster = uniqueClusterName("reg");
  registry = await startRegistry(inject("natsUrl"), cluster, ["shard-a", "shard-b"], { partitions: PARTITIONS });
});
afterAll(async () => {
  await registry?.close();
});

async function logEntries(partition: number): Promise<number> {
  const jsm = await jetstreamManager(registry.nc);
  const info = await jsm.streams.info(`${cluster}-log`, { subjects_filter: `${cluster}.log.${partition}` });
  return info.state.subjects?.[`${cluster}.log.${partition}`] ?? 0;
}

describe("registering and reading strategies", () => {
  it("registers a strategy as a draft at version 1 with defaults filled, and reads it back", async () => {
    const { client } = registry;
    const before = Date.now();
    const registered = await client.register(
      strategy("mom-eurusd-1", {
        tags: ["momentum", "fx"],
        family: "momentum",
        template: { id: "momentum-breakout", params: { lookback: 20, entryZ: 1.5, useVol: true } },
        venues: [{ venue: "XLON", symbols: ["EURUSD"], params: { lookback: 30 } }],
      }),
    );
    expect(registered).toMatchObject({
      id: "mom-eurusd-1",
      version: 1,
      state: "candidate",
      description: "",
      parents: [],
      dependencies: [],
      tags: ["momentum", "fx"],
      template: { id: "momentum-breakout", params: { lookback: 20, entryZ: 1.5, useVol: true } },
    });
    expect(registered.createdAt).toBeGreaterThanOrEqual(before);
    expect(registered.updatedAt).toBe(registered.createdAt);
    expect(await client.get("mom-eurusd-1")).toEqual(registered);
  });

  it("refuses to register an id twice", async () => {
    await registry.client.register(strategy("dup-1"));
    const err = await registry.client.register(strategy("dup-1", { name: "other" })).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: "ALREADY_EXISTS", retryable: false });
    expect((await registry.client.get("dup-1")).name).toBe("Strategy dup-1");
  });

  it("answers NOT_FOUND for an unknown id", async () => {
    const err = await registry.client.get("no-such-strategy").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(NotFoundError);
    expect(err).toMatchObject({ code: "NOT_FOUND" });
  });

  it("registers thousands in batches across partitions, reporting ids already taken", async () => {
    const { client } = registry;
    const inputs = Array.from({ length: 3000 }, (_, i) => strategy(`bulk-${i}`, { tags: [`t${i % 7}`] }));
    await client.register(inputs[5] as StrategyInput);
    const result = await client.registerMany(inputs, { batchSize: 250 });
    expect(result.registered).toBe(2999);
    expect(result.rejected).toEqual([
      expect.objectContaining({ index: 5, id: "bulk-5", error: expect.objectContaining({ code: "ALREADY_EXISTS" }) }),
    ]);
    expect(result.failed).toEqual([]);
    const read = await client.getMany(inputs.map((s) => s.id).concat(["bulk-missing"]));
    expect(read.strategies).toHaveLength(3000);
    expect(read.missing).toEqual(["bulk-missing"]);
    const byId = new Map(read.strategies.map((s) => [s.id, s]));
    expect(byId.get("bulk-2999")).toMatchObject({ tags: ["t3"], version: 1, state: "candidate" });
  });

  it("keeps going past a batch that fails as a whole, and says which strategy made it fail", async () => {
    const { client } = registry;
    const inputs = Array.from({ length: 200 }, (_, i) => strategy(`acc-${i}`));
    inputs[17] = { ...(inputs[17] as StrategyInput), name: "" };
    const result = await client.registerMany(inputs);
    expect(result.failed).toHaveLength(1);
    const [failed] = result.failed;
    expect(failed?.culprit).toBe(17);
    expect(failed?.error).toMatchObject({
      code: "INVALID_FIELD",
      field: expect.stringMatching(/^body\.strategies\[\d+\]\.name$/),
    });
    expect(failed?.indexes).toContain(17);
    // Every strategy is accounted for: registered, or in the failed batch (which wrote nothing).
    expect(result.registered + (failed?.indexes.length ?? 0)).toBe(200);
    const { missing } = await client.getMany(inputs.map((s) => s.id));
    expect(missing.sort()).toEqual((failed?.indexes ?? []).map((i) => `acc-${i}`).sort());
  });

  it("reads and lists large strategies whose replies would not fit one NATS message", async () => {
    const { client } = registry;
    const p = client.partitionOf("big-0");
    const ids: string[] = [];
    for (let i = 0; ids.length < 900; i++) if (client.partitionOf(`big-${i}`) === p) ids.push(`big-${i}`);
    const inputs = ids.map((id) => strategy(id, { description: "d".repeat(1500) }));
    const registered = await client.registerMany(inputs);
    expect(registered.registered).toBe(900);
    const read = await client.getMany(ids, { timeoutMs: 20_000 });
    expect(read.strategies).toHaveLength(900);
    expect(read.missing).toEqual([]);
    // One list page would be ~1.4 MB: it ends early, and the cursor carries on.
    const first = await client.list(p, { limit: 1000 });
    expect(first.strategies.length).toBeGreaterThan(0);
    expect(first.strategies.length).toBeLessThan(900);
    expect(first.nextCursor).toBe(first.strategies[first.strategies.length - 1]?.id);
    let all = 0;
    let cursor: string | null = null;
    do {
      const page = await client.list(p, { cursor, limit: 1000 });
      all += page.strategies.filter((s) => s.id.startsWith("big-")).length;
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(all).toBe(900);
  });

  it("reports a batch whose outcome is unknown with its command id, so it can be sent again safely", async () => {
    const { client } = registry;
    const inputs = Array.from({ length: 300 }, (_, i) => strategy(`unknown-${i}`));
    // A deadline too short to hear back: the batches may or may not have been written.
    const first = await client.registerMany(inputs, { timeoutMs: 1 });
    const unknown = first.failed.filter((f) => f.outcome === "unknown");
    expect(first.registered + unknown.reduce((n, f) => n + f.indexes.length, 0)).toBe(300);
    for (const failed of unknown) {
      expect(failed.error.retryable).toBe(true);
      const again = await client.registerBatch(
        failed.indexes.map((i) => inputs[i] as StrategyInput),
        { cid: failed.cid },
      );
      // Applied at most once: whether or not the first send landed, the resend registers the batch.
      expect(again).toEqual({ registered: failed.indexes.length, rejected: [] });
    }
    const { missing } = await client.getMany(inputs.map((s) => s.id));
    expect(missing).toEqual([]);
  });

  it("registers a batch sent with the record encoding exactly like one sent as maps", async () => {
    const { client } = registry;
    const p = client.partitionOf("rec-0");
    const ids: string[] = [];
    for (let i = 0; ids.length < 50; i++) if (client.partitionOf(`rec-${i}`) === p) ids.push(`rec-${i}`);
    const inputs = ids.map((id, i) =>
      strategy(id, { template: { id: "t", params: { n: i, x: 0.5, on: true, s: "v" } } }),
    );
    const reply = await client.registerBatch(inputs, { encoding: Encodings.Records });
    expect(reply).toEqual({ registered: 50, rejected: [] });
    const got = await client.get(ids[7] as string);
    expect(got.template).toEqual({ id: "t", params: { n: 7, x: 0.5, on: true, s: "v" } });
    expect(got).toMatchObject({ description: "", venues: [], family: null, version: 1 });
  });

  it("stores a record-encoded batch as maps would, names the same problems, and drops entries sent as undefined", async () => {
    const { client } = registry;
    const p = client.partitionOf("rec-as-maps-0");
    const ids: string[] = [];
    for (let i = 0; ids.length < 6; i++) if (client.partitionOf(`rec-as-maps-${i}`) === p) ids.push(`rec-as-maps-${i}`);
    const [a, b, c, d, e, f] = ids as [string, string, string, string, string, string];

    // Stored as a standard request's would be: the same keys in the same order (the client's own
    // fields first, then the defaults), which strategy-by-strategy encoding would not give.
    await client.registerBatch([strategy(a, { tags: ["x"] })]);
    await client.registerBatch([strategy(b, { tags: ["x"] })], { encoding: Encodings.Records });
    const [viaMaps, viaRecords] = [await client.get(a), await client.get(b)];
    expect(Object.keys(viaRecords)).toEqual(Object.keys(viaMaps));
    expect(Object.keys(viaRecords).slice(0, 5)).toEqual(["id", "name", "owner", "tags", "description"]);
    expect({ ...viaRecords, id: a, name: viaMaps.name, createdAt: 0, updatedAt: 0 }).toEqual({
      ...viaMaps,
      createdAt: 0,
      updatedAt: 0,
    });

    // The same refusal, code and field, whichever the encoding; nothing of the batch is written.
    const bad = [strategy(c), { ...strategy(d), name: "" }];
    const asMaps = await client.registerBatch(bad).catch((err: unknown) => err);
    const asRecords = await client.registerBatch(bad, { encoding: Encodings.Records }).catch((err: unknown) => err);
    expect(asMaps).toBeInstanceOf(ValidationError);
    expect(asRecords).toBeInstanceOf(ValidationError);
    const codeAndField = (err: unknown) => ({
      code: (err as ValidationError).code,
      field: (err as ValidationError).field,
    });
    expect(codeAndField(asRecords)).toEqual(codeAndField(asMaps));
    expect(codeAndField(asRecords)).toEqual({ code: "INVALID_FIELD", field: "body.strategies[1].name" });
    const inList = await client
      .registerBatch([strategy(c, { tags: ["x", undefined as unknown as string] })], { encoding: Encodings.Records })
      .catch((err: unknown) => err);
    expect(codeAndField(inList)).toEqual({ code: "INVALID_FIELD", field: "body.strategies[0].tags[1]" });
    expect((await client.getMany([c, d])).missing).toEqual([c, d]);

    // A map entry sent as undefined counts as not sent, at any depth: nothing but standard msgpack is stored.
    const withUndefined = {
      ...strategy(e),
      description: undefined,
      template: { id: "t", version: undefined, params: { x: 1, y: undefined } },
    } as unknown as StrategyInput;
    expect(await client.registerBatch([withUndefined, strategy(f)], { encoding: Encodings.Records })).toEqual({
      registered: 2,
      rejected: [],
    });
    const stored = await client.get(e);
    expect(stored).toMatchObject({ id: e, description: "", version: 1, state: "candidate" });
    expect(stored.template).toEqual({ id: "t", params: { x: 1 } });
  });

  it("lists a partition in id order, page by page, and lists the whole cluster", async () => {
    const { client } = registry;
    const p = client.partitionOf("bulk-0");
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const page = await client.list(p, { cursor, limit: 17 });
      expect(page.strategies.length).toBeLessThanOrEqual(17);
      seen.push(...page.strategies.map((s) => s.id));
      cursor = page.nextCursor;
    } while (cursor !== null);
    expect(seen).toEqual([...seen].sort());
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen.every((id) => client.partitionOf(id) === p)).toBe(true);
    expect(seen).toContain("bulk-0");
    let total = 0;
    for await (const s of client.listAll({ pageSize: 400 })) {
      expect(client.partitionOf(s.id)).toBeLessThan(PARTITIONS);
      total++;
    }
    expect(total).toBeGreaterThanOrEqual(3000 + 50 + 2);
  });
});

describe("changing strategies", () => {
  it("updates with the expected version and refuses a stale one with CONFLICT", async () => {
    const { client } = registry;
    await client.register(strategy("upd-1", { tags: ["a"] }));
    const v2 = await client.update("upd-1", 1, { description: "hourly bars", tags: ["a", "b"] });
    expect(v2).toMatchObject({ version: 2, description: "hourly bars", tags: ["a", "b"], name: "Strategy upd-1" });
    expect(v2.updatedAt).toBeGreaterThanOrEqual(v2.createdAt);
    const err = await client.update("upd-1", 1, { description: "stale" }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ConflictError);
    expect(err).toMatchObject({ code: "CONFLICT", details: { expected: 1, actual: 2 } });
    expect((await client.get("upd-1")).description).toBe("hourly bars");
  });

  it("retires a strategy for good: no more updates, no second retirement", async () => {
    const { client } = registry;
    await client.register(strategy("ret-1"));
    const retired = await client.retire("ret-1", { expectedVersion: 1, reason: "decayed alpha" });
    expect(retired).toMatchObject({ state: "retired", version: 2 });
    await expect(client.update("ret-1", 2, { name: "zombie" })).rejects.toMatchObject({ code: "INVALID_TRANSITION" });
    await expect(client.retire("ret-1")).rejects.toMatchObject({ code: "INVALID_TRANSITION" });
    await expect(client.retire("never-registered")).rejects.toMatchObject({ code: "NOT_FOUND" });
    expect((await client.get("ret-1")).state).toBe("retired");
  });

  it("applies a command once however often it is sent: a retry with the same command id gets the first reply", async () => {
    const { client } = registry;
    const p = client.partitionOf("idem-1");
    const entriesBefore = await logEntries(p);
    const first = await client.register(strategy("idem-1"), { cid: "cmd-idem-1" });
    const again = await client.register(strategy("idem-1"), { cid: "cmd-idem-1" });
    expect(again).toEqual(first);
    const upd = await client.update("idem-1", 1, { name: "renamed" }, { cid: "cmd-idem-2" });
    const updAgain = await client.update("idem-1", 1, { name: "renamed" }, { cid: "cmd-idem-2" });
    expect(updAgain).toEqual(upd);
    expect(await client.get("idem-1")).toMatchObject({ version: 2, name: "renamed" });
    expect(await logEntries(p)).toBe(entriesBefore + 2);
  });

  it("rejects ids sent to the wrong partition's subject", async () => {
    const { client, nc } = registry;
    const id = "wrong-part-1";
    const wrong = (client.partitionOf(id) + 1) % PARTITIONS;
    const msg = await nc.request(
      client.subjects.partition(wrong, PartitionOps.Get),
      encode({ v: PROTOCOL_VERSION, body: { id } }),
    );
    const reply = decode(msg.data) as Reply<{ strategy: Strategy }>;
    expect(reply).toMatchObject({
      ok: false,
      error: { code: "WRONG_PARTITION", field: "body.id", details: { partition: client.partitionOf(id) } },
    });
  });

  it("names the item of a batch whose id belongs to another partition: gets, registrations (maps and records), reports", async () => {
    const { client, nc } = registry;
    const here = "batch-part-a";
    let other = "batch-part-b";
    for (let i = 0; client.partitionOf(other) === client.partitionOf(here); i++) other = `batch-part-b${i}`;
    const p = client.partitionOf(here);
    let sent = 0;
    const envelope = (body: unknown) => ({
      v: PROTOCOL_VERSION,
      cid: `batch-part-${++sent}`,
      issued: Date.now(),
      body,
    });
    const refusal = async (op: string, payload: Uint8Array, records = false) => {
      const h = headers();
      if (records) h.set(ENCODING_HEADER, Encodings.Records);
      const msg = await nc.request(client.subjects.partition(p, op as never), payload, { headers: h, timeout: 5000 });
      return decode(msg.data) as Reply<unknown> as { ok: boolean; error?: { code: string; field?: string } };
    };
    const batch = envelope({ strategies: [strategy(here), strategy(other)] });
    const expected = (field: string) => ({ ok: false, error: { code: "WRONG_PARTITION", field } });
    expect(
      await refusal(PartitionOps.GetBatch, encode({ v: PROTOCOL_VERSION, body: { ids: [here, other] } })),
    ).toMatchObject(expected("body.ids[1]"));
    expect(await refusal(PartitionOps.RegisterBatch, encode(batch))).toMatchObject(expected("body.strategies[1].id"));
    expect(await refusal(PartitionOps.RegisterBatch, encodeRecords(batch), true)).toMatchObject(
      expected("body.strategies[1].id"),
    );
    const reports = envelope({
      reports: [
        { id: here, seq: 1 },
        { id: other, seq: 1 },
      ],
    });
    expect(await refusal(PartitionOps.Report, encode(reports))).toMatchObject(expected("body.reports[1].id"));
    // Nothing of the refused batches was written.
    await expect(client.get(here)).rejects.toBeInstanceOf(NotFoundError);
  });

  it("refuses a record-encoded batch that does not decode, or that holds a number with no standard form, and writes nothing", async () => {
    const { client, nc } = registry;
    const id = "records-refused-1";
    const subject = client.subjects.partition(client.partitionOf(id), PartitionOps.RegisterBatch);
    const send = async (payload: Uint8Array) => {
      const h = headers();
      h.set(ENCODING_HEADER, Encodings.Records);
      const msg = await nc.request(subject, payload, { headers: h, timeout: 5000 });
      return decode(msg.data) as { ok: boolean; error?: { code: string; field?: string } };
    };
    // A record definition cut short: not msgpack at all.
    expect(await send(Uint8Array.of(0xd4, 0x72, 0x40))).toMatchObject({ ok: false, error: { code: "MALFORMED" } });

    // A template parameter as a 128-bit integer (msgpackr's bigint extension): it decodes, but has no
    // standard msgpack form to store, and the schema wants a number there.
    const marker = 1.2345678e300;
    const envelope = {
      v: PROTOCOL_VERSION,
      cid: "records-refused-big",
      issued: Date.now(),
      body: { strategies: [strategy(id, { template: { id: "t", params: { x: marker } } })] },
    };
    const bytes = Buffer.from(encodeRecords(envelope));
    const float = Buffer.alloc(9);
    float[0] = 0xcb;
    float.writeDoubleBE(marker, 1);
    const at = bytes.indexOf(float);
    expect(at).toBeGreaterThan(0);
    const big = Buffer.concat([Buffer.of(0xd8, 0x42, 0x7f), Buffer.alloc(15, 0x11)]);
    const reply = await send(Buffer.concat([bytes.subarray(0, at), big, bytes.subarray(at + 9)]));
    expect(reply).toMatchObject({
      ok: false,
      error: { code: "INVALID_FIELD", field: "body.strategies[0].template.params.x" },
    });
    await expect(client.get(id)).rejects.toBeInstanceOf(NotFoundError);
    // The shard keeps serving: the same batch with a plain number is registered.
    expect(await send(encodeRecords({ ...envelope, cid: "records-refused-ok" }))).toMatchObject({ ok: true });
    expect((await client.get(id)).template).toEqual({ id: "t", params: { x: marker } });
  });

  it("validates in the client before anything is sent", async () => {
    const a = "client-side-a";
    let b = "client-side-b";
    for (let i = 0; registry.client.partitionOf(b) === registry.client.partitionOf(a); i++) b = `client-side-b${i}`;
    await expect(registry.client.registerBatch([strategy(a), strategy(b)])).rejects.toBeInstanceOf(ValidationError);
  });
});

describe("observability", () => {
  it("is found by the NATS services framework: $SRV.PING, INFO and STATS list the shards and their status", async () => {
    const { nc } = registry;
    const collect = async (subject: string) => {
      const out: Array<Record<string, unknown>> = [];
      for await (const m of await nc.requestMany(subject, undefined, { strategy: "timer", maxWait: 400 })) {
        const body = m.json<Record<string, unknown>>();
        if ((body.metadata as Record<string, string> | undefined)?.cluster === cluster) out.push(body);
      }
      return out;
    };
    const pings = await collect("$SRV.PING.stratreg-shard");
    expect(pings.map((p) => (p.metadata as Record<string, string>).member).sort()).toEqual(["shard-a", "shard-b"]);
    const infos = await collect("$SRV.INFO.stratreg-shard");
    expect(infos[0]?.endpoints).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ name: "status" }),
        expect.objectContaining({ name: "cluster-info" }),
      ]),
    );
    const stats = await collect("$SRV.STATS.stratreg-shard");
    const served = stats.flatMap(
      (s) =>
        (s.endpoints as Array<{ name: string; data: { serving: number[] } | null }>).find((e) => e.name === "status")
          ?.data?.serving ?? [],
    );
    expect(served.sort((x, y) => x - y)).toEqual(Array.from({ length: PARTITIONS }, (_, i) => i));
  });
});
