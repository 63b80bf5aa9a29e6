import fc from "fast-check";
import { Packr } from "msgpackr";
import { describe, expect, test } from "vitest";
import { decode, encode, encodeRecords, encodeWithRaw, RawMsgpack } from "./codec.js";
import { type ErrorCode, ErrorCodes, errorFromWire, StratregError, ValidationError } from "./errors.js";
import { PROTOCOL_VERSION } from "./messages.js";
import { Limits } from "./strategy.js";
import { type PartitionOp, PartitionOps } from "./subjects.js";
import { checkPayloadSize, fieldPath, parseRequest, validateRequest } from "./validate.js";

const strategy = (i: number, extra: Record<string, unknown> = {}) => ({
  id: `strat-${i}`,
  name: `Strategy ${i}`,
  owner: "desk-fx",
  ...extra,
});

/** A valid request of every operation, as a client would send it. */
const VALID: ReadonlyArray<[PartitionOp, Record<string, unknown>]> = [
  [PartitionOps.Register, { v: 1, cid: "cmd-1", body: { strategy: strategy(1) } }],
  [
    PartitionOps.Register,
    {
      v: 1,
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
  [PartitionOps.Register, { v: 1, body: { strategy: strategy(3, { family: null, template: null }) } }],
  [PartitionOps.RegisterBatch, { v: 1, cid: "b_2", body: { strategies: [strategy(1), strategy(2)] } }],
  [PartitionOps.Get, { v: 1, body: { id: "desk:fx.carry-7" } }],
  [PartitionOps.GetBatch, { v: 1, body: { ids: ["a", "b", "c"] } }],
  [PartitionOps.Update, { v: 1, cid: "u", body: { id: "a", expectedVersion: 1, patch: { name: "renamed" } } }],
  [PartitionOps.Update, { v: 1, body: { id: "a", expectedVersion: 7, patch: { family: null, tags: [] } } }],
  [PartitionOps.Retire, { v: 1, body: { id: "a" } }],
  [PartitionOps.Retire, { v: 1, body: { id: "a", expectedVersion: 2, reason: "decayed" } }],
  [PartitionOps.List, { v: 1, body: {} }],
  [PartitionOps.List, { v: 1, body: { cursor: null, limit: 1000 } }],
  [PartitionOps.List, { v: 1, body: { cursor: "strat-9", limit: 1 } }],
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
    const request = parseRequest(PartitionOps.RegisterBatch, encode({ v: 1, body: { strategies } }));
    expect(request.body.strategies).toHaveLength(1000);
  });

  test("msgpackr's record extension (the bulk encoding) as well as plain maps", () => {
    const request = { v: 1, body: { strategies: [strategy(1), strategy(2), strategy(3)] } };
    expect(parseRequest(PartitionOps.RegisterBatch, encodeRecords(request))).toEqual(request);
  });

  test("maps of any msgpack width, from any encoder", () => {
    const request = { v: 1, cid: "x", body: { id: "a" } };
    const fixedWidth = Uint8Array.from(new Packr({ useRecords: false }).pack(request));
    expect(fixedWidth[0]).toBe(0xde);
    expect(parseRequest(PartitionOps.Get, fixedWidth)).toEqual(request);
  });

  test("ids of 1 and 128 characters from the whole id alphabet", () => {
    for (const id of ["a", "0", "A.b:c-d_e", "x".repeat(128)]) {
      expect(parseRequest(PartitionOps.Get, encode({ v: 1, body: { id } })).body.id).toBe(id);
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
    expectRejected(PartitionOps.Register, { v: 1, body: {} }, ErrorCodes.MissingField, "body.strategy");
    expectRejected(
      PartitionOps.Register,
      { v: 1, body: { strategy: { id: "a", owner: "o" } } },
      ErrorCodes.MissingField,
      "body.strategy.name",
    );
    expectRejected(
      PartitionOps.RegisterBatch,
      { v: 1, body: { strategies: [strategy(0), { id: "b", name: "n" }] } },
      ErrorCodes.MissingField,
      "body.strategies[1].owner",
    );
    expectRejected(
      PartitionOps.Update,
      { v: 1, body: { id: "a", patch: { name: "x" } } },
      ErrorCodes.MissingField,
      "body.expectedVersion",
    );
  });

  test("unknown fields at the top, in the body and inside a strategy as UNKNOWN_FIELD", () => {
    expectRejected(PartitionOps.Get, { v: 1, body: { id: "a" }, bogus: 1 }, ErrorCodes.UnknownField, "bogus");
    expectRejected(PartitionOps.Get, { v: 1, body: { id: "a", bogus: 1 } }, ErrorCodes.UnknownField, "body.bogus");
    const strategies = [strategy(0), strategy(1), strategy(2), strategy(3, { bogus: true })];
    expectRejected(
      PartitionOps.RegisterBatch,
      { v: 1, body: { strategies } },
      ErrorCodes.UnknownField,
      "body.strategies[3].bogus",
    );
    expectRejected(
      PartitionOps.Register,
      { v: 1, body: { strategy: strategy(0, { version: 3 }) } },
      ErrorCodes.UnknownField,
      "body.strategy.version",
    );
    expectRejected(
      PartitionOps.Update,
      { v: 1, body: { id: "a", expectedVersion: 1, patch: { name: "x", state: "retired" } } },
      ErrorCodes.UnknownField,
      "body.patch.state",
    );
    expectRejected(
      PartitionOps.Register,
      { v: 1, body: { strategy: strategy(0, { venues: [{ venue: "x", symbols: [], bogus: 1 }] }) } },
      ErrorCodes.UnknownField,
      "body.strategy.venues[0].bogus",
    );
  });

  test("a field of the wrong type as INVALID_FIELD naming it", () => {
    const cases: Array<[PartitionOp, unknown, string]> = [
      [PartitionOps.Get, { v: 1, body: "a" }, "body"],
      [PartitionOps.Get, { v: 1, body: { id: 7 } }, "body.id"],
      [PartitionOps.Register, { v: 1, body: { strategy: [] } }, "body.strategy"],
      [PartitionOps.Register, { v: 1, body: { strategy: strategy(0, { name: 5 }) } }, "body.strategy.name"],
      [PartitionOps.Register, { v: 1, body: { strategy: strategy(0, { tags: "fx" }) } }, "body.strategy.tags"],
      [PartitionOps.Register, { v: 1, body: { strategy: strategy(0, { tags: ["fx", 1] }) } }, "body.strategy.tags[1]"],
      [
        PartitionOps.Register,
        { v: 1, body: { strategy: strategy(0, { description: null }) } },
        "body.strategy.description",
      ],
      [PartitionOps.Register, { v: 1, body: { strategy: strategy(0, { name: "" }) } }, "body.strategy.name"],
      [
        PartitionOps.Register,
        { v: 1, body: { strategy: strategy(0, { name: "n".repeat(201) }) } },
        "body.strategy.name",
      ],
      [
        PartitionOps.Register,
        { v: 1, body: { strategy: strategy(0, { tags: new Array(33).fill("t") }) } },
        "body.strategy.tags",
      ],
      [
        PartitionOps.Register,
        { v: 1, body: { strategy: strategy(0, { parents: ["no spaces"] }) } },
        "body.strategy.parents[0]",
      ],
      [PartitionOps.RegisterBatch, { v: 1, body: { strategies: {} } }, "body.strategies"],
      [PartitionOps.RegisterBatch, { v: 1, body: { strategies: [] } }, "body.strategies"],
      [PartitionOps.GetBatch, { v: 1, body: { ids: ["ok", ""] } }, "body.ids[1]"],
      [
        PartitionOps.Update,
        { v: 1, body: { id: "a", expectedVersion: "1", patch: { name: "x" } } },
        "body.expectedVersion",
      ],
      [
        PartitionOps.Update,
        { v: 1, body: { id: "a", expectedVersion: 0, patch: { name: "x" } } },
        "body.expectedVersion",
      ],
      [
        PartitionOps.Update,
        { v: 1, body: { id: "a", expectedVersion: 1.5, patch: { name: "x" } } },
        "body.expectedVersion",
      ],
      [PartitionOps.Update, { v: 1, body: { id: "a", expectedVersion: 1, patch: {} } }, "body.patch"],
      [PartitionOps.Retire, { v: 1, body: { id: "a", reason: "r".repeat(501) } }, "body.reason"],
      [PartitionOps.List, { v: 1, body: { limit: Limits.listMax + 1 } }, "body.limit"],
      [PartitionOps.List, { v: 1, body: { limit: 0 } }, "body.limit"],
      [PartitionOps.List, { v: 1, body: { cursor: 5 } }, "body.cursor"],
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
    expectRejected(PartitionOps.Get, { v: 1, body: { id } }, ErrorCodes.InvalidField, "body.id");
    expectRejected(PartitionOps.Retire, { v: 1, body: { id } }, ErrorCodes.InvalidField, "body.id");
  });

  test.each([
    ["empty", ""],
    ["65 characters", "c".repeat(65)],
    ["a space", "a b"],
    ["a dot", "a.b"],
    ["a number", 42],
  ])("a cid that is %s as INVALID_FIELD cid", (_name, cid) => {
    expectRejected(PartitionOps.Get, { v: 1, cid, body: { id: "a" } }, ErrorCodes.InvalidField, "cid");
  });

  test("1001 strategies or ids as BATCH_TOO_LARGE", () => {
    const strategies = Array.from({ length: Limits.batchMax + 1 }, (_, i) => strategy(i));
    const error = expectRejected(
      PartitionOps.RegisterBatch,
      { v: 1, body: { strategies } },
      ErrorCodes.BatchTooLarge,
      "body.strategies",
    );
    expect(error.message).toContain("1000");
    const ids = Array.from({ length: Limits.batchMax + 1 }, (_, i) => `s${i}`);
    expectRejected(PartitionOps.GetBatch, { v: 1, body: { ids } }, ErrorCodes.BatchTooLarge, "body.ids");
  });

  test("a payload over Limits.payloadMaxBytes as PAYLOAD_TOO_LARGE, before decoding", () => {
    const sized = (bytes: number): Uint8Array => {
      const head = encode({ v: 1, body: { id: "a" }, pad: "" }).length;
      // A str 32 pad makes the size exact (5-byte header instead of 1).
      const payload = encode({ v: 1, body: { id: "a" }, pad: "p".repeat(bytes - head - 4) });
      expect(payload.length).toBe(bytes);
      return payload;
    };
    const atLimit = rejection(PartitionOps.Get, sized(Limits.payloadMaxBytes));
    expect(atLimit.code).toBe(ErrorCodes.UnknownField);
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
    expect(validateRequest(PartitionOps.Get, { v: 1, body: { id: "a" } })).toEqual({ v: 1, body: { id: "a" } });
    expect(() => validateRequest(PartitionOps.Get, { v: 1, body: { id: "" } })).toThrow(ValidationError);
    expect(() => validateRequest(PartitionOps.Get, [])).toThrow(ValidationError);
  });

  test("checkPayloadSize takes a custom limit", () => {
    expect(() => checkPayloadSize(new Uint8Array(10), 10)).not.toThrow();
    expect(() => checkPayloadSize(new Uint8Array(11), 10)).toThrow(
      expect.objectContaining({ code: ErrorCodes.PayloadTooLarge, details: { size: 11, limit: 10 } }),
    );
  });

  test("a request validated for one op is not valid for another", () => {
    expectRejected(PartitionOps.GetBatch, { v: 1, body: { id: "a" } }, ErrorCodes.MissingField, "body.ids");
    expectRejected(PartitionOps.Register, { v: 1, body: { id: "a" } }, ErrorCodes.MissingField, "body.strategy");
    expectRejected(PartitionOps.List, { v: 1, body: { id: "a" } }, ErrorCodes.UnknownField, "body.id");
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
