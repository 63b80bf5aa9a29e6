import { strictDecode } from "@stratreg/testkit";
import fc from "fast-check";
import { Packr, Unpackr } from "msgpackr";
import { describe, expect, test } from "vitest";
import { encode } from "./codec.js";
import { ErrorCodes } from "./errors.js";
import { encodeEntry, LOG_FORMAT_VERSION, LogOps, readLogEntry, recordAt } from "./log.js";
import type { MapLayouts } from "./msgpack-check.js";
import { MsgpackScanner } from "./msgpack-scan.js";
import { decodeStrategy, encodeStrategy, idOf, NewStrategyItems, spliceNewStrategy } from "./record.js";
import { Limits, newStrategy, type Strategy, type StrategyInput } from "./strategy.js";
import { PartitionOps } from "./subjects.js";
import { acceptedStrategies, acceptsBytes, parseRequest, validateRequest } from "./validate.js";

const msgpackr = new Unpackr({ useRecords: false, mapsAsObjects: true });

// ---- A generator of valid StrategyInput, respecting every schema limit ----

/** Text of 1..max UTF-16 units (the unit TypeBox lengths count), any Unicode. */
const text = (min: number, max: number) =>
  fc
    .oneof(fc.string({ unit: "grapheme", maxLength: max }), fc.string({ maxLength: max }))
    .filter((s) => s.length >= min && s.length <= max);
const label = text(1, Limits.labelMaxLength);
const strategyId = fc.stringMatching(/^[A-Za-z0-9][A-Za-z0-9._:-]{0,40}$/);
const longId = fc.stringMatching(/^[A-Za-z0-9]$/).map((c) => c.repeat(Limits.idMaxLength));
const paramValue = fc.oneof(
  // msgpack has no -0 (msgpackr writes it as 0), so a client cannot send one.
  fc.double({ noNaN: true, noDefaultInfinity: true }).filter((d) => !Object.is(d, -0)),
  fc.integer(),
  text(0, Limits.paramStringMaxLength),
  fc.boolean(),
);
const params = fc.dictionary(
  text(1, 64).filter((k) => k !== "__proto__"),
  paramValue,
  { maxKeys: 8, noNullPrototype: true },
);
const strategyInput: fc.Arbitrary<StrategyInput> = fc.record(
  {
    id: fc.oneof({ weight: 9, arbitrary: strategyId }, { weight: 1, arbitrary: longId }),
    name: text(1, Limits.nameMaxLength),
    owner: label,
    description: fc.oneof(text(0, 100), fc.constant("d".repeat(Limits.descriptionMaxLength))),
    tags: fc.array(text(1, Limits.tagMaxLength), { maxLength: Limits.tagsMax }),
    family: fc.option(label, { nil: null }),
    parents: fc.array(strategyId, { maxLength: Limits.parentsMax }),
    template: fc.option(
      fc.record(
        { id: label, version: fc.integer({ min: 1, max: 1_000_000 }), params },
        { requiredKeys: ["id", "params"] },
      ),
      { nil: null },
    ),
    venues: fc.array(
      fc.record(
        { venue: label, symbols: fc.array(text(1, 64), { maxLength: 6 }), params },
        { requiredKeys: ["venue", "symbols"] },
      ),
      { maxLength: 4 },
    ),
    dependencies: fc.array(strategyId, { maxLength: 8 }),
  },
  { requiredKeys: ["id", "name", "owner"] },
);
const now = fc.oneof(
  fc.integer({ min: 0, max: 4_102_444_800_000 }),
  fc.constant(1_767_225_600_123),
  fc.double({ min: 0, max: 1e13, noNaN: true }),
);

/** The encoders a client might use for its request: the codec's, and msgpackr's fixed-width maps. */
const fixedWidthPackr = new Packr({ useRecords: false });
const clientEncoders = [encode, (v: unknown) => Uint8Array.from(fixedWidthPackr.pack(v))];

/**
 * Registers `inputs` the way a shard does: checks the register-batch request on
 * its bytes, which records where each strategy is, and writes the log entry of
 * the stored forms spliced from those bytes. Each stored form is also spliced
 * alone, from the scanner's ranges (spliceNewStrategy): both must agree.
 */
function registerBatch(inputs: StrategyInput[], at: number, encodeRequest: (v: unknown) => Uint8Array) {
  const payload = Buffer.from(encodeRequest({ v: 1, cid: "c1", issued: 0, body: { strategies: inputs } }));
  expect(acceptsBytes(PartitionOps.RegisterBatch, payload)).toBe(true);
  const layouts = acceptedStrategies(payload) as MapLayouts;
  expect(layouts.count).toBe(inputs.length);
  const request = parseRequest(PartitionOps.RegisterBatch, payload);
  const chosen = inputs.map((_, i) => i);
  const ids = chosen.map((i) => idOf(payload, layouts, i));
  const entry = encodeEntry(
    { v: LOG_FORMAT_VERSION, op: LogOps.RegisterBatch, at, member: "m" },
    new NewStrategyItems(payload, layouts.copy(), chosen, ids, at),
  );
  expect(readLogEntry(entry.bytes).ids).toEqual(inputs.map((input) => input.id));
  expect(entry.ids).toEqual(inputs.map((input) => input.id));
  const scanner = new MsgpackScanner(payload);
  const body = scanner.mapValue(0, "body") as number;
  const items = scanner.arrayItems(scanner.mapValue(body, "strategies") as number);
  return items.map(([start, end], i) => {
    const input = request.body.strategies[i] as StrategyInput;
    const stored = Buffer.from(recordAt(entry, i));
    expect(spliceNewStrategy(payload, start, end, at)).toEqual(stored);
    return { input, stored };
  });
}

/** Keys in shuffled order, as a client in another language might write them. */
const shuffledKeys = (input: StrategyInput, keys: number[]): StrategyInput =>
  Object.fromEntries(
    Object.entries(input)
      .map((entry, i) => ({ entry, key: keys[i % keys.length] ?? 0 }))
      .sort((a, b) => a.key - b.key)
      .map(({ entry }) => entry),
  ) as StrategyInput;

describe("the StrategyInput generator", () => {
  test("produces only inputs the compiled validator accepts", () => {
    fc.assert(
      fc.property(strategyInput, (input) => {
        expect(() =>
          validateRequest(PartitionOps.Register, { v: 1, cid: "c", issued: 0, body: { strategy: input } }),
        ).not.toThrow();
      }),
      { numRuns: 150 },
    );
  });
});

describe("spliceNewStrategy", () => {
  test("stores exactly newStrategy(input, now), readable by msgpackr and by a strict standard decoder", () => {
    fc.assert(
      fc.property(
        fc.array(strategyInput, { minLength: 1, maxLength: 5 }),
        fc.array(fc.double({ noNaN: true }), { minLength: 1, maxLength: 10 }),
        now,
        fc.constantFrom(...clientEncoders),
        (inputs, order, at, encodeRequest) => {
          const sent = inputs.map((input) => shuffledKeys(input, order));
          const stored = registerBatch(sent, at, encodeRequest);
          stored.forEach(({ input, stored: bytes }, i) => {
            // What the shard decoded is what the client sent.
            expect(input).toEqual(sent[i]);
            const expected = newStrategy(input, at);
            expect(new MsgpackScanner(bytes).skip(0)).toBe(bytes.length);
            expect(strictDecode(bytes)).toEqual(expected);
            expect(msgpackr.unpack(bytes)).toEqual(expected);
            expect(decodeStrategy(bytes)).toEqual(expected);
          });
        },
      ),
      { numRuns: 100 },
    );
  });

  test("fills in every default for a minimal strategy", () => {
    const [first] = registerBatch([{ id: "s-1", name: "Momentum", owner: "desk-eq" }], 1_700_000_000_000, encode);
    const stored = strictDecode(first?.stored as Buffer) as Strategy;
    expect(stored).toEqual({
      id: "s-1",
      name: "Momentum",
      owner: "desk-eq",
      description: "",
      tags: [],
      family: null,
      parents: [],
      template: null,
      venues: [],
      dependencies: [],
      version: 1,
      state: "candidate",
      lifecycle: { value: "candidate", context: {} },
      createdAt: 1_700_000_000_000,
      updatedAt: 1_700_000_000_000,
    });
    expect(Object.keys(stored)).toHaveLength(15);
  });

  test("keeps explicit nulls and empty values the client sent", () => {
    const input = { id: "s-2", name: "n", owner: "o", family: null, template: null, tags: [], description: "" };
    const [first] = registerBatch([input], 5, encode);
    expect(strictDecode(first?.stored as Buffer)).toEqual(newStrategy(input, 5));
  });

  test("works on a strategy at any offset of the source (a single register request)", () => {
    const input: StrategyInput = { id: "s-3", name: "n", owner: "o", tags: ["a"] };
    const payload = Buffer.from(encode({ v: 1, body: { strategy: input } }));
    const scanner = new MsgpackScanner(payload);
    const start = scanner.mapValue(scanner.mapValue(0, "body") as number, "strategy") as number;
    expect(start).toBeGreaterThan(0);
    const stored = spliceNewStrategy(payload, start, scanner.skip(start), 42);
    expect(strictDecode(stored)).toEqual(newStrategy(input, 42));
  });

  test("a strategy map that repeats a key is refused by the bytes check, so it is never spliced", () => {
    // {"id": "a", "name": "x", "owner": "o", "name": "y"}: msgpackr keeps the last name.
    const strategyMap = Buffer.from(
      "84 a26964 a161 a46e616d65 a178 a56f776e6572 a16f a46e616d65 a179".replace(/ /g, ""),
      "hex",
    );
    const payload = Buffer.concat([
      Buffer.from(encode({ v: 1, cid: "c", issued: 0, body: { strategies: [] } })).subarray(0, -1),
      Uint8Array.of(0x91),
      strategyMap,
    ]);
    expect(() => parseRequest(PartitionOps.RegisterBatch, payload)).toThrow(
      expect.objectContaining({ code: ErrorCodes.Malformed, field: "body.strategies[0].name" }),
    );
    expect(acceptsBytes(PartitionOps.RegisterBatch, payload)).toBe(false);
  });

  test("a key in a longer string encoding still counts as present (no default is added over it)", () => {
    // {"id": "a", "name": "n", "owner": "o", str8 "description": "kept"}
    const strategyMap = Buffer.concat([
      Buffer.from("84 a26964 a161 a46e616d65 a16e a56f776e6572 a16f".replace(/ /g, ""), "hex"),
      Uint8Array.of(0xd9, 11),
      Buffer.from("description"),
      Buffer.from(encode("kept")),
    ]);
    const stored = spliceNewStrategy(strategyMap, 0, strategyMap.length, 7);
    expect(strictDecode(stored)).toEqual(newStrategy({ id: "a", name: "n", owner: "o", description: "kept" }, 7));
  });

  test("a strategy that is not a map is MALFORMED", () => {
    const bytes = Buffer.from(encode(["id", "a"]));
    expect(() => spliceNewStrategy(bytes, 0, bytes.length, 1)).toThrow(
      expect.objectContaining({ code: ErrorCodes.Malformed }),
    );
  });
});

describe("encodeStrategy / decodeStrategy", () => {
  test("round-trip every stored strategy, in standard msgpack", () => {
    fc.assert(
      fc.property(strategyInput, now, fc.integer({ min: 1, max: 1000 }), (input, at, version) => {
        const strategy: Strategy = { ...newStrategy(input, at), version, state: "retired", updatedAt: at + 1 };
        const bytes = encodeStrategy(strategy);
        expect(decodeStrategy(bytes)).toEqual(strategy);
        expect(strictDecode(bytes)).toEqual(strategy);
      }),
      { numRuns: 100 },
    );
  });

  test("encodeStrategy returns an owned copy", () => {
    const a = encodeStrategy(newStrategy({ id: "a", name: "n", owner: "o" }, 1));
    const copy = Buffer.from(a);
    encodeStrategy(newStrategy({ id: "b", name: "m", owner: "p" }, 2));
    expect(a).toEqual(copy);
  });

  test("spliced and encoded stored forms decode to the same strategy", () => {
    const input: StrategyInput = { id: "a", name: "n", owner: "o" };
    const [first] = registerBatch([input], 7, encode);
    expect(decodeStrategy(first?.stored as Buffer)).toEqual(decodeStrategy(encodeStrategy(newStrategy(input, 7))));
  });
});
