import { encodeLogEntry } from "@stratreg/protocol";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { ByteArena } from "./arena.js";
import { PartitionStore } from "./partition-store.js";

const bytesOf = (text: string) => Buffer.from(text);

describe("ByteArena", () => {
  test("gives back exactly what was put, across many slabs", () => {
    const arena = new ByteArena();
    const values = Array.from({ length: 5000 }, (_, i) => bytesOf(`value-${i}-${"x".repeat(i % 700)}`));
    const handles = values.map((v) => arena.put(v));
    values.forEach((v, i) => {
      expect(Buffer.from(arena.get(handles[i] as number))).toEqual(v);
    });
    expect(arena.capacityBytes).toBeGreaterThan(1024 * 1024);
  });

  test("adopts a log entry as a slab without copying its strategies", () => {
    const arena = new ByteArena();
    const recs = [bytesOf("first"), bytesOf("second"), bytesOf("")];
    const layout = encodeLogEntry({ v: 1, op: "register-batch", at: 1, member: "m" }, ["a", "b", "c"], recs);
    const handles = arena.adopt(layout.bytes, layout.records);
    recs.forEach((r, i) => {
      const got = arena.get(handles[i] as number);
      expect(Buffer.from(got)).toEqual(r);
      expect(got.buffer).toBe(layout.bytes.buffer);
    });
    expect(() => arena.adopt(layout.bytes, [0])).toThrow(RangeError);
  });
});

describe("PartitionStore", () => {
  test("behaves like an ordered map under puts, adoptions, overwrites and listings, through compactions", () => {
    const op = fc.oneof(
      fc.record({ kind: fc.constant("put" as const), id: fc.integer({ min: 0, max: 60 }), size: fc.nat(3000) }),
      fc.record({ kind: fc.constant("page" as const), after: fc.integer({ min: 0, max: 60 }), limit: fc.nat(10) }),
      fc.record({
        kind: fc.constant("adopt" as const),
        ids: fc.uniqueArray(fc.integer({ min: 0, max: 60 }), { minLength: 1, maxLength: 20 }),
        size: fc.nat(3000),
      }),
    );
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const store = new PartitionStore();
        const model = new Map<string, string>();
        let n = 0;
        for (const o of ops) {
          if (o.kind === "page") {
            // New ids join the ordered index when a listing needs them: each listing sees every one.
            const cursor = `s-${String(o.after).padStart(3, "0")}`;
            const after = [...model.keys()].sort().filter((id) => id > cursor);
            const page = store.page(cursor, o.limit);
            expect(page.ids).toEqual(after.slice(0, o.limit));
            expect(page.more).toBe(after.length > o.limit);
          } else if (o.kind === "put") {
            const id = `s-${String(o.id).padStart(3, "0")}`;
            const value = `${n++}:${"v".repeat(o.size)}`;
            store.put(id, bytesOf(value));
            model.set(id, value);
          } else {
            const ids = o.ids.map((i) => `s-${String(i).padStart(3, "0")}`);
            const values = ids.map(() => `${n++}:${"w".repeat(o.size)}`);
            const layout = encodeLogEntry({ v: 1, op: "register-batch", at: 1, member: "m" }, ids, values.map(bytesOf));
            store.adopt(layout.bytes, layout.ids, layout.records);
            ids.forEach((id, i) => {
              model.set(id, values[i] as string);
            });
          }
        }
        expect(store.size).toBe(model.size);
        for (const [id, value] of model) expect(Buffer.from(store.get(id) ?? []).toString()).toBe(value);
        const page = store.page(null, 1000);
        expect(page.ids).toEqual([...model.keys()].sort());
        expect(page.more).toBe(false);
      }),
      { numRuns: 60 },
    );
  });

  test("pages in id order after a cursor", () => {
    const store = new PartitionStore();
    for (const id of ["d", "a", "c", "b", "e"]) store.put(id, bytesOf(id.toUpperCase()));
    const first = store.page(undefined, 2);
    expect(first).toMatchObject({ ids: ["a", "b"], more: true });
    const second = store.page("b", 2);
    expect(second).toMatchObject({ ids: ["c", "d"], more: true });
    expect(store.page("d", 2)).toMatchObject({ ids: ["e"], more: false });
    expect(store.page("zz", 2)).toMatchObject({ ids: [], more: false });
    expect(second.records.map((r) => Buffer.from(r).toString())).toEqual(["C", "D"]);
  });
});
