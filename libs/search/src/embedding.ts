/**
 * Content embeddings of strategies, computed locally from their own fields (no
 * model, nothing downloaded): what they say (name, description, tags) and how they
 * are built (template, parameter names and value buckets, venues).
 *
 * Each strategy's features get TF-IDF weights (sublinear tf; document frequencies
 * kept incrementally), are hashed into 2^18 buckets (feature hashing: a fixed space
 * whatever the vocabulary) and projected to a few dense dimensions by a fixed sparse
 * random projection, then L2-normalised, so cosine is a dot product.
 *
 * Why a random projection and not a fitted one (SVD/LSA, PCA): it is independent of
 * the data, so a strategy's vector depends only on its own features and the IDF, and
 * registering one never forces a re-fit of the others; by Johnson–Lindenstrauss it
 * keeps cosines to about ±1/√dims. Each hashed feature goes to `nonzeros` distinct
 * dimensions with random signs (a sparse JL transform in the Kane–Nelson style, far
 * sparser than Achlioptas' 1/3): projecting costs features × nonzeros additions. The
 * table is drawn from a seeded generator, so every process computes the same vectors.
 *
 * IDF drift: a vector is computed with the IDF of when it was upserted. Rather than
 * re-weighting every vector on every registration, all vectors are re-projected from
 * their stored sparse features once the number of strategies has moved by a quarter
 * since the last time ({@link ContentEmbeddings.refresh}): geometric intervals, so the
 * cost is O(1) amortised per upsert and IDFs are never off by more than ln 1.25.
 */
import type { ParamValue, Strategy } from "@stratreg/protocol";

/** Options of {@link ContentEmbeddings}. */
export interface EmbeddingOptions {
  /** Dense dimensions; 128 unless given (cosines kept to about ±0.09). */
  dims?: number;
  /** log2 of the hashed feature space; 18 unless given. */
  hashBits?: number;
  /** Dimensions each hashed feature projects to; 8 unless given. */
  nonzeros?: number;
  /** Seed of the projection: the same seed gives the same vectors in every process. */
  seed?: number;
}

/** How much one occurrence counts, by where it occurs: the name and tags say most. */
const FIELD_WEIGHTS = { name: 3, tag: 2, description: 1, structure: 2 } as const;

const STOP_WORDS = new Set(
  (
    "a an and are as at be by for from has in is it its of on or that the this to was were will with " +
    "we our which when while into than then there these those also can not but all any each"
  ).split(" "),
);

/** Lower-cased words of a text, as the embedding sees them (letters and digits; stop words dropped). */
export function words(text: string): string[] {
  return text
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter((word) => word.length >= 2 && !STOP_WORDS.has(word));
}

/** A parameter value's bucket: numbers by sign and power of two, so 20 and 24 agree and 20 and 200 do not. */
function valueBucket(value: ParamValue): string {
  if (typeof value === "number") {
    if (value === 0 || !Number.isFinite(value)) return String(value);
    return `${value < 0 ? "-" : ""}2^${Math.round(Math.log2(Math.abs(value)))}`;
  }
  return String(value).toLowerCase().slice(0, 32);
}

/**
 * A strategy's features with their weighted counts. Prefixes keep kinds apart: the
 * word `w:carry`, the tag `t:carry`, the template `tpl:…`, the parameter name `p:…`,
 * its value bucket `pv:name=bucket`, the venue `v:…`.
 */
export function strategyFeatures(strategy: Strategy): Map<string, number> {
  const counts = new Map<string, number>();
  const add = (feature: string, weight: number): void => {
    counts.set(feature, (counts.get(feature) ?? 0) + weight);
  };
  for (const word of words(strategy.name)) add(`w:${word}`, FIELD_WEIGHTS.name);
  for (const word of words(strategy.description)) add(`w:${word}`, FIELD_WEIGHTS.description);
  for (const tag of strategy.tags) {
    add(`t:${tag.toLowerCase()}`, FIELD_WEIGHTS.tag);
    // A tag's words too, so a text query ("stat arb") meets the tag "stat-arb".
    for (const word of words(tag)) add(`w:${word}`, FIELD_WEIGHTS.tag);
  }
  const template = strategy.template;
  if (template) {
    add(`tpl:${template.id.toLowerCase()}`, FIELD_WEIGHTS.structure);
    for (const [name, value] of Object.entries(template.params)) {
      add(`p:${name.toLowerCase()}`, FIELD_WEIGHTS.structure);
      add(`pv:${name.toLowerCase()}=${valueBucket(value)}`, FIELD_WEIGHTS.structure);
    }
  }
  for (const venue of strategy.venues) add(`v:${venue.venue.toLowerCase()}`, FIELD_WEIGHTS.structure);
  return counts;
}

/** The features of a free-text query: its words, weighed as a name's. */
export function textFeatures(text: string): Map<string, number> {
  const counts = new Map<string, number>();
  for (const word of words(text)) counts.set(`w:${word}`, (counts.get(`w:${word}`) ?? 0) + 1);
  return counts;
}

/** 32-bit FNV-1a of a string's UTF-16 code units: stable across processes and platforms. */
export function fnv1a(text: string): number {
  let hash = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    hash ^= text.charCodeAt(i);
    hash = Math.imul(hash, 0x01000193);
  }
  return hash >>> 0;
}

/** Mulberry32: a small seeded generator, the same sequence everywhere. */
function mulberry32(seed: number): () => number {
  let state = seed >>> 0;
  return () => {
    state = (state + 0x6d2b79f5) >>> 0;
    let t = state;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface ProjectionTable {
  dims: Uint16Array;
  signs: Float32Array;
}

/** Tables already drawn, by shape and seed: they are read-only, so indexes in one process share them. */
const projectionTables = new Map<string, ProjectionTable>();

/**
 * The sparse projection: for each hashed feature, `nonzeros` distinct dimensions
 * and a sign ±1/√nonzeros for each, drawn from the seed.
 */
function projectionTable(features: number, dims: number, nonzeros: number, seed: number): ProjectionTable {
  const key = `${features}:${dims}:${nonzeros}:${seed}`;
  const cached = projectionTables.get(key);
  if (cached) return cached;
  const table = { dims: new Uint16Array(features * nonzeros), signs: new Float32Array(features * nonzeros) };
  const random = mulberry32(seed);
  const scale = 1 / Math.sqrt(nonzeros);
  const taken = new Uint8Array(dims);
  for (let f = 0; f < features; f++) {
    const base = f * nonzeros;
    for (let j = 0; j < nonzeros; j++) {
      let dim = Math.floor(random() * dims);
      while (taken[dim] === 1) dim = (dim + 1) % dims;
      taken[dim] = 1;
      table.dims[base + j] = dim;
      table.signs[base + j] = random() < 0.5 ? -scale : scale;
    }
    for (let j = 0; j < nonzeros; j++) taken[table.dims[base + j] as number] = 0;
  }
  projectionTables.set(key, table);
  return table;
}

/** Weighted counts are kept as integers in the low bits of a packed feature; this many bits. */
const TF_BITS = 12;
const TF_MAX = (1 << TF_BITS) - 1;

/**
 * Vectors of every indexed strategy in one Float32Array (row r at r·dims), rows of
 * removed strategies reused, with the sparse features each was computed from.
 */
export class ContentEmbeddings {
  /** Dense dimensions of every vector. */
  readonly dims: number;
  readonly #hashMask: number;
  readonly #nonzeros: number;
  /** For hashed feature f, its dims at [f·nonzeros, …) and the sign of each. */
  readonly #projectionDims: Uint16Array;
  readonly #projectionSigns: Float32Array;
  /** Documents per hashed feature, over the strategies indexed now. */
  readonly #documentFrequency: Uint32Array;
  #vectors: Float32Array;
  /** Per row: hashed feature << TF_BITS | weighted count, or undefined for a free row. */
  #features: (Uint32Array | undefined)[] = [];
  #ids: (string | undefined)[] = [];
  #versions: number[] = [];
  readonly #rows = new Map<string, number>();
  readonly #freeRows: number[] = [];
  #live = new Uint8Array(0);
  #sizeAtRefresh = 0;

  constructor(options: EmbeddingOptions = {}) {
    this.dims = options.dims ?? 128;
    const hashBits = options.hashBits ?? 18;
    if (hashBits > 32 - TF_BITS) throw new RangeError(`hashBits must be at most ${32 - TF_BITS}`);
    this.#hashMask = (1 << hashBits) - 1;
    this.#nonzeros = Math.min(options.nonzeros ?? 8, this.dims);
    const features = 1 << hashBits;
    this.#documentFrequency = new Uint32Array(features);
    const projection = projectionTable(features, this.dims, this.#nonzeros, options.seed ?? 0x5eed);
    this.#projectionDims = projection.dims;
    this.#projectionSigns = projection.signs;
    this.#vectors = new Float32Array(1024 * this.dims);
    this.#live = new Uint8Array(1024);
  }

  /** How many strategies have a vector. */
  get size(): number {
    return this.#rows.size;
  }

  /** Rows in use or free, in order: search the first `rowCount` rows of {@link vectors}. */
  get rowCount(): number {
    return this.#ids.length;
  }

  /** Every row's vector, row r at [r·dims, (r+1)·dims); free rows are zero. Replaced when it grows. */
  get vectors(): Float32Array {
    return this.#vectors;
  }

  /** 1 for a row holding a strategy, 0 for a free one. */
  get live(): Uint8Array {
    return this.#live;
  }

  /** The strategy id in a row, or undefined for a free row. */
  idAt(row: number): string | undefined {
    return this.#ids[row];
  }

  /** The row of a strategy's vector, or undefined. */
  rowOf(id: string): number | undefined {
    return this.#rows.get(id);
  }

  /** A strategy's vector (a view into {@link vectors}: copy it to keep it), or undefined. */
  vectorOf(id: string): Float32Array | undefined {
    const row = this.#rows.get(id);
    return row === undefined ? undefined : this.#vectors.subarray(row * this.dims, (row + 1) * this.dims);
  }

  /**
   * Computes and stores a strategy's vector, replacing its earlier version's.
   * Returns false (and changes nothing) for a version not newer than the stored one.
   */
  upsert(strategy: Strategy): boolean {
    let row = this.#rows.get(strategy.id);
    if (row !== undefined) {
      if (strategy.version <= (this.#versions[row] as number)) return false;
      this.#forget(row);
    } else {
      row = this.#freeRows.pop() ?? this.#newRow();
      this.#rows.set(strategy.id, row);
      this.#ids[row] = strategy.id;
    }
    const packed = this.#pack(strategyFeatures(strategy));
    this.#countDocument(packed, 1);
    this.#features[row] = packed;
    this.#versions[row] = strategy.version;
    this.#live[row] = 1;
    this.#project(packed, this.#vectors, row * this.dims);
    this.#maybeRefresh();
    return true;
  }

  /** Drops a strategy's vector; its row is reused. Returns whether it was there. */
  remove(id: string): boolean {
    const row = this.#rows.get(id);
    if (row === undefined) return false;
    this.#forget(row);
    this.#rows.delete(id);
    this.#ids[row] = undefined;
    this.#live[row] = 0;
    this.#vectors.fill(0, row * this.dims, (row + 1) * this.dims);
    this.#freeRows.push(row);
    this.#maybeRefresh();
    return true;
  }

  /**
   * The unit vector of a free-text query under the current IDF. Words no indexed
   * strategy has are left out: they match nothing and would only add projection
   * noise; a text with none known embeds to zero (and finds nothing).
   */
  embedText(text: string): Float32Array {
    const out = new Float32Array(this.dims);
    this.#project(this.#pack(textFeatures(text)), out, 0, true);
    return out;
  }

  /** The unit vector of a strategy that need not be indexed, under the current IDF, its unknown features left out. */
  embedStrategy(strategy: Strategy): Float32Array {
    const out = new Float32Array(this.dims);
    this.#project(this.#pack(strategyFeatures(strategy)), out, 0, true);
    return out;
  }

  /** Re-projects every vector under the current IDF (done by itself when the count moves by a quarter). */
  refresh(): void {
    for (let row = 0; row < this.#features.length; row++) {
      const packed = this.#features[row];
      if (packed) this.#project(packed, this.#vectors, row * this.dims);
    }
    this.#sizeAtRefresh = this.size;
  }

  #maybeRefresh(): void {
    const size = this.size;
    if (size > this.#sizeAtRefresh * 1.25 + 8 || size < this.#sizeAtRefresh * 0.8 - 8) this.refresh();
  }

  #forget(row: number): void {
    const packed = this.#features[row];
    if (packed) this.#countDocument(packed, -1);
    this.#features[row] = undefined;
  }

  #countDocument(packed: Uint32Array, change: 1 | -1): void {
    const df = this.#documentFrequency;
    for (const p of packed) df[p >>> TF_BITS] = (df[p >>> TF_BITS] as number) + change;
  }

  #newRow(): number {
    const row = this.#ids.length;
    this.#ids.push(undefined);
    this.#versions.push(0);
    this.#features.push(undefined);
    if ((row + 1) * this.dims > this.#vectors.length) {
      // Doubling keeps growth O(1) amortised; at 1M × 128 dims the array is 512 MB.
      const grown = new Float32Array(this.#vectors.length * 2);
      grown.set(this.#vectors);
      this.#vectors = grown;
      const live = new Uint8Array(this.#live.length * 2);
      live.set(this.#live);
      this.#live = live;
    }
    return row;
  }

  /** Hashes features into sorted, merged `bucket << TF_BITS | count` words (collisions add up). */
  #pack(counts: Map<string, number>): Uint32Array {
    const buckets = new Map<number, number>();
    for (const [feature, count] of counts) {
      const bucket = fnv1a(feature) & this.#hashMask;
      buckets.set(bucket, (buckets.get(bucket) ?? 0) + count);
    }
    const packed = new Uint32Array(buckets.size);
    let i = 0;
    for (const [bucket, count] of buckets) packed[i++] = ((bucket << TF_BITS) | Math.min(count, TF_MAX)) >>> 0;
    return packed.sort();
  }

  /** Writes the unit vector of packed features at out[offset…]: sublinear tf × smoothed idf, projected. */
  #project(packed: Uint32Array, out: Float32Array, offset: number, knownOnly = false): void {
    const dims = this.dims;
    const nonzeros = this.#nonzeros;
    out.fill(0, offset, offset + dims);
    const n = this.size;
    for (const p of packed) {
      const bucket = p >>> TF_BITS;
      const tf = p & TF_MAX;
      const df = this.#documentFrequency[bucket] as number;
      if (knownOnly && df === 0) continue;
      // Smoothed IDF (as scikit-learn's): never zero, finite for a feature no document has.
      const idf = Math.log((1 + n) / (1 + df)) + 1;
      const weight = (1 + Math.log(tf)) * idf;
      const base = bucket * nonzeros;
      for (let j = 0; j < nonzeros; j++) {
        const at = offset + (this.#projectionDims[base + j] as number);
        out[at] = (out[at] as number) + weight * (this.#projectionSigns[base + j] as number);
      }
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += (out[offset + d] as number) ** 2;
    if (norm === 0) return;
    const inverse = 1 / Math.sqrt(norm);
    for (let d = 0; d < dims; d++) out[offset + d] = (out[offset + d] as number) * inverse;
  }
}
