import { describe, expect, test } from "vitest";
import { encode } from "./codec.js";
import { ErrorCodes } from "./errors.js";
import {
  decodeLogEntry,
  encodeLogEntry,
  isKnownLogOp,
  LOG_FORMAT_VERSION,
  type LogEntry,
  LogOps,
  readLogEntry,
} from "./log.js";
import { encodeStrategy } from "./record.js";
import { newStrategy } from "./strategy.js";

const rec = (id: string) => encodeStrategy(newStrategy({ id, name: `n-${id}`, owner: "o" }, 1_700_000_000_000));

function encodeEntry(entry: LogEntry): Buffer {
  const { ids, recs, ...head } = entry;
  return encodeLogEntry(head, ids, recs).bytes;
}

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
    const back = decodeLogEntry(encodeEntry(ENTRY));
    expect({ ...back, recs: back.recs.map((r) => Buffer.from(r)) }).toEqual(ENTRY);
    expect(back.recs.map((r) => Buffer.from(r).toString("hex"))).toEqual(
      ENTRY.recs.map((r) => Buffer.from(r).toString("hex")),
    );
  });

  test("round-trip every op, with and without the optional fields", () => {
    for (const op of Object.values(LogOps)) {
      const entry: LogEntry = { v: 1, op, at: 5, member: "m", ids: [], recs: [] };
      expect(decodeLogEntry(encodeEntry(entry))).toEqual(entry);
    }
  });

  test("recs are encoded as msgpack bin 32, last in the entry (standard, readable by any client)", () => {
    const bytes = encodeEntry({ v: 1, op: "register", at: 1, member: "m", ids: ["a"], recs: [Uint8Array.of(0xc0)] });
    // "recs" → array 32 of 1 → bin 32 of length 1 → 0xc0, and nothing after it
    expect(bytes.toString("hex").endsWith(`${Buffer.from("recs").toString("hex")}dd00000001c600000001c0`)).toBe(true);
  });

  test("readLogEntry finds every strategy's bytes and id without decoding them", () => {
    const layout = encodeLogEntry(
      { v: 1, op: "register-batch", cid: "c-1", at: 1, member: "m" },
      ENTRY.ids,
      ENTRY.recs,
    );
    const read = readLogEntry(Buffer.from(layout.bytes));
    expect(read.cid).toBe("c-1");
    expect(read.ids).toEqual(["a", "b"]);
    expect(read.records).toEqual(layout.records);
    expect(layout.ids).toEqual(["a", "b"]);
    read.records.forEach((at, i) => {
      expect(read.bytes[at]).toBe(0xc6);
      const length = read.bytes.readUInt32BE(at + 1);
      expect(Buffer.from(read.bytes.subarray(at + 5, at + 5 + length))).toEqual(
        Buffer.from(ENTRY.recs[i] as Uint8Array),
      );
    });
  });

  test("readLogEntry refuses another format version, and records that are not bin 32", () => {
    expect(() => readLogEntry(encodeEntry({ ...ENTRY, v: 2 }))).toThrow(/version 2/);
    expect(() => encodeEntry({ ...ENTRY, ids: ["a"] })).toThrow(/ids and recs/);
    // msgpackr's own encoding of ENTRY writes small bins (0xc4): not the log's framing.
    expect(() => readLogEntry(Buffer.from(encode(ENTRY)))).toThrow(/bin 32/);
  });

  test("readLogEntry hands back an entry of a kind it does not know with its op and no strategies, to be skipped", () => {
    // A newer writer's kind: an older reader must not stall on it (rolling upgrades).
    const read = readLogEntry(encodeEntry({ ...ENTRY, op: "promote" as never }));
    expect(read.op).toBe("promote");
    expect(isKnownLogOp(read.op)).toBe(false);
    expect(read.ids).toEqual([]);
    expect(read.records).toEqual([]);
    expect(read.cid).toBe("cmd-42");
  });

  test("readLogEntry gives the head: epoch, time, and a snapshot's sequence and command ids", () => {
    const layout = encodeLogEntry(
      {
        v: 1,
        op: LogOps.Snapshot,
        at: 7,
        member: "m",
        epoch: 3,
        seq: 41,
        cmds: [[6, Uint8Array.of(1), Uint8Array.of(2)]],
      },
      ["a"],
      [rec("a")],
    );
    const read = readLogEntry(Buffer.from(layout.bytes));
    expect(read).toMatchObject({ op: "snapshot", epoch: 3, at: 7, ids: ["a"] });
    expect(read.head.seq).toBe(41);
    const [until, keys, seqs] = read.head.cmds?.[0] ?? [];
    expect([until, [...(keys ?? [])], [...(seqs ?? [])]]).toEqual([6, [1], [2]]);
    expect(readLogEntry(encodeEntry(ENTRY)).epoch).toBe(0);
  });

  test("the log ops are the write operations (reports among them), the epoch marker and the snapshot", () => {
    expect(Object.values(LogOps).sort()).toEqual([
      "attach-evidence",
      "epoch",
      "register",
      "register-batch",
      "report",
      "retire",
      "snapshot",
      "transition",
      "update",
    ]);
    for (const op of Object.values(LogOps)) expect(isKnownLogOp(op)).toBe(true);
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

  test("ids of every string width round-trip: fixstr, str 8, str 16 and str 32", () => {
    const ids = ["a", "b".repeat(40), "c".repeat(300), "d".repeat(70_000)];
    const layout = encodeLogEntry({ v: 1, op: LogOps.RegisterBatch, at: 1, member: "m" }, ids, ids.map(rec));
    expect(layout.ids).toEqual(ids);
    expect(readLogEntry(layout.bytes).ids).toEqual(ids);
    expect(decodeLogEntry(layout.bytes).ids).toEqual(ids);
  });

  test("an entry is refused before it is written when its ids and recs differ, or its head is not a small map", () => {
    const head = { v: 1, op: LogOps.Update, at: 1, member: "m" } as const;
    expect(() => encodeLogEntry(head, ["a", "b"], [rec("a")])).toThrow(/ids and recs/);
    const wide = { ...head, ...Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`k${i}`, i])) };
    expect(() => encodeLogEntry(wide as never, ["a"], [rec("a")])).toThrow(/small map/);
  });

  test.each([
    ["not a map", encode(["a"]), /not a msgpack map/],
    ["no op", encode({ v: 1, at: 1, ids: [], recs: [] }), /no op/],
    ["an id that is not a string", encode({ v: 1, op: LogOps.Update, at: 1, ids: [7], recs: [] }), /not a string/],
    ["ids without recs", encode({ v: 1, op: LogOps.Update, at: 1, ids: ["a"] }), /ids and recs/],
  ])("readLogEntry refuses an entry with %s", (_name, bytes, message) => {
    expect(() => readLogEntry(Buffer.from(bytes))).toThrow(message);
  });

  test("decodeLogEntry throws on bytes that are not msgpack", () => {
    expect(() => decodeLogEntry(new Uint8Array(0))).toThrow();
    expect(() => decodeLogEntry(Uint8Array.of(0x82, 0xa1))).toThrow();
  });
});
