import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { hashString, murmur3, partitionOf } from "./hash.js";
import { STRATEGY_ID_PATTERN } from "./strategy.js";

const utf8 = (text: string): Uint8Array => new TextEncoder().encode(text);

/**
 * MurmurHash3 x86_32 vectors. Each expected value was computed by an independent
 * Python port of the reference MurmurHash3.cpp, itself checked first against the
 * vectors published with SMHasher and Guava/mmh3 (those are marked "published").
 */
const GOLDEN: ReadonlyArray<{ bytes: Uint8Array; seed: number; hash: number; what: string }> = [
  // published
  { what: "empty, seed 0", bytes: new Uint8Array(0), seed: 0, hash: 0 },
  { what: "empty, seed 1", bytes: new Uint8Array(0), seed: 1, hash: 0x514e28b7 },
  { what: "empty, seed 0xffffffff", bytes: new Uint8Array(0), seed: 0xffffffff, hash: 0x81f16f39 },
  { what: "00 00 00 00", bytes: Uint8Array.of(0, 0, 0, 0), seed: 0, hash: 0x2362f9de },
  { what: "ff ff ff ff", bytes: Uint8Array.of(0xff, 0xff, 0xff, 0xff), seed: 0, hash: 0x76293b50 },
  { what: "21 43 65 87", bytes: Uint8Array.of(0x21, 0x43, 0x65, 0x87), seed: 0, hash: 0xf55b516b },
  { what: "21 43 65 87, seed", bytes: Uint8Array.of(0x21, 0x43, 0x65, 0x87), seed: 0x5082edee, hash: 0x2362f9de },
  { what: "21 43 65 (tail 3)", bytes: Uint8Array.of(0x21, 0x43, 0x65), seed: 0, hash: 0x7e4a8634 },
  { what: "21 43 (tail 2)", bytes: Uint8Array.of(0x21, 0x43), seed: 0, hash: 0xa0f7b07a },
  { what: "21 (tail 1)", bytes: Uint8Array.of(0x21), seed: 0, hash: 0x72661cf4 },
  { what: "00 00 00", bytes: Uint8Array.of(0, 0, 0), seed: 0, hash: 0x85f0b427 },
  { what: "00 00", bytes: Uint8Array.of(0, 0), seed: 0, hash: 0x30f4c306 },
  { what: "00", bytes: Uint8Array.of(0), seed: 0, hash: 0x514e28b7 },
  { what: "Hello, world!", bytes: utf8("Hello, world!"), seed: 0x9747b28c, hash: 0x24884cba },
  { what: "aaaa", bytes: utf8("aaaa"), seed: 0x9747b28c, hash: 0x5a97808a },
  { what: "abc", bytes: utf8("abc"), seed: 0x9747b28c, hash: 0xc84a62dd },
  { what: "pi x8 (utf-8)", bytes: utf8("ππππππππ"), seed: 0x9747b28c, hash: 0xd58063c1 },
  { what: "quick fox", bytes: utf8("The quick brown fox jumps over the lazy dog"), seed: 0x9747b28c, hash: 0x2fa826cd },
  { what: "hello", bytes: utf8("hello"), seed: 0, hash: 0x248bfa47 },
  { what: "quick fox, seed 0", bytes: utf8("The quick brown fox jumps over the lazy dog"), seed: 0, hash: 0x2e4ff723 },
  // computed with the Python reference port
  { what: "hello, seed 1", bytes: utf8("hello"), seed: 1, hash: 0xbb4abcad },
  { what: "hello, seed 0x9747b28c", bytes: utf8("hello"), seed: 0x9747b28c, hash: 0x5d7f56e8 },
  { what: "策略-1, seed 42", bytes: utf8("策略-1"), seed: 42, hash: 0x0c7d5218 },
];

/** Every tail length (len & 3 = 0..3) over two block counts, seed 0. */
const PREFIXES: ReadonlyArray<[string, number]> = [
  ["", 0x00000000],
  ["a", 0x3c2569b2],
  ["ab", 0x9bbfd75f],
  ["abc", 0xb3dd93fa],
  ["abcd", 0x43ed676a],
  ["abcde", 0xe89b9af6],
  ["abcdef", 0x6181c085],
  ["abcdefg", 0x883c9b06],
  ["abcdefgh", 0x49ddccc4],
];

const LONG_ID = `long.${"0123456789".repeat(12)}abc`;

/**
 * The routing vectors published in docs/protocol.md: id → murmur3 (seed 0) of its
 * UTF-8 bytes → partition for P = 256 and P = 64.
 */
const ROUTING: ReadonlyArray<{ id: string; hash: number; p256: number; p64: number }> = [
  { id: "a", hash: 0x3c2569b2, p256: 178, p64: 50 },
  { id: "A", hash: 0x54dcf7ce, p256: 206, p64: 14 },
  { id: "0", hash: 0xd271c07f, p256: 127, p64: 63 },
  { id: "momentum", hash: 0x7322f4f6, p256: 246, p64: 54 },
  { id: "strat-000001", hash: 0x3eee5211, p256: 17, p64: 17 },
  { id: "mean-reversion.eurusd.v2", hash: 0x63590c37, p256: 55, p64: 55 },
  { id: "desk:fx:carry-7", hash: 0x810e6e2d, p256: 45, p64: 45 },
  { id: "pairs.AAPL-MSFT:2024-01", hash: 0x902638d4, p256: 212, p64: 20 },
  { id: "ETH_BTC.arb:binance-kraken", hash: 0x65492e74, p256: 116, p64: 52 },
  { id: LONG_ID, hash: 0x690a4753, p256: 83, p64: 19 },
  // Not valid strategy ids (the id pattern is ASCII), but the hash is defined on UTF-8 bytes.
  { id: "策略-1", hash: 0x04f2e2c7, p256: 199, p64: 7 },
  { id: "stratégie-é", hash: 0xc2b51d15, p256: 21, p64: 21 },
  { id: "🚀-rocket", hash: 0xc9063961, p256: 97, p64: 33 },
];

describe("murmur3", () => {
  test.each(GOLDEN)("golden vector: $what", ({ bytes, seed, hash }) => {
    expect(murmur3(bytes, seed)).toBe(hash);
  });

  test.each(PREFIXES)("tail length of %j", (text, hash) => {
    expect(hashString(text)).toBe(hash);
    expect(murmur3(utf8(text))).toBe(hash);
  });

  test("hashes the UTF-8 bytes of multi-byte text (CJK, emoji)", () => {
    expect(hashString("策略")).toBe(0x7ee136e2);
    expect(hashString("🚀")).toBe(0x7f675865);
    expect(hashString("ππππππππ")).toBe(0xec72b6e8);
    // Not UTF-16 code units: "🚀" is 4 UTF-8 bytes, 2 UTF-16 units.
    expect(hashString("🚀")).toBe(murmur3(Uint8Array.of(0xf0, 0x9f, 0x9a, 0x80)));
  });

  test("the seed is taken as unsigned 32-bit", () => {
    expect(murmur3(utf8("hello"), -1)).toBe(murmur3(utf8("hello"), 0xffffffff));
    expect(murmur3(new Uint8Array(0), -1)).toBe(0x81f16f39);
  });

  test("result is always an unsigned 32-bit integer", () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 64 }), fc.nat({ max: 0xffffffff }), (bytes, seed) => {
        const h = murmur3(bytes, seed);
        expect(Number.isInteger(h)).toBe(true);
        expect(h).toBeGreaterThanOrEqual(0);
        expect(h).toBeLessThanOrEqual(0xffffffff);
      }),
      { numRuns: 300 },
    );
  });

  test("reads only the bytes of the view it is given (subarray of a larger buffer)", () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 40 }),
        fc.uint8Array({ maxLength: 8 }),
        fc.uint8Array({ maxLength: 8 }),
        (mid, before, after) => {
          const whole = new Uint8Array([...before, ...mid, ...after]);
          expect(murmur3(whole.subarray(before.length, before.length + mid.length))).toBe(
            murmur3(Uint8Array.from(mid)),
          );
        },
      ),
      { numRuns: 200 },
    );
  });
});

describe("partitionOf", () => {
  test.each(ROUTING)("routing vector $id", ({ id, hash, p256, p64 }) => {
    expect(hashString(id)).toBe(hash);
    expect(partitionOf(id, 256)).toBe(p256);
    expect(partitionOf(id, 64)).toBe(p64);
  });

  test("the routing table covers the id shapes it claims to", () => {
    const idPattern = new RegExp(STRATEGY_ID_PATTERN);
    const valid = ROUTING.filter((row) => idPattern.test(row.id));
    expect(valid).toHaveLength(10);
    expect(valid.some((row) => row.id.length === 128)).toBe(true);
    expect(valid.some((row) => row.id.includes("."))).toBe(true);
    expect(valid.some((row) => row.id.includes(":"))).toBe(true);
  });

  test("is murmur3(utf8(id)) mod P, stable, and within [0, P)", () => {
    fc.assert(
      fc.property(
        fc.string({ unit: "grapheme", maxLength: 40 }),
        fc.integer({ min: 1, max: 65536 }),
        (id, partitions) => {
          const p = partitionOf(id, partitions);
          expect(Number.isInteger(p)).toBe(true);
          expect(p).toBeGreaterThanOrEqual(0);
          expect(p).toBeLessThan(partitions);
          expect(partitionOf(id, partitions)).toBe(p);
          expect(p).toBe(murmur3(utf8(id)) % partitions);
        },
      ),
      { numRuns: 300 },
    );
  });

  test("spreads sequential ids over every partition of 256", () => {
    const counts = new Array<number>(256).fill(0);
    for (let i = 0; i < 256 * 64; i++) {
      const p = partitionOf(`strat-${i}`, 256);
      counts[p] = (counts[p] ?? 0) + 1;
    }
    // Mean 64, sd 8: bounds at about ±5 sd, deterministic for these ids.
    expect(Math.min(...counts)).toBeGreaterThan(24);
    expect(Math.max(...counts)).toBeLessThan(104);
  });
});
