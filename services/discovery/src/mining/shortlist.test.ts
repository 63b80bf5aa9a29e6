import { Rng } from "@stratreg/alpha";
import { describe, expect, test } from "vitest";
import { Shortlist, type SketchedCandidate } from "./shortlist.js";

const rng = new Rng(5);
const noise = (): Float64Array => Float64Array.from({ length: 64 }, () => rng.normal());

function candidate(text: string, adjusted: number, sketch: Float64Array, size = 5): SketchedCandidate {
  return { text, trainSharpe: adjusted, trades: 100, exposure: 0.5, size, adjusted, sketch };
}

describe("shortlist", () => {
  test("of two near-duplicate bets the better stays; a mirror image is a duplicate too", () => {
    const list = new Shortlist(5, 0.9);
    const bet = noise();
    const other = noise();
    expect(list.offer(candidate("a", 1.0, bet))).toBe(true);
    expect(list.offer(candidate("b", 1.5, other))).toBe(true);
    // The same bet at twice the size, slightly noisier and worse: refused.
    const louder = bet.map((x) => 2 * x + 0.05 * rng.normal());
    expect(list.offer(candidate("a-louder", 0.9, louder))).toBe(false);
    // Its mirror image, better: it takes the place of "a".
    expect(
      list.offer(
        candidate(
          "a-mirror",
          1.2,
          bet.map((x) => -x),
        ),
      ),
    ).toBe(true);
    expect(list.candidates().map((c) => c.text)).toEqual(["b", "a-mirror"]);
    // The same text again never enters twice.
    expect(list.offer(candidate("b", 1.5, other))).toBe(false);
    expect(list.offer(candidate("nan", Number.NaN, noise()))).toBe(false);
  });

  test("keeps the best `capacity`, ties broken by size then text", () => {
    const list = new Shortlist(3);
    for (const [text, adjusted, size] of [
      ["p", 1, 5],
      ["q", 2, 5],
      ["r", 2, 3],
      ["s", 0.5, 4],
      ["t", 3, 9],
    ] as const) {
      list.offer(candidate(text, adjusted, noise(), size));
    }
    expect(list.candidates().map((c) => c.text)).toEqual(["t", "r", "q"]);
    expect(list.sketched()[0]?.sketch.length).toBe(64);
    expect(() => new Shortlist(0)).toThrow(RangeError);
    expect(() => new Shortlist(3, 0)).toThrow(RangeError);
  });
});
