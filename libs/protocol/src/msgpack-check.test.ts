/**
 * The bytes check is the shard's fast accept path: what it accepts is stored
 * without ever being decoded. These properties hold it to the canonical path
 * (decode with msgpackr, check with TypeBox, refuse repeated map keys and
 * extension types): it may refuse more, never accept more, and it must accept
 * the ordinary encodings of valid input, or the fast path is never taken.
 */
import { type TSchema, Type } from "@sinclair/typebox";
import { TypeCompiler } from "@sinclair/typebox/compiler";
import fc from "fast-check";
import { Packr, Unpackr } from "msgpackr";
import { describe, expect, it } from "vitest";
import { decode, encodeRecords } from "./codec.js";
import { DEADLINE_MS_MAX, isWriteOp, RequestBodies } from "./messages.js";
import { compileBytesCheck, compileMapCheck, MapLayouts } from "./msgpack-check.js";
import { MAX_NESTING, MsgpackProblems, standardMsgpackProblem } from "./msgpack-read.js";
import { MsgpackScanner } from "./msgpack-scan.js";
import { METRICS } from "./performance.js";
import { Limits, StrategyIdSchema, StrategyInputSchema } from "./strategy.js";
import { type PartitionOp, PartitionOps } from "./subjects.js";
import { acceptsBytes, parseRequest } from "./validate.js";

// ---- What a client can put on the wire -------------------------------------------------------

/** A msgpack map written entry by entry, in order, so that a key can repeat (or be other than a str). */
class Entries {
  constructor(readonly entries: ReadonlyArray<readonly [Wire, Wire]>) {}
}

/** Bytes written as they are: extension types, invalid UTF-8, anything a client could send. */
class Raw {
  constructor(readonly bytes: Buffer) {}
}

type Wire = null | boolean | number | bigint | string | Raw | Entries | Wire[] | WireMap;
interface WireMap {
  [key: string]: Wire;
}

const isMap = (value: Wire): value is WireMap =>
  typeof value === "object" &&
  value !== null &&
  !Array.isArray(value) &&
  !(value instanceof Raw || value instanceof Entries);

/** Whether msgpackr can encode `value` (it holds no hand-made map or bytes). */
const isPlain = (value: Wire): boolean =>
  Array.isArray(value)
    ? value.every(isPlain)
    : isMap(value)
      ? Object.values(value).every(isPlain)
      : !(value instanceof Raw || value instanceof Entries);

/** Every width standard msgpack allows for a number: fixint, (u)int8-64, float32 when exact, float64. */
function numberForms(v: number): Buffer[] {
  const forms: Buffer[] = [];
  const form = (type: number, size: number, write: (b: Buffer) => void) => {
    const b = Buffer.alloc(1 + size);
    b[0] = type;
    write(b);
    forms.push(b);
  };
  if (Number.isSafeInteger(v) && !Object.is(v, -0)) {
    if (v >= -32 && v <= 127) forms.push(Buffer.of(v & 0xff));
    if (v >= 0 && v <= 0xff) form(0xcc, 1, (b) => b.writeUInt8(v, 1));
    if (v >= 0 && v <= 0xffff) form(0xcd, 2, (b) => b.writeUInt16BE(v, 1));
    if (v >= 0 && v <= 0xffffffff) form(0xce, 4, (b) => b.writeUInt32BE(v, 1));
    if (v >= 0) form(0xcf, 8, (b) => b.writeBigUInt64BE(BigInt(v), 1));
    if (v >= -0x80 && v <= 0x7f) form(0xd0, 1, (b) => b.writeInt8(v, 1));
    if (v >= -0x8000 && v <= 0x7fff) form(0xd1, 2, (b) => b.writeInt16BE(v, 1));
    if (v >= -0x80000000 && v <= 0x7fffffff) form(0xd2, 4, (b) => b.writeInt32BE(v, 1));
    form(0xd3, 8, (b) => b.writeBigInt64BE(BigInt(v), 1));
  }
  if (Object.is(Math.fround(v), v)) form(0xca, 4, (b) => b.writeFloatBE(v, 1));
  form(0xcb, 8, (b) => b.writeDoubleBE(v, 1));
  return forms;
}

/**
 * Standard msgpack of `value`, built by hand with each header and number in a width
 * picked by `widths` in turn (cycling): str16 or map32 for small values, uint64 for 1, float64 for 2.
 */
function encodeWide(value: Wire, widths: readonly number[]): Buffer {
  const chunks: Buffer[] = [];
  let turn = 0;
  const pick = (forms: Buffer[]): Buffer => forms[(widths[turn++ % widths.length] ?? 0) % forms.length] as Buffer;
  const sized = (n: number, fix: number, fixMax: number, types: readonly [number | undefined, number, number]) => {
    const forms = n <= fixMax ? [Buffer.of(fix | n)] : [];
    if (types[0] !== undefined && n <= 0xff) forms.push(Buffer.of(types[0], n));
    if (n <= 0xffff) forms.push(Buffer.of(types[1], n >> 8, n & 0xff));
    const b32 = Buffer.of(types[2], 0, 0, 0, 0);
    b32.writeUInt32BE(n, 1);
    chunks.push(pick([...forms, b32]));
  };
  const write = (v: Wire): void => {
    if (v === null) chunks.push(Buffer.of(0xc0));
    else if (typeof v === "boolean") chunks.push(Buffer.of(v ? 0xc3 : 0xc2));
    else if (typeof v === "number") chunks.push(pick(numberForms(v)));
    else if (typeof v === "bigint") {
      const forms: Buffer[] = [];
      if (v >= -(2n ** 63n) && v < 2n ** 63n) forms.push(Buffer.alloc(9, 0xd3));
      if (v >= 0n && v < 2n ** 64n) forms.push(Buffer.alloc(9, 0xcf));
      const b = pick(forms);
      if (b[0] === 0xd3) b.writeBigInt64BE(v, 1);
      else b.writeBigUInt64BE(v, 1);
      chunks.push(b);
    } else if (typeof v === "string") {
      const text = Buffer.from(v, "utf8");
      sized(text.length, 0xa0, 31, [0xd9, 0xda, 0xdb]);
      chunks.push(text);
    } else if (v instanceof Raw) chunks.push(v.bytes);
    else if (Array.isArray(v)) {
      sized(v.length, 0x90, 15, [undefined, 0xdc, 0xdd]);
      v.forEach(write);
    } else {
      const entries = v instanceof Entries ? v.entries : Object.entries(v);
      sized(entries.length, 0x80, 15, [undefined, 0xde, 0xdf]);
      for (const [key, item] of entries) {
        write(key);
        write(item);
      }
    }
  };
  write(value);
  return Buffer.concat(chunks);
}

const PACKRS = {
  /** The codec's own settings: the narrowest map headers. */
  standard: new Packr({ useRecords: false, variableMapSize: true }),
  /** msgpackr's defaults: a map16 header on every map. */
  map16: new Packr({ useRecords: false }),
  /** BigInts written as int64/uint64, never as floats. */
  bigInt: new Packr({ useRecords: false, largeBigIntToFloat: false }),
} as const;

/** How a case is encoded: by one of the msgpackr configurations, or by hand in the given widths. */
type Encoding = keyof typeof PACKRS | number[];
const encoding: fc.Arbitrary<Encoding> = fc.oneof(
  fc.constantFrom("standard", "map16", "bigInt"),
  fc.array(fc.nat(8), { minLength: 1, maxLength: 12 }),
);

function encodeAs(value: Wire, how: Encoding): Buffer {
  if (Array.isArray(how)) return encodeWide(value, how);
  return isPlain(value) ? Buffer.from(PACKRS[how].pack(value)) : encodeWide(value, [0]);
}

/** Every safe integer in `value` as a BigInt, which msgpackr writes as int64. */
function bigIntsOf(value: Wire): Wire {
  if (typeof value === "number") return Number.isSafeInteger(value) && !Object.is(value, -0) ? BigInt(value) : value;
  if (Array.isArray(value)) return value.map(bigIntsOf);
  return isMap(value) ? Object.fromEntries(Object.entries(value).map(([k, v]) => [k, bigIntsOf(v)])) : value;
}

// ---- The canonical path ----------------------------------------------------------------------

/** How many keys the maps in a decoded value hold, at any depth. */
function keyCount(value: unknown): number {
  if (Array.isArray(value)) return value.reduce((n: number, item: unknown) => n + keyCount(item), 0);
  if (value === null || typeof value !== "object" || value instanceof Uint8Array) return 0;
  const values = Object.values(value);
  return values.reduce((n: number, item: unknown) => n + keyCount(item), values.length);
}

/**
 * Why `bytes`, which decoded to `decoded`, are not standard msgpack the shard may store:
 * an extension type, invalid UTF-8, bytes after the value, or a map that repeats a key
 * (it decodes to fewer keys than its bytes hold, as checkStrategyMap counts them).
 */
function storableRefusal(bytes: Buffer, decoded: unknown): string | undefined {
  const scanner = new MsgpackScanner(bytes);
  try {
    if (scanner.skip(0) !== bytes.length) return "bytes after the value";
  } catch (err) {
    return (err as Error).message;
  }
  return scanner.mapEntries === keyCount(decoded) ? undefined : "a map repeats a key";
}

const strategyChecker = TypeCompiler.Compile(StrategyInputSchema);

/** Why the canonical path refuses `bytes` as a strategy, or undefined if it accepts them. */
function strategyRefusal(bytes: Buffer): string | undefined {
  let value: unknown;
  try {
    value = decode(bytes);
  } catch (err) {
    return (err as Error).message;
  }
  if (strategyChecker.Check(value)) return storableRefusal(bytes, value);
  const error = strategyChecker.Errors(value).First();
  return `TypeBox: ${error?.path} ${error?.message}`;
}

/** Why the canonical path refuses `bytes` as a request for `op`, or undefined if it accepts them. */
function requestRefusal(op: PartitionOp, bytes: Buffer): string | undefined {
  try {
    return storableRefusal(bytes, parseRequest(op, bytes));
  } catch (err) {
    return (err as Error).message;
  }
}

const strategyBytes = compileBytesCheck(StrategyInputSchema);

/** How often a soundness property saw each answer, to show it is not vacuous. */
interface Tally {
  accepted: number;
  refused: number;
}

function expectStrategySound(bytes: Buffer, tally: Tally): void {
  const end = strategyBytes(bytes, 0);
  if (end === -1) {
    tally.refused++;
    return;
  }
  tally.accepted++;
  expect(end).toBeLessThanOrEqual(bytes.length);
  expect(strategyRefusal(bytes.subarray(0, end))).toBeUndefined();
}

/**
 * The bytes check and the canonical path agree on `bytes`: what one accepts the
 * other does (so what the fast path stores is valid, and what it declines gets an
 * error that names the problem, never a blanket MALFORMED).
 */
function expectRequestAgreement(op: PartitionOp, bytes: Buffer, tally: Tally): void {
  const refusal = requestRefusal(op, bytes);
  if (acceptsBytes(op, bytes)) {
    tally.accepted++;
    expect(refusal, op).toBeUndefined();
  } else {
    tally.refused++;
    expect(refusal, `${op} ${bytes.toString("hex")}`).toBeDefined();
  }
}

// ---- Valid input, every limit of strategy.ts respected ---------------------------------------

/** Characters of 1-3 UTF-8 bytes and of two UTF-16 units (astral), to fill strings up to a limit. */
const UNITS = ["a", "Z", "7", " ", "é", "ß", "€", "中", "\u{1F600}", "\u{10FFFF}"] as const;

/** A string of exactly `length` UTF-16 units, cycling through `units` (never splitting a pair). */
function fitted(length: number, units: readonly string[]): string {
  let out = "";
  for (let i = 0; out.length < length; i++) {
    const unit = units[i % units.length] ?? "a";
    out += out.length + unit.length <= length ? unit : "a";
  }
  return out;
}

/** Strings of `min`-`max` UTF-16 units: mostly short and arbitrary, sometimes right at the limit. */
const text = (min: number, max: number): fc.Arbitrary<string> =>
  fc.oneof(
    { weight: 4, arbitrary: fc.string({ unit: "binary", minLength: min, maxLength: 16 }) },
    {
      weight: 1,
      arbitrary: fc
        .tuple(fc.integer({ min: Math.max(min, max - 2), max }), fc.array(fc.constantFrom(...UNITS), { minLength: 1 }))
        .map(([length, units]) => fitted(length, units)),
    },
  );

/** Arrays of at most `max` items: mostly short, sometimes full. */
const list = (item: fc.Arbitrary<Wire>, max: number): fc.Arbitrary<Wire[]> =>
  fc.oneof(
    { weight: 5, arbitrary: fc.array(item, { maxLength: Math.min(max, 3) }) },
    { weight: 1, arbitrary: fc.array(item, { minLength: max - 1, maxLength: max }) },
  );

/** Maps with every `required` field and some (at least `minOptional`) of the `optional` ones, in any order. */
function mapOf(
  required: Record<string, fc.Arbitrary<Wire>>,
  optional: Record<string, fc.Arbitrary<Wire>> = {},
  minOptional = 0,
): fc.Arbitrary<WireMap> {
  const maybe = (arbitrary: fc.Arbitrary<Wire>) => fc.option(arbitrary, { nil: undefined, freq: 2 });
  const fields = { ...required, ...Object.fromEntries(Object.entries(optional).map(([k, a]) => [k, maybe(a)])) };
  const count = Object.keys(fields).length;
  return fc
    .tuple(fc.record(fields), fc.array(fc.nat(), { minLength: count, maxLength: count }))
    .map(([map, ranks]): WireMap => {
      const present = Object.entries(map).filter((entry): entry is [string, Wire] => entry[1] !== undefined);
      const ranked = present.map((entry, i) => [ranks[i] ?? 0, entry] as const).sort(([a], [b]) => a - b);
      return Object.fromEntries(ranked.map(([, entry]) => entry));
    })
    .filter((map) => Object.keys(map).length >= Object.keys(required).length + minOptional);
}

const ALNUM = [..."ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789"];
const idOf = (maxRest: number, minRest = 0) =>
  fc
    .tuple(
      fc.constantFrom(...ALNUM),
      fc.string({ unit: fc.constantFrom(...ALNUM, ".", "_", ":", "-"), minLength: minRest, maxLength: maxRest }),
    )
    .map(([first, rest]) => first + rest);
const strategyId = fc.oneof(
  { weight: 4, arbitrary: idOf(20) },
  { weight: 1, arbitrary: idOf(Limits.idMaxLength - 1, Limits.idMaxLength - 3) },
);
const label = text(1, Limits.labelMaxLength);
const paramValue = fc.oneof(
  fc.double({ noNaN: true, noDefaultInfinity: true }),
  fc.integer(),
  fc.maxSafeInteger(),
  text(0, Limits.paramStringMaxLength),
  fc.boolean(),
);
// Not "__proto__" (which fast-check likes to try): msgpackr renames that key, so the fast path declines it.
const paramName = text(1, 64).filter((name) => name !== "__proto__");
const params = fc
  .oneof(
    { weight: 5, arbitrary: fc.uniqueArray(fc.tuple(paramName, paramValue), { selector: ([k]) => k, maxLength: 4 }) },
    {
      weight: 1,
      arbitrary: fc.uniqueArray(fc.tuple(paramName, paramValue), {
        selector: ([k]) => k,
        minLength: Limits.paramsMax - 1,
        maxLength: Limits.paramsMax,
      }),
    },
  )
  .map((entries): WireMap => Object.fromEntries(entries));
const template = mapOf(
  { id: label, params },
  {
    version: fc.oneof(
      fc.integer({ min: 1, max: 100 }),
      fc.integer({ min: 1 }),
      fc.maxSafeInteger().filter((n) => n >= 1),
    ),
  },
);
const venue = mapOf({ venue: label, symbols: list(text(1, 64), Limits.symbolsMax) }, { params });
const mutableFields = {
  name: text(1, Limits.nameMaxLength),
  owner: label,
  description: text(0, Limits.descriptionMaxLength),
  tags: list(text(1, Limits.tagMaxLength), Limits.tagsMax),
  family: fc.oneof(label, fc.constant(null)),
  parents: list(strategyId, Limits.parentsMax),
  template: fc.oneof(template, fc.constant(null)),
  venues: list(venue, Limits.venuesMax),
  dependencies: list(strategyId, Limits.dependenciesMax),
};
const { name, owner, ...optionalFields } = mutableFields;
const strategy = mapOf({ id: strategyId, name, owner }, optionalFields);

const commandId = fc.string({ unit: fc.constantFrom(...ALNUM, "_", "-"), minLength: 1, maxLength: 64 });
const issued = fc.oneof(
  fc.integer({ min: 1_700_000_000_000, max: 1_900_000_000_000 }),
  fc.constantFrom(0, Number.MAX_SAFE_INTEGER),
  fc.maxSafeNat(),
);
const deadlineMs = fc.oneof(fc.integer({ min: 1, max: 60_000 }), fc.constantFrom(1, DEADLINE_MS_MAX));

/** Any standard msgpack data (what a newer client may put in an envelope field this build does not know). */
const { data: anyData } = fc.letrec<{ data: Wire }>((tie) => ({
  data: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    fc.constantFrom<Wire>(null, true, false, 0, -1, 1.5, "", "x", "é\u{1F600}"),
    fc.double(),
    fc.maxSafeInteger(),
    fc.string({ unit: "binary", maxLength: 8 }),
    fc
      .uint8Array({ maxLength: 8 })
      .map((bytes): Wire => new Raw(Buffer.concat([Buffer.of(0xc4, bytes.length), bytes]))),
    fc.array(tie("data"), { maxLength: 4 }),
    fc
      .uniqueArray(fc.tuple(envelopeKey(), tie("data")), { selector: ([k]) => k, maxLength: 4 })
      .map((entries): Wire => Object.fromEntries(entries)),
  ),
}));

/** Names of envelope fields this build does not know. */
function envelopeKey(): fc.Arbitrary<string> {
  return fc
    .oneof(fc.constantFrom("trace", "priority", "x-new", "constructor", "toString", ""), fc.string({ maxLength: 10 }))
    .filter((key) => key !== "__proto__" && !ENVELOPE_KEYS.has(key) && !key.startsWith("\u{FEFF}"));
}
const ENVELOPE_KEYS = new Set(["v", "cid", "issued", "deadlineMs", "body"]);
const unknownFields = fc
  .uniqueArray(fc.tuple(envelopeKey(), anyData), { selector: ([k]) => k, maxLength: 3 })
  .map((entries): WireMap => Object.fromEntries(entries));
const version = fc.oneof(
  fc.integer({ min: 1, max: 10 }),
  fc.maxSafeInteger().filter((n) => n >= 1),
);

/** A valid body of every operation (a new operation fails to compile until it is added here). */
const BODIES: { [Op in PartitionOp]: fc.Arbitrary<WireMap> } = {
  [PartitionOps.Register]: mapOf({ strategy }),
  [PartitionOps.RegisterBatch]: mapOf({ strategies: fc.array(strategy, { minLength: 1, maxLength: 3 }) }),
  [PartitionOps.Get]: mapOf({ id: strategyId }),
  [PartitionOps.GetBatch]: mapOf({ ids: fc.array(strategyId, { minLength: 1, maxLength: 5 }) }),
  [PartitionOps.Update]: mapOf({ id: strategyId, expectedVersion: version, patch: mapOf({}, mutableFields, 1) }),
  [PartitionOps.Retire]: mapOf({ id: strategyId }, { expectedVersion: version, reason: text(0, 500) }),
  [PartitionOps.List]: mapOf(
    {},
    { cursor: fc.oneof(strategyId, fc.constant(null)), limit: fc.integer({ min: 1, max: Limits.listMax }) },
  ),
  [PartitionOps.Report]: mapOf({
    reports: fc.array(
      mapOf(
        { id: strategyId, seq: fc.integer({ min: 1, max: 1e9 }) },
        {
          regime: label,
          venue: label,
          times: list(fc.maxSafeNat(), 4),
          returns: list(fc.double({ min: -1, max: 100, noNaN: true }), 4),
          trades: list(fc.double({ noNaN: true, noDefaultInfinity: true }), 4),
        },
      ),
      { minLength: 1, maxLength: 3 },
    ),
  }),
  [PartitionOps.Perf]: mapOf({ id: strategyId }),
  [PartitionOps.Ranking]: mapOf(
    { metric: fc.constantFrom(...METRICS), k: fc.integer({ min: 0, max: 1000 }) },
    {
      scope: mapOf({}, { family: label, regime: label, venue: label, state: label, tag: text(1, Limits.tagMaxLength) }),
      minTrades: fc.nat(),
      minPeriods: fc.nat(),
      order: fc.constantFrom("best", "worst"),
      countBetter: fc.double({ noNaN: true, noDefaultInfinity: true }),
      moments: fc.boolean(),
    },
  ),
  [PartitionOps.TopK]: mapOf({}),
  [PartitionOps.History]: mapOf(
    { id: strategyId },
    { from: fc.maxSafeNat(), to: fc.maxSafeNat(), points: fc.integer({ min: 1, max: 5000 }) },
  ),
  [PartitionOps.Transition]: mapOf(
    {
      id: strategyId,
      action: fc.constantFrom("backtest", "validate", "activate", "suspend", "resume", "retire"),
      by: text(1, 128),
      reason: text(1, 500),
    },
    { expectedVersion: version },
  ),
  [PartitionOps.AttachEvidence]: mapOf(
    {
      id: strategyId,
      by: text(1, 128),
      evidence: mapOf(
        { returns: fc.array(fc.double({ min: -1, max: 1, noNaN: true }), { minLength: 2, maxLength: 5 }) },
        {
          oosStart: fc.nat(10),
          folds: fc.array(fc.tuple(fc.nat(10), fc.nat(10)), { maxLength: 3 }),
          trials: fc.integer({ min: 1, max: 1000 }),
        },
      ),
    },
    { expectedVersion: version },
  ),
  [PartitionOps.Evidence]: mapOf({ id: strategyId }),
  [PartitionOps.Gates]: mapOf({ id: strategyId }),
  [PartitionOps.Link]: mapOf(
    { id: strategyId, by: label },
    {
      dependencies: mapOf(
        {},
        { add: fc.array(strategyId, { maxLength: 3 }), remove: fc.array(strategyId, { maxLength: 3 }) },
      ),
      dependents: mapOf(
        {},
        { add: fc.array(strategyId, { maxLength: 3 }), remove: fc.array(strategyId, { maxLength: 3 }) },
      ),
    },
  ),
  [PartitionOps.Cascade]: mapOf({
    id: strategyId,
    action: fc.constantFrom("suspend", "retire"),
    by: label,
    reason: text(1, 1000),
  }),
};
const OPS = Object.keys(RequestBodies) as PartitionOp[];
/** A valid request: writes carry cid and issued; any may carry deadlineMs and envelope fields this build does not know. */
const request = fc.oneof(
  ...OPS.map((op) => {
    const write = isWriteOp(op);
    const envelope = write
      ? mapOf({ v: fc.constant(1), body: BODIES[op], cid: commandId, issued }, { deadlineMs })
      : mapOf({ v: fc.constant(1), body: BODIES[op] }, { cid: commandId, issued, deadlineMs });
    return fc
      .tuple(envelope, fc.option(unknownFields, { nil: undefined, freq: 2 }))
      .map(([value, unknown]) => ({ op, value: unknown === undefined ? value : { ...unknown, ...value } }));
  }),
);

// ---- Changes that may make input invalid -----------------------------------------------------

/** `length` UTF-16 units ending in an astral character: one code point fewer than units. */
const astralEnding = (length: number) => `${"a".repeat(length - 2)}\u{1F600}`;
const LIMIT_LENGTHS = [63, 64, 65, 127, 128, 129, 199, 200, 201, 255, 256, 257, 500, 501, 4000, 4001];
const EDGE_STRINGS = [
  ...["", "a", "é", "\u{1F600}", "bad id", "-lead", ".lead", "a/b", "a\u0000", "idé", "A1._:-"],
  ...LIMIT_LENGTHS.flatMap((n) => ["a".repeat(n), "é".repeat(n), astralEnding(n), astralEnding(n + 1)]),
];
/** Values that are not msgpack data a strategy can hold: extension types, bin, the unused 0xc1. */
const NOT_DATA: Wire[] = [
  new Raw(Buffer.from(PACKRS.standard.pack(new Date(0)))), // timestamp extension
  new Raw(Buffer.of(0xd4, 0x00, 0x00)), // msgpackr's undefined (fixext 1)
  new Raw(Buffer.of(0xc4, 0x01, 0x61)),
  new Raw(Buffer.of(0xc1)),
];
/** Replacements by the kind of value they replace: the edge cases of that kind, and other kinds. */
const EDGES = {
  number: [
    ...[null, true, "1", 0, 1, -1, 2, 1.5, -0, Number.NaN, Number.POSITIVE_INFINITY, Number.NEGATIVE_INFINITY],
    ...[1000, 1001, 2 ** 31, 2 ** 32, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER, Number.MAX_VALUE, 2 ** 64],
    ...[0n, 1n, 2n ** 53n, 2n ** 53n + 1n, 2n ** 63n, 2n ** 64n - 1n, -(2n ** 63n)],
    ...NOT_DATA,
  ],
  string: [
    ...[null, false, 1, ...EDGE_STRINGS, ...NOT_DATA],
    new Raw(Buffer.of(0xa2, 0xc3, 0x28)), // invalid UTF-8
    new Raw(Buffer.of(0xa3, 0xed, 0xa0, 0x80)), // a lone surrogate (CESU-8)
  ],
  boolean: [null, 0, 1, "true", true, false, ...NOT_DATA],
  array: [null, "a", {}, [], [null], [1], ["a"], [{}], ...NOT_DATA],
  map: [null, "a", [], {}, { x: 1 }, { id: "t", params: {} }, { venue: "v", symbols: [] }, ...NOT_DATA],
  null: [false, true, 0, "", "a", [], {}, { id: "t", params: {} }, ...NOT_DATA],
} satisfies Record<string, Wire[]>;
/** Values of the wrong kind for any field. */
const WRONG_KINDS: Wire[] = [null, false, true, 0, 1.5, "", [], {}];

function edgesFor(node: Wire): Wire[] {
  if (typeof node === "number" || typeof node === "bigint") return EDGES.number;
  if (typeof node === "string") return EDGES.string;
  if (typeof node === "boolean") return EDGES.boolean;
  if (node === null) return EDGES.null;
  return Array.isArray(node) ? EDGES.array : EDGES.map;
}

const EDGE_KEYS = [
  ...["", "x", "id", "ID", "name ", "params", "extra", "constructor", "v", "body", "\u{1F600}", "é".repeat(64)],
  ...["k".repeat(64), "k".repeat(65), astralEnding(64), astralEnding(65)],
];
const ADDED_VALUES: Wire[] = [1, "x", true, null, 1.5, Number.NaN, {}, []];
const GROW_TO = [0, 1, 16, 17, 32, 33, 64, 65];

const pick = <T>(list: readonly T[], i: number): T => list[i % list.length] as T;

type Path = ReadonlyArray<string | number>;

/** What `value` (at `at`) holds directly, with where. */
function children(value: Wire, at: Path): Array<[Path, Wire]> {
  if (Array.isArray(value)) return value.map((item, i) => [[...at, i], item]);
  return isMap(value) ? Object.entries(value).map(([k, item]) => [[...at, k], item]) : [];
}

/** Every place in `value` a change can reach, with what is there: the value itself and everything inside it. */
function places(value: Wire, at: Path = [], out: Array<[Path, Wire]> = []): Array<[Path, Wire]> {
  out.push([at, value]);
  for (const [path, item] of children(value, at)) places(item, path, out);
  return out;
}

function updateAt(value: Wire, path: Path, change: (node: Wire) => Wire): Wire {
  const [head, ...rest] = path;
  if (head === undefined) return change(value);
  if (Array.isArray(value)) return value.map((item, i) => (i === head ? updateAt(item, rest, change) : item));
  if (!isMap(value)) return value;
  return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, k === head ? updateAt(v, rest, change) : v]));
}

/** Each change, and the places it applies to. */
const CHANGES = {
  replace: () => true,
  "add-key": isMap,
  "drop-key": isMap,
  "repeat-key": isMap,
  grow: (node: Wire) => Array.isArray(node) || isMap(node),
  "as-bigint": (node: Wire) => typeof node === "number",
} as const;
interface Change {
  kind: keyof typeof CHANGES;
  /** Choices of a walk down from the top to the place to change. */
  route: number[];
  at: number;
  pick: number;
  grow: number;
}
const change: fc.Arbitrary<Change> = fc.record({
  kind: fc.constantFrom(...(Object.keys(CHANGES) as Array<keyof typeof CHANGES>)),
  route: fc.array(fc.nat(), { maxLength: 5 }),
  at: fc.nat(),
  pick: fc.nat(),
  grow: fc.constantFrom(...GROW_TO),
});

/**
 * Where `c` applies: the deepest fitting place on its walk down from the top (so that a field is
 * about as likely as any other, however much it holds), else any fitting place.
 */
function placeOf(value: Wire, c: Change): Path | undefined {
  const walk: Array<[Path, Wire]> = [[[], value]];
  for (const step of c.route) {
    const [at, node] = walk[walk.length - 1] ?? [[], value];
    const below = children(node, at);
    if (below.length === 0) break;
    walk.push(pick(below, step));
  }
  const fits = (candidates: Array<[Path, Wire]>) => candidates.filter(([, node]) => CHANGES[c.kind](node));
  const onWalk = fits(walk).at(-1);
  if (onWalk !== undefined) return onWalk[0];
  const anywhere = fits(places(value));
  return anywhere.length === 0 ? undefined : pick(anywhere, c.at)[0];
}

/** `value` with `c` applied at one of the places it applies to. */
function applyChange(value: Wire, c: Change): Wire {
  const place = placeOf(value, c);
  if (place === undefined) return value;
  return updateAt(value, place, (node) => {
    const entries = isMap(node) ? Object.entries(node) : [];
    switch (c.kind) {
      case "replace":
        return pick(edgesFor(node), c.pick);
      case "add-key":
        return { ...Object.fromEntries(entries), [pick(EDGE_KEYS, c.pick)]: pick(ADDED_VALUES, c.at) };
      case "drop-key":
        return Object.fromEntries(entries.filter((_, i) => i !== c.pick % entries.length));
      case "repeat-key": {
        const [key, v] = entries[c.pick % Math.max(1, entries.length)] ?? [];
        if (key === undefined || v === undefined) return node;
        return new Entries([...entries, [key, c.pick % 2 === 0 ? v : pick(edgesFor(v), c.at)]]);
      }
      case "grow":
        if (Array.isArray(node)) return Array.from({ length: c.grow }, (_, i) => node[i % node.length] ?? "x");
        for (let i = 0; entries.length < c.grow; i++)
          if (!entries.some(([k]) => k === `g${i}`)) entries.push([`g${i}`, i]);
        return Object.fromEntries(entries);
      case "as-bigint":
        return bigIntsOf(node);
    }
  });
}

const changes = fc.array(change, { minLength: 1, maxLength: 3 });

/** Byte-level edits of an encoded value. */
const EDITS = ["truncate", "set", "insert", "delete", "append"] as const;
// Mostly overwrites: the other edits move everything after them and so are nearly always refused.
const editKind = fc.oneof({ weight: 4, arbitrary: fc.constant("set" as const) }, fc.constantFrom(...EDITS));
const edit = fc.tuple(editKind, fc.nat(), fc.uint8Array({ minLength: 1, maxLength: 4 }));
const edits = fc.array(edit, { minLength: 1, maxLength: 2 });

function applyEdits(bytes: Buffer, list: ReadonlyArray<readonly [(typeof EDITS)[number], number, Uint8Array]>): Buffer {
  let out = bytes;
  for (const [kind, at, junk] of list) {
    const p = at % Math.max(1, out.length);
    if (kind === "truncate") out = out.subarray(0, p);
    else if (kind === "set") out = Buffer.concat([out.subarray(0, p), junk.subarray(0, 1), out.subarray(p + 1)]);
    else if (kind === "insert") out = Buffer.concat([out.subarray(0, p), junk, out.subarray(p)]);
    else if (kind === "delete") out = Buffer.concat([out.subarray(0, p), out.subarray(p + junk.length)]);
    else out = Buffer.concat([out, junk]);
  }
  return Buffer.from(out);
}

// ---- Every place a request holds a number or a string -----------------------------------------

const minimal = { id: "strat-1", name: "Strategy 1", owner: "desk-fx" } as const;
/** What every write carries in its envelope (reads take it too). */
const W = { cid: "cmd-0", issued: 1_767_225_600_000 } as const;
const envelope = (body: Wire): WireMap => ({ v: 1, ...W, body });
const register = (fields: WireMap): WireMap => envelope({ strategy: { ...minimal, ...fields } });

/** Numbers of every kind (the edge cases, any double, any int64 or uint64), and values of other kinds. */
const anyNumber: fc.Arbitrary<Wire> = fc.oneof(
  fc.constantFrom(...EDGES.number),
  fc.constantFrom(...WRONG_KINDS),
  fc.double(),
  fc.integer(),
  fc.bigInt({ min: -(2n ** 63n), max: 2n ** 64n - 1n }),
);
const NUMBER_PLACES: ReadonlyArray<readonly [PartitionOp, (n: Wire) => WireMap]> = [
  [PartitionOps.Register, (n) => register({ template: { id: "t", version: n, params: {} } })],
  [PartitionOps.Register, (n) => register({ template: { id: "t", params: { p: n } } })],
  [PartitionOps.Register, (n) => register({ venues: [{ venue: "v", symbols: [], params: { p: n } }] })],
  [PartitionOps.Update, (n) => envelope({ id: "a", expectedVersion: n, patch: { name: "x" } })],
  [PartitionOps.Retire, (n) => envelope({ id: "a", expectedVersion: n })],
  [PartitionOps.List, (n) => envelope({ limit: n })],
  [PartitionOps.Register, (n) => ({ ...register({}), issued: n })],
  [PartitionOps.Get, (n) => ({ v: 1, issued: n, body: { id: "a" } })],
  [PartitionOps.RegisterBatch, (n) => ({ ...envelope({ strategies: [minimal] }), deadlineMs: n })],
  [PartitionOps.List, (n) => ({ v: 1, deadlineMs: n, body: {} })],
  [PartitionOps.Update, (n) => ({ ...envelope({ id: "a", expectedVersion: 1, patch: { name: "x" } }), v: n })],
  [PartitionOps.Retire, (n) => ({ ...envelope({ id: "a" }), trace: { n } })],
];

/** Strings of every kind (the edge cases, short ones, ones about a limit long, str of arbitrary bytes), and values of other kinds. */
const anyString: fc.Arbitrary<Wire> = fc.oneof(
  fc.constantFrom(...EDGES.string),
  fc.constantFrom(...WRONG_KINDS),
  fc.string({ unit: "binary", maxLength: 12 }),
  fc
    .tuple(
      fc.constantFrom(...LIMIT_LENGTHS),
      fc.integer({ min: -2, max: 2 }),
      fc.array(fc.constantFrom(...UNITS), { minLength: 1, maxLength: 3 }),
    )
    .map(([length, delta, units]) => fitted(length + delta, units)),
  fc.uint8Array({ maxLength: 6 }).map((bytes) => new Raw(Buffer.concat([Buffer.of(0xa0 | bytes.length), bytes]))),
);
const STRING_PLACES: ReadonlyArray<readonly [PartitionOp, (s: Wire) => WireMap]> = [
  [PartitionOps.Register, (s) => register({ id: s })],
  [PartitionOps.Register, (s) => register({ name: s })],
  [PartitionOps.Register, (s) => register({ owner: s })],
  [PartitionOps.Register, (s) => register({ description: s })],
  [PartitionOps.Register, (s) => register({ tags: [s] })],
  [PartitionOps.Register, (s) => register({ family: s })],
  [PartitionOps.Register, (s) => register({ parents: [s] })],
  [PartitionOps.Register, (s) => register({ dependencies: [s] })],
  [PartitionOps.Register, (s) => register({ template: { id: s, params: {} } })],
  [PartitionOps.Register, (s) => register({ template: { id: "t", params: new Entries([[s, 1]]) } })],
  [PartitionOps.Register, (s) => register({ template: { id: "t", params: { p: s } } })],
  [PartitionOps.Register, (s) => register({ venues: [{ venue: s, symbols: [] }] })],
  [PartitionOps.Register, (s) => register({ venues: [{ venue: "v", symbols: [s] }] })],
  [PartitionOps.RegisterBatch, (s) => envelope({ strategies: [minimal, { ...minimal, id: s }] })],
  [PartitionOps.Get, (s) => envelope({ id: s })],
  [PartitionOps.GetBatch, (s) => envelope({ ids: ["a", s] })],
  [PartitionOps.Update, (s) => envelope({ id: "a", expectedVersion: 1, patch: { owner: s } })],
  [PartitionOps.Retire, (s) => envelope({ id: "a", reason: s })],
  [PartitionOps.List, (s) => envelope({ cursor: s })],
  [PartitionOps.Get, (s) => ({ v: 1, cid: s, body: { id: "a" } })],
  [PartitionOps.RegisterBatch, (s) => ({ ...envelope({ strategies: [minimal] }), cid: s })],
  [PartitionOps.Update, (s) => ({ ...envelope({ id: "a", expectedVersion: 1, patch: { name: "x" } }), trace: s })],
  [PartitionOps.GetBatch, (s) => ({ v: 1, body: { ids: ["a"] }, trace: { span: [s] } })],
];

// ---- The properties --------------------------------------------------------------------------

/** Fixed runs; the time limit bounds the shrinking of a failure, which can take minutes on large strategies. */
const runs = (numRuns: number) => ({ numRuns, interruptAfterTimeLimit: 30_000 });

describe("the bytes check of a strategy", () => {
  it("accepts every valid strategy as msgpackr or any standard width encodes it, up to its last byte", () => {
    fc.assert(
      fc.property(strategy, encoding, (value, how) => {
        expect(strategyChecker.Check(value)).toBe(true);
        const bytes = encodeAs(value, how);
        expect(strategyBytes(bytes, 0)).toBe(bytes.length);
        const int64s = Buffer.from(PACKRS.bigInt.pack(bigIntsOf(value)));
        expect(strategyBytes(int64s, 0)).toBe(int64s.length);
      }),
      runs(300),
    );
  });

  it("never accepts a changed strategy that decoding and TypeBox would refuse", () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(strategy, changes, encoding, (value, list, how) => {
        expectStrategySound(encodeAs(list.reduce(applyChange, value), how), tally);
      }),
      runs(1500),
    );
    expect(tally.accepted).toBeGreaterThan(100);
    expect(tally.refused).toBeGreaterThan(600);
  });

  it("never accepts edited bytes: truncated, overwritten, spliced or followed by junk", () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(strategy, encoding, edits, (value, how, list) => {
        expectStrategySound(applyEdits(encodeAs(value, how), list), tally);
      }),
      runs(1500),
    );
    expect(tally.accepted).toBeGreaterThan(60);
    expect(tally.refused).toBeGreaterThan(600);
  });

  it("returns where the strategy ends when it sits at an offset inside a larger buffer", () => {
    fc.assert(
      fc.property(
        strategy,
        encoding,
        fc.uint8Array({ maxLength: 16 }),
        fc.uint8Array({ maxLength: 16 }),
        (value, how, before, after) => {
          const bytes = encodeAs(value, how);
          const buffer = Buffer.from(Buffer.concat([before, bytes, after]));
          expect(strategyBytes(buffer, before.length)).toBe(before.length + bytes.length);
        },
      ),
      runs(200),
    );
  });

  it("refuses a strategy that repeats a key at the top level", () => {
    const bytes = encodeWide(new Entries([...Object.entries(minimal), ["name", "Other"]]), [0]);
    expect(strategyBytes(bytes, 0)).toBe(-1);
    expect(strategyRefusal(bytes)).toBe("a map repeats a key");
  });

  it("refuses a strategy whose template or venue params repeat a key", () => {
    const repeated = new Entries([
      ["lookback", 20],
      ["lookback", 30],
    ]);
    const inTemplate = { ...minimal, template: { id: "mr", params: repeated } };
    const inVenue = { ...minimal, venues: [{ venue: "lmax", symbols: ["EURUSD"], params: repeated }] };
    for (const value of [inTemplate, inVenue]) {
      const bytes = encodeWide(value, [0]);
      expect(strategyBytes(bytes, 0)).toBe(-1);
      expect(strategyRefusal(bytes)).toBe("a map repeats a key");
    }
  });

  it("declines a param named __proto__, which msgpackr decodes as __proto_ and so can repeat a key", () => {
    for (const names of [["__proto__"], ["__proto__", "__proto_"], ["__proto_", "__proto__"]]) {
      const params = new Entries(names.map((name, i) => [name, i]));
      const bytes = encodeWide({ ...minimal, template: { id: "t", params } }, [0]);
      const request = encodeWide(register({ template: { id: "t", params } }), [0]);
      expect(strategyBytes(bytes, 0), names.join()).toBe(-1);
      expect(acceptsBytes(PartitionOps.Register, request), names.join()).toBe(false);
      expect(requestRefusal(PartitionOps.Register, request), names.join()).toMatch(/__proto__ is not a known field/);
    }
  });

  it("refuses every strategy encoded with msgpackr records (an extension type)", () => {
    fc.assert(
      fc.property(strategy, (value) => {
        expect(strategyBytes(Buffer.from(encodeRecords(value)), 0)).toBe(-1);
      }),
      runs(100),
    );
  });

  it("refuses template versions that are not integers of at least 1, in any width", () => {
    for (const v of [1.5, 0, -1, -0, Number.NaN, Number.POSITIVE_INFINITY]) {
      for (const widths of [[0], [1], [2], [3], [4], [5], [6], [7]]) {
        const bytes = encodeWide({ ...minimal, template: { id: "t", version: v, params: {} } }, widths);
        expect(strategyBytes(bytes, 0), `${v} as ${bytes.toString("hex")}`).toBe(-1);
      }
    }
    const float64Two = new Raw(Buffer.from("cb4000000000000000", "hex"));
    const two = encodeWide({ ...minimal, template: { id: "t", version: float64Two, params: {} } }, [0]);
    expect(strategyBytes(two, 0)).toBe(two.length); // 2.0 is the integer 2
  });

  it("takes every list and the params up to their limits, and refuses one more", () => {
    const ids = (n: number) => Array.from({ length: n }, (_, i) => `s-${i}`);
    const params = (n: number) => Object.fromEntries(ids(n).map((id, i) => [id, i]));
    const limited: Array<[number, (n: number) => WireMap]> = [
      [Limits.tagsMax, (n) => ({ tags: ids(n) })],
      [Limits.parentsMax, (n) => ({ parents: ids(n) })],
      [Limits.dependenciesMax, (n) => ({ dependencies: ids(n) })],
      [Limits.paramsMax, (n) => ({ template: { id: "t", params: params(n) } })],
      [Limits.venuesMax, (n) => ({ venues: ids(n).map((venue) => ({ venue, symbols: [] })) })],
      [Limits.symbolsMax, (n) => ({ venues: [{ venue: "v", symbols: ids(n) }] })],
      [Limits.paramsMax, (n) => ({ venues: [{ venue: "v", symbols: [], params: params(n) }] })],
    ];
    for (const [max, fields] of limited) {
      const full = encodeWide({ ...minimal, ...fields(max) }, [0]);
      expect(strategyBytes(full, 0), JSON.stringify(fields(1))).toBe(full.length);
      expect(strategyBytes(encodeWide({ ...minimal, ...fields(max + 1) }, [0]), 0), JSON.stringify(fields(1))).toBe(-1);
    }
  });

  it("takes param names of 1 to 64 UTF-16 units (an astral character counts two) and param values of the three kinds", () => {
    const withParam = (key: string, value: Wire) =>
      encodeWide({ ...minimal, template: { id: "t", params: { [key]: value } } }, [0]);
    for (const key of ["k", "k".repeat(64), "é".repeat(64), astralEnding(64)]) {
      for (const value of [1.5, "x", true]) expect(strategyBytes(withParam(key, value), 0)).toBeGreaterThan(0);
    }
    for (const key of ["", "k".repeat(65), astralEnding(65)]) expect(strategyBytes(withParam(key, 1), 0), key).toBe(-1);
    for (const value of [null, [], {}, ...NOT_DATA]) expect(strategyBytes(withParam("k", value), 0)).toBe(-1);
  });
});

describe("acceptsBytes on request envelopes", () => {
  it("accepts every valid request of every operation, as msgpackr or any standard width encodes it", () => {
    fc.assert(
      fc.property(request, encoding, ({ op, value }, how) => {
        const bytes = encodeAs(value, how);
        expect(requestRefusal(op, bytes), op).toBeUndefined();
        expect(acceptsBytes(op, bytes), op).toBe(true);
      }),
      runs(300),
    );
  });

  it("never accepts a changed request that the canonical path would refuse", () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(request, changes, encoding, ({ op, value }, list, how) => {
        expectRequestAgreement(op, encodeAs(list.reduce(applyChange, value), how), tally);
      }),
      runs(1500),
    );
    expect(tally.accepted).toBeGreaterThan(40);
    expect(tally.refused).toBeGreaterThan(600);
  });

  it("never accepts an edited request", () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(request, encoding, edits, ({ op, value }, how, list) => {
        expectRequestAgreement(op, applyEdits(encodeAs(value, how), list), tally);
      }),
      runs(800),
    );
    expect(tally.accepted).toBeGreaterThan(15);
    expect(tally.refused).toBeGreaterThan(400);
  });

  it("never accepts a number the schema refuses, in any width, wherever a request holds one", () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...NUMBER_PLACES), anyNumber, encoding, ([op, place], n, how) => {
        expectRequestAgreement(op, encodeAs(place(n), how), tally);
      }),
      runs(1000),
    );
    expect(tally.accepted).toBeGreaterThan(100);
    expect(tally.refused).toBeGreaterThan(100);
  });

  it("never accepts a string the schema refuses, whatever its length, characters or bytes, wherever a request holds one", () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(fc.constantFrom(...STRING_PLACES), anyString, encoding, ([op, place], text, how) => {
        expectRequestAgreement(op, encodeAs(place(text), how), tally);
      }),
      runs(1500),
    );
    expect(tally.accepted).toBeGreaterThan(100);
    expect(tally.refused).toBeGreaterThan(100);
  });

  it("refuses records, trailing bytes and empty payloads", () => {
    const valid = { v: 1, ...W, body: { strategies: [minimal] } };
    expect(acceptsBytes(PartitionOps.RegisterBatch, encodeWide(valid, [0]))).toBe(true);
    expect(acceptsBytes(PartitionOps.RegisterBatch, Buffer.from(encodeRecords(valid)))).toBe(false);
    expect(acceptsBytes(PartitionOps.RegisterBatch, Buffer.concat([encodeWide(valid, [0]), Buffer.of(0xc0)]))).toBe(
      false,
    );
    expect(acceptsBytes(PartitionOps.RegisterBatch, Buffer.alloc(0))).toBe(false);
  });

  it("refuses an empty batch, an empty id list and an empty patch", () => {
    const empty: Array<[PartitionOp, WireMap]> = [
      [PartitionOps.RegisterBatch, { strategies: [] }],
      [PartitionOps.GetBatch, { ids: [] }],
      [PartitionOps.Update, { id: "a", expectedVersion: 1, patch: {} }],
    ];
    for (const [op, body] of empty) {
      const bytes = encodeWide({ v: 1, body }, [0]);
      expect(acceptsBytes(op, bytes), op).toBe(false);
      expect(requestRefusal(op, bytes), op).toBeDefined();
    }
  });

  it("refuses protocol version 2, and takes version 1 in any number width", () => {
    const body = { id: "strat-1" };
    expect(acceptsBytes(PartitionOps.Get, encodeWide({ v: 1, body }, [0]))).toBe(true);
    expect(acceptsBytes(PartitionOps.Get, encodeWide({ v: 2, body }, [0]))).toBe(false);
    for (const wide of numberForms(1)) {
      const bytes = encodeWide({ v: new Raw(wide), body }, [0]);
      expect(acceptsBytes(PartitionOps.Get, bytes), wide.toString("hex")).toBe(true);
      expect(requestRefusal(PartitionOps.Get, bytes)).toBeUndefined();
    }
  });

  it("accepts a batch of exactly the most strategies, and refuses one more or a payload over the size limit", () => {
    const batch = (n: number, description = "") => ({
      v: 1,
      ...W,
      body: { strategies: Array.from({ length: n }, (_, i) => ({ ...minimal, id: `s-${i}`, description })) },
    });
    const bytes = (value: Wire) => Buffer.from(PACKRS.standard.pack(value));
    expect(acceptsBytes(PartitionOps.RegisterBatch, bytes(batch(Limits.batchMax)))).toBe(true);
    expect(acceptsBytes(PartitionOps.RegisterBatch, bytes(batch(Limits.batchMax + 1)))).toBe(false);
    const large = bytes(batch(Limits.batchMax, "d".repeat(Limits.payloadMaxBytes / Limits.batchMax)));
    expect(large.length).toBeGreaterThan(Limits.payloadMaxBytes);
    expect(acceptsBytes(PartitionOps.RegisterBatch, large)).toBe(false);
  });
});

describe("keys that msgpackr's JavaScript decoder changes", () => {
  // Where msgpackr decodes strings in JavaScript (MSGPACKR_NATIVE_ACCELERATION_DISABLED=true, or no
  // msgpackr-extract build for the platform), its TextDecoder drops a leading U+FEFF from strings of
  // over 64 bytes, so these two names would decode to one.
  it("declines params whose names differ only by a leading byte order mark", () => {
    const name = "x".repeat(62);
    const params = new Entries([
      [`\u{FEFF}${name}`, 1],
      [name, 2],
    ]);
    const bytes = encodeWide({ ...minimal, template: { id: "t", params } }, [0]);
    expect(strategyBytes(bytes, 0)).toBe(-1);
  });
});

// ---- Envelope fields this build does not know --------------------------------------------------

/** Things that make data non-standard, to hide somewhere in an envelope field this build does not know. */
const POISONS: Wire[] = [
  ...NOT_DATA.filter((value) => !(value instanceof Raw && value.bytes[0] === 0xc4)), // bin is standard data
  new Raw(Buffer.of(0xa2, 0xc3, 0x28)), // invalid UTF-8
  new Entries([[1, "integer key"]]),
  new Entries([[null, "nil key"]]),
  new Entries([
    ["k", 1],
    ["k", 2],
  ]),
  new Entries([["__proto__", 1]]),
  new Entries([["\u{FEFF}k", 1]]),
];

/** `value` with `poison` at the place `route` leads to (the value itself if it holds nothing). */
function poisoned(value: Wire, poison: Wire, route: readonly number[]): Wire {
  const [step, ...rest] = route;
  const below = children(value, []);
  if (step === undefined || below.length === 0) return poison;
  const [[key]] = [pick(below, step)[0]];
  return updateAt(value, [key as string | number], (node) => poisoned(node, poison, rest));
}

describe("envelope fields this build does not know", () => {
  it("are accepted, whatever standard msgpack data they hold, by the bytes check and the canonical path", () => {
    fc.assert(
      fc.property(fc.constantFrom(...OPS), unknownFields, encoding, (op, unknown, how) => {
        const bytes = encodeAs({ ...unknown, ...envelope(minimalBodies[op]) }, how);
        expect(requestRefusal(op, bytes), op).toBeUndefined();
        expect(acceptsBytes(op, bytes), op).toBe(true);
      }),
      runs(300),
    );
  });

  it("are refused by both when they hold an extension type, invalid UTF-8, or a bad, repeated or __proto__ key", () => {
    fc.assert(
      fc.property(
        fc.constantFrom(...OPS),
        envelopeKey(),
        anyData,
        fc.constantFrom(...POISONS),
        fc.array(fc.nat(), { maxLength: 4 }),
        encoding,
        (op, key, data, poison, route, how) => {
          const bytes = encodeAs({ [key]: poisoned(data, poison, route), ...envelope(minimalBodies[op]) }, how);
          expect(requestRefusal(op, bytes), `${op} ${bytes.toString("hex")}`).toBeDefined();
          expect(acceptsBytes(op, bytes), `${op} ${bytes.toString("hex")}`).toBe(false);
        },
      ),
      runs(500),
    );
  });
});

/** A minimal valid body of every operation. */
const minimalBodies: { [Op in PartitionOp]: WireMap } = {
  [PartitionOps.Register]: { strategy: minimal },
  [PartitionOps.RegisterBatch]: { strategies: [minimal] },
  [PartitionOps.Get]: { id: "a" },
  [PartitionOps.GetBatch]: { ids: ["a"] },
  [PartitionOps.Update]: { id: "a", expectedVersion: 1, patch: { name: "n" } },
  [PartitionOps.Retire]: { id: "a" },
  [PartitionOps.List]: {},
  [PartitionOps.Report]: { reports: [{ id: "a", seq: 1 }] },
  [PartitionOps.Perf]: { id: "a" },
  [PartitionOps.Ranking]: { metric: "sharpe", k: 1 },
  [PartitionOps.TopK]: {},
  [PartitionOps.History]: { id: "a" },
  [PartitionOps.Transition]: { id: "a", action: "suspend", by: "b", reason: "r" },
  [PartitionOps.AttachEvidence]: { id: "a", by: "b", evidence: { returns: [0, 0] } },
  [PartitionOps.Evidence]: { id: "a" },
  [PartitionOps.Gates]: { id: "a" },
  [PartitionOps.Link]: { id: "a", dependencies: { add: ["b"] }, by: "graph" },
  [PartitionOps.Cascade]: { id: "a", action: "suspend", by: "graph", reason: "dependency b suspended" },
};

describe("cid and issued on writes", () => {
  it.each(OPS)("%s: both required on writes, both optional on reads", (op) => {
    for (const [fields, write] of [
      [{ cid: "c" }, false],
      [{ issued: 1 }, false],
      [{}, false],
      [W, true],
    ] as const) {
      const bytes = encodeWide({ v: 1, ...fields, body: minimalBodies[op] }, [0]);
      const accepted = write || !isWriteOp(op);
      expect(acceptsBytes(op, bytes), JSON.stringify(fields)).toBe(accepted);
      expect(requestRefusal(op, bytes) === undefined, JSON.stringify(fields)).toBe(accepted);
    }
  });
});

// ---- The standard check on its own ---------------------------------------------------------------

/** msgpackr with maps as Maps: keys keep their types, and a repeated key leaves one entry. */
const mapsDecoder = new Unpackr({ useRecords: false, mapsAsObjects: false, int64AsType: "bigint" });

/**
 * Why `bytes` are not exactly one value of standard msgpack data, by another route than
 * standardMsgpackProblem: the scanner (extension types, UTF-8, truncation, trailing bytes),
 * then msgpackr's Maps (key types, repeated keys, nesting).
 */
function oracleProblem(bytes: Buffer): string | undefined {
  const scanner = new MsgpackScanner(bytes);
  try {
    if (scanner.skip(0) !== bytes.length) return "trailing";
  } catch (err) {
    return (err as Error).message;
  }
  let entries = 0;
  let problem: string | undefined;
  const visit = (value: unknown, depth: number): void => {
    if (problem !== undefined) return;
    const container = Array.isArray(value) || value instanceof Map;
    if (container && depth >= MAX_NESTING) problem = "too deep";
    else if (Array.isArray(value)) for (const item of value) visit(item, depth + 1);
    else if (value instanceof Map) {
      entries += value.size;
      for (const [key, item] of value) {
        if (typeof key !== "string") problem = "a key that is not a string";
        else if (key.startsWith("\u{FEFF}")) problem = "a key with a byte order mark";
        else visit(item, depth + 1);
      }
    }
  };
  try {
    visit(mapsDecoder.unpack(bytes), 0);
  } catch (err) {
    return (err as Error).message;
  }
  return problem ?? (entries === scanner.mapEntries ? undefined : "a repeated key");
}

describe("standardMsgpackProblem", () => {
  it("finds no problem in standard data, in any width (but points at a __proto__ key)", () => {
    fc.assert(
      fc.property(anyData, encoding, (value, how) => {
        const bytes = encodeAs(value, how);
        expect(standardMsgpackProblem(bytes)).toBeUndefined();
        const proto = encodeAs([value, new Entries([["__proto__", value]])], how);
        expect(standardMsgpackProblem(proto)).toMatchObject({ kind: MsgpackProblems.ProtoKey, path: [1, "__proto__"] });
      }),
      runs(300),
    );
  });

  it("agrees with a decoder that keeps key types and counts keys, on changed and edited data", () => {
    const tally = { accepted: 0, refused: 0 };
    fc.assert(
      fc.property(
        anyData,
        fc.constantFrom(...POISONS),
        fc.array(fc.nat(), { maxLength: 4 }),
        edits,
        encoding,
        (value, poison, route, list, how) => {
          for (const bytes of [encodeAs(poisoned(value, poison, route), how), applyEdits(encodeAs(value, how), list)]) {
            const problem = standardMsgpackProblem(bytes);
            const fine = problem === undefined || problem.kind === MsgpackProblems.ProtoKey;
            if (fine) tally.accepted++;
            else tally.refused++;
            expect(oracleProblem(bytes) === undefined, `${bytes.toString("hex")}: ${JSON.stringify(problem)}`).toBe(
              fine,
            );
          }
        },
      ),
      runs(1500),
    );
    expect(tally.accepted).toBeGreaterThan(300);
    expect(tally.refused).toBeGreaterThan(1000);
  });

  it.each([
    ["an empty payload", "", MsgpackProblems.Truncated, 0, []],
    ["a map cut short", "82 a161 01 a162", MsgpackProblems.Truncated, 6, ["b"]],
    ["a str cut short", "81 a161 a3 6162", MsgpackProblems.Truncated, 3, ["a"]],
    ["fixext 1 of type 0", "81 a161 92 01 d40000", MsgpackProblems.NotData, 5, ["a", 1]],
    ["a timestamp (type -1)", "91 d6ff00000000", MsgpackProblems.NotData, 1, [0]],
    ["0xc1", "81 a161 c1", MsgpackProblems.NotData, 3, ["a"]],
    ["invalid UTF-8", "81 a161 a2c328", MsgpackProblems.InvalidUtf8, 3, ["a"]],
    ["a key of invalid UTF-8", "81 a161 81 a2c328 01", MsgpackProblems.InvalidUtf8, 4, ["a"]],
    ["an integer key", "81 a161 81 07 01", MsgpackProblems.KeyNotString, 4, ["a"]],
    ["a repeated key", "81 a161 82 a162 01 a162 02", MsgpackProblems.KeyRepeated, 7, ["a", "b"]],
    ["a key with a byte order mark", "81 a4efbbbf61 01", MsgpackProblems.KeyByteOrderMark, 1, []],
    ["bytes after the value", "81 a161 01 c0", MsgpackProblems.Trailing, 4, []],
    ["a __proto__ key", "81 a161 81 a95f5f70726f746f5f5f 01", MsgpackProblems.ProtoKey, 4, ["a", "__proto__"]],
  ])("reports %s with where it is", (_what, hex, kind, at, path) => {
    const bytes = Buffer.from(hex.replace(/\s+/g, ""), "hex");
    expect(standardMsgpackProblem(bytes)).toMatchObject({ kind, at, path });
  });

  it("gives the extension type of an extension", () => {
    expect(standardMsgpackProblem(Buffer.from("91d6ff00000000", "hex"))).toMatchObject({ typeByte: 0xd6, extType: -1 });
    expect(standardMsgpackProblem(Buffer.from("91c7010500", "hex"))).toMatchObject({ typeByte: 0xc7, extType: 5 });
  });

  it("takes a map of 100,000 keys in linear time, and finds the one key given twice at its end", () => {
    const keys = Array.from({ length: 100_000 }, (_, i) => [`k${i}`, i] as const);
    const unique = encodeWide(new Entries(keys), [0]);
    expect(standardMsgpackProblem(unique)).toBeUndefined();
    const repeated = encodeWide(new Entries([...keys, ["k7", 0]]), [0]);
    expect(standardMsgpackProblem(repeated)).toMatchObject({ kind: MsgpackProblems.KeyRepeated, path: ["k7"] });
  });

  it("takes 64 levels of maps and arrays, not 65", () => {
    const nest = (depth: number): Wire =>
      depth === 1 ? [] : depth % 2 === 0 ? { a: nest(depth - 1) } : [nest(depth - 1)];
    expect(standardMsgpackProblem(encodeWide(nest(MAX_NESTING), [0]))).toBeUndefined();
    expect(standardMsgpackProblem(encodeWide(nest(MAX_NESTING + 1), [0]))).toMatchObject({
      kind: MsgpackProblems.TooDeep,
    });
  });
});

describe("string literals on bytes", () => {
  const metric = compileBytesCheck(RequestBodies[PartitionOps.Ranking]);
  const ranking = (value: unknown) => Buffer.from(new Packr({ useRecords: false }).pack(value));
  it("accepts exactly the literal strings the schema names", () => {
    for (const name of ["sharpe", "maxDrawdown", "profitFactor"]) {
      const bytes = ranking({ metric: name, k: 1 });
      expect(metric(bytes, 0)).toBe(bytes.length);
    }
  });
  it("refuses another string, a prefix, or another type", () => {
    for (const value of ["Sharpe", "sharp", "sharpe ", 1, null]) {
      expect(metric(ranking({ metric: value, k: 1 }), 0)).toBe(-1);
    }
  });
});

describe("patterns of character classes, checked on the bytes", () => {
  const id = compileBytesCheck(StrategyIdSchema);
  const canonical = TypeCompiler.Compile(StrategyIdSchema);
  const idChars = fc.constantFrom(..."abzAZ09._:-/ é€\u0000\u007f".split(""));

  it("accepts exactly the ids the pattern and length accept, whatever their characters", () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ maxLength: 140 }),
          fc.array(idChars, { maxLength: 140 }).map((c) => c.join("")),
        ),
        (text) => {
          const bytes = Buffer.from(new Packr({ useRecords: false }).pack(text));
          expect(id(bytes, 0) === bytes.length).toBe(canonical.Check(text));
        },
      ),
      { numRuns: 2000 },
    );
  });
});

describe("what the bytes check compiles", () => {
  const agrees = (schema: TSchema, texts: string[]) => {
    const onBytes = compileBytesCheck(schema);
    const canonical = TypeCompiler.Compile(schema);
    for (const text of texts) {
      const bytes = Buffer.from(new Packr({ useRecords: false }).pack(text));
      expect(onBytes(bytes, 0) === bytes.length, text).toBe(canonical.Check(text));
    }
  };
  const texts = ["a", "ab", "é", "aé", "xa", "x", "a-b", "", "zz", "a^"];

  it("checks patterns that are not plain ASCII classes with the regex: negated, non-ASCII, reversed or escaped", () => {
    agrees(Type.String({ pattern: "^[^x][a-z]*$" }), texts);
    agrees(Type.String({ pattern: "^[a-zé][a-z]*$" }), texts);
    agrees(Type.String({ pattern: "^[a][a-\u00ff]*$" }), texts);
    agrees(Type.String({ pattern: "^[\\w][\\w-]*$" }), texts);
    agrees(Type.String({ pattern: "^a" }), texts);
  });

  it("takes any standard data where the schema takes anything, and still refuses extensions and __proto__ keys", () => {
    for (const schema of [Type.Unknown(), Type.Any()]) {
      const check = compileBytesCheck(Type.Object({ x: schema }));
      for (const x of [1, "s", null, [1, { a: [true] }], { deep: { er: -1.5 } }]) {
        const bytes = encodeWide({ x }, [0]);
        expect(check(bytes, 0), JSON.stringify(x)).toBe(bytes.length);
      }
      expect(check(encodeWide({ x: new Raw(Buffer.of(0xd4, 0x01, 0x00)) }, [0]), 0)).toBe(-1);
      expect(check(encodeWide({ x: new Entries([["__proto__", 1]]) }, [0]), 0)).toBe(-1);
    }
  });

  it("refuses schemas it cannot check on bytes, at compile time", () => {
    expect(() => compileBytesCheck(Type.Object({}, { additionalProperties: Type.String() }))).toThrow(TypeError);
    const wide = Object.fromEntries(Array.from({ length: 31 }, (_, i) => [`p${i}`, Type.Number()]));
    expect(() => compileBytesCheck(Type.Object(wide))).toThrow(/30 properties/);
    expect(() => compileBytesCheck(Type.Record(Type.String(), Type.Number()))).toThrow(/one key pattern/);
    expect(() => compileBytesCheck(Type.Literal(7))).toThrow(/string literals/);
    expect(() => compileBytesCheck(Type.Date())).toThrow(/not supported/);
    // A schema inside itself (TypeBox makes none outside Recursive, which is refused as well).
    const looped = Type.Object({ name: Type.String() });
    (looped.properties as Record<string, TSchema>).again = Type.Optional(looped);
    expect(() => compileBytesCheck(looped)).toThrow(/recursive/);
    expect(() => compileMapCheck(Type.String())).toThrow(/Object schema/);
    const schema = Type.Object({ a: Type.String() });
    expect(() => compileMapCheck(Type.Object({ inner: schema }), [new MapLayouts(schema, ["b"])])).toThrow(
      /not a property/,
    );
  });

  it("records the maps of a schema wherever they are, and starts afresh on every check", () => {
    const item = Type.Object({ id: Type.String(), n: Type.Optional(Type.Number()) });
    const layouts = new MapLayouts(item, ["id", "n"]);
    const { check } = compileMapCheck(Type.Object({ list: Type.Array(item), one: Type.Union([item, Type.Null()]) }), [
      layouts,
    ]);
    const bytes = Buffer.from(
      new Packr({ useRecords: false }).pack({ list: [{ id: "a" }, { id: "b", n: 2 }], one: null }),
    );
    expect(check(bytes, 0)).toBe(bytes.length);
    expect(layouts.count).toBe(2);
    expect(layouts.valueAt(0, 1)).toBe(-1);
    expect(bytes[layouts.valueAt(1, 1)]).toBe(2);
    expect(layouts.copy().end(1)).toBe(layouts.end(1));
    const many = Buffer.from(
      new Packr({ useRecords: false }).pack({
        list: Array.from({ length: 100 }, (_, i) => ({ id: `${i}` })),
        one: { id: "z" },
      }),
    );
    expect(check(many, 0)).toBe(many.length);
    expect(layouts.count).toBe(101);
    expect(many.toString("latin1", layouts.valueAt(100, 0) + 1, layouts.end(100))).toBe("z");
  });
});

describe("map keys, as the generated check tells them apart", () => {
  // Names that share a length, a first byte, or all but the last byte; an empty
  // name; one too long for a fixstr (str 8 on the wire); one not ASCII.
  const long = "a_property_name_longer_than_thirty_one_bytes";
  const names = ["ab", "ac", "ba", "a", "", long, "é", "éa"] as const;
  // "ab" and the long name are required, the others optional.
  const value = (i: number) =>
    i % 2 === 0 ? Type.Integer({ minimum: -40, maximum: 300 }) : Type.String({ maxLength: 3 });
  const properties = Object.fromEntries(
    names.map((name, i) => [name, name === "ab" || name === long ? value(i) : Type.Optional(value(i))]),
  );
  const closed = Type.Object(properties, { additionalProperties: false });
  const open = Type.Object(properties);
  const keys = fc.oneof(
    { arbitrary: fc.constantFrom(...names, "ad", "abc", "b", "_", long.slice(0, -1), "e", "__proto__"), weight: 5 },
    { arbitrary: fc.string({ maxLength: 40 }), weight: 1 },
  );
  const integers = fc.integer({ min: -50, max: 310 });
  const strings = fc.string({ maxLength: 4 });
  const values = fc.oneof(integers, strings, fc.constant(null));
  // The required keys are usually there, so that both answers come up often.
  const maps = fc
    .tuple(
      fc.dictionary(keys, values, { maxKeys: 4 }),
      fc.option(fc.oneof({ arbitrary: integers, weight: 5 }, values)),
      fc.option(fc.oneof({ arbitrary: strings, weight: 5 }, values)),
    )
    .map(([others, ab, named]) => ({
      ...others,
      ...(ab === null ? {} : { ab }),
      ...(named === null ? {} : { [long]: named }),
    }));

  it("accepts exactly the maps TypeBox accepts, closed or open to other keys, in any header width", () => {
    const checks = [closed, open].map((schema) => ({
      onBytes: compileBytesCheck(schema),
      canonical: TypeCompiler.Compile(schema),
    }));
    const acceptedBy = [0, 0];
    const refusedBy = [0, 0];
    fc.assert(
      fc.property(maps, fc.array(fc.nat(3), { minLength: 1, maxLength: 8 }), (map, widths) => {
        const bytes = encodeWide(map, widths);
        const protoKey = Object.hasOwn(map, "__proto__");
        checks.forEach(({ onBytes, canonical }, k) => {
          const accepted = onBytes(bytes, 0) === bytes.length;
          // A __proto__ key is refused on the bytes (decoders rename it), whatever TypeBox says.
          expect(accepted).toBe(!protoKey && canonical.Check(map));
          const tally = accepted ? acceptedBy : refusedBy;
          tally[k] = (tally[k] ?? 0) + 1;
        });
      }),
      { numRuns: 3000 },
    );
    // Both answers came up, for both schemas.
    expect(Math.min(...acceptedBy, ...refusedBy)).toBeGreaterThan(100);
  });

  it("refuses a named key given twice, in a closed map and in an open one", () => {
    for (const schema of [closed, open]) {
      const check = compileBytesCheck(schema);
      const twice = new Entries([
        ["ab", 1],
        [long, "x"],
        ["", 2],
        ["", 2],
      ]);
      const once = new Entries([
        ["ab", 1],
        [long, "x"],
        ["", 2],
      ]);
      expect(check(encodeWide(twice, [0]), 0)).toBe(-1);
      expect(check(encodeWide(once, [0]), 0)).toBe(encodeWide(once, [0]).length);
    }
  });
});
