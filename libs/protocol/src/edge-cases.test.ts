/**
 * Wire edge cases found in review: legal-but-unusual msgpack from other
 * languages' encoders, values that are not maps, repeated keys deep inside a
 * strategy, and error reporting inside nullable fields.
 */
import { Packr } from "msgpackr";
import { describe, expect, test } from "vitest";
import { decode, encode, encodeWithRaw, RawMsgpack } from "./codec.js";
import { ErrorCodes, errorFromWire, ValidationError } from "./errors.js";
import { MsgpackScanError, MsgpackScanner } from "./msgpack-scan.js";
import { PartitionOps, parsePartitionSubject } from "./subjects.js";
import { acceptsBytes, parseRequest } from "./validate.js";

const hex = (text: string) => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));
function thrownBy(f: () => unknown): unknown {
  try {
    f();
  } catch (err) {
    return err;
  }
  return undefined;
}

describe("integers a client encodes as int64/uint64 (legal msgpack)", () => {
  test("a get whose v is an int 64 or uint 64 is accepted", () => {
    expect(parseRequest(PartitionOps.Get, hex("82 a176 d3 0000000000000001 a4626f6479 81 a26964 a161"))).toEqual({
      v: 1,
      body: { id: "a" },
    });
    expect(parseRequest(PartitionOps.Get, hex("82 a176 cf 0000000000000001 a4626f6479 81 a26964 a161"))).toEqual({
      v: 1,
      body: { id: "a" },
    });
  });

  test("an unsupported int 64 version is UNSUPPORTED_VERSION, not a crash", () => {
    const error = thrownBy(() =>
      parseRequest(PartitionOps.Get, hex("82 a176 d3 0000000000000002 a4626f6479 81 a26964 a161")),
    );
    expect(error).toBeInstanceOf(ValidationError);
    expect(error).toMatchObject({ code: ErrorCodes.UnsupportedVersion });
  });

  test("an int 64 expectedVersion is accepted", () => {
    const request = new Packr({ useRecords: false }).pack({
      v: 1,
      cid: "c",
      issued: 0,
      body: { id: "a", expectedVersion: 3n },
    });
    expect(parseRequest(PartitionOps.Retire, request).body.expectedVersion).toBe(3);
  });
});

describe("values that are not msgpack maps at the top are MALFORMED", () => {
  test.each([
    ["0xc1 (never used in msgpack)", hex("c1")],
    ["a msgpack timestamp extension (Date)", hex("d6 ff 00000000")],
    ["a msgpackr Error extension", new Packr({ useRecords: false, moreTypes: true }).pack(new Error("x"))],
  ])("%s", (_name, bytes) => {
    expect(thrownBy(() => parseRequest(PartitionOps.Get, bytes))).toMatchObject({ code: ErrorCodes.Malformed });
  });
});

describe("repeated keys nested inside a strategy", () => {
  // {id:"a", name:"n", owner:"o", template:{id:"t", params:{x: {bad: 1}, x: 1}}}: msgpackr keeps the
  // last x (valid); the bytes keep both, and the first is not a valid parameter value.
  const strategyMap = hex(
    "84 a26964 a161 a46e616d65 a16e a56f776e6572 a16f a874656d706c617465 82 a26964 a174 a6706172616d73 82 a178 81 a3626164 01 a178 01",
  );
  // {v: 1, cid: "c", issued: 0, body: {strategies: [strategyMap]}}
  const payload = Buffer.concat([
    hex("84 a176 01 a3636964 a163 a6697373756564 00 a4626f6479 81 aa73747261746567696573 91"),
    strategyMap,
  ]);

  test("would pass TypeBox once decoded, but are refused on the bytes (MALFORMED), so they are never stored", () => {
    expect(thrownBy(() => parseRequest(PartitionOps.RegisterBatch, payload))).toMatchObject({
      code: ErrorCodes.Malformed,
      field: "body.strategies[0].template.params.x",
    });
    expect(acceptsBytes(PartitionOps.RegisterBatch, payload)).toBe(false);
  });

  test("a repeated envelope key is refused on the bytes too", () => {
    const twice = Buffer.concat([hex("83 a176 01 a4626f6479 81 a26964 a161 a4626f6479 81 a26964 a162")]);
    expect(thrownBy(() => parseRequest(PartitionOps.Get, twice))).toMatchObject({
      code: ErrorCodes.Malformed,
      field: "body",
    });
    expect(acceptsBytes(PartitionOps.Get, twice)).toBe(false);
  });

  test("non-string map keys are refused on the bytes", () => {
    const intKey = Buffer.from(
      new Packr({ useRecords: false }).pack({
        v: 1,
        body: { strategy: { id: "a", name: "n", owner: "o", template: { id: "t", params: new Map([[1, 2]]) } } },
      }),
    );
    expect(acceptsBytes(PartitionOps.Register, intKey)).toBe(false);
  });
});

describe("parameter names are 1 to 64 characters", () => {
  test.each([
    ["empty", ""],
    ["65 characters", "k".repeat(65)],
  ])("a %s name is refused", (_name, key) => {
    const request = encode({
      v: 1,
      cid: "c",
      issued: 0,
      body: { strategy: { id: "a", name: "n", owner: "o", template: { id: "t", params: { [key]: 1 } } } },
    });
    expect(thrownBy(() => parseRequest(PartitionOps.Register, request))).toBeInstanceOf(ValidationError);
  });

  test("a 64-character name is accepted", () => {
    const request = encode({
      v: 1,
      cid: "c",
      issued: 0,
      body: { strategy: { id: "a", name: "n", owner: "o", template: { id: "t", params: { ["k".repeat(64)]: 1 } } } },
    });
    expect(parseRequest(PartitionOps.Register, request).body.strategy.template?.params).toEqual({
      ["k".repeat(64)]: 1,
    });
  });
});

describe("errors inside nullable fields name the real field", () => {
  const base = { id: "a", name: "n", owner: "o" };
  test("an unknown field inside the template", () => {
    const request = encode({
      v: 1,
      cid: "c",
      issued: 0,
      body: { strategy: { ...base, template: { id: "t", params: {}, bogus: 1 } } },
    });
    expect(thrownBy(() => parseRequest(PartitionOps.Register, request))).toMatchObject({
      code: ErrorCodes.UnknownField,
      field: "body.strategy.template.bogus",
    });
  });
  test("a bad parameter value", () => {
    const request = encode({
      v: 1,
      cid: "c",
      issued: 0,
      body: { strategy: { ...base, template: { id: "t", params: { x: [1] } } } },
    });
    expect(thrownBy(() => parseRequest(PartitionOps.Register, request))).toMatchObject({
      code: ErrorCodes.InvalidField,
      field: "body.strategy.template.params.x",
    });
  });
  test("a family of the wrong type still names the family", () => {
    const request = encode({ v: 1, cid: "c", issued: 0, body: { strategy: { ...base, family: 7 } } });
    expect(thrownBy(() => parseRequest(PartitionOps.Register, request))).toMatchObject({
      code: ErrorCodes.InvalidField,
      field: "body.strategy.family",
    });
  });
});

describe("encodeWithRaw splices raw values at any depth", () => {
  const raw = new RawMsgpack(encode({ id: "s1" }));
  test("inside an object inside an array", () => {
    expect(decode(encodeWithRaw({ items: [{ strategy: raw }] }))).toEqual({ items: [{ strategy: { id: "s1" } }] });
  });
  test("inside an array inside an array", () => {
    expect(decode(encodeWithRaw({ pages: [[raw]] }))).toEqual({ pages: [[{ id: "s1" }]] });
  });
  test("in an object with 65,536 keys", () => {
    const big = Object.fromEntries(Array.from({ length: 65536 }, (_, i) => [`k${i}`, i]));
    expect(decode(encodeWithRaw({ ...big, raw }))).toEqual({ ...big, raw: { id: "s1" } });
  });
});

describe("scanner strings", () => {
  test("invalid UTF-8 is a MsgpackScanError from string() and mapValue()", () => {
    expect(thrownBy(() => new MsgpackScanner(hex("81 a2c328 01")).mapValue(0, "x"))).toBeInstanceOf(MsgpackScanError);
    expect(thrownBy(() => new MsgpackScanner(hex("a2 c328")).string(0))).toBeInstanceOf(MsgpackScanError);
  });
});

describe("partition subjects are canonical", () => {
  test.each([
    "stratreg.part..get",
    "stratreg.part.1e2.get",
    "stratreg.part.0x10.get",
    "stratreg.part.007.get",
    "stratreg.part.+5.get",
  ])("%s is not a partition subject", (subject) => {
    expect(parsePartitionSubject(subject)).toBeUndefined();
  });
});

describe("errorFromWire", () => {
  test.each(["NOT_OWNER", "UNAVAILABLE", "TIMEOUT"] as const)(
    "%s without retryable takes the code's default",
    (code) => {
      expect(errorFromWire({ code, message: "m" } as never).retryable).toBe(true);
    },
  );
});
