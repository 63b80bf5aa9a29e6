import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { CommandWindow, commandKey, loadSegments, MAX_SEGMENTS, storeSegments } from "./commands.js";

describe("CommandWindow", () => {
  test("remembers recent and sealed commands by id, with their entries' sequences", () => {
    const window = new CommandWindow(60_000);
    const now = 1_000_000;
    window.remember("a", 10, now, now);
    window.remember("b", 11, now, now);
    window.seal();
    window.remember("c", 12, now, now);
    expect([window.seqsOf("a"), window.seqsOf("b"), window.seqsOf("c"), window.seqsOf("d")]).toEqual([
      [10],
      [11],
      [12],
      [],
    ]);
    expect(window.size).toBe(3);
    expect(window.oldestSeq()).toBe(10);
  });

  test("sealed often, it keeps at most 16 segments, each sorted, and every command still finds its entry", () => {
    const window = new CommandWindow(3_600_000);
    let seq = 0;
    for (let round = 0; round < 60; round++) {
      // Rounds of uneven sizes, a second apart.
      for (let i = 0; i < 1 + ((round * 37) % 50); i++)
        window.remember(`r${round}-${i}`, ++seq, round * 1000, round * 1000);
      const segments = window.seal();
      expect(segments.length).toBeLessThanOrEqual(MAX_SEGMENTS);
      for (const { keys } of segments)
        for (let k = 1; k < keys.length; k++) expect(keys[k - 1]).toBeLessThanOrEqual(keys[k] as number);
    }
    expect(window.size).toBe(seq);
    seq = 0;
    for (let round = 0; round < 60; round++) {
      for (let i = 0; i < 1 + ((round * 37) % 50); i++) expect(window.seqsOf(`r${round}-${i}`)).toContain(++seq);
    }
    // A merged segment expires with its newest command: the oldest rounds go, the newest stay.
    window.prune(3_600_000 + 40_000);
    expect(window.seqsOf("r0-0")).toEqual([]);
    expect(window.seqsOf("r59-0").length).toBe(1);
  });

  test("forgets commands older than the retention, sealed or not", () => {
    const window = new CommandWindow(1000);
    window.remember("old", 1, 0, 0);
    window.seal();
    window.remember("older-recent", 2, 100, 100);
    window.remember("new", 3, 1500, 1500);
    window.prune(1600);
    expect([window.seqsOf("old"), window.seqsOf("older-recent"), window.seqsOf("new")]).toEqual([[], [], [3]]);
    expect(window.oldestSeq()).toBe(3);
    // Something accepted before the window already is not remembered at all.
    window.remember("stale", 4, 0, 1600);
    expect(window.seqsOf("stale")).toEqual([]);
  });

  test("survives a snapshot round trip as typed arrays", () => {
    const window = new CommandWindow(60_000);
    const ids = Array.from({ length: 500 }, (_, i) => `cid-${i}`);
    ids.forEach((cid, i) => {
      window.remember(cid, 100 + i, 5000, 5000);
    });
    const stored = storeSegments(window.seal());
    const back = new CommandWindow(60_000);
    back.restore(loadSegments(structuredClone(stored)), 5000);
    ids.forEach((cid, i) => {
      expect(back.seqsOf(cid)).toEqual([100 + i]);
    });
    expect(back.seqsOf("cid-500")).toEqual([]);
  });

  test("every command whose hash matches is a candidate, across segments (hashes may collide)", () => {
    const window = new CommandWindow(60_000);
    window.remember("x", 5, 1000, 1000);
    window.seal();
    window.remember("x", 9, 1000, 1000);
    window.seal();
    // The same id in two segments stands for two commands whose hashes collide: both are candidates.
    expect(window.seqsOf("x")).toEqual([9, 5]);
  });

  test("command keys are exact 53-bit integers, so sorting and equality are exact", () => {
    fc.assert(
      fc.property(fc.string({ minLength: 1, maxLength: 64 }), (cid) => {
        const key = commandKey(cid);
        expect(Number.isSafeInteger(key)).toBe(true);
        expect(key).toBeGreaterThanOrEqual(0);
      }),
    );
  });
});
