import { newStrategy, type Strategy, type StrategyInput } from "@stratreg/protocol";
import { describe, expect, test } from "vitest";
import { ContentEmbeddings, fnv1a, strategyFeatures, textFeatures } from "./embedding.js";

const strategy = (input: Omit<StrategyInput, "owner">): Strategy => newStrategy({ owner: "quant", ...input }, 0);

function seeded(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (Math.imul(state, 1664525) + 1013904223) >>> 0;
    return state / 4294967296;
  };
}

const WORDS = "alpha beta gamma delta carry trend momentum basis funding spread pairs vol skew roll curve book".split(
  " ",
);

/** Random strategies over a small vocabulary, with templates and venues, so features overlap a lot. */
function randomStrategies(count: number, seed: number): Strategy[] {
  const random = seeded(seed);
  const pick = (): string => WORDS[Math.floor(random() * WORDS.length)] as string;
  return Array.from({ length: count }, (_, i) =>
    strategy({
      id: `r${i}`,
      name: `${pick()} ${pick()}`,
      description: Array.from({ length: 5 + Math.floor(random() * 20) }, pick).join(" "),
      tags: [pick(), `${pick()}-${pick()}`],
      template: random() < 0.5 ? { id: `tpl-${pick()}`, params: { lookback: Math.floor(random() * 100) } } : null,
      venues: [{ venue: random() < 0.5 ? "binance" : "cme", symbols: [] }],
    }),
  );
}

function dot(a: Float32Array, b: Float32Array): number {
  let sum = 0;
  for (let i = 0; i < a.length; i++) sum += (a[i] as number) * (b[i] as number);
  return sum;
}

describe("features", () => {
  test("FNV-1a matches its published test vectors (the same hash in every process)", () => {
    expect(fnv1a("")).toBe(0x811c9dc5);
    expect(fnv1a("a")).toBe(0xe40c292c);
    expect(fnv1a("foobar")).toBe(0xbf9cf968);
  });

  test("a strategy's features: words, tags, template, parameter names and value buckets, venues", () => {
    const features = strategyFeatures(
      strategy({
        id: "s",
        name: "Carry Basket",
        description: "The carry of G10 currencies",
        tags: ["fx-carry"],
        template: { id: "Carry", params: { lookback: 20, hedged: true, mode: "Fast" } },
        venues: [{ venue: "CME", symbols: ["6E"] }],
      }),
    );
    expect(Object.fromEntries(features)).toEqual({
      "w:carry": 3 + 1 + 2,
      "w:basket": 3,
      "w:g10": 1,
      "w:currencies": 1,
      "t:fx-carry": 2,
      "w:fx": 2,
      "tpl:carry": 2,
      "p:lookback": 2,
      "pv:lookback=2^4": 2,
      "p:hedged": 2,
      "pv:hedged=true": 2,
      "p:mode": 2,
      "pv:mode=fast": 2,
      "v:cme": 2,
    });
    expect(
      strategyFeatures(strategy({ id: "s", name: "x", template: { id: "t", params: { n: 24 } } })).has("pv:n=2^5"),
    ).toBe(true);
    expect(Object.fromEntries(textFeatures("Stat-arb, the pairs"))).toEqual({ "w:stat": 1, "w:arb": 1, "w:pairs": 1 });
  });
});

describe("ContentEmbeddings", () => {
  test("vectors are unit length and the same in two instances with the same seed", () => {
    const strategies = randomStrategies(50, 1);
    const a = new ContentEmbeddings();
    const b = new ContentEmbeddings();
    for (const s of strategies) {
      a.upsert(s);
      b.upsert(s);
    }
    for (const s of strategies) {
      const v = a.vectorOf(s.id) as Float32Array;
      expect(dot(v, v)).toBeCloseTo(1, 5);
      expect(Array.from(v)).toEqual(Array.from(b.vectorOf(s.id) as Float32Array));
    }
    const other = new ContentEmbeddings({ seed: 7 });
    for (const s of strategies) other.upsert(s);
    expect(Array.from(other.vectorOf("r0") as Float32Array)).not.toEqual(Array.from(a.vectorOf("r0") as Float32Array));
  });

  test("a vector is the one computed in another process (the projection is drawn from the seed alone)", () => {
    const embeddings = new ContentEmbeddings();
    embeddings.upsert(
      strategy({
        id: "g",
        name: "FX Carry Basket",
        description: "Long high yielders, short low yielders.",
        tags: ["carry", "fx"],
        template: { id: "carry", params: { lookback: 20 } },
        venues: [{ venue: "cme", symbols: [] }],
      }),
    );
    const v = embeddings.vectorOf("g") as Float32Array;
    // Printed by a separate node process when this test was written.
    expect(v.filter((x) => x !== 0).length).toBe(71);
    expect([v[0], v[2], v[3], v[17]]).toEqual([
      -0.12201393395662308, 0.09844007343053818, 0.09844007343053818, -0.15171349048614502,
    ]);
  });

  test("cosines of the projected vectors approximate those of the exact TF-IDF vectors", () => {
    const strategies = randomStrategies(200, 2);
    const embeddings = new ContentEmbeddings({ dims: 128 });
    for (const s of strategies) embeddings.upsert(s);
    embeddings.refresh();
    // The textbook TF-IDF over unhashed features: (1 + ln tf) · (ln((1 + n) / (1 + df)) + 1).
    const features = strategies.map(strategyFeatures);
    const df = new Map<string, number>();
    for (const f of features) for (const key of f.keys()) df.set(key, (df.get(key) ?? 0) + 1);
    const exact = features.map((f) => {
      const weights = new Map<string, number>();
      let norm = 0;
      for (const [key, tf] of f) {
        const w = (1 + Math.log(tf)) * (Math.log(201 / (1 + (df.get(key) as number))) + 1);
        weights.set(key, w);
        norm += w * w;
      }
      for (const [key, w] of weights) weights.set(key, w / Math.sqrt(norm));
      return weights;
    });
    const errors: number[] = [];
    for (let i = 0; i < 60; i++) {
      for (let j = i + 1; j < 60; j++) {
        let cosine = 0;
        for (const [key, w] of exact[i] as Map<string, number>)
          cosine += w * ((exact[j] as Map<string, number>).get(key) ?? 0);
        const projected = dot(
          embeddings.vectorOf(`r${i}`) as Float32Array,
          embeddings.vectorOf(`r${j}`) as Float32Array,
        );
        errors.push(Math.abs(projected - cosine));
      }
    }
    const meanError = errors.reduce((s, e) => s + e, 0) / errors.length;
    // Johnson–Lindenstrauss at 128 dims: a typical error about 1/√128 ≈ 0.09.
    expect(meanError).toBeLessThan(0.09);
  });

  test("after a refresh, vectors depend only on the strategies indexed, not on the history of changes", () => {
    const strategies = randomStrategies(120, 3);
    const incremental = new ContentEmbeddings();
    for (const s of strategies) incremental.upsert(s);
    // Replace a third, remove a sixth, re-add some of those removed.
    for (const s of strategies.slice(0, 40)) incremental.upsert({ ...s, name: `${s.name} v2`, version: 2 });
    for (const s of strategies.slice(60, 80)) incremental.remove(s.id);
    for (const s of strategies.slice(60, 70)) incremental.upsert(s);
    incremental.refresh();

    const finalSet = [
      ...strategies.slice(0, 40).map((s) => ({ ...s, name: `${s.name} v2`, version: 2 })),
      ...strategies.slice(40, 70),
      ...strategies.slice(80),
    ];
    const fresh = new ContentEmbeddings();
    for (const s of [...finalSet].reverse()) fresh.upsert(s);
    fresh.refresh();
    expect(incremental.size).toBe(finalSet.length);
    for (const s of finalSet) {
      const a = incremental.vectorOf(s.id) as Float32Array;
      const b = fresh.vectorOf(s.id) as Float32Array;
      for (let d = 0; d < a.length; d++) expect(a[d]).toBeCloseTo(b[d] as number, 5);
    }
  });

  test("removed rows are zeroed, marked free and reused; older versions are ignored", () => {
    const embeddings = new ContentEmbeddings({ dims: 16 });
    const [a, b, c] = randomStrategies(3, 4) as [Strategy, Strategy, Strategy];
    embeddings.upsert(a);
    embeddings.upsert(b);
    const row = embeddings.rowOf(a.id) as number;
    expect(embeddings.remove(a.id)).toBe(true);
    expect(embeddings.remove(a.id)).toBe(false);
    expect(embeddings.live[row]).toBe(0);
    expect(embeddings.idAt(row)).toBeUndefined();
    expect(Array.from(embeddings.vectors.subarray(row * 16, row * 16 + 16)).every((x) => x === 0)).toBe(true);
    embeddings.upsert(c);
    expect(embeddings.rowOf(c.id)).toBe(row);
    expect(embeddings.rowCount).toBe(2);
    const before = Array.from(embeddings.vectorOf(b.id) as Float32Array);
    expect(embeddings.upsert({ ...b, name: "changed" })).toBe(false);
    expect(Array.from(embeddings.vectorOf(b.id) as Float32Array)).toEqual(before);
  });

  test("the store grows past its first allocation and keeps every vector", () => {
    const embeddings = new ContentEmbeddings({ dims: 8 });
    const strategies = randomStrategies(3000, 5);
    for (const s of strategies) embeddings.upsert(s);
    embeddings.refresh();
    expect(embeddings.size).toBe(3000);
    for (const s of strategies)
      expect(dot(embeddings.vectorOf(s.id) as Float32Array, embeddings.embedStrategy(s))).toBeCloseTo(1, 4);
  });

  test("without automatic refreshes, vectors keep the IDF of their upsert until a refresh", () => {
    const strategies = randomStrategies(300, 6);
    const manual = new ContentEmbeddings({ refreshGrowth: Number.POSITIVE_INFINITY });
    const automatic = new ContentEmbeddings();
    for (const s of strategies) {
      manual.upsert(s);
      automatic.upsert(s);
    }
    const first = (e: ContentEmbeddings): number[] => Array.from(e.vectorOf("r0") as Float32Array);
    expect(first(manual)).not.toEqual(first(automatic));
    manual.refresh();
    automatic.refresh();
    expect(first(manual)).toEqual(first(automatic));
    expect(() => new ContentEmbeddings({ refreshGrowth: 1 })).toThrow(RangeError);
    expect(() => new ContentEmbeddings({ dims: 24 })).toThrow(RangeError);
  });

  test("a text with no known word embeds to zero", () => {
    const embeddings = new ContentEmbeddings();
    const v = embeddings.embedText("the of and");
    expect(v.every((x) => x === 0)).toBe(true);
  });
});
