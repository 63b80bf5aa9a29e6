import { Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, test } from "vitest";
import { decode, encode, encodeRecords, encodeWithRaw, RawMsgpack } from "./codec.js";
import { type ErrorCode, ErrorCodes, errorFromWire, StratregError, ValidationError } from "./errors.js";
import { PROTOCOL_VERSION } from "./messages.js";
import { Limits } from "./strategy.js";
import { Encodings, type PartitionOp, PartitionOps } from "./subjects.js";
import {
  acceptsBytes,
  checkPayloadSize,
  envelopeFields,
  fieldPath,
  parseRequest,
  parseWith,
  validateRequest,
} from "./validate.js";

const strategy = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `strat-${i}`,
  name: `Strategy ${i}`,
  owner: "desk-fx",
  ...extra,
});

/** What every write carries in its envelope: a command id and when it was first issued. */
const W = { cid: "cmd-0", issued: 1_767_225_600_000 } as const;

/** A valid request of every operation, as a client would send it. */
const VALID: ReadonlyArray<[PartitionOp, Record<string, unknown>]> = [
  [PartitionOps.Register, { v: 1, ...W, cid: "cmd-1", body: { strategy: strategy(1) } }],
  [
    PartitionOps.Register,
    {
      v: 1,
      ...W,
      body: {
        strategy: strategy(2, {
          description: "mean reversion on EURUSD",
          tags: ["fx", "mean-reversion"],
          family: "mr",
          parents: ["strat-1"],
          template: { id: "mr-template", version: 3, params: { lookback: 20, threshold: 1.5, side: "long", on: true } },
          venues: [{ venue: "lmax", symbols: ["EURUSD"], params: { size: 1e6 } }],
          dependencies: ["feed:eurusd"],
        }),
      },
    },
  ],
  [PartitionOps.Register, { v: 1, ...W, body: { strategy: strategy(3, { family: null, template: null }) } }],
  [PartitionOps.RegisterBatch, { v: 1, ...W, cid: "b_2", body: { strategies: [strategy(1), strategy(2)] } }],
  [PartitionOps.Get, { v: 1, body: { id: "desk:fx.carry-7" } }],
  [PartitionOps.GetBatch, { v: 1, body: { ids: ["a", "b", "c"] } }],
  [PartitionOps.Update, { v: 1, ...W, cid: "u", body: { id: "a", expectedVersion: 1, patch: { name: "renamed" } } }],
  [PartitionOps.Update, { v: 1, ...W, body: { id: "a", expectedVersion: 7, patch: { family: null, tags: [] } } }],
  [PartitionOps.Retire, { v: 1, ...W, body: { id: "a" } }],
  [PartitionOps.Retire, { v: 1, ...W, body: { id: "a", expectedVersion: 2, reason: "decayed" } }],
  [PartitionOps.List, { v: 1, body: {} }],
  [PartitionOps.List, { v: 1, ...W, body: { cursor: null, limit: 1000 } }],
  [PartitionOps.List, { v: 1, body: { cursor: "strat-9", limit: 1 } }],
  [
    PartitionOps.Report,
    {
      v: 1,
      ...W,
      body: {
        reports: [
          { id: "a", seq: 1, regime: "calm", venue: "XNAS", times: [1, 2], returns: [0.01, -1], trades: [5, -2.5] },
          { id: "b", seq: 9 },
        ],
      },
    },
  ],
  [PartitionOps.Perf, { v: 1, body: { id: "a" } }],
  [PartitionOps.Ranking, { v: 1, body: { metric: "sortino", k: 0, countBetter: 1.5, moments: true } }],
  [
    PartitionOps.Ranking,
    {
      v: 1,
      body: {
        metric: "maxDrawdown",
        k: 1000,
        scope: { family: "f", regime: "r", venue: "v", state: "draft", tag: "t" },
        minTrades: 10,
        minPeriods: 0,
        order: "worst",
      },
    },
  ],
  [PartitionOps.TopK, { v: 1, body: {} }],
  [PartitionOps.History, { v: 1, body: { id: "a" } }],
  [PartitionOps.History, { v: 1, body: { id: "a", from: 0, to: 1_800_000_000_000, points: 5000 } }],
  [
    PartitionOps.Transition,
    { v: 1, ...W, body: { id: "a", action: "resume", by: "pm", reason: "back", expectedVersion: 3 } },
  ],
  [
    PartitionOps.AttachEvidence,
    {
      v: 1,
      ...W,
      body: {
        id: "a",
        by: "quant",
        evidence: {
          returns: [0.01, -0.02, 0.03],
          trades: [0.1],
          oosStart: 2,
          folds: [[0, 3]],
          perturbations: [{ param: "p", change: 0.1, sharpe: 1 }],
          regimes: ["a", "b", "a"],
          trials: 40,
          trialSharpes: [1, 2],
          periodsPerYear: 52,
        },
      },
    },
  ],
  [PartitionOps.Evidence, { v: 1, body: { id: "a" } }],
  [PartitionOps.Gates, { v: 1, body: { id: "a" } }],
  [
    PartitionOps.Link,
    { v: 1, ...W, cid: "graph-7-0", body: { id: "a", dependencies: { add: ["b"] }, dependents: {}, by: "graph" } },
  ],
  [
    PartitionOps.Cascade,
    { v: 1, ...W, cid: "graph-7-1", body: { id: "a", action: "retire", by: "graph", reason: "dependency b retired" } },
  ],
];

/**
 * Parses `payload` expecting a rejection, and checks what every rejection
 * promises: a ValidationError, not retryable, whose wire form turns back into
 * the same class, code and field.
 */
function rejection(op: PartitionOp, payload: Uint8Array): ValidationError {
  let thrown: unknown;
  try {
    parseRequest(op, payload);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ValidationError);
  const error = thrown as ValidationError;
  expect(error.retryable).toBe(false);
  const back = errorFromWire(decode(encode(error.toWire())) as ReturnType<ValidationError["toWire"]>);
  expect(back).toBeInstanceOf(ValidationError);
  expect(back.code).toBe(error.code);
  expect(back.field).toBe(error.field);
  expect(back.message).toBe(error.message);
  expect(back.retryable).toBe(false);
  return error;
}

function expectRejected(op: PartitionOp, value: unknown, code: ErrorCode, field?: string): ValidationError {
  const error = rejection(op, encode(value));
  expect({ code: error.code, field: error.field }).toEqual({ code, field });
  if (field !== undefined) expect(error.message).toContain(field);
  return error;
}

describe("parseRequest accepts", () => {
  test.each(VALID)("a valid %s request", (op, request) => {
    expect(parseRequest(op, encode(request))).toEqual(request);
  });

  test("every operation has a valid example", () => {
    expect(new Set(VALID.map(([op]) => op))).toEqual(new Set(Object.values(PartitionOps)));
  });

  test("a batch of exactly Limits.batchMax strategies", () => {
    const strategies = Array.from({ length: Limits.batchMax }, (_, i) => strategy(i));
    const request = parseRequest(PartitionOps.RegisterBatch, encode({ v: 1, ...W, body: { strategies } }));
    expect(request.body.strategies).toHaveLength(1000);
  });

  test("msgpackr's record extension (the bulk encoding) as well as plain maps", () => {
    const request = { v: 1, ...W, body: { strategies: [strategy(1), strategy(2), strategy(3)] } };
    expect(parseRequest(PartitionOps.RegisterBatch, encodeRecords(request), Encodings.Records)).toEqual(request);
  });

  test("maps of any msgpack width, from any encoder", () => {
    const request = { v: 1, ...W, cid: "x", body: { id: "a" } };
    const fixedWidth = Uint8Array.from(new Packr({ useRecords: false }).pack(request));
    expect(fixedWidth[0]).toBe(0xde);
    expect(parseRequest(PartitionOps.Get, fixedWidth)).toEqual(request);
  });

  test("ids of 1 and 128 characters from the whole id alphabet", () => {
    for (const id of ["a", "0", "A.b:c-d_e", "x".repeat(128)]) {
      expect(parseRequest(PartitionOps.Get, encode({ v: 1, ...W, body: { id } })).body.id).toBe(id);
    }
  });
});

describe("parseRequest rejects", () => {
  test("an empty payload as MALFORMED", () => {
    expect(rejection(PartitionOps.Get, new Uint8Array(0)).code).toBe(ErrorCodes.Malformed);
  });

  test.each([
    ["a truncated map", "82 a176 01"],
    ["a string cut short", "a5 6162"],
    ["an unknown extension type", "d4 05 00"],
    ["trailing bytes after the map", "81 a176 01 c0"],
    ["text, not msgpack", Buffer.from('{"v":1}').toString("hex")],
  ])("garbage bytes (%s) as MALFORMED", (_name, bytes) => {
    expect(rejection(PartitionOps.Get, Buffer.from(bytes.replace(/\s+/g, ""), "hex")).code).toBe(ErrorCodes.Malformed);
  });

  test.each([
    ["an array", [1, { v: 1 }]],
    ["a string", "hello"],
    ["nil", null],
    ["a number", 1],
    ["binary", new Uint8Array([0x81, 0xa1, 0x76, 0x01])],
  ])("%s at the top as MALFORMED", (_name, value) => {
    expect(rejection(PartitionOps.Get, encode(value)).code).toBe(ErrorCodes.Malformed);
  });

  test("random bytes always with a ValidationError", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), (bytes) => {
        rejection(PartitionOps.Get, bytes);
      }),
      { numRuns: 300 },
    );
  });

  test("a missing v as MISSING_FIELD", () => {
    expectRejected(PartitionOps.Get, { body: { id: "a" } }, ErrorCodes.MissingField, "v");
  });

  test.each([2, 0, "1", null, 1.5])("v = %j as UNSUPPORTED_VERSION", (v) => {
    const error = expectRejected(PartitionOps.Get, { v, body: { id: "a" } }, ErrorCodes.UnsupportedVersion, "v");
    expect(error.details).toEqual({ supported: [PROTOCOL_VERSION] });
    expect(errorFromWire(error.toWire()).details).toEqual({ supported: [1] });
  });

  test("a missing body, strategy or required strategy field as MISSING_FIELD", () => {
    expectRejected(PartitionOps.Get, { v: 1 }, ErrorCodes.MissingField, "body");
    expectRejected(PartitionOps.Register, { v: 1, ...W, body: {} }, ErrorCodes.MissingField, "body.strategy");
    expectRejected(
      PartitionOps.Register,
      { v: 1, ...W, body: { strategy: { id: "a", owner: "o" } } },
      ErrorCodes.MissingField,
      "body.strategy.name",
    );
    expectRejected(
      PartitionOps.RegisterBatch,
      { v: 1, ...W, body: { strategies: [strategy(0), { id: "b", name: "n" }] } },
      ErrorCodes.MissingField,
      "body.strategies[1].owner",
    );
    expectRejected(
      PartitionOps.Update,
      { v: 1, ...W, body: { id: "a", patch: { name: "x" } } },
      ErrorCodes.MissingField,
      "body.expectedVersion",
    );
  });

  test("unknown fields in the body and inside a strategy as UNKNOWN_FIELD", () => {
    expectRejected(
      PartitionOps.Get,
      { v: 1, ...W, body: { id: "a", bogus: 1 } },
      ErrorCodes.UnknownField,
      "body.bogus",
    );
    const strategies = [strategy(0), strategy(1), strategy(2), strategy(3, { bogus: true })];
    expectRejected(
      PartitionOps.RegisterBatch,
      { v: 1, ...W, body: { strategies } },
      ErrorCodes.UnknownField,
      "body.strategies[3].bogus",
    );
    expectRejected(
      PartitionOps.Register,
      { v: 1, ...W, body: { strategy: strategy(0, { version: 3 }) } },
      ErrorCodes.UnknownField,
      "body.strategy.version",
    );
    expectRejected(
      PartitionOps.Update,
      { v: 1, ...W, body: { id: "a", expectedVersion: 1, patch: { name: "x", state: "retired" } } },
      ErrorCodes.UnknownField,
      "body.patch.state",
    );
    expectRejected(
      PartitionOps.Register,
      { v: 1, ...W, body: { strategy: strategy(0, { venues: [{ venue: "x", symbols: [], bogus: 1 }] }) } },
      ErrorCodes.UnknownField,
      "body.strategy.venues[0].bogus",
    );
  });

  test("a field of the wrong type as INVALID_FIELD naming it", () => {
    const cases: Array<[PartitionOp, unknown, string]> = [
      [PartitionOps.Get, { v: 1, ...W, body: "a" }, "body"],
      [PartitionOps.Get, { v: 1, ...W, body: { id: 7 } }, "body.id"],
      [PartitionOps.Register, { v: 1, ...W, body: { strategy: [] } }, "body.strategy"],
      [PartitionOps.Register, { v: 1, ...W, body: { strategy: strategy(0, { name: 5 }) } }, "body.strategy.name"],
      [PartitionOps.Register, { v: 1, ...W, body: { strategy: strategy(0, { tags: "fx" }) } }, "body.strategy.tags"],
      [
        PartitionOps.Register,
        { v: 1, ...W, body: { strategy: strategy(0, { tags: ["fx", 1] }) } },
        "body.strategy.tags[1]",
      ],
      [
        PartitionOps.Register,
        { v: 1, ...W, body: { strategy: strategy(0, { description: null }) } },
        "body.strategy.description",
      ],
      [PartitionOps.Register, { v: 1, ...W, body: { strategy: strategy(0, { name: "" }) } }, "body.strategy.name"],
      [
        PartitionOps.Register,
        { v: 1, ...W, body: { strategy: strategy(0, { name: "n".repeat(201) }) } },
        "body.strategy.name",
      ],
      [
        PartitionOps.Register,
        { v: 1, ...W, body: { strategy: strategy(0, { tags: new Array(33).fill("t") }) } },
        "body.strategy.tags",
      ],
      [
        PartitionOps.Register,
        { v: 1, ...W, body: { strategy: strategy(0, { parents: ["no spaces"] }) } },
        "body.strategy.parents[0]",
      ],
      [PartitionOps.RegisterBatch, { v: 1, ...W, body: { strategies: {} } }, "body.strategies"],
      [PartitionOps.RegisterBatch, { v: 1, ...W, body: { strategies: [] } }, "body.strategies"],
      [PartitionOps.GetBatch, { v: 1, ...W, body: { ids: ["ok", ""] } }, "body.ids[1]"],
      [
        PartitionOps.Update,
        { v: 1, ...W, body: { id: "a", expectedVersion: "1", patch: { name: "x" } } },
        "body.expectedVersion",
      ],
      [
        PartitionOps.Update,
        { v: 1, ...W, body: { id: "a", expectedVersion: 0, patch: { name: "x" } } },
        "body.expectedVersion",
      ],
      [
        PartitionOps.Update,
        { v: 1, ...W, body: { id: "a", expectedVersion: 1.5, patch: { name: "x" } } },
        "body.expectedVersion",
      ],
      [PartitionOps.Update, { v: 1, ...W, body: { id: "a", expectedVersion: 1, patch: {} } }, "body.patch"],
      [PartitionOps.Retire, { v: 1, ...W, body: { id: "a", reason: "r".repeat(501) } }, "body.reason"],
      [PartitionOps.List, { v: 1, ...W, body: { limit: Limits.listMax + 1 } }, "body.limit"],
      [PartitionOps.List, { v: 1, ...W, body: { limit: 0 } }, "body.limit"],
      [PartitionOps.List, { v: 1, ...W, body: { cursor: 5 } }, "body.cursor"],
    ];
    for (const [op, value, field] of cases) expectRejected(op, value, ErrorCodes.InvalidField, field);
  });

  test.each([
    ["empty", ""],
    ["129 characters", "x".repeat(129)],
    ["a space", "has space"],
    ["a leading dot", ".a"],
    ["a slash", "a/b"],
    ["non-ASCII", "策略-1"],
    ["a NATS wildcard", "a*"],
  ])("an id with %s as INVALID_FIELD body.id", (_name, id) => {
    expectRejected(PartitionOps.Get, { v: 1, ...W, body: { id } }, ErrorCodes.InvalidField, "body.id");
    expectRejected(PartitionOps.Retire, { v: 1, ...W, body: { id } }, ErrorCodes.InvalidField, "body.id");
  });

  test.each([
    ["empty", ""],
    ["65 characters", "c".repeat(65)],
    ["a space", "a b"],
    ["a dot", "a.b"],
    ["a number", 42],
  ])("a cid that is %s as INVALID_FIELD cid", (_name, cid) => {
    expectRejected(PartitionOps.Get, { v: 1, ...W, cid, body: { id: "a" } }, ErrorCodes.InvalidField, "cid");
  });

  test("1001 strategies or ids as BATCH_TOO_LARGE", () => {
    const strategies = Array.from({ length: Limits.batchMax + 1 }, (_, i) => strategy(i));
    const error = expectRejected(
      PartitionOps.RegisterBatch,
      { v: 1, ...W, body: { strategies } },
      ErrorCodes.BatchTooLarge,
      "body.strategies",
    );
    expect(error.message).toContain("1000");
    const ids = Array.from({ length: Limits.batchMax + 1 }, (_, i) => `s${i}`);
    expectRejected(PartitionOps.GetBatch, { v: 1, ...W, body: { ids } }, ErrorCodes.BatchTooLarge, "body.ids");
  });

  test("a payload over Limits.payloadMaxBytes as PAYLOAD_TOO_LARGE, before decoding", () => {
    const sized = (bytes: number): Uint8Array => {
      const head = encode({ v: 1, ...W, body: { id: "a" }, pad: "" }).length;
      // A str 32 pad makes the size exact (5-byte header instead of 1).
      const payload = encode({ v: 1, ...W, body: { id: "a" }, pad: "p".repeat(bytes - head - 4) });
      expect(payload.length).toBe(bytes);
      return payload;
    };
    // `pad` is an envelope field this build does not know: ignored, so a payload at the limit is accepted.
    expect(parseRequest(PartitionOps.Get, sized(Limits.payloadMaxBytes)).body).toEqual({ id: "a" });
    const over = rejection(PartitionOps.Get, sized(Limits.payloadMaxBytes + 1));
    expect(over.code).toBe(ErrorCodes.PayloadTooLarge);
    expect(over.details).toEqual({ size: Limits.payloadMaxBytes + 1, limit: Limits.payloadMaxBytes });
    // Not decoded: garbage over the limit is still PAYLOAD_TOO_LARGE, not MALFORMED.
    expect(rejection(PartitionOps.Get, new Uint8Array(Limits.payloadMaxBytes + 1).fill(0xc1)).code).toBe(
      ErrorCodes.PayloadTooLarge,
    );
  });
});

describe("validateRequest and checkPayloadSize", () => {
  test("validateRequest checks an already decoded value the same way", () => {
    expect(validateRequest(PartitionOps.Get, { v: 1, ...W, body: { id: "a" } })).toEqual({
      v: 1,
      ...W,
      body: { id: "a" },
    });
    expect(() => validateRequest(PartitionOps.Get, { v: 1, ...W, body: { id: "" } })).toThrow(ValidationError);
    expect(() => validateRequest(PartitionOps.Get, [])).toThrow(ValidationError);
  });

  test("checkPayloadSize takes a custom limit", () => {
    expect(() => checkPayloadSize(new Uint8Array(10), 10)).not.toThrow();
    expect(() => checkPayloadSize(new Uint8Array(11), 10)).toThrow(
      expect.objectContaining({ code: ErrorCodes.PayloadTooLarge, details: { size: 11, limit: 10 } }),
    );
  });

  test("a request validated for one op is not valid for another", () => {
    expectRejected(PartitionOps.GetBatch, { v: 1, ...W, body: { id: "a" } }, ErrorCodes.MissingField, "body.ids");
    expectRejected(PartitionOps.Register, { v: 1, ...W, body: { id: "a" } }, ErrorCodes.MissingField, "body.strategy");
    expectRejected(PartitionOps.List, { v: 1, ...W, body: { id: "a" } }, ErrorCodes.UnknownField, "body.id");
  });
});

describe("fieldPath", () => {
  test.each([
    ["", ""],
    ["/v", "v"],
    ["/body", "body"],
    ["/body/id", "body.id"],
    ["/body/strategies/3/name", "body.strategies[3].name"],
    ["/body/strategies/3/bogus", "body.strategies[3].bogus"],
    ["/body/ids/0", "body.ids[0]"],
    ["/body/strategy/venues/12/symbols/0", "body.strategy.venues[12].symbols[0]"],
    ["/0/1", "[0][1]"],
    ["/body/a~1b", "body.a/b"],
    ["/body/a~0b", "body.a~b"],
    ["/body/~01", "body.~1"],
  ])("%j → %j", (pointer, path) => {
    expect(fieldPath(pointer)).toBe(path);
  });
});

describe("codec", () => {
  test("decode throws MALFORMED ValidationErrors, encode round-trips standard values", () => {
    expect(() => decode(new Uint8Array(0))).toThrow(expect.objectContaining({ code: ErrorCodes.Malformed }));
    expect(() => decode(Uint8Array.of(0x92, 0x01))).toThrow(ValidationError);
    const value = { a: [1, -1, 2 ** 40, 1.5, "策略", null, true], b: { c: new Uint8Array([1, 2]) } };
    expect(decode(encode(value))).toEqual({ ...value, b: { c: Buffer.from([1, 2]) } });
  });

  test("encodeWithRaw splices raw msgpack verbatim at the top, in arrays and in objects", () => {
    const raw = new RawMsgpack(encode({ id: "s1", version: 1 }));
    expect(decode(encodeWithRaw(raw))).toEqual({ id: "s1", version: 1 });
    expect(decode(encodeWithRaw({ v: 1, ok: true, body: { strategy: raw } }))).toEqual({
      v: 1,
      ok: true,
      body: { strategy: { id: "s1", version: 1 } },
    });
    expect(decode(encodeWithRaw({ strategies: [raw, raw], missing: ["x"], nextCursor: null }))).toEqual({
      strategies: [
        { id: "s1", version: 1 },
        { id: "s1", version: 1 },
      ],
      missing: ["x"],
      nextCursor: null,
    });
    // Undefined fields are left out, as encode does.
    expect(decode(encodeWithRaw({ a: undefined, b: raw }))).toEqual({ b: { id: "s1", version: 1 } });
  });

  test("encodeWithRaw writes arrays of any length", () => {
    for (const n of [0, 15, 16, 65536]) {
      const items = Array.from({ length: n }, () => new RawMsgpack(Uint8Array.of(0x07)));
      expect(decode(encodeWithRaw({ items, n }))).toEqual({ items: new Array(n).fill(7), n });
    }
  });

  test("errors are StratregErrors", () => {
    let thrown: unknown;
    try {
      decode(Uint8Array.of(0x01, 0x02));
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(StratregError);
  });
});

// ---- The envelope ------------------------------------------------------------------------------

const WRITES = [
  PartitionOps.Register,
  PartitionOps.RegisterBatch,
  PartitionOps.Update,
  PartitionOps.Retire,
  PartitionOps.Report,
  PartitionOps.Transition,
  PartitionOps.AttachEvidence,
] as const;
const READS = [
  PartitionOps.Get,
  PartitionOps.GetBatch,
  PartitionOps.List,
  PartitionOps.Perf,
  PartitionOps.Ranking,
  PartitionOps.TopK,
  PartitionOps.History,
  PartitionOps.Evidence,
  PartitionOps.Gates,
] as const;
/** A valid body of every operation. */
const BODY: Record<PartitionOp, Record<string, unknown>> = {
  [PartitionOps.Register]: { strategy: strategy(1) },
  [PartitionOps.RegisterBatch]: { strategies: [strategy(1), strategy(2)] },
  [PartitionOps.Get]: { id: "a" },
  [PartitionOps.GetBatch]: { ids: ["a", "b"] },
  [PartitionOps.Update]: { id: "a", expectedVersion: 1, patch: { name: "n" } },
  [PartitionOps.Retire]: { id: "a", reason: "r" },
  [PartitionOps.List]: { cursor: "a", limit: 10 },
  [PartitionOps.Report]: { reports: [{ id: "a", seq: 1, times: [5], returns: [0.5] }] },
  [PartitionOps.Perf]: { id: "a" },
  [PartitionOps.Ranking]: { metric: "calmar", k: 3, scope: { state: "draft" } },
  [PartitionOps.TopK]: {},
  [PartitionOps.History]: { id: "a", points: 10 },
  [PartitionOps.Transition]: { id: "a", action: "activate", by: "pm", reason: "approved" },
  [PartitionOps.AttachEvidence]: { id: "a", by: "quant", evidence: { returns: [0.01, -0.02], folds: [[0, 2]] } },
  [PartitionOps.Evidence]: { id: "a" },
  [PartitionOps.Gates]: { id: "a" },
  [PartitionOps.Link]: { id: "a", dependencies: { add: ["b"] }, by: "graph" },
  [PartitionOps.Cascade]: { id: "a", action: "suspend", by: "graph", reason: "dependency b suspended" },
};
const OPS = [...WRITES, ...READS];

describe("the envelope", () => {
  test.each(WRITES)("%s needs cid and issued (MISSING_FIELD), in that order", (op) => {
    expectRejected(op, { v: 1, body: BODY[op] }, ErrorCodes.MissingField, "cid");
    expectRejected(op, { v: 1, issued: W.issued, body: BODY[op] }, ErrorCodes.MissingField, "cid");
    expectRejected(op, { v: 1, cid: "c", body: BODY[op] }, ErrorCodes.MissingField, "issued");
    expect(parseRequest(op, encode({ v: 1, ...W, body: BODY[op] }))).toMatchObject(W);
  });

  test.each(READS)("%s takes cid, issued and deadlineMs but needs none of them", (op) => {
    expect(parseRequest(op, encode({ v: 1, body: BODY[op] })).body).toEqual(BODY[op]);
    const full = { v: 1, cid: "c", issued: 0, deadlineMs: 250, body: BODY[op] };
    expect(parseRequest(op, encode(full))).toEqual(full);
  });

  test.each(OPS)("%s refuses a cid, issued or deadlineMs out of range (INVALID_FIELD)", (op) => {
    const bad: Array<[string, unknown]> = [
      ["cid", ""],
      ["cid", "a b"],
      ["cid", 7],
      ["issued", -1],
      ["issued", 1.5],
      ["issued", "1767225600000"],
      ["issued", null],
      ["issued", 2 ** 53],
      ["deadlineMs", 0],
      ["deadlineMs", -5],
      ["deadlineMs", 3_600_001],
      ["deadlineMs", 2.5],
      ["deadlineMs", "100"],
      ["deadlineMs", null],
    ];
    for (const [field, value] of bad) {
      expectRejected(op, { v: 1, ...W, [field]: value, body: BODY[op] }, ErrorCodes.InvalidField, field);
    }
  });

  test.each(OPS)("%s takes issued and deadlineMs at their limits, in any msgpack number width", (op) => {
    for (const [issued, deadlineMs] of [
      [0, 1],
      [Number.MAX_SAFE_INTEGER, 3_600_000],
      [1_767_225_600_123, 5000],
    ]) {
      const request = { v: 1, cid: "c", issued, deadlineMs, body: BODY[op] };
      expect(parseRequest(op, encode(request))).toEqual(request);
      const int64s = new Packr({ useRecords: false, largeBigIntToFloat: false }).pack({
        ...request,
        issued: BigInt(issued as number),
        deadlineMs: BigInt(deadlineMs as number),
      });
      expect(parseRequest(op, int64s)).toEqual(request);
    }
  });

  test.each(OPS)("%s ignores envelope fields it does not know, whatever standard msgpack they hold", (op) => {
    const newer = {
      v: 1,
      ...W,
      body: BODY[op],
      priority: 3,
      trace: { id: "t-1", spans: [1, 2.5, null, true, "x", { "": [] }] },
      "x-future": new Uint8Array([1, 2, 3]),
      constructor: "ignored",
    };
    expect(parseRequest(op, encode(newer))).toMatchObject({ v: 1, ...W, body: BODY[op] });
  });

  test("unknown fields inside the body and inside a strategy stay refused", () => {
    expectRejected(
      PartitionOps.Get,
      { v: 1, body: { id: "a", priority: 3 } },
      ErrorCodes.UnknownField,
      "body.priority",
    );
    expectRejected(
      PartitionOps.Register,
      { v: 1, ...W, body: { strategy: strategy(0, { priority: 3 }) } },
      ErrorCodes.UnknownField,
      "body.strategy.priority",
    );
  });

  test("the version is checked before anything else in the envelope or body", () => {
    expectRejected(PartitionOps.Register, { v: 2, body: { x: 1 } }, ErrorCodes.UnsupportedVersion, "v");
    expectRejected(PartitionOps.Register, { body: { x: 1 } }, ErrorCodes.MissingField, "v");
  });
});

// ---- Encoding-level problems ---------------------------------------------------------------------

/** A string that stands for bytes spliced in after encoding (see withRaw). */
const MARK = "\u0001mark\u0001";

/** `value` encoded, with the str MARK (as a value or a key) replaced by `raw`. */
function withRaw(value: unknown, raw: Uint8Array): Buffer {
  const bytes = Buffer.from(encode(value));
  const mark = Buffer.from(encode(MARK));
  const at = bytes.indexOf(mark);
  expect(at).toBeGreaterThanOrEqual(0);
  return Buffer.concat([bytes.subarray(0, at), raw, bytes.subarray(at + mark.length)]);
}

const hexBytes = (text: string) => Buffer.from(text.replace(/\s+/g, ""), "hex");

/** Values that are not standard msgpack data, or not valid UTF-8. */
const NOT_STANDARD_VALUES: Array<[string, Buffer]> = [
  ["extension type 0 (fixext 1)", hexBytes("d4 00 00")],
  ["extension type -1 (a timestamp)", hexBytes("d6 ff 00000000")],
  ["extension type 5 (ext 8)", hexBytes("c7 01 05 00")],
  ["extension type 114 (msgpackr records)", hexBytes("d4 72 00")],
  ["extension type 127 (ext 32)", hexBytes("c9 00000001 7f 00")],
  ["the never-used byte 0xc1", hexBytes("c1")],
  ["invalid UTF-8", hexBytes("a2 c3 28")],
  ["a UTF-16 surrogate in UTF-8 (CESU-8)", hexBytes("a3 eda080")],
  ["an overlong UTF-8 encoding", hexBytes("a2 c0 80")],
  ["invalid UTF-8 in a str 8", hexBytes("d9 02 ff fe")],
];
/** Keys that are not standard: not strings, not UTF-8, or starting with a byte order mark. */
const NOT_STANDARD_KEYS: Array<[string, Buffer]> = [
  ["an integer key", hexBytes("07")],
  ["a nil key", hexBytes("c0")],
  ["a binary key", hexBytes("c4 01 61")],
  ["an array key", hexBytes("90")],
  ["a map key", hexBytes("80")],
  ["an extension key", hexBytes("d4 00 00")],
  ["a key of invalid UTF-8", hexBytes("a2 c3 28")],
  ["a key starting with U+FEFF", hexBytes("a4 efbbbf 78")],
];

/** Every string position of every operation: the request with MARK there, and the field it is. */
const STRING_POSITIONS: Array<[PartitionOp, Record<string, unknown>, string]> = [
  [PartitionOps.Register, { v: 1, ...W, body: { strategy: strategy(1, { name: MARK }) } }, "body.strategy.name"],
  [PartitionOps.Register, { v: 1, ...W, body: { strategy: { ...strategy(1), id: MARK } } }, "body.strategy.id"],
  [PartitionOps.Register, { v: 1, ...W, body: { strategy: strategy(1, { owner: MARK }) } }, "body.strategy.owner"],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { description: MARK }) } },
    "body.strategy.description",
  ],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { tags: ["a", MARK] }) } },
    "body.strategy.tags[1]",
  ],
  [PartitionOps.Register, { v: 1, ...W, body: { strategy: strategy(1, { family: MARK }) } }, "body.strategy.family"],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { parents: [MARK] }) } },
    "body.strategy.parents[0]",
  ],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { dependencies: [MARK] }) } },
    "body.strategy.dependencies[0]",
  ],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { template: { id: MARK, params: {} } }) } },
    "body.strategy.template.id",
  ],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { template: { id: "t", version: 1, params: { p: MARK } } }) } },
    "body.strategy.template.params.p",
  ],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { venues: [{ venue: MARK, symbols: [] }] }) } },
    "body.strategy.venues[0].venue",
  ],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { venues: [{ venue: "v", symbols: ["s", MARK] }] }) } },
    "body.strategy.venues[0].symbols[1]",
  ],
  [PartitionOps.Register, { v: 1, ...W, cid: MARK, body: BODY.register }, "cid"],
  [
    PartitionOps.RegisterBatch,
    { v: 1, ...W, body: { strategies: [strategy(1), strategy(2, { name: MARK })] } },
    "body.strategies[1].name",
  ],
  [
    PartitionOps.RegisterBatch,
    { v: 1, ...W, body: { strategies: [{ ...strategy(1), id: MARK }] } },
    "body.strategies[0].id",
  ],
  [PartitionOps.Get, { v: 1, body: { id: MARK } }, "body.id"],
  [PartitionOps.Get, { v: 1, cid: MARK, body: { id: "a" } }, "cid"],
  [PartitionOps.GetBatch, { v: 1, body: { ids: ["a", MARK] } }, "body.ids[1]"],
  [PartitionOps.Update, { v: 1, ...W, body: { id: MARK, expectedVersion: 1, patch: { name: "n" } } }, "body.id"],
  [
    PartitionOps.Update,
    { v: 1, ...W, body: { id: "a", expectedVersion: 1, patch: { description: MARK } } },
    "body.patch.description",
  ],
  [
    PartitionOps.Update,
    { v: 1, ...W, body: { id: "a", expectedVersion: 1, patch: { tags: [MARK] } } },
    "body.patch.tags[0]",
  ],
  [
    PartitionOps.Update,
    { v: 1, ...W, body: { id: "a", expectedVersion: 1, patch: { template: { id: "t", params: { p: MARK } } } } },
    "body.patch.template.params.p",
  ],
  [PartitionOps.Retire, { v: 1, ...W, body: { id: "a", reason: MARK } }, "body.reason"],
  [PartitionOps.Retire, { v: 1, ...W, body: { id: MARK } }, "body.id"],
  [PartitionOps.List, { v: 1, body: { cursor: MARK } }, "body.cursor"],
  [PartitionOps.List, { v: 1, body: { cursor: "a", limit: 10 }, trace: { span: MARK } }, "trace.span"],
];
/** Number positions: an extension type there is MALFORMED too. */
const NUMBER_POSITIONS: Array<[PartitionOp, Record<string, unknown>, string]> = [
  [PartitionOps.Register, { v: MARK, ...W, body: BODY.register }, "v"],
  [PartitionOps.Register, { v: 1, cid: "c", issued: MARK, body: BODY.register }, "issued"],
  [PartitionOps.Get, { v: 1, deadlineMs: MARK, body: BODY.get }, "deadlineMs"],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { template: { id: "t", version: MARK, params: {} } }) } },
    "body.strategy.template.version",
  ],
  [
    PartitionOps.Update,
    { v: 1, ...W, body: { id: "a", expectedVersion: MARK, patch: { name: "n" } } },
    "body.expectedVersion",
  ],
  [PartitionOps.Retire, { v: 1, ...W, body: { id: "a", expectedVersion: MARK } }, "body.expectedVersion"],
  [PartitionOps.List, { v: 1, body: { limit: MARK } }, "body.limit"],
];
/** Map positions of every operation: the request with a key MARK in that map, and the map's field. */
const KEY_POSITIONS: Array<[PartitionOp, Record<string, unknown>, string]> = [
  [PartitionOps.Register, { v: 1, ...W, [MARK]: 1, body: BODY.register }, ""],
  [PartitionOps.Register, { v: 1, ...W, body: { ...BODY.register, [MARK]: 1 } }, "body"],
  [PartitionOps.Register, { v: 1, ...W, body: { strategy: strategy(1, { [MARK]: 1 }) } }, "body.strategy"],
  [
    PartitionOps.Register,
    { v: 1, ...W, body: { strategy: strategy(1, { template: { id: "t", params: { p: 1, [MARK]: 1 } } }) } },
    "body.strategy.template.params",
  ],
  [
    PartitionOps.RegisterBatch,
    {
      v: 1,
      ...W,
      body: { strategies: [strategy(1), strategy(2, { venues: [{ venue: "v", symbols: [], [MARK]: 1 }] })] },
    },
    "body.strategies[1].venues[0]",
  ],
  [PartitionOps.Get, { v: 1, body: { id: "a", [MARK]: 1 } }, "body"],
  [PartitionOps.GetBatch, { v: 1, body: { ids: ["a"], [MARK]: 1 } }, "body"],
  [
    PartitionOps.Update,
    { v: 1, ...W, body: { id: "a", expectedVersion: 1, patch: { name: "n", [MARK]: 1 } } },
    "body.patch",
  ],
  [PartitionOps.Retire, { v: 1, ...W, body: { id: "a", [MARK]: 1 } }, "body"],
  [PartitionOps.List, { v: 1, body: {}, trace: { span: 1, [MARK]: 1 } }, "trace"],
];

/** Expects `payload` refused as MALFORMED naming `field`, by parseRequest and by the bytes check alike. */
function expectMalformed(op: PartitionOp, payload: Buffer, field: string, what: string): void {
  const error = rejection(op, payload);
  expect({ code: error.code, field: error.field }, what).toEqual({
    code: ErrorCodes.Malformed,
    field: field === "" ? undefined : field,
  });
  expect(acceptsBytes(op, payload), what).toBe(false);
}

describe("every operation refuses what is not standard msgpack data (MALFORMED, naming where)", () => {
  test.each(STRING_POSITIONS)("%s with a bad value as %s", (op, request, field) => {
    for (const [what, raw] of NOT_STANDARD_VALUES) expectMalformed(op, withRaw(request, raw), field, what);
  });

  test.each(NUMBER_POSITIONS)("%s with an extension type as %s", (op, request, field) => {
    for (const [what, raw] of NOT_STANDARD_VALUES.slice(0, 6)) expectMalformed(op, withRaw(request, raw), field, what);
  });

  test.each(KEY_POSITIONS)("%s with a bad key in %j", (op, request, field) => {
    for (const [what, raw] of NOT_STANDARD_KEYS) expectMalformed(op, withRaw(request, raw), field, what);
  });

  test.each(KEY_POSITIONS)("%s with a key given twice in %j", (op, request, field) => {
    // The MARK key becomes the map's first key again.
    const value = request as Record<string, unknown>;
    const map = (
      field === ""
        ? value
        : field
            .split(/\.|\[|\]/)
            .filter(Boolean)
            .reduce<unknown>((m, k) => (m as Record<string, unknown>)[k], value)
    ) as Record<string, unknown>;
    const first = Object.keys(map)[0] as string;
    expectMalformed(
      op,
      withRaw(request, Buffer.from(encode(first))),
      field === "" ? first : `${field}.${first}`,
      first,
    );
  });

  test.each(OPS)("%s with bytes after the request map", (op) => {
    const valid = Buffer.from(encode({ v: 1, ...W, body: BODY[op] }));
    expect(acceptsBytes(op, valid)).toBe(true);
    for (const extra of [hexBytes("c0"), hexBytes("00"), valid]) {
      expectMalformed(op, Buffer.concat([valid, extra]), "", extra.toString("hex"));
    }
  });

  test.each(OPS)("%s with maps or arrays nested more than 64 deep in an envelope field", (op) => {
    const nest = (depth: number): unknown => (depth === 0 ? 1 : [nest(depth - 1)]);
    // The envelope is the first level, so `trace` may hold 63 more.
    expect(parseRequest(op, encode({ v: 1, ...W, body: BODY[op], trace: nest(63) })).body).toEqual(BODY[op]);
    const error = rejection(op, encode({ v: 1, ...W, body: BODY[op], trace: nest(64) }));
    expect(error.code).toBe(ErrorCodes.Malformed);
    expect(error.field).toBe(`trace${"[0]".repeat(63)}`);
  });

  test("the message says what and where", () => {
    const error = rejection(
      PartitionOps.Update,
      withRaw(
        { v: 1, ...W, body: { id: "a", expectedVersion: 1, patch: { description: MARK } } },
        hexBytes("d4 00 00"),
      ),
    );
    expect(error.message).toMatch(/^body\.patch\.description: msgpack extension type 0 \(0xd4\) at byte \d+/);
    expect(rejection(PartitionOps.Get, hexBytes("81 a2c328 01")).message).toMatch(/not valid UTF-8/);
    expect(rejection(PartitionOps.Get, hexBytes("81 01 01")).message).toMatch(/not a string/);
  });

  test("a request in msgpackr's record encoding is MALFORMED without the records encoding", () => {
    const request = { v: 1, ...W, body: { strategies: [strategy(1)] } };
    expect(rejection(PartitionOps.RegisterBatch, encodeRecords(request)).code).toBe(ErrorCodes.Malformed);
    expect(parseRequest(PartitionOps.RegisterBatch, encodeRecords(request), Encodings.Records)).toEqual(request);
  });
});

describe("__proto__ and constructor keys", () => {
  // msgpackr decodes a key `__proto__` as `__proto_`: the bytes decide, so the field named is the one sent.
  // (JSON.parse makes `__proto__` an own key, as a client in another language sends it.)
  const strategyJson = '"id": "strat-1", "name": "n", "owner": "o"';
  test.each([
    [PartitionOps.Get, '{"v": 1, "body": {"id": "a", "__proto__": 1}}', "body.__proto__"],
    [
      PartitionOps.Register,
      `{"v": 1, "cid": "c", "issued": 0, "body": {"strategy": {${strategyJson}, "__proto__": "x"}}}`,
      "body.strategy.__proto__",
    ],
    [
      PartitionOps.Register,
      `{"v": 1, "cid": "c", "issued": 0, "body": {"strategy": {${strategyJson}, "template": {"id": "t", "params": {"__proto__": 1}}}}}`,
      "body.strategy.template.params.__proto__",
    ],
    [
      PartitionOps.Update,
      '{"v": 1, "cid": "c", "issued": 0, "body": {"id": "a", "expectedVersion": 1, "patch": {"__proto__": {}}}}',
      "body.patch.__proto__",
    ],
    [PartitionOps.List, '{"v": 1, "body": {}, "__proto__": 1}', "__proto__"],
    [PartitionOps.List, '{"v": 1, "body": {}, "trace": {"__proto__": 1}}', "trace.__proto__"],
  ])("%s: %s is UNKNOWN_FIELD %s", (op, json, field) => {
    const payload = Buffer.from(encode(JSON.parse(json)));
    expect(payload.includes(Buffer.from("__proto__"))).toBe(true);
    const error = rejection(op, payload);
    expect({ code: error.code, field: error.field }).toEqual({ code: ErrorCodes.UnknownField, field });
    expect(acceptsBytes(op, payload)).toBe(false);
  });

  test("a __proto__ key comes after the version, and after encoding problems", () => {
    const proto = JSON.parse('{"v": 2, "body": {"id": "a", "__proto__": 1}}');
    expect(rejection(PartitionOps.Get, encode(proto)).code).toBe(ErrorCodes.UnsupportedVersion);
    const both = JSON.parse('{"v": 1, "body": {"id": "a", "__proto__": 1}}');
    both.body.x = MARK;
    expect(rejection(PartitionOps.Get, withRaw(both, hexBytes("d4 00 00"))).code).toBe(ErrorCodes.Malformed);
  });

  test("constructor is an unknown field in the body, a valid param name, and ignored in the envelope", () => {
    expectRejected(
      PartitionOps.Get,
      { v: 1, body: { id: "a", constructor: 1 } },
      ErrorCodes.UnknownField,
      "body.constructor",
    );
    const params = { constructor: 1, toString: "x", hasOwnProperty: true };
    const request = { v: 1, ...W, constructor: 2, body: { strategy: strategy(1, { template: { id: "t", params } }) } };
    const payload = Buffer.from(encode(request));
    expect(parseRequest(PartitionOps.Register, payload).body.strategy.template?.params).toEqual(params);
    expect(acceptsBytes(PartitionOps.Register, payload)).toBe(true);
  });
});

describe("envelopeFields", () => {
  const fields = { cid: "cmd-9", issued: 1_767_225_600_123, deadlineMs: 1500 };

  test.each(OPS)("reads cid, issued and deadlineMs of a %s request the bytes check accepted", (op) => {
    for (const request of [
      { v: 1, ...fields, body: BODY[op] },
      { v: 1, body: BODY[op], ...fields, extra: [1, 2] },
      { body: BODY[op], deadlineMs: 1500, v: 1, issued: fields.issued, cid: "cmd-9" },
    ]) {
      const bytes = Buffer.from(new Packr({ useRecords: false }).pack(request));
      expect(acceptsBytes(op, bytes)).toBe(true);
      expect(envelopeFields(bytes)).toEqual(fields);
      // And without the check just before: it walks the envelope instead.
      expect(envelopeFields(Buffer.from(bytes))).toEqual(fields);
    }
  });

  test("leaves out fields that are absent or of another type, and refuses bytes that are not a map", () => {
    expect(envelopeFields(Buffer.from(encode({ v: 1, body: {} })))).toEqual({});
    expect(envelopeFields(Buffer.from(encode({ v: 1, cid: 5, issued: "x", deadlineMs: null, body: {} })))).toEqual({});
    expect(() => envelopeFields(hexBytes("91 01"))).toThrow(expect.objectContaining({ code: ErrorCodes.Malformed }));
    expect(() => envelopeFields(hexBytes("82 a176 01 a4626f6479 d40000"))).toThrow(
      expect.objectContaining({ code: ErrorCodes.Malformed }),
    );
  });
});

describe("binary data where a map goes", () => {
  // TypeBox takes a Uint8Array for an object; the bytes check does not: both paths refuse it.
  const withBody = (body: unknown) => Buffer.from(encode({ v: 1, cid: "AA", issued: 1_700_000_000_000, body }));

  test("an empty bin as the body is INVALID_FIELD naming the body, on every path", () => {
    const payload = withBody(new Uint8Array(0));
    expect(acceptsBytes(PartitionOps.TopK, payload)).toBe(false);
    expect(() => parseRequest(PartitionOps.TopK, payload)).toThrow(
      expect.objectContaining({ code: ErrorCodes.InvalidField, field: "body" }),
    );
  });

  test("wherever a map goes: in an array, a union, a record's values; other fields are the schema's to refuse", () => {
    const item = Type.Object({ note: Type.Optional(Type.String()) });
    const check = TypeCompiler.Compile(
      Type.Object({
        v: Type.Number(),
        body: Type.Object({
          list: Type.Optional(Type.Array(item)),
          either: Type.Optional(Type.Union([Type.Null(), Type.Array(Type.Number()), item])),
          byName: Type.Optional(Type.Record(Type.String(), item)),
          count: Type.Optional(Type.Number()),
          nested: Type.Optional(Type.Union([Type.Null(), Type.Object({ inner: item })])),
        }),
      }),
    );
    const refused = (body: Record<string, unknown>) => {
      try {
        parseWith(check, encode({ v: 1, body }));
        return undefined;
      } catch (err) {
        return (err as ValidationError).field;
      }
    };
    const bin = new Uint8Array(0);
    expect(refused({ list: [{}, bin] })).toBe("body.list[1]");
    expect(refused({ either: bin })).toBe("body.either");
    expect(refused({ byName: { a: {}, b: bin } })).toBe("body.byName.b");
    expect(refused({ list: [{ note: "n" }], either: [1, 2], byName: { a: {} }, count: 3 })).toBeUndefined();
    expect(refused({ either: null })).toBeUndefined();
    expect(refused({ count: bin })).toBe("body.count");
    expect(refused({ nested: { inner: bin } })).toBe("body.nested.inner");
    expect(refused({ nested: { inner: { note: "n" } } })).toBeUndefined();
  });

  test("a bin as a template's params names that field, decoded or not", () => {
    const strategy = { id: "s-1", name: "n", owner: "o" };
    const params = withBody({
      strategy: { ...strategy, template: { id: "t", version: 1, params: Uint8Array.of(1, 2) } },
    });
    expect(acceptsBytes(PartitionOps.Register, params)).toBe(false);
    expect(() => parseRequest(PartitionOps.Register, params)).toThrow(
      expect.objectContaining({ code: ErrorCodes.InvalidField, field: "body.strategy.template.params" }),
    );
    expect(() => validateRequest(PartitionOps.TopK, { v: 1, body: new Uint8Array(0) })).toThrow(
      expect.objectContaining({ code: ErrorCodes.InvalidField, field: "body" }),
    );
  });
});
