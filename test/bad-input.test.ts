/**
 * Bad input is an answer, not a crash: a burst of malformed, mistyped, unknown,
 * oversize and wrong-version requests between good ones. Each bad one gets an
 * error reply with a stable code; afterwards the shard still serves, and the
 * stored state and the log hold exactly the good writes.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import {
  decode,
  ENCODING_HEADER,
  encode,
  encodeRecords,
  type PartitionOp,
  PartitionOps,
  PROTOCOL_VERSION,
  type Reply,
} from "@stratreg/protocol";
import { uniqueClusterName } from "@stratreg/testkit";
import { Packr } from "msgpackr";
import { afterAll, beforeAll, expect, inject, it } from "vitest";
import { startRegistry, type TestRegistry } from "./support/registry.js";

const PARTITIONS = 8;
let registry: TestRegistry;
let cluster: string;
let partition: number;
const ids: string[] = [];

beforeAll(async () => {
  cluster = uniqueClusterName("bad");
  registry = await startRegistry(inject("natsUrl"), cluster, ["shard-1"], { partitions: PARTITIONS });
  partition = registry.client.partitionOf("good-0");
  for (let i = 0; ids.length < 40; i++)
    if (registry.client.partitionOf(`good-${i}`) === partition) ids.push(`good-${i}`);
});
afterAll(async () => {
  await registry?.close();
});

async function send(op: PartitionOp | string, payload: Uint8Array, encoding?: string): Promise<Reply<unknown>> {
  const h = encoding === undefined ? undefined : headers();
  if (encoding !== undefined) h?.set(ENCODING_HEADER, encoding);
  const msg = await registry.nc.request(`${cluster}.part.${partition}.${op}`, payload, { timeout: 5000, headers: h });
  return decode(msg.data) as Reply<unknown>;
}

const envelope = (body: unknown, extra: Record<string, unknown> = {}) =>
  encode({ v: PROTOCOL_VERSION, body, ...extra });
const valid = (id: string) => ({ id, name: `Good ${id}`, owner: "quant-beta" });

/** A msgpack map {id, name, owner, name} — the same key twice — wrapped in a register request. */
function duplicateKeyRequest(id: string): Uint8Array {
  const strategy = Buffer.concat([
    Buffer.from([0x84]),
    Buffer.from(encode("id")),
    Buffer.from(encode(id)),
    Buffer.from(encode("name")),
    Buffer.from(encode("first")),
    Buffer.from(encode("owner")),
    Buffer.from(encode("q")),
    Buffer.from(encode("name")),
    Buffer.from(encode("second")),
  ]);
  return Buffer.concat([
    Buffer.from([0x82]),
    Buffer.from(encode("v")),
    Buffer.from(encode(1)),
    Buffer.from(encode("body")),
    Buffer.from([0x81]),
    Buffer.from(encode("strategy")),
    strategy,
  ]);
}

it("answers every bad request with a stable code, keeps serving, and writes nothing for them", async () => {
  const jsm = await jetstreamManager(registry.nc);
  const logCount = async () =>
    (await jsm.streams.info(`${cluster}-log`, { subjects_filter: `${cluster}.log.${partition}` })).state.subjects?.[
      `${cluster}.log.${partition}`
    ] ?? 0;
  const [a, b, c, d, e, f] = ids as [string, string, string, string, string, string];
  // Bad requests name ids that no good request uses, so no answer depends on what was written.
  const [x, y] = ids.slice(10) as [string, string];
  const tooLong = `x${"y".repeat(128)}`;
  const bigIds: string[] = [];
  for (let i = 0; bigIds.length < 1000; i++)
    if (registry.client.partitionOf(`big-${i}`) === partition) bigIds.push(`big-${i}`);
  const big = bigIds.map((id) => ({ ...valid(id), description: "d".repeat(930) }));

  const bad: Array<[string, PartitionOp | string, Uint8Array, string, string?, string?]> = [
    ["garbage bytes", PartitionOps.Register, Uint8Array.from([0xc1, 0xff, 0x00, 0x13]), "MALFORMED"],
    ["empty payload", PartitionOps.Register, new Uint8Array(0), "MALFORMED"],
    ["truncated msgpack", PartitionOps.Register, envelope({ strategy: valid(x) }).subarray(0, 20), "MALFORMED"],
    ["a msgpack array at the top", PartitionOps.Register, encode([1, 2, 3]), "MALFORMED"],
    ["no protocol version", PartitionOps.Register, encode({ body: { strategy: valid(x) } }), "MISSING_FIELD", "v"],
    [
      "protocol version 2",
      PartitionOps.Register,
      encode({ v: 2, body: { strategy: valid(x) } }),
      "UNSUPPORTED_VERSION",
      "v",
    ],
    [
      "name of the wrong type",
      PartitionOps.Register,
      envelope({ strategy: { ...valid(x), name: 42 } }),
      "INVALID_FIELD",
      "body.strategy.name",
    ],
    [
      "owner missing",
      PartitionOps.Register,
      envelope({ strategy: { id: x, name: "n" } }),
      "MISSING_FIELD",
      "body.strategy.owner",
    ],
    [
      "unknown field",
      PartitionOps.Register,
      envelope({ strategy: { ...valid(x), colour: "red" } }),
      "UNKNOWN_FIELD",
      "body.strategy.colour",
    ],
    [
      "unknown envelope field",
      PartitionOps.Register,
      envelope({ strategy: valid(x) }, { sudo: true }),
      "UNKNOWN_FIELD",
      "sudo",
    ],
    ["empty id", PartitionOps.Register, envelope({ strategy: valid("") }), "INVALID_FIELD", "body.strategy.id"],
    [
      "129-character id",
      PartitionOps.Register,
      envelope({ strategy: valid(tooLong) }),
      "INVALID_FIELD",
      "body.strategy.id",
    ],
    ["id with a space", PartitionOps.Get, envelope({ id: "has space" }), "INVALID_FIELD", "body.id"],
    [
      "bad command id",
      PartitionOps.Register,
      envelope({ strategy: valid(x) }, { cid: "no spaces allowed" }),
      "INVALID_FIELD",
      "cid",
    ],
    [
      "a Date where a param goes",
      PartitionOps.Register,
      envelope({ strategy: { ...valid(x), template: { id: "t", params: { at: new Date() } } } }),
      "INVALID_FIELD",
    ],
    [
      "records without the header",
      PartitionOps.Register,
      encodeRecords({ v: 1, body: { strategy: valid(x) } }),
      "MALFORMED",
    ],
    ["a key given twice", PartitionOps.Register, duplicateKeyRequest(x), "MALFORMED"],
    [
      "an integer map key",
      PartitionOps.Register,
      new Packr({ useRecords: false }).pack({
        v: 1,
        body: { strategy: { ...valid(x), template: { id: "t", params: new Map([[1, 2]]) } } },
      }),
      "MALFORMED",
    ],
    [
      "1001 strategies",
      PartitionOps.RegisterBatch,
      envelope({ strategies: Array.from({ length: 1001 }, () => valid(y)) }),
      "BATCH_TOO_LARGE",
      "body.strategies",
    ],
    [
      "a batch whose log entry would exceed max_payload",
      PartitionOps.RegisterBatch,
      envelope({ strategies: big }),
      "PAYLOAD_TOO_LARGE",
    ],
    [
      "one invalid strategy in a batch",
      PartitionOps.RegisterBatch,
      envelope({ strategies: [valid(y), { ...valid(x), tags: "x" }] }),
      "INVALID_FIELD",
      "body.strategies[1].tags",
    ],
    [
      "unknown encoding header",
      PartitionOps.RegisterBatch,
      envelope({ strategies: [valid(y)] }),
      "INVALID_FIELD",
      undefined,
      "msgpack-zstd",
    ],
    [
      "an empty patch",
      PartitionOps.Update,
      envelope({ id: a, expectedVersion: 1, patch: {} }),
      "INVALID_FIELD",
      "body.patch",
    ],
    [
      "a patch to the id",
      PartitionOps.Update,
      envelope({ id: a, expectedVersion: 1, patch: { id: "other" } }),
      "UNKNOWN_FIELD",
      "body.patch.id",
    ],
    ["an unknown operation", "delete-everything", envelope({ id: a }), "UNKNOWN_OPERATION"],
  ];

  expect((await send(PartitionOps.Register, envelope({ strategy: valid(a) }))).ok).toBe(true);
  const entriesAfterFirst = await logCount();
  const good = [b, c, d, e];
  let written = 0;
  for (const [i, [what, op, payload, code, field, encoding]] of bad.entries()) {
    const reply = await send(op, payload, encoding);
    expect(reply, what).toMatchObject({ v: PROTOCOL_VERSION, ok: false, error: { code, retryable: false } });
    if (!reply.ok) {
      expect(typeof reply.error.message, what).toBe("string");
      if (field !== undefined) expect(reply.error.field, what).toBe(field);
    }
    // A good write between every few bad ones: the shard keeps serving throughout.
    if (i % 6 === 5) {
      const next = good[written++] as string;
      expect((await send(PartitionOps.Register, envelope({ strategy: valid(next) }))).ok, what).toBe(true);
    }
  }

  // Stored state: exactly the good strategies, each once, at version 1.
  const listed = await registry.client.list(partition, { limit: 1000 });
  expect(written).toBe(good.length);
  expect(listed.strategies.map((s) => s.id).sort()).toEqual([a, ...good].sort());
  expect(listed.strategies.every((s) => s.version === 1 && s.name === `Good ${s.id}`)).toBe(true);
  // The log: one entry per good write, none for the bad ones.
  expect(await logCount()).toBe(entriesAfterFirst + 4);
  // And the shard answers reads and writes as before.
  expect((await registry.client.get(a)).id).toBe(a);
  expect((await registry.client.register(valid(f))).version).toBe(1);
});
