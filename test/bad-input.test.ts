/**
 * Bad input is an answer, not a crash: every operation gets every kind of bad
 * request — extension types, invalid UTF-8, non-string, repeated, `__proto__`
 * and `constructor` keys, trailing bytes, wrong types, unknown fields, missing
 * or bad envelope fields, other protocol versions, oversize payloads — between
 * good ones. Each bad one gets an error reply with the documented code and
 * field; after each bad write the strategy it aimed at is byte for byte what it
 * was (and a standard decoder reads it), nothing it would have created exists,
 * and the log has not grown; afterwards the shard still serves, and the stored
 * state and the log hold exactly the good writes. Envelope fields the shard does
 * not know are ignored, on every operation.
 */
import { jetstreamManager } from "@nats-io/jetstream";
import { headers } from "@nats-io/transport-node";
import {
  ENCODING_HEADER,
  encode,
  encodeRecords,
  Limits,
  type PartitionOp,
  PartitionOps,
  PROTOCOL_VERSION,
  type Reply,
  type Strategy,
} from "@stratreg/protocol";
import { type NatsServerProcess, startNatsServer, strictDecode, uniqueClusterName } from "@stratreg/testkit";
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest";
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
  for (let i = 0; ids.length < 200; i++)
    if (registry.client.partitionOf(`good-${i}`) === partition) ids.push(`good-${i}`);
});
afterAll(async () => {
  await registry?.close();
});

// ---- Sending and looking ----------------------------------------------------------------------

async function request(op: PartitionOp | string, payload: Uint8Array, encoding?: string): Promise<Uint8Array> {
  const h = encoding === undefined ? undefined : headers();
  if (encoding !== undefined) h?.set(ENCODING_HEADER, encoding);
  const msg = await registry.nc.request(`${cluster}.part.${partition}.${op}`, payload, { timeout: 5000, headers: h });
  return msg.data;
}

/** Sends a request and decodes the reply strictly: every reply is standard msgpack too. */
async function send(op: PartitionOp | string, payload: Uint8Array, encoding?: string): Promise<Reply<unknown>> {
  return strictDecode(await request(op, payload, encoding)) as Reply<unknown>;
}

let cids = 0;
/** The envelope fields of a write: a fresh command id (so no reply is a replay of another), issued now. */
const stamp = () => ({ cid: `cmd-${++cids}`, issued: Date.now() });
const envelope = (body: unknown, extra: Record<string, unknown> = {}) =>
  encode({ v: PROTOCOL_VERSION, ...stamp(), body, ...extra });
const valid = (id: string) => ({ id, name: `Good ${id}`, owner: "quant-beta" });

/** `obj` with an own key `key` (also `__proto__`, which an object literal would take as the prototype). */
function withKey(obj: Record<string, unknown>, key: string, value: unknown): Record<string, unknown> {
  const out = { ...obj };
  Object.defineProperty(out, key, { value, enumerable: true, writable: true, configurable: true });
  return out;
}

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
  return Buffer.concat([Buffer.from(encode({ v: 1, ...stamp(), body: { strategy: 0 } })).subarray(0, -1), strategy]);
}

/** A string that stands for bytes spliced into the request after encoding (see withRaw). */
const MARK = "\u0001mark\u0001";

/** `value` encoded, with the str MARK (a value or a key) replaced by `raw`. */
function withRaw(value: unknown, raw: Uint8Array): Uint8Array {
  const bytes = Buffer.from(encode(value));
  const mark = Buffer.from(encode(MARK));
  const at = bytes.indexOf(mark);
  if (at < 0) throw new Error("no MARK in the request");
  return Buffer.concat([bytes.subarray(0, at), raw, bytes.subarray(at + mark.length)]);
}

const hex = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

// ---- What is refused ----------------------------------------------------------------------------

/** One bad request and the answer it must get (`field` when the key is there, even if undefined). */
interface Bad {
  what: string;
  op: PartitionOp | string;
  payload: Uint8Array;
  code: string;
  field?: string | undefined;
  encoding?: string;
}

/** Values that are not standard msgpack data: extension types, of several type numbers and sizes, and 0xc1. */
const NOT_DATA: Array<[string, Buffer]> = [
  ["ext type 0 (fixext 1)", hex("d4 00 00")],
  ["ext type -1 (timestamp 32)", hex("d6 ff 00000000")],
  ["ext type -1 (timestamp 96, ext 8)", hex(`c7 0c ff ${"00".repeat(12)}`)],
  ["ext type 5 (ext 8)", hex("c7 01 05 00")],
  ["ext type 114 (msgpackr's record extension)", hex("d4 72 00")],
  ["ext type 127 (fixext 16)", hex(`d8 7f ${"00".repeat(16)}`)],
  ["ext type -128 (ext 16)", hex("c8 0001 80 00")],
  ["the never-used byte 0xc1", hex("c1")],
];
/** Strings that are not valid UTF-8. */
const BAD_UTF8: Array<[string, Buffer]> = [
  ["invalid UTF-8", hex("a2 c3 28")],
  ["a UTF-16 surrogate (CESU-8)", hex("a3 eda080")],
  ["an overlong encoding", hex("a2 c0 80")],
  ["a sequence cut short", hex("a2 61 e2")],
  ["a code point above U+10FFFF", hex("a4 f4908080")],
  ["invalid UTF-8 in a str 8", hex("d9 02 ff fe")],
];
/** Map keys that are not standard. */
const BAD_KEYS: Array<[string, Buffer]> = [
  ["an integer key", hex("07")],
  ["a negative integer key", hex("ff")],
  ["a nil key", hex("c0")],
  ["a boolean key", hex("c3")],
  ["a binary key", hex("c4 01 61")],
  ["an array key", hex("91 01")],
  ["an extension key", hex("d4 00 00")],
  ["a key of invalid UTF-8", hex("a2 c3 28")],
  ["a key starting with U+FEFF", hex("a4 efbbbf 78")],
];

/** Where the target of bad update and retire requests stands: registered, at version 1. */
let target: string;
/** Ids that bad register and register-batch requests use: they must never exist. */
let fresh: [string, string];

const strategyWith = (fields: Record<string, unknown>) => ({ ...valid(fresh[0]), ...fields });
const patchOf = (patch: Record<string, unknown>) => ({ id: target, expectedVersion: 1, patch });

/** Every string position of every operation: the request with MARK there, and its field. */
function stringPlaces(): Array<[PartitionOp, () => Record<string, unknown>, string]> {
  const reg = (fields: Record<string, unknown>) => () => ({
    v: 1,
    ...stamp(),
    body: { strategy: strategyWith(fields) },
  });
  const batch = (fields: Record<string, unknown>) => () => ({
    v: 1,
    ...stamp(),
    body: { strategies: [valid(fresh[1]), strategyWith(fields)] },
  });
  const upd = (patch: Record<string, unknown>) => () => ({ v: 1, ...stamp(), body: patchOf(patch) });
  const template = (params: Record<string, unknown>) => ({ template: { id: "t", version: 2, params } });
  return [
    [
      PartitionOps.Register,
      () => ({ v: 1, ...stamp(), body: { strategy: { ...valid(fresh[0]), id: MARK } } }),
      "body.strategy.id",
    ],
    [PartitionOps.Register, reg({ name: MARK }), "body.strategy.name"],
    [PartitionOps.Register, reg({ owner: MARK }), "body.strategy.owner"],
    [PartitionOps.Register, reg({ description: MARK }), "body.strategy.description"],
    [PartitionOps.Register, reg({ tags: ["fx", MARK] }), "body.strategy.tags[1]"],
    [PartitionOps.Register, reg({ family: MARK }), "body.strategy.family"],
    [PartitionOps.Register, reg({ parents: [MARK] }), "body.strategy.parents[0]"],
    [PartitionOps.Register, reg({ dependencies: [MARK] }), "body.strategy.dependencies[0]"],
    [PartitionOps.Register, reg({ template: { id: MARK, params: {} } }), "body.strategy.template.id"],
    [PartitionOps.Register, reg(template({ p: MARK })), "body.strategy.template.params.p"],
    [PartitionOps.Register, reg({ venues: [{ venue: MARK, symbols: [] }] }), "body.strategy.venues[0].venue"],
    [PartitionOps.Register, reg({ venues: [{ venue: "v", symbols: [MARK] }] }), "body.strategy.venues[0].symbols[0]"],
    [
      PartitionOps.Register,
      reg({ venues: [{ venue: "v", symbols: [], params: { q: MARK } }] }),
      "body.strategy.venues[0].params.q",
    ],
    [PartitionOps.Register, () => ({ v: 1, ...stamp(), cid: MARK, body: { strategy: valid(fresh[0]) } }), "cid"],
    [
      PartitionOps.RegisterBatch,
      () => ({ v: 1, ...stamp(), body: { strategies: [{ ...valid(fresh[0]), id: MARK }] } }),
      "body.strategies[0].id",
    ],
    [PartitionOps.RegisterBatch, batch({ name: MARK }), "body.strategies[1].name"],
    [PartitionOps.RegisterBatch, batch({ description: MARK }), "body.strategies[1].description"],
    [PartitionOps.RegisterBatch, batch({ tags: [MARK] }), "body.strategies[1].tags[0]"],
    [PartitionOps.RegisterBatch, batch(template({ p: MARK })), "body.strategies[1].template.params.p"],
    [
      PartitionOps.RegisterBatch,
      batch({ venues: [{ venue: "v", symbols: [MARK] }] }),
      "body.strategies[1].venues[0].symbols[0]",
    ],
    [
      PartitionOps.RegisterBatch,
      () => ({ v: 1, ...stamp(), cid: MARK, body: { strategies: [valid(fresh[0])] } }),
      "cid",
    ],
    [PartitionOps.Get, () => ({ v: 1, body: { id: MARK } }), "body.id"],
    [PartitionOps.Get, () => ({ v: 1, cid: MARK, body: { id: target } }), "cid"],
    [PartitionOps.GetBatch, () => ({ v: 1, body: { ids: [MARK] } }), "body.ids[0]"],
    [PartitionOps.GetBatch, () => ({ v: 1, body: { ids: [target, target, MARK] } }), "body.ids[2]"],
    [PartitionOps.Update, () => ({ v: 1, ...stamp(), body: { ...patchOf({ name: "n" }), id: MARK } }), "body.id"],
    [PartitionOps.Update, upd({ name: MARK }), "body.patch.name"],
    [PartitionOps.Update, upd({ owner: MARK }), "body.patch.owner"],
    [PartitionOps.Update, upd({ description: MARK }), "body.patch.description"],
    [PartitionOps.Update, upd({ tags: [MARK] }), "body.patch.tags[0]"],
    [PartitionOps.Update, upd({ family: MARK }), "body.patch.family"],
    [PartitionOps.Update, upd({ parents: [MARK] }), "body.patch.parents[0]"],
    [PartitionOps.Update, upd({ dependencies: [MARK] }), "body.patch.dependencies[0]"],
    [PartitionOps.Update, upd({ template: { id: MARK, params: {} } }), "body.patch.template.id"],
    [PartitionOps.Update, upd(template({ p: MARK })), "body.patch.template.params.p"],
    [PartitionOps.Update, upd({ venues: [{ venue: MARK, symbols: [] }] }), "body.patch.venues[0].venue"],
    [PartitionOps.Update, upd({ venues: [{ venue: "v", symbols: [MARK] }] }), "body.patch.venues[0].symbols[0]"],
    [PartitionOps.Update, () => ({ v: 1, ...stamp(), cid: MARK, body: patchOf({ name: "n" }) }), "cid"],
    [PartitionOps.Retire, () => ({ v: 1, ...stamp(), body: { id: MARK } }), "body.id"],
    [
      PartitionOps.Retire,
      () => ({ v: 1, ...stamp(), body: { id: target, expectedVersion: 1, reason: MARK } }),
      "body.reason",
    ],
    [PartitionOps.Retire, () => ({ v: 1, ...stamp(), cid: MARK, body: { id: target } }), "cid"],
    [PartitionOps.List, () => ({ v: 1, body: { cursor: MARK } }), "body.cursor"],
    [PartitionOps.List, () => ({ v: 1, cid: MARK, body: {} }), "cid"],
    // An envelope field the shard does not know is ignored, but must still be standard msgpack.
    ...OPS.map((op): [PartitionOp, () => Record<string, unknown>, string] => [
      op,
      () => ({ ...good(op), trace: { span: [1, MARK] } }),
      "trace.span[1]",
    ]),
  ];
}

/** Every number position: an extension type there is MALFORMED too. */
function numberPlaces(): Array<[PartitionOp, () => Record<string, unknown>, string]> {
  return [
    ...OPS.map((op): [PartitionOp, () => Record<string, unknown>, string] => [
      op,
      () => ({ ...good(op), v: MARK }),
      "v",
    ]),
    ...OPS.map((op): [PartitionOp, () => Record<string, unknown>, string] => [
      op,
      () => ({ ...good(op), issued: MARK }),
      "issued",
    ]),
    ...OPS.map((op): [PartitionOp, () => Record<string, unknown>, string] => [
      op,
      () => ({ ...good(op), deadlineMs: MARK }),
      "deadlineMs",
    ]),
    [
      PartitionOps.Register,
      () => ({
        v: 1,
        ...stamp(),
        body: { strategy: strategyWith({ template: { id: "t", version: MARK, params: {} } }) },
      }),
      "body.strategy.template.version",
    ],
    [
      PartitionOps.Register,
      () => ({ v: 1, ...stamp(), body: { strategy: strategyWith({ template: { id: "t", params: { p: MARK } } }) } }),
      "body.strategy.template.params.p",
    ],
    [
      PartitionOps.Update,
      () => ({ v: 1, ...stamp(), body: { ...patchOf({ name: "n" }), expectedVersion: MARK } }),
      "body.expectedVersion",
    ],
    [
      PartitionOps.Update,
      () => ({ v: 1, ...stamp(), body: patchOf({ template: { id: "t", version: MARK, params: {} } }) }),
      "body.patch.template.version",
    ],
    [
      PartitionOps.Retire,
      () => ({ v: 1, ...stamp(), body: { id: target, expectedVersion: MARK } }),
      "body.expectedVersion",
    ],
    [PartitionOps.List, () => ({ v: 1, body: { limit: MARK } }), "body.limit"],
  ];
}

/** Every kind of map of every operation: the request with a key MARK in it, the map's field, and its first key. */
function keyPlaces(): Array<[PartitionOp, () => Record<string, unknown>, string, string]> {
  const reg = (fields: Record<string, unknown>) => () => ({
    v: 1,
    ...stamp(),
    body: { strategy: strategyWith(fields) },
  });
  return [
    ...OPS.map((op): [PartitionOp, () => Record<string, unknown>, string, string] => [
      op,
      () => ({ ...good(op), [MARK]: 1 }),
      "",
      "v",
    ]),
    // A body with no fields (topk) has no key to repeat.
    ...OPS.filter((op) => Object.keys(good(op).body as object).length > 0).map(
      (op): [PartitionOp, () => Record<string, unknown>, string, string] => {
        const body = good(op).body as Record<string, unknown>;
        return [op, () => ({ ...good(op), body: { ...body, [MARK]: 1 } }), "body", Object.keys(body)[0] ?? ""];
      },
    ),
    ...OPS.map((op): [PartitionOp, () => Record<string, unknown>, string, string] => [
      op,
      () => ({ ...good(op), trace: { span: 1, [MARK]: 1 } }),
      "trace",
      "span",
    ]),
    [
      PartitionOps.Register,
      () => ({ v: 1, ...stamp(), body: { strategy: { ...valid(fresh[0]), [MARK]: 1 } } }),
      "body.strategy",
      "id",
    ],
    [PartitionOps.Register, reg({ template: { id: "t", params: {}, [MARK]: 1 } }), "body.strategy.template", "id"],
    [
      PartitionOps.Register,
      reg({ template: { id: "t", params: { p: 1, [MARK]: 1 } } }),
      "body.strategy.template.params",
      "p",
    ],
    [
      PartitionOps.Register,
      reg({ venues: [{ venue: "v", symbols: [], [MARK]: 1 }] }),
      "body.strategy.venues[0]",
      "venue",
    ],
    [
      PartitionOps.Register,
      reg({ venues: [{ venue: "v", symbols: [], params: { q: 1, [MARK]: 1 } }] }),
      "body.strategy.venues[0].params",
      "q",
    ],
    [
      PartitionOps.RegisterBatch,
      () => ({ v: 1, ...stamp(), body: { strategies: [valid(fresh[1]), { ...valid(fresh[0]), [MARK]: 1 }] } }),
      "body.strategies[1]",
      "id",
    ],
    [PartitionOps.Update, () => ({ v: 1, ...stamp(), body: patchOf({ name: "n", [MARK]: 1 }) }), "body.patch", "name"],
    [
      PartitionOps.Update,
      () => ({ v: 1, ...stamp(), body: patchOf({ template: { id: "t", params: { p: 1, [MARK]: 1 } } }) }),
      "body.patch.template.params",
      "p",
    ],
  ];
}

const OPS = Object.values(PartitionOps);
const WRITES: ReadonlySet<string> = new Set([
  PartitionOps.Register,
  PartitionOps.RegisterBatch,
  PartitionOps.Update,
  PartitionOps.Retire,
  PartitionOps.Report,
  PartitionOps.Transition,
  PartitionOps.AttachEvidence,
  PartitionOps.Link,
  PartitionOps.Cascade,
]);

/** A good request of each operation (writes would write: bad ones are made from it). */
function good(op: PartitionOp): Record<string, unknown> {
  const bodies: Record<PartitionOp, unknown> = {
    [PartitionOps.Register]: { strategy: valid(fresh[0]) },
    [PartitionOps.RegisterBatch]: { strategies: [valid(fresh[0]), valid(fresh[1])] },
    [PartitionOps.Get]: { id: target },
    [PartitionOps.GetBatch]: { ids: [target, fresh[0]] },
    [PartitionOps.Update]: patchOf({ description: "changed" }),
    [PartitionOps.Retire]: { id: target, expectedVersion: 1, reason: "decayed" },
    [PartitionOps.List]: { cursor: null, limit: 10 },
    [PartitionOps.Report]: {
      reports: [{ id: target, seq: 1, regime: "calm", times: [1], returns: [0.01], trades: [2] }],
    },
    [PartitionOps.Perf]: { id: target },
    [PartitionOps.Ranking]: { metric: "sharpe", k: 5, scope: { family: "momentum" }, order: "best" },
    [PartitionOps.TopK]: {},
    [PartitionOps.History]: { id: target, from: 0, points: 10 },
    [PartitionOps.Transition]: { id: target, action: "backtest", by: "quant", reason: "start" },
    [PartitionOps.AttachEvidence]: { id: target, by: "quant", evidence: { returns: [0.01, -0.01], oosStart: 1 } },
    [PartitionOps.Evidence]: { id: target },
    [PartitionOps.Gates]: { id: target },
    [PartitionOps.Link]: { id: target, dependencies: { remove: [fresh[1]] }, by: "graph" },
    [PartitionOps.Cascade]: { id: target, action: "retire", by: "graph", reason: "dependency retired" },
  };
  return { v: 1, ...(WRITES.has(op) ? stamp() : {}), body: bodies[op] };
}

/** Bytes that are not standard msgpack data, anywhere in a request of every operation: MALFORMED. */
function encodingCases(): Bad[] {
  const cases: Bad[] = [];
  const add = (what: string, op: PartitionOp, payload: Uint8Array, field: string) =>
    cases.push({ what, op, payload, code: "MALFORMED", field: field === "" ? undefined : field });
  for (const [op, build, field] of stringPlaces()) {
    for (const [what, raw] of [...NOT_DATA, ...BAD_UTF8])
      add(`${op} ${field}: ${what}`, op, withRaw(build(), raw), field);
  }
  for (const [op, build, field] of numberPlaces()) {
    for (const [what, raw] of NOT_DATA) add(`${op} ${field}: ${what}`, op, withRaw(build(), raw), field);
  }
  for (const [op, build, field, first] of keyPlaces()) {
    for (const [what, raw] of BAD_KEYS) add(`${op} ${field || "envelope"}: ${what}`, op, withRaw(build(), raw), field);
    const repeated = field === "" ? first : `${field}.${first}`;
    add(`${op} ${field || "envelope"}: ${first} twice`, op, withRaw(build(), Buffer.from(encode(first))), repeated);
  }
  for (const op of OPS) {
    const bytes = Buffer.from(encode(good(op)));
    add(`${op}: a nil after the request`, op, Buffer.concat([bytes, hex("c0")]), "");
    add(`${op}: the request twice`, op, Buffer.concat([bytes, bytes]), "");
    add(`${op}: msgpackr records without the header`, op, encodeRecords(good(op)), "");
  }
  cases.push({
    what: "a strategy with a key twice",
    op: PartitionOps.Register,
    payload: duplicateKeyRequest(fresh[0]),
    code: "MALFORMED",
    field: "body.strategy.name",
  });
  return cases;
}

/** Everything else that is refused, on every operation. */
function otherCases(): Bad[] {
  const cases: Bad[] = [];
  const add = (what: string, op: PartitionOp | string, value: unknown, code: string, field?: string) =>
    cases.push({ what, op, payload: encode(value), code, field });
  const bad = (op: PartitionOp, change: (request: Record<string, unknown>) => Record<string, unknown>) =>
    change(good(op));
  const body = (op: PartitionOp) => good(op).body as Record<string, unknown>;

  for (const op of OPS) {
    // __proto__ and constructor keys: msgpackr decodes `__proto__` as `__proto_`, but the field named is the one sent.
    add(
      `${op}: body.__proto__`,
      op,
      bad(op, (r) => ({ ...r, body: withKey(body(op), "__proto__", 1) })),
      "UNKNOWN_FIELD",
      "body.__proto__",
    );
    add(`${op}: envelope __proto__`, op, withKey(good(op), "__proto__", { x: 1 }), "UNKNOWN_FIELD", "__proto__");
    add(
      `${op}: trace.__proto__`,
      op,
      { ...good(op), trace: withKey({}, "__proto__", 1) },
      "UNKNOWN_FIELD",
      "trace.__proto__",
    );
    add(
      `${op}: body.constructor`,
      op,
      bad(op, (r) => ({ ...r, body: { ...body(op), constructor: 1 } })),
      "UNKNOWN_FIELD",
      "body.constructor",
    );
    add(
      `${op}: body.toString`,
      op,
      bad(op, (r) => ({ ...r, body: { ...body(op), toString: "x" } })),
      "UNKNOWN_FIELD",
      "body.toString",
    );
    // Unknown fields in the body.
    add(
      `${op}: body.colour`,
      op,
      bad(op, (r) => ({ ...r, body: { ...body(op), colour: "red" } })),
      "UNKNOWN_FIELD",
      "body.colour",
    );
    // The version.
    add(`${op}: v 2`, op, { ...good(op), v: 2 }, "UNSUPPORTED_VERSION", "v");
    add(`${op}: v 0`, op, { ...good(op), v: 0 }, "UNSUPPORTED_VERSION", "v");
    add(`${op}: v "1"`, op, { ...good(op), v: "1" }, "UNSUPPORTED_VERSION", "v");
    const { v: _v, ...noVersion } = good(op);
    add(`${op}: no v`, op, noVersion, "MISSING_FIELD", "v");
    // The envelope fields every operation may carry.
    add(`${op}: cid with a space`, op, { ...good(op), cid: "no spaces allowed" }, "INVALID_FIELD", "cid");
    add(`${op}: cid of 65 characters`, op, { ...good(op), cid: "c".repeat(65) }, "INVALID_FIELD", "cid");
    add(`${op}: cid a number`, op, { ...good(op), cid: 7 }, "INVALID_FIELD", "cid");
    add(`${op}: issued -1`, op, { ...good(op), issued: -1 }, "INVALID_FIELD", "issued");
    add(`${op}: issued 1.5`, op, { ...good(op), issued: 1.5 }, "INVALID_FIELD", "issued");
    add(`${op}: issued a string`, op, { ...good(op), issued: "2026-01-01" }, "INVALID_FIELD", "issued");
    add(`${op}: deadlineMs 0`, op, { ...good(op), deadlineMs: 0 }, "INVALID_FIELD", "deadlineMs");
    add(`${op}: deadlineMs over an hour`, op, { ...good(op), deadlineMs: 3_600_001 }, "INVALID_FIELD", "deadlineMs");
    add(`${op}: deadlineMs 2.5`, op, { ...good(op), deadlineMs: 2.5 }, "INVALID_FIELD", "deadlineMs");
    // Shapes.
    add(`${op}: body a string`, op, { ...good(op), body: "x" }, "INVALID_FIELD", "body");
    const { body: _body, ...noBody } = good(op);
    add(`${op}: no body`, op, noBody, "MISSING_FIELD", "body");
  }
  for (const op of OPS.filter((o) => WRITES.has(o))) {
    const { cid: _cid, ...noCid } = good(op);
    const { issued: _issued, ...noIssued } = good(op);
    add(`${op}: no cid`, op, noCid, "MISSING_FIELD", "cid");
    add(`${op}: no issued`, op, noIssued, "MISSING_FIELD", "issued");
    add(`${op}: neither`, op, { v: 1, body: good(op).body }, "MISSING_FIELD", "cid");
  }
  const reg = (fields: Record<string, unknown>) => ({ v: 1, ...stamp(), body: { strategy: strategyWith(fields) } });
  const upd = (patch: Record<string, unknown>) => ({ v: 1, ...stamp(), body: patchOf(patch) });
  const [x, y] = fresh;
  cases.push(
    ...(
      [
        // register
        ["strategy.__proto__", PartitionOps.Register, reg({}), "UNKNOWN_FIELD", "body.strategy.__proto__", "strategy"],
        [
          "param named __proto__",
          PartitionOps.Register,
          reg({}),
          "UNKNOWN_FIELD",
          "body.strategy.template.params.__proto__",
          "params",
        ],
        [
          "strategy.constructor",
          PartitionOps.Register,
          reg({ constructor: "x" }),
          "UNKNOWN_FIELD",
          "body.strategy.constructor",
        ],
        [
          "unknown strategy field",
          PartitionOps.Register,
          reg({ colour: "red" }),
          "UNKNOWN_FIELD",
          "body.strategy.colour",
        ],
        ["server-set field", PartitionOps.Register, reg({ version: 3 }), "UNKNOWN_FIELD", "body.strategy.version"],
        [
          "unknown template field",
          PartitionOps.Register,
          reg({ template: { id: "t", params: {}, x: 1 } }),
          "UNKNOWN_FIELD",
          "body.strategy.template.x",
        ],
        [
          "unknown venue field",
          PartitionOps.Register,
          reg({ venues: [{ venue: "v", symbols: [], x: 1 }] }),
          "UNKNOWN_FIELD",
          "body.strategy.venues[0].x",
        ],
        ["name a number", PartitionOps.Register, reg({ name: 42 }), "INVALID_FIELD", "body.strategy.name"],
        ["tags a string", PartitionOps.Register, reg({ tags: "fx" }), "INVALID_FIELD", "body.strategy.tags"],
        [
          "param an array",
          PartitionOps.Register,
          reg({ template: { id: "t", params: { p: [1] } } }),
          "INVALID_FIELD",
          "body.strategy.template.params.p",
        ],
        [
          "template version 0",
          PartitionOps.Register,
          reg({ template: { id: "t", version: 0, params: {} } }),
          "INVALID_FIELD",
          "body.strategy.template.version",
        ],
        [
          "venue a number",
          PartitionOps.Register,
          reg({ venues: [{ venue: 1, symbols: [] }] }),
          "INVALID_FIELD",
          "body.strategy.venues[0].venue",
        ],
        [
          "strategy an array",
          PartitionOps.Register,
          { v: 1, ...stamp(), body: { strategy: [] } },
          "INVALID_FIELD",
          "body.strategy",
        ],
        [
          "owner missing",
          PartitionOps.Register,
          { v: 1, ...stamp(), body: { strategy: { id: x, name: "n" } } },
          "MISSING_FIELD",
          "body.strategy.owner",
        ],
        [
          "empty id",
          PartitionOps.Register,
          { v: 1, ...stamp(), body: { strategy: valid("") } },
          "INVALID_FIELD",
          "body.strategy.id",
        ],
        [
          "129-character id",
          PartitionOps.Register,
          { v: 1, ...stamp(), body: { strategy: valid(`x${"y".repeat(128)}`) } },
          "INVALID_FIELD",
          "body.strategy.id",
        ],
        // register-batch
        [
          "strategies a map",
          PartitionOps.RegisterBatch,
          { v: 1, ...stamp(), body: { strategies: {} } },
          "INVALID_FIELD",
          "body.strategies",
        ],
        [
          "no strategies",
          PartitionOps.RegisterBatch,
          { v: 1, ...stamp(), body: { strategies: [] } },
          "INVALID_FIELD",
          "body.strategies",
        ],
        [
          "one invalid strategy",
          PartitionOps.RegisterBatch,
          { v: 1, ...stamp(), body: { strategies: [valid(y), { ...valid(x), tags: "x" }] } },
          "INVALID_FIELD",
          "body.strategies[1].tags",
        ],
        [
          "one unknown field",
          PartitionOps.RegisterBatch,
          { v: 1, ...stamp(), body: { strategies: [valid(y), { ...valid(x), colour: 1 }] } },
          "UNKNOWN_FIELD",
          "body.strategies[1].colour",
        ],
        [
          "1001 strategies",
          PartitionOps.RegisterBatch,
          { v: 1, ...stamp(), body: { strategies: Array.from({ length: 1001 }, () => valid(y)) } },
          "BATCH_TOO_LARGE",
          "body.strategies",
        ],
        // get, get-batch
        ["id a number", PartitionOps.Get, { v: 1, body: { id: 7 } }, "INVALID_FIELD", "body.id"],
        ["id with a space", PartitionOps.Get, { v: 1, body: { id: "has space" } }, "INVALID_FIELD", "body.id"],
        ["ids a string", PartitionOps.GetBatch, { v: 1, body: { ids: target } }, "INVALID_FIELD", "body.ids"],
        ["an id a number", PartitionOps.GetBatch, { v: 1, body: { ids: [target, 1] } }, "INVALID_FIELD", "body.ids[1]"],
        ["no ids", PartitionOps.GetBatch, { v: 1, body: { ids: [] } }, "INVALID_FIELD", "body.ids"],
        [
          "1001 ids",
          PartitionOps.GetBatch,
          { v: 1, body: { ids: Array.from({ length: 1001 }, () => target) } },
          "BATCH_TOO_LARGE",
          "body.ids",
        ],
        // update
        ["patch.__proto__", PartitionOps.Update, upd({}), "UNKNOWN_FIELD", "body.patch.__proto__", "patch"],
        [
          "patch.constructor",
          PartitionOps.Update,
          upd({ constructor: "x" }),
          "UNKNOWN_FIELD",
          "body.patch.constructor",
        ],
        ["a patch to the id", PartitionOps.Update, upd({ id: "other" }), "UNKNOWN_FIELD", "body.patch.id"],
        ["a patch to the state", PartitionOps.Update, upd({ state: "retired" }), "UNKNOWN_FIELD", "body.patch.state"],
        ["an empty patch", PartitionOps.Update, upd({}), "INVALID_FIELD", "body.patch"],
        [
          "patch an array",
          PartitionOps.Update,
          { v: 1, ...stamp(), body: { ...patchOf({}), patch: [] } },
          "INVALID_FIELD",
          "body.patch",
        ],
        ["patch.name a number", PartitionOps.Update, upd({ name: 5 }), "INVALID_FIELD", "body.patch.name"],
        ["patch.family a number", PartitionOps.Update, upd({ family: 7 }), "INVALID_FIELD", "body.patch.family"],
        [
          "expectedVersion a string",
          PartitionOps.Update,
          { v: 1, ...stamp(), body: { ...patchOf({ name: "n" }), expectedVersion: "1" } },
          "INVALID_FIELD",
          "body.expectedVersion",
        ],
        [
          "expectedVersion 1.5",
          PartitionOps.Update,
          { v: 1, ...stamp(), body: { ...patchOf({ name: "n" }), expectedVersion: 1.5 } },
          "INVALID_FIELD",
          "body.expectedVersion",
        ],
        [
          "no expectedVersion",
          PartitionOps.Update,
          { v: 1, ...stamp(), body: { id: target, patch: { name: "n" } } },
          "MISSING_FIELD",
          "body.expectedVersion",
        ],
        // retire
        [
          "reason a number",
          PartitionOps.Retire,
          { v: 1, ...stamp(), body: { id: target, reason: 5 } },
          "INVALID_FIELD",
          "body.reason",
        ],
        [
          "reason of 501 characters",
          PartitionOps.Retire,
          { v: 1, ...stamp(), body: { id: target, reason: "r".repeat(501) } },
          "INVALID_FIELD",
          "body.reason",
        ],
        [
          "expectedVersion 0",
          PartitionOps.Retire,
          { v: 1, ...stamp(), body: { id: target, expectedVersion: 0 } },
          "INVALID_FIELD",
          "body.expectedVersion",
        ],
        // list
        ["limit a string", PartitionOps.List, { v: 1, body: { limit: "10" } }, "INVALID_FIELD", "body.limit"],
        ["limit 0", PartitionOps.List, { v: 1, body: { limit: 0 } }, "INVALID_FIELD", "body.limit"],
        ["limit 1001", PartitionOps.List, { v: 1, body: { limit: 1001 } }, "INVALID_FIELD", "body.limit"],
        ["cursor a number", PartitionOps.List, { v: 1, body: { cursor: 5 } }, "INVALID_FIELD", "body.cursor"],
      ] as Array<[string, PartitionOp, Record<string, unknown>, string, string, string?]>
    ).map(([what, op, value, code, field, proto]): Bad => {
      // `__proto__` goes in as an own key where the case says.
      let request = value;
      if (proto === "strategy") request = { ...value, body: { strategy: withKey(strategyWith({}), "__proto__", "x") } };
      if (proto === "params")
        request = {
          ...value,
          body: { strategy: strategyWith({ template: { id: "t", params: withKey({ p: 1 }, "__proto__", 2) } }) },
        };
      if (proto === "patch") request = { ...value, body: patchOf(withKey({ name: "n" }, "__proto__", {})) };
      return { what, op, payload: encode(request), code, field };
    }),
  );
  // Not msgpack, not a map, not an operation.
  const [, other] = fresh;
  cases.push(
    { what: "garbage bytes", op: PartitionOps.Register, payload: hex("c1 ff 00 13"), code: "MALFORMED" },
    { what: "empty payload", op: PartitionOps.Update, payload: new Uint8Array(0), code: "MALFORMED" },
    {
      what: "truncated msgpack",
      op: PartitionOps.Retire,
      payload: encode(good(PartitionOps.Retire)).subarray(0, 20),
      code: "MALFORMED",
    },
    { what: "an array at the top", op: PartitionOps.List, payload: encode([1, 2, 3]), code: "MALFORMED" },
    { what: "a string at the top", op: PartitionOps.Get, payload: encode("get"), code: "MALFORMED" },
    {
      what: "unknown encoding header",
      op: PartitionOps.RegisterBatch,
      payload: envelope({ strategies: [valid(other)] }),
      code: "INVALID_FIELD",
      encoding: "msgpack-zstd",
    },
    {
      what: "an unknown operation",
      op: "delete-everything",
      payload: envelope({ id: target }),
      code: "UNKNOWN_OPERATION",
    },
  );
  return cases;
}

// ---- Running them -----------------------------------------------------------------------------

let jsmLog: () => Promise<number>;
/** Log entries the partition should hold: one per good write. */
let entries = 0;
/** What `get` of the target answers, byte for byte. */
let targetReply: Uint8Array;
/** Good strategies registered so far, and the one good updates go to (with its version). */
const registered: string[] = [];
let updated: { id: string; version: number };
let nextGood = 0;

/** A good register and a good update: the shard keeps serving between bad requests. */
async function goodWrites(what: string): Promise<void> {
  const id = ids[20 + nextGood++] as string;
  expect((await send(PartitionOps.Register, envelope({ strategy: valid(id) }))).ok, `register after ${what}`).toBe(
    true,
  );
  registered.push(id);
  const reply = await send(
    PartitionOps.Update,
    envelope({ id: updated.id, expectedVersion: updated.version, patch: { description: `after ${what}` } }),
  );
  expect(reply, `update after ${what}`).toMatchObject({
    ok: true,
    body: { strategy: { version: updated.version + 1 } },
  });
  updated.version++;
  entries += 2;
}

/** The stored strategy's bytes in a get reply: everything after the `strategy` key, which comes last. */
function storedBytes(reply: Uint8Array): Buffer {
  const bytes = Buffer.from(reply);
  const key = Buffer.concat([Buffer.from([0xa8]), Buffer.from("strategy")]);
  return bytes.subarray(bytes.indexOf(key) + key.length);
}

/** After a bad write: the log has not grown, the target is byte for byte as it was, the fresh ids do not exist. */
async function expectNothingWritten(what: string): Promise<void> {
  expect(await jsmLog(), what).toBe(entries);
  const reply = await request(PartitionOps.Get, encode({ v: 1, body: { id: target } }));
  expect(Buffer.compare(storedBytes(reply), storedBytes(targetReply)), what).toBe(0);
  const missing = await send(PartitionOps.GetBatch, encode({ v: 1, body: { ids: fresh } }));
  expect(missing, what).toMatchObject({ ok: true, body: { strategies: [], missing: fresh } });
}

async function expectRefused(cases: Bad[]): Promise<void> {
  for (const [i, { what, op, payload, code, field, encoding }] of cases.entries()) {
    const reply = await send(op, payload, encoding);
    expect(reply, what).toMatchObject({ v: PROTOCOL_VERSION, ok: false, error: { code, retryable: false } });
    if (!reply.ok) {
      expect(typeof reply.error.message, what).toBe("string");
      // A case that names no field (the key is absent) leaves it open; one that says undefined means none.
      if (Object.hasOwn(cases[i] as Bad, "field")) expect(reply.error.field, what).toBe(field);
    }
    if (WRITES.has(op)) await expectNothingWritten(what);
    if (i % 40 === 39) await goodWrites(what);
  }
}

describe("bad requests, on every operation", () => {
  beforeAll(async () => {
    const jsm = await jetstreamManager(registry.nc);
    const subject = `${cluster}.log.${partition}`;
    jsmLog = async () =>
      (await jsm.streams.info(`${cluster}-log`, { subjects_filter: subject })).state.subjects?.[subject] ?? 0;
    [target] = ids as [string];
    fresh = [ids[1] as string, ids[2] as string];
    updated = { id: ids[3] as string, version: 1 };
    const rich = {
      ...valid(target),
      description: "the target of bad writes: ✓ ünïcödé 🚀",
      tags: ["fx", "mean-reversion"],
      family: "mr",
      template: { id: "mr", version: 3, params: { lookback: 20, z: 1.5, side: "long", on: true } },
      venues: [{ venue: "lmax", symbols: ["EURUSD"], params: { size: 1e6 } }],
    };
    // The partition's log already holds its owners' epoch markers.
    const markers = await jsmLog();
    expect((await send(PartitionOps.Register, envelope({ strategy: rich }))).ok).toBe(true);
    expect((await send(PartitionOps.Register, envelope({ strategy: valid(updated.id) }))).ok).toBe(true);
    entries = await jsmLog();
    expect(entries).toBe(markers + 2);
    targetReply = await request(PartitionOps.Get, encode({ v: 1, body: { id: target } }));
    expect(strictDecode(targetReply)).toMatchObject({ ok: true, body: { strategy: { ...rich, version: 1 } } });
  });

  it("refuses what is not standard msgpack data anywhere (MALFORMED, naming where), and writes nothing", async () => {
    const cases = encodingCases();
    expect(cases.length).toBeGreaterThan(600);
    for (const op of OPS) expect(cases.some((c) => c.op === op)).toBe(true);
    await expectRefused(cases);
  });

  it("refuses __proto__ and constructor keys, unknown body fields, wrong types, bad envelopes and other versions", async () => {
    const cases = otherCases();
    for (const op of OPS) expect(cases.filter((c) => c.op === op).length).toBeGreaterThan(20);
    await expectRefused(cases);
  });

  it("refuses a batch whose log entry would exceed the server's max_payload, and writes nothing", async () => {
    const big: Array<Record<string, unknown>> = [];
    for (let i = 0; big.length < 1000; i++) {
      const id = `big-${i}`;
      if (registry.client.partitionOf(id) === partition) big.push({ ...valid(id), description: "d".repeat(930) });
    }
    const reply = await send(PartitionOps.RegisterBatch, envelope({ strategies: big }));
    expect(reply).toMatchObject({ ok: false, error: { code: "PAYLOAD_TOO_LARGE", retryable: false } });
    await expectNothingWritten("a batch too large for one log entry");
  });

  it("ignores envelope fields it does not know, on every operation", async () => {
    const newer = { priority: 3, trace: { id: "t-1", spans: [1, 2.5, null, true, "x", { "": [] }] }, constructor: "x" };
    const withNewer = (op: PartitionOp, body: unknown) =>
      encode({ v: 1, ...(WRITES.has(op) ? stamp() : {}), ...newer, deadlineMs: 5000, body });
    const [id, batchId] = [ids[10] as string, ids[11] as string];
    const retired = ids[12] as string;
    expect((await send(PartitionOps.Register, withNewer(PartitionOps.Register, { strategy: valid(id) }))).ok).toBe(
      true,
    );
    expect(
      await send(
        PartitionOps.RegisterBatch,
        withNewer(PartitionOps.RegisterBatch, { strategies: [valid(batchId), valid(retired)] }),
      ),
    ).toMatchObject({ ok: true, body: { registered: 2, rejected: [] } });
    expect(
      await send(
        PartitionOps.Update,
        withNewer(PartitionOps.Update, { id, expectedVersion: 1, patch: { name: "renamed" } }),
      ),
    ).toMatchObject({ ok: true, body: { strategy: { id, version: 2, name: "renamed" } } });
    expect(await send(PartitionOps.Retire, withNewer(PartitionOps.Retire, { id: retired }))).toMatchObject({
      ok: true,
      body: { strategy: { id: retired, state: "retired" } },
    });
    registered.push(id, batchId, retired);
    entries += 4;
    expect(await send(PartitionOps.Get, withNewer(PartitionOps.Get, { id }))).toMatchObject({
      ok: true,
      body: { strategy: { id } },
    });
    expect(await send(PartitionOps.GetBatch, withNewer(PartitionOps.GetBatch, { ids: [id, fresh[0]] }))).toMatchObject({
      ok: true,
      body: { missing: [fresh[0]] },
    });
    expect(await send(PartitionOps.List, withNewer(PartitionOps.List, { limit: 1 }))).toMatchObject({ ok: true });
    expect(await jsmLog()).toBe(entries);
  });

  it("keeps serving: the stored state and the log hold exactly the good writes, as standard msgpack", async () => {
    // Every stored strategy, page by page, through a strict standard decoder.
    const stored: Strategy[] = [];
    let cursor: string | null = null;
    do {
      const reply = (await send(PartitionOps.List, encode({ v: 1, body: { cursor, limit: 7 } }))) as Reply<{
        strategies: Strategy[];
        nextCursor: string | null;
      }>;
      if (!reply.ok) throw new Error(reply.error.message);
      stored.push(...reply.body.strategies);
      cursor = reply.body.nextCursor;
    } while (cursor !== null);
    expect(stored.map((s) => s.id).sort()).toEqual([target, updated.id, ...registered].sort());
    expect(stored.find((s) => s.id === target)).toMatchObject({ version: 1, state: "candidate" });
    expect(stored.find((s) => s.id === updated.id)).toMatchObject({ version: updated.version });
    expect(await jsmLog()).toBe(entries);
    expect(nextGood).toBeGreaterThan(10);
    // And the SDK still reads and writes as before.
    expect((await registry.client.get(target)).version).toBe(1);
    expect((await registry.client.register(valid(ids[199] as string))).version).toBe(1);
  });
});

describe("oversize payloads, on a server that carries them", () => {
  // The shared server's max_payload is the 1 MiB limit itself, so a larger request never reaches a shard there.
  let server: NatsServerProcess;
  let big: TestRegistry;
  beforeAll(async () => {
    server = await startNatsServer({ jetstream: true, maxPayload: 2 * 1024 * 1024 });
    big = await startRegistry(server.url, uniqueClusterName("big"), ["shard-1"], { partitions: 1 });
  });
  afterAll(async () => {
    await big?.close();
    await server?.stop();
  });

  it("refuses a request over 1 MiB on every operation (PAYLOAD_TOO_LARGE) and writes nothing; up to 1 MiB is fine", async () => {
    const subject = (op: string) => `${big.client.subjects.partition(0, op as PartitionOp)}`;
    const ask = async (op: PartitionOp, payload: Uint8Array) =>
      strictDecode((await big.nc.request(subject(op), payload, { timeout: 10_000 })).data) as Reply<unknown>;
    await big.client.register(valid("kept"));
    const before = await big.client.get("kept");
    const bodies: Record<PartitionOp, unknown> = {
      [PartitionOps.Register]: { strategy: valid("new-1") },
      [PartitionOps.RegisterBatch]: { strategies: [valid("new-2")] },
      [PartitionOps.Get]: { id: "kept" },
      [PartitionOps.GetBatch]: { ids: ["kept"] },
      [PartitionOps.Update]: { id: "kept", expectedVersion: 1, patch: { name: "changed" } },
      [PartitionOps.Retire]: { id: "kept", expectedVersion: 1 },
      [PartitionOps.List]: {},
      [PartitionOps.Report]: { reports: [{ id: "kept", seq: 1, times: [1], returns: [0.01] }] },
      [PartitionOps.Perf]: { id: "kept" },
      [PartitionOps.Ranking]: { metric: "sharpe", k: 10 },
      [PartitionOps.TopK]: {},
      [PartitionOps.History]: { id: "kept" },
      [PartitionOps.Transition]: { id: "kept", action: "backtest", by: "quant", reason: "start" },
      [PartitionOps.AttachEvidence]: { id: "kept", by: "quant", evidence: { returns: [0.01, -0.01] } },
      [PartitionOps.Evidence]: { id: "kept" },
      [PartitionOps.Gates]: { id: "kept" },
      [PartitionOps.Link]: { id: "kept", dependents: { add: ["new-1"] }, by: "graph" },
      [PartitionOps.Cascade]: { id: "kept", action: "retire", by: "graph", reason: "dependency retired" },
    };
    /** A request of exactly `size` bytes, padded by an envelope field the shard ignores. */
    const sized = (op: PartitionOp, size: number) => {
      const request = { v: 1, ...stamp(), body: bodies[op], pad: "" };
      const head = encode(request).length;
      const payload = encode({ ...request, pad: "p".repeat(size - head - 4) }); // a str 32 header: 4 bytes more
      expect(payload.length).toBe(size);
      return payload;
    };
    for (const op of OPS) {
      const reply = await ask(op, sized(op, Limits.payloadMaxBytes + 1));
      expect(reply, op).toMatchObject({ ok: false, error: { code: "PAYLOAD_TOO_LARGE", retryable: false } });
      expect(await big.client.get("kept"), op).toEqual(before);
      expect((await big.client.getMany(["new-1", "new-2"])).missing, op).toEqual(["new-1", "new-2"]);
    }
    for (const op of [PartitionOps.Get, PartitionOps.GetBatch, PartitionOps.List]) {
      expect((await ask(op, sized(op, Limits.payloadMaxBytes))).ok, op).toBe(true);
    }
  });
});
