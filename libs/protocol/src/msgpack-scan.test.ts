import { isDeepStrictEqual } from "node:util";
import fc from "fast-check";
import { FLOAT32_OPTIONS, Packr, Unpackr } from "msgpackr";
import { describe, expect, test } from "vitest";
import { MsgpackScanError, MsgpackScanner } from "./msgpack-scan.js";

/** The encoders a client might use: the codec's own settings, msgpackr's defaults, and float32. */
const PACKRS = {
  variableMapSize: new Packr({ useRecords: false, variableMapSize: true }),
  defaults: new Packr({ useRecords: false }),
  float32: new Packr({ useRecords: false, variableMapSize: true, useFloat32: FLOAT32_OPTIONS.ALWAYS }),
} as const;
/** A strict msgpackr decoder: it throws when a byte range is not exactly one value. */
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

const pack = (value: unknown, packr: Packr = PACKRS.variableMapSize): Uint8Array => Uint8Array.from(packr.pack(value));
const hex = (text: string): Uint8Array => Uint8Array.from(Buffer.from(text.replace(/\s+/g, ""), "hex"));

/** A string of exactly `bytes` UTF-8 bytes mixing 1-, 2- and 3-byte characters. */
const textOfBytes = (bytes: number): string => "é€a".repeat(Math.floor(bytes / 6)) + "a".repeat(bytes % 6);

/** Every kind of value standard msgpack can carry, at every width. */
const scalar = fc.oneof(
  fc.constant(null),
  fc.boolean(),
  fc.integer({ min: -32, max: 127 }),
  fc.integer({ min: -0x80000000, max: 0xffffffff }),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 63n - 1n }),
  fc.bigInt({ min: 2n ** 63n, max: 2n ** 64n - 1n }),
  fc.double(),
  fc.string({ unit: "binary", maxLength: 40 }),
  fc.string({ unit: "grapheme", minLength: 20, maxLength: 120 }),
  fc.uint8Array({ maxLength: 300 }),
);
const bigScalar = fc.oneof(
  fc.integer({ min: 256, max: 70_000 }).map(textOfBytes),
  fc.integer({ min: 256, max: 70_000 }).map((n) => new Uint8Array(n).fill(0xc1)),
);
const key = fc.string({ maxLength: 12 }).filter((k) => k !== "__proto__");
const { value: msgpackValue } = fc.letrec((tie) => ({
  value: fc.oneof({ depthSize: "small", withCrossShrink: true }, scalar, tie("array"), tie("map")),
  array: fc.array(tie("value"), { maxLength: 18 }),
  map: fc.dictionary(key, tie("value"), { maxKeys: 18 }),
}));
const withBig = fc.oneof(
  { weight: 9, arbitrary: msgpackValue },
  { weight: 1, arbitrary: fc.array(bigScalar, { maxLength: 2 }) },
);

/**
 * Checks every value inside the value at `[start, end)`, which msgpackr decoded
 * to `decoded`, and returns what disagrees: the scanner's ranges for array items
 * and map values must be contiguous and end where the scanner says, and every
 * scalar's range must decode on its own (msgpackr's `unpack` throws when a range
 * is not exactly one value) to what msgpackr found when decoding the whole.
 * (Plain checks, not `expect`: a value has hundreds of nodes.)
 */
function disagreements(scanner: MsgpackScanner, start: number, end: number, decoded: unknown, path = "$"): string[] {
  const skipped = scanner.skip(start);
  if (skipped !== end) return [`${path}: skip ${skipped}, msgpackr ${end}`];
  const array = scanner.arrayHeader(start);
  const map = scanner.mapHeader(start);
  if (array !== undefined) {
    const items = scanner.arrayItems(start);
    const expected = decoded as unknown[];
    if (items.length !== expected.length) return [`${path}: ${items.length} items, msgpackr ${expected.length}`];
    let at = array.start;
    const found: string[] = [];
    items.forEach(([s, e], i) => {
      if (s !== at) found.push(`${path}[${i}] starts at ${s}, not ${at}`);
      at = e;
      found.push(...disagreements(scanner, s, e, expected[i], `${path}[${i}]`));
    });
    if (at !== end) found.push(`${path}: items end at ${at}, not ${end}`);
    return found;
  }
  if (map !== undefined) {
    const entries = Object.entries(decoded as Record<string, unknown>);
    if (map.count !== entries.length) return [`${path}: ${map.count} entries, msgpackr ${entries.length}`];
    return entries.flatMap(([k, v]) => {
      const at = scanner.mapValue(start, k);
      if (at === undefined) return [`${path}.${k} not found`];
      return disagreements(scanner, at, scanner.skip(at), v, `${path}.${k}`);
    });
  }
  const alone = unpackr.unpack(scanner.bytes.subarray(start, end));
  return isDeepStrictEqual(alone, decoded) ? [] : [`${path}: decodes alone to ${String(alone)}`];
}

describe("MsgpackScanner.skip agrees with msgpackr", () => {
  test.each(Object.keys(PACKRS) as (keyof typeof PACKRS)[])("on the end of every value (%s)", (name) => {
    const packr = PACKRS[name];
    fc.assert(
      fc.property(fc.array(withBig, { minLength: 1, maxLength: 4 }), (values) => {
        const bytes = Buffer.concat(values.map((v) => pack(v, packr)));
        const scanner = new MsgpackScanner(bytes);
        const found: Array<[unknown, number, number]> = [];
        unpackr.unpackMultiple(bytes, (value: unknown, start?: number, end?: number) => {
          found.push([value, start as number, end as number]);
        });
        expect(found).toHaveLength(values.length);
        expect(found.flatMap(([value, start, end]) => disagreements(scanner, start, end, value))).toEqual([]);
      }),
      { numRuns: 60 },
    );
  });

  test("any truncation of a value throws MsgpackScanError", () => {
    fc.assert(
      fc.property(
        msgpackValue.chain((v) => {
          const bytes = pack(v);
          return fc.tuple(fc.constant(bytes), fc.nat({ max: bytes.length - 1 }));
        }),
        ([bytes, cut]) => {
          const scanner = new MsgpackScanner(bytes.subarray(0, cut));
          expect(() => scanner.skip(0)).toThrow(MsgpackScanError);
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("MsgpackScanner.skip on every format", () => {
  // biome-ignore format: one format per row
  const FORMATS: ReadonlyArray<[string, string, number]> = [
    ["positive fixint", "7f", 1],
    ["fixmap {a: 1}", "81 a161 01", 4],
    ["fixarray [1, 2]", "92 01 02", 3],
    ["fixstr 'abc'", "a3 616263", 4],
    ["nil", "c0", 1],
    ["false", "c2", 1],
    ["true", "c3", 1],
    ["bin 8", "c4 02 0102", 4],
    ["bin 16", "c5 0002 0102", 5],
    ["bin 32", "c6 00000002 0102", 7],
    ["float 32", "ca 3fc00000", 5],
    ["float 64", "cb 3ff8000000000000", 9],
    ["uint 8", "cc ff", 2],
    ["uint 16", "cd ffff", 3],
    ["uint 32", "ce ffffffff", 5],
    ["uint 64", "cf ffffffffffffffff", 9],
    ["int 8", "d0 80", 2],
    ["int 16", "d1 8000", 3],
    ["int 32", "d2 80000000", 5],
    ["int 64", "d3 8000000000000000", 9],
    ["str 8", "d9 02 6869", 4],
    ["str 16", "da 0002 6869", 5],
    ["str 32", "db 00000002 6869", 7],
    ["array 16", "dc 0002 01 02", 5],
    ["array 32", "dd 00000002 01 02", 7],
    ["map 16", "de 0001 a161 01", 6],
    ["map 32", "df 00000001 a161 01", 8],
    ["negative fixint", "e0", 1],
    ["empty fixstr", "a0", 1],
    ["empty map 32", "df 00000000", 5],
  ];

  test.each(FORMATS)("%s", (_name, bytes, length) => {
    // Trailing bytes must not be consumed.
    const scanner = new MsgpackScanner(Buffer.concat([hex(bytes), hex("c0c0")]));
    expect(scanner.skip(0)).toBe(length);
    expect(unpackr.unpackMultiple(scanner.bytes)).toHaveLength(3);
  });

  test("32-bit lengths: strings, binary, arrays and maps beyond 65535", () => {
    const values = [
      textOfBytes(70_000),
      new Uint8Array(70_000).fill(7),
      Array.from({ length: 70_000 }, (_, i) => i % 200),
      Object.fromEntries(Array.from({ length: 70_000 }, (_, i) => [`k${i}`, i % 3])),
    ];
    const expectedHeads = [0xdb, 0xc6, 0xdd, 0xdf];
    values.forEach((value, i) => {
      const bytes = pack(value);
      expect(bytes[0]).toBe(expectedHeads[i]);
      expect(new MsgpackScanner(bytes).skip(0)).toBe(bytes.length);
    });
  });

  test("starts at any position, not only 0", () => {
    const bytes = pack(["x", { a: [1, 2, 3] }, 3.25]);
    const scanner = new MsgpackScanner(bytes);
    const items = scanner.arrayItems(0);
    expect(items.map(([s, e]) => unpackr.unpack(bytes.subarray(s, e)))).toEqual(["x", { a: [1, 2, 3] }, 3.25]);
    expect(items.map(([s]) => scanner.skip(s))).toEqual(items.map(([, e]) => e));
  });
});

describe("MsgpackScanner rejects what standard msgpack peers could not read", () => {
  test.each([
    ["msgpackr Date", pack(new Date(0), PACKRS.defaults)],
    ["msgpackr undefined", pack(undefined, PACKRS.defaults)],
    ["msgpackr records", Uint8Array.from(new Packr({ useRecords: true }).pack({ a: 1, b: [{ c: 2 }] }))],
    ["Date inside an array", pack([1, "x", new Date(1e12)], PACKRS.defaults)],
    ["record inside a map value", Uint8Array.from(new Packr({ useRecords: true }).pack([{ a: 1 }]))],
    ["fixext 1", hex("d4 01 00")],
    ["fixext 2", hex("d5 01 0000")],
    ["fixext 4", hex("d6 01 00000000")],
    ["fixext 8", hex("d7 01 0000000000000000")],
    ["fixext 16", hex(`d8 01 ${"00".repeat(16)}`)],
    ["ext 8", hex("c7 01 01 00")],
    ["ext 16", hex("c8 0001 01 00")],
    ["ext 32", hex("c9 00000001 01 00")],
    ["never-used 0xc1", hex("c1")],
    ["0xc1 as a map key", hex("81 c1 01")],
  ])("%s throws MsgpackScanError", (_name, bytes) => {
    expect(() => new MsgpackScanner(bytes).skip(0)).toThrow(MsgpackScanError);
  });

  test("the msgpackr extension encodings really are extensions (the cases above are meaningful)", () => {
    expect(pack(new Date(0), PACKRS.defaults)[0]).toBe(0xd6);
    expect(Uint8Array.from(new Packr({ useRecords: true }).pack({ a: 1 }))[0]).toBe(0xd4);
  });

  test.each([
    ["lone continuation byte", "a1 80"],
    ["truncated 2-byte sequence", "a2 61 c3"],
    ["overlong encoding of '/'", "a2 c0 af"],
    ["UTF-16 surrogate half", "a3 eda080"],
    ["beyond U+10FFFF", "a4 f4908080"],
    ["0xff byte", "a1 ff"],
    ["invalid in str 8", "d9 02 c328"],
    ["invalid in str 16", "da 0002 c328"],
    ["invalid in str 32", "db 00000002 c328"],
    ["invalid in a map key", "81 a2c328 01"],
    ["invalid deep inside", "91 81 a161 91 a2c328"],
  ])("invalid UTF-8 (%s) throws MsgpackScanError", (_name, bytes) => {
    expect(() => new MsgpackScanner(hex(bytes)).skip(0)).toThrow(MsgpackScanError);
  });

  test("valid multi-byte UTF-8 is accepted", () => {
    const bytes = pack(["策略-1", "🚀", "é", ""]);
    expect(new MsgpackScanner(bytes).skip(0)).toBe(bytes.length);
  });

  test.each([
    ["empty input", ""],
    ["map 16 without its count", "de 00"],
    ["array 32 count beyond the input", "dd 00000003 01 02"],
    ["fixmap missing a value", "82 a161 01 a162"],
    ["str 8 shorter than its length", "d9 05 6869"],
    ["bin 32 shorter than its length", "c6 00000010 00"],
    ["float 64 cut short", "cb 3ff8"],
    ["uint 64 cut short", "cf 0000"],
    ["huge array count", "dd ffffffff 01"],
  ])("truncated input (%s) throws MsgpackScanError", (_name, bytes) => {
    expect(() => new MsgpackScanner(hex(bytes)).skip(0)).toThrow(MsgpackScanError);
  });
});

describe("MsgpackScanner accessors", () => {
  test("arrayItems gives the byte range of every item", () => {
    fc.assert(
      fc.property(fc.array(msgpackValue, { maxLength: 40 }), (items) => {
        const bytes = pack(items);
        const ranges = new MsgpackScanner(bytes).arrayItems(0);
        expect(ranges).toHaveLength(items.length);
        // Contiguous, in order, covering everything after the header.
        const gaps = ranges.filter(([s, e], i) => s >= e || (i > 0 && s !== ranges[i - 1]?.[1]));
        expect(gaps).toEqual([]);
        if (ranges.length > 0) expect(ranges.at(-1)?.[1]).toBe(bytes.length);
        expect(ranges.map(([s, e]) => unpackr.unpack(bytes.subarray(s, e)))).toEqual(unpackr.unpack(bytes));
      }),
      { numRuns: 80 },
    );
  });

  test("arrayItems of a non-array throws MsgpackScanError", () => {
    expect(() => new MsgpackScanner(pack({ a: 1 })).arrayItems(0)).toThrow(MsgpackScanError);
    expect(() => new MsgpackScanner(pack("a")).arrayItems(0)).toThrow(MsgpackScanError);
  });

  test("arrayItems of an empty array is empty", () => {
    expect(new MsgpackScanner(hex("90")).arrayItems(0)).toEqual([]);
    expect(new MsgpackScanner(hex("dd 00000000")).arrayItems(0)).toEqual([]);
  });

  test("mapValue finds every key of a map, and only its keys", () => {
    fc.assert(
      fc.property(fc.dictionary(key, msgpackValue, { maxKeys: 24 }), key, (object, probe) => {
        const bytes = pack(object);
        const scanner = new MsgpackScanner(bytes);
        const found = Object.keys(object).map((k) => {
          const at = scanner.mapValue(0, k);
          return at === undefined ? undefined : unpackr.unpack(bytes.subarray(at, scanner.skip(at)));
        });
        expect(found).toEqual(Object.values(object).map((v) => unpackr.unpack(pack(v))));
        if (!Object.hasOwn(object, probe)) expect(scanner.mapValue(0, probe)).toBeUndefined();
      }),
      { numRuns: 80 },
    );
  });

  test("mapValue does not match non-string keys or string values", () => {
    // { 1: "x", "1": "y", "k": "1" }
    const bytes = hex("83 01 a178 a131 a179 a16b a131");
    const scanner = new MsgpackScanner(bytes);
    expect(scanner.mapValue(0, "1")).toBe(6);
    expect(scanner.string(6)).toBe("y");
    expect(scanner.mapValue(0, "x")).toBeUndefined();
    expect(scanner.mapValue(0, "y")).toBeUndefined();
  });

  test("mapValue of a non-map is undefined", () => {
    expect(new MsgpackScanner(pack(["a", 1])).mapValue(0, "a")).toBeUndefined();
    expect(new MsgpackScanner(pack("a")).mapValue(0, "a")).toBeUndefined();
  });

  test("headers and strings report counts, starts and text", () => {
    const bytes = pack({ list: [1, 2, 3], name: "策略" });
    const scanner = new MsgpackScanner(bytes);
    expect(scanner.mapHeader(0)).toEqual({ count: 2, start: 1 });
    expect(scanner.arrayHeader(0)).toBeUndefined();
    const list = scanner.mapValue(0, "list") as number;
    expect(scanner.arrayHeader(list)).toEqual({ count: 3, start: list + 1 });
    expect(scanner.string(scanner.mapValue(0, "name") as number)).toBe("策略");
    expect(scanner.string(list)).toBeUndefined();
    expect(new MsgpackScanner(hex("de 0100")).mapHeader(0)).toEqual({ count: 256, start: 3 });
    expect(new MsgpackScanner(hex("dd 00010000")).arrayHeader(0)).toEqual({ count: 65536, start: 5 });
    expect(new MsgpackScanner(hex("db 00000002 6869")).string(0)).toBe("hi");
  });
});
