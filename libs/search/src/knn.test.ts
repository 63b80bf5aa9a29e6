import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { nearestRows, TopK } from "./knn.js";

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

function randomUnitRows(rows: number, dims: number, seed: number): Float32Array {
  const random = seeded(seed);
  const vectors = new Float32Array(rows * dims);
  for (let r = 0; r < rows; r++) {
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      const x = random() * 2 - 1;
      vectors[r * dims + d] = x;
      norm += x * x;
    }
    for (let d = 0; d < dims; d++) vectors[r * dims + d] = (vectors[r * dims + d] as number) / Math.sqrt(norm);
  }
  return vectors;
}

/** The reference: the cosine of every row, all sorted; ties by lower row. */
function naiveNearest(
  vectors: Float32Array,
  dims: number,
  query: Float32Array,
  k: number,
  skip: (row: number) => boolean,
) {
  const scored: { row: number; score: number }[] = [];
  const qNorm = Math.sqrt(query.reduce((s, x) => s + x * x, 0));
  for (let row = 0; row < vectors.length / dims; row++) {
    if (skip(row)) continue;
    let dot = 0;
    let norm = 0;
    for (let d = 0; d < dims; d++) {
      const v = vectors[row * dims + d] as number;
      dot += v * (query[d] as number);
      norm += v * v;
    }
    scored.push({ row, score: norm === 0 ? 0 : dot / (Math.sqrt(norm) * qNorm) });
  }
  return scored.sort((a, b) => b.score - a.score || a.row - b.row).slice(0, k);
}

describe("nearestRows", () => {
  test.each([
    [64, 10],
    [128, 10],
    [37, 25],
  ])("finds the same rows as sorting every cosine (%i dims, top %i)", (dims, k) => {
    const rowCount = 5000;
    const vectors = randomUnitRows(rowCount, dims, dims);
    const live = new Uint8Array(rowCount).fill(1);
    for (let row = 0; row < rowCount; row += 7) live[row] = 0;
    const queries = randomUnitRows(20, dims, 99);
    for (let i = 0; i < 20; i++) {
      const query = queries.slice(i * dims, (i + 1) * dims);
      const found = nearestRows({ vectors, dims, rowCount, live }, query, k, { excludeRow: 3 });
      const expected = naiveNearest(vectors, dims, query, k, (row) => live[row] === 0 || row === 3);
      expect(found.map((n) => n.row)).toEqual(expected.map((n) => n.row));
      for (let j = 0; j < k; j++) expect(found[j]?.score).toBeCloseTo(expected[j]?.score as number, 5);
    }
  });

  test("a query is normalised; a zero query or k of 0 finds nothing; a wrong width is an error", () => {
    const vectors = randomUnitRows(100, 8, 1);
    const rows = { vectors, dims: 8, rowCount: 100 };
    const query = vectors.slice(5 * 8, 6 * 8).map((x) => x * 3);
    const [best] = nearestRows(rows, query, 1);
    expect(best?.row).toBe(5);
    expect(best?.score).toBeCloseTo(1, 5);
    expect(nearestRows(rows, new Float32Array(8), 5)).toEqual([]);
    expect(nearestRows(rows, query, 0)).toEqual([]);
    expect(() => nearestRows(rows, new Float32Array(7), 5)).toThrow(RangeError);
  });

  test("fewer rows than k returns them all, best first", () => {
    const vectors = randomUnitRows(3, 4, 2);
    const found = nearestRows({ vectors, dims: 4, rowCount: 3 }, new Float32Array([1, 0, 0, 0]), 10);
    expect(found.map((n) => n.row).sort()).toEqual([0, 1, 2]);
    expect(found.map((n) => n.score)).toEqual([...found.map((n) => n.score)].sort((a, b) => b - a));
  });
});

describe("TopK", () => {
  test("keeps the k best of any sequence, ties to the lower row", () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: -5, max: 5 }), { maxLength: 200 }),
        fc.integer({ min: 1, max: 20 }),
        (scores, k) => {
          const top = new TopK(k);
          for (const [row, score] of scores.entries()) top.offer(row, score);
          const expected = scores
            .map((score, row) => ({ row, score }))
            .sort((a, b) => b.score - a.score || a.row - b.row)
            .slice(0, k);
          expect(top.sorted()).toEqual(expected);
        },
      ),
    );
  });
});
