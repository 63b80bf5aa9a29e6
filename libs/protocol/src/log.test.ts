import { describe, expect, test } from "vitest";
import { encode } from "./codec.js";
import { ErrorCodes } from "./errors.js";
import { decodeLogEntry, encodeLogEntry, LOG_FORMAT_VERSION, type LogEntry, LogOps } from "./log.js";
import { encodeStrategy } from "./record.js";
import { newStrategy } from "./strategy.js";

const rec = (id: string) => encodeStrategy(newStrategy({ id, name: `n-${id}`, owner: "o" }, 1_700_000_000_000));

const ENTRY: LogEntry = {
  v: LOG_FORMAT_VERSION,
  op: LogOps.RegisterBatch,
  cid: "cmd-42",
  at: 1_700_000_000_000,
  member: "shard-1",
  ids: ["a", "b"],
  recs: [rec("a"), rec("b")],
  note: "rebalanced — décalage",
  rejected: [{ index: 2, id: "c", error: { code: ErrorCodes.AlreadyExists, message: "c exists", retryable: false } }],
};

describe("partition log entries", () => {
  test("round-trip, recs byte for byte", () => {
    const back = decodeLogEntry(encodeLogEntry(ENTRY));
    expect({ ...back, recs: back.recs.map((r) => Buffer.from(r)) }).toEqual(ENTRY);
    expect(back.recs.map((r) => Buffer.from(r).toString("hex"))).toEqual(
      ENTRY.recs.map((r) => Buffer.from(r).toString("hex")),
    );
  });

  test("round-trip every op, with and without the optional fields", () => {
    for (const op of Object.values(LogOps)) {
      const entry: LogEntry = { v: 1, op, at: 5, member: "m", ids: [], recs: [] };
      expect(decodeLogEntry(encodeLogEntry(entry))).toEqual(entry);
    }
  });

  test("recs are encoded as msgpack binary (standard, readable by any client)", () => {
    const bytes = encodeLogEntry({ v: 1, op: "register", at: 1, member: "m", ids: ["a"], recs: [Uint8Array.of(0xc0)] });
    // "recs" → fixarray(1) → bin 8 of length 1 → 0xc0
    expect(Buffer.from(bytes).toString("hex")).toContain(`${Buffer.from("recs").toString("hex")}91c401c0`);
  });

  test("the log ops are the write operations", () => {
    expect(Object.values(LogOps).sort()).toEqual(["register", "register-batch", "retire", "update"]);
  });

  test.each([
    ["a newer format version", { ...ENTRY, v: 2 }, /version 2/],
    ["no version", { ...ENTRY, v: undefined }, /version/],
    ["an unknown op", { ...ENTRY, op: "delete" }, /op delete/],
    ["a read op", { ...ENTRY, op: "get" }, /op get/],
    ["no op", { ...ENTRY, op: undefined }, /op/],
    ["more ids than recs", { ...ENTRY, ids: ["a", "b", "c"] }, /ids and recs/],
    ["more recs than ids", { ...ENTRY, ids: ["a"] }, /ids and recs/],
    ["recs missing", { ...ENTRY, recs: undefined }, /ids and recs/],
    ["ids not an array", { ...ENTRY, ids: "a" }, /ids and recs/],
  ])("decodeLogEntry throws on %s", (_name, entry, message) => {
    expect(() => decodeLogEntry(encode(entry))).toThrow(message);
  });

  test.each([
    ["nil", null],
    ["a string", "entry"],
    ["a number", 1],
  ])("decodeLogEntry throws on %s instead of a map", (_name, value) => {
    expect(() => decodeLogEntry(encode(value))).toThrow();
  });

  test("decodeLogEntry throws on bytes that are not msgpack", () => {
    expect(() => decodeLogEntry(new Uint8Array(0))).toThrow();
    expect(() => decodeLogEntry(Uint8Array.of(0x82, 0xa1))).toThrow();
  });
});
