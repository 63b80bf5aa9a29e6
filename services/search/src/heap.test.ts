import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { topK } from "./heap.js";

interface Item {
  score: number;
  id: number;
}

/** Best score first, ties by id: a total order, so the expected page is unique. */
const byScoreThenId = (a: Item, b: Item) => b.score - a.score || a.id - b.id;

/** Few distinct scores, so ties are common and the secondary key decides. */
const items = fc
  .array(fc.integer({ min: 0, max: 5 }), { maxLength: 200 })
  .map((scores) => scores.map((score, id) => ({ score, id })));

describe("topK", () => {
  test("equals sorting everything and taking the first k, ties broken by the secondary key", () => {
    fc.assert(
      fc.property(items, fc.integer({ min: 0, max: 250 }), (all, k) => {
        const expected = [...all].sort(byScoreThenId).slice(0, k);
        expect(topK(all, k, byScoreThenId)).toEqual(expected);
      }),
      { numRuns: 300 },
    );
  });

  test("the order of the input does not change the page", () => {
    fc.assert(
      fc.property(
        items.chain((all) => fc.tuple(fc.constant(all), fc.shuffledSubarray(all, { minLength: all.length }))),
        fc.integer({ min: 1, max: 50 }),
        ([all, shuffled], k) => {
          expect(topK(shuffled, k, byScoreThenId)).toEqual(topK(all, k, byScoreThenId));
        },
      ),
    );
  });

  test("k = 0 (or less) is an empty page; k past the end is every item, in order", () => {
    const all = [3, 1, 2].map((score, id) => ({ score, id }));
    expect(topK(all, 0, byScoreThenId)).toEqual([]);
    expect(topK(all, -1, byScoreThenId)).toEqual([]);
    expect(topK(all, 10, byScoreThenId).map((item) => item.score)).toEqual([3, 2, 1]);
    expect(topK([], 5, byScoreThenId)).toEqual([]);
  });

  test("leaves the input as it was", () => {
    const all = [1, 5, 3, 5, 2].map((score, id) => ({ score, id }));
    const copy = all.map((item) => ({ ...item }));
    topK(all, 2, byScoreThenId);
    topK(all, 9, byScoreThenId);
    expect(all).toEqual(copy);
  });
});
