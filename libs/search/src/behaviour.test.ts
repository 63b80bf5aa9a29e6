import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { BehaviourIndex, type BehaviourMatch } from "./behaviour.js";

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

/** The reference series: every period ever added, last value wins, then the most recent `window`. */
class NaiveSeries {
  readonly #byId = new Map<string, Map<number, number>>();
  constructor(readonly window: number) {}

  add(id: string, times: number[], returns: number[]): void {
    const series = this.#byId.get(id) ?? new Map<number, number>();
    times.forEach((t, i) => {
      const kept = [...series.keys()].sort((a, b) => a - b);
      // A period older than every kept one is dropped once the window is full.
      if (!series.has(t) && kept.length >= this.window && t < (kept[0] as number)) return;
      series.set(t, returns[i] as number);
      while (series.size > this.window) series.delete(Math.min(...series.keys()));
    });
    this.#byId.set(id, series);
  }

  /** Textbook Pearson: Σ(x−x̄)(y−ȳ) / √(Σ(x−x̄)² Σ(y−ȳ)²) over the shared times. */
  similar(id: string, k: number, minOverlap: number): BehaviourMatch[] {
    const mine = this.#byId.get(id) as Map<number, number>;
    const out: BehaviourMatch[] = [];
    for (const [other, theirs] of this.#byId) {
      if (other === id) continue;
      const shared = [...mine.keys()].filter((t) => theirs.has(t));
      if (shared.length < minOverlap) continue;
      const x = shared.map((t) => mine.get(t) as number);
      const y = shared.map((t) => theirs.get(t) as number);
      const mx = x.reduce((s, v) => s + v, 0) / x.length;
      const my = y.reduce((s, v) => s + v, 0) / y.length;
      let sxy = 0;
      let sxx = 0;
      let syy = 0;
      for (let i = 0; i < x.length; i++) {
        sxy += ((x[i] as number) - mx) * ((y[i] as number) - my);
        sxx += ((x[i] as number) - mx) ** 2;
        syy += ((y[i] as number) - my) ** 2;
      }
      if (sxx === 0 || syy === 0) continue;
      out.push({ id: other, correlation: sxy / Math.sqrt(sxx * syy), overlap: shared.length });
    }
    return out.sort((a, b) => b.correlation - a.correlation).slice(0, k);
  }

  series(id: string): { times: number[]; returns: number[] } {
    const series = this.#byId.get(id) as Map<number, number>;
    const times = [...series.keys()].sort((a, b) => a - b);
    return { times, returns: times.map((t) => series.get(t) as number) };
  }
}

const DAY = 86_400_000;

describe("BehaviourIndex against a naive reference", () => {
  test("the same neighbours, correlations and overlaps on series with partly shared times", () => {
    const random = seeded(11);
    const window = 32;
    const index = new BehaviourIndex({ window });
    const naive = new NaiveSeries(window);
    // Three latent factors; each strategy loads on one, with noise, so correlations spread out.
    const factors = [0, 1, 2].map(() => Array.from({ length: 80 }, () => random() - 0.5));
    for (let s = 0; s < 120; s++) {
      const id = `s${s}`;
      const factor = factors[s % 3] as number[];
      const loading = 0.2 + random();
      // Each strategy starts at its own period and skips some: overlaps vary from none to full.
      const start = Math.floor(random() * 40);
      const periods = Array.from({ length: 80 - start }, (_, i) => start + i).filter(() => random() < 0.8);
      // Added in chunks, as returns arrive; a few chunks restate earlier periods.
      for (let c = 0; c < periods.length; c += 10) {
        const chunk = periods.slice(Math.max(0, c - (random() < 0.3 ? 3 : 0)), c + 10);
        const times = chunk.map((p) => p * DAY);
        const returns = chunk.map((p) => loading * (factor[p] as number) + 0.3 * (random() - 0.5));
        index.addReturns(id, times, returns);
        naive.add(id, times, returns);
      }
    }
    for (let s = 0; s < 120; s += 7) {
      const id = `s${s}`;
      expect(index.seriesOf(id)).toEqual(naive.series(id));
      for (const minOverlap of [5, 20]) {
        const found = index.similarByReturns(id, 10, { minOverlap });
        const expected = naive.similar(id, 10, minOverlap);
        expect(found.map((m) => m.id)).toEqual(expected.map((m) => m.id));
        expect(found.map((m) => m.overlap)).toEqual(expected.map((m) => m.overlap));
        for (const [i, m] of found.entries()) {
          expect(m.correlation).toBeCloseTo((expected[i] as BehaviourMatch).correlation, 10);
        }
      }
    }
  });

  test("the window keeps the most recent periods under any order of arrival", () => {
    fc.assert(
      fc.property(
        fc.array(fc.uniqueArray(fc.integer({ min: 0, max: 40 }), { maxLength: 12 }), { maxLength: 8 }),
        (chunks) => {
          const index = new BehaviourIndex({ window: 8 });
          const naive = new NaiveSeries(8);
          chunks.forEach((chunk, c) => {
            const times = [...chunk].sort((a, b) => a - b);
            const returns = times.map((t) => t * 100 + c);
            index.addReturns("a", times, returns);
            naive.add("a", times, returns);
          });
          expect(index.seriesOf("a") ?? { times: [], returns: [] }).toEqual(
            chunks.some((c) => c.length > 0) ? naive.series("a") : { times: [], returns: [] },
          );
        },
      ),
    );
  });
});

describe("BehaviourIndex", () => {
  const times = Array.from({ length: 30 }, (_, i) => i * DAY);
  const base = times.map((_, i) => Math.sin(i));

  test("finds a copy, then a scaled copy, and ranks an opposite last", () => {
    const index = new BehaviourIndex();
    index.addReturns("base", times, base);
    index.addReturns(
      "scaled",
      times,
      base.map((r) => 2 * r + 0.01),
    );
    index.addReturns(
      "noisy",
      times,
      base.map((r, i) => r + 0.5 * Math.cos(7 * i)),
    );
    index.addReturns(
      "opposite",
      times,
      base.map((r) => -r),
    );
    const found = index.similarByReturns("base", 3);
    expect(found.map((m) => m.id)).toEqual(["scaled", "noisy", "opposite"]);
    expect(found[0]?.correlation).toBeCloseTo(1, 12);
    expect(found[2]?.correlation).toBeCloseTo(-1, 12);
    expect(found[0]?.overlap).toBe(30);
  });

  test("too few shared periods, a constant series and an unknown id find nothing", () => {
    const index = new BehaviourIndex();
    index.addReturns("base", times, base);
    index.addReturns(
      "late",
      times.slice(15).map((t) => t),
      base.slice(15),
    );
    index.addReturns(
      "flat",
      times,
      times.map(() => 0.001),
    );
    expect(index.similarByReturns("base", 5)).toEqual([]);
    expect(index.similarByReturns("base", 5, { minOverlap: 15 }).map((m) => m.id)).toEqual(["late"]);
    expect(index.similarByReturns("missing", 5)).toEqual([]);
  });

  test("removal frees the slot for reuse; bad input is a RangeError", () => {
    const index = new BehaviourIndex({ window: 4 });
    index.addReturns("a", [1, 2], [0.1, 0.2]);
    expect(index.remove("a")).toBe(true);
    expect(index.remove("a")).toBe(false);
    expect(index.seriesOf("a")).toBeUndefined();
    index.addReturns("b", [3], [0.3]);
    expect(index.seriesOf("b")).toEqual({ times: [3], returns: [0.3] });
    expect(index.size).toBe(1);
    expect(() => index.addReturns("b", [1, 2], [0.1])).toThrow(RangeError);
    expect(() => index.addReturns("b", [2, 1], [0.1, 0.2])).toThrow(RangeError);
    expect(() => index.addReturns("b", [5], [Number.NaN])).toThrow(RangeError);
    expect(() => new BehaviourIndex({ window: 1 })).toThrow(RangeError);
  });

  test("grows past its first allocation and keeps every series", () => {
    const index = new BehaviourIndex({ window: 4 });
    for (let s = 0; s < 1000; s++) index.addReturns(`s${s}`, [1, 2, 3], [s, s + 1, s * 2]);
    expect(index.size).toBe(1000);
    expect(index.seriesOf("s999")).toEqual({ times: [1, 2, 3], returns: [999, 1000, 1998] });
    expect(index.similarByReturns("s10", 3, { minOverlap: 3 })).toHaveLength(3);
  });
});
