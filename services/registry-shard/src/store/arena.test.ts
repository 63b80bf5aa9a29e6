/** The byte arena's refusals: what it cannot hold or find is a RangeError, never a wrong answer. */
import { describe, expect, test } from "vitest";
import { ByteArena } from "./arena.js";

describe("ByteArena", () => {
  test("copies out exactly what it holds, by length and by copy, without a view", () => {
    const arena = new ByteArena();
    const handle = arena.put(Buffer.from("strategy bytes"));
    expect(arena.lengthOf(handle)).toBe(14);
    const out = Buffer.alloc(20, 0x2e);
    arena.copyTo(handle, out, 3);
    expect(out.toString()).toBe("...strategy bytes...");
  });

  test("refuses what no slab can hold, and handles it never gave", () => {
    const arena = new ByteArena();
    expect(() => arena.put(Buffer.allocUnsafe(2 ** 26))).toThrow(RangeError);
    expect(() => arena.adopt(Buffer.allocUnsafe(2 ** 26 + 1), [])).toThrow(RangeError);
    expect(() => arena.adopt(Buffer.from([0xc0, 0, 0, 0, 0, 0]), [0])).toThrow(/no arena entry at offset 0/);
    const unknown = 7 * 2 ** 26;
    expect(() => arena.get(unknown)).toThrow(RangeError);
    expect(() => arena.free(unknown)).toThrow(RangeError);
    expect(() => arena.lengthOf(unknown)).toThrow(RangeError);
    expect(() => arena.copyTo(unknown, Buffer.alloc(1), 0)).toThrow(RangeError);
  });
});
