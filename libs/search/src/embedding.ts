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
 * keeps cosines to about ±1/√dims. It is a sparse JL transform, Kane and Nelson's
 * block construction: the dimensions are cut into `nonzeros` blocks and each hashed
 * feature adds ±1/√nonzeros to one dimension of each block (far sparser than
 * Achlioptas' density 1/3, and its nonzeros never collide), so projecting costs
 * features × nonzeros additions. Dimension and sign come from a fixed integer hash of
 * (feature, block, seed), so every process computes the same vectors.
 *
 * IDF drift: a vector is computed with the IDF of when it was upserted. Rather than
 * re-weighting every vector on every registration, all vectors are re-projected from
 * their stored sparse features once the number of strategies has moved by a quarter
 * since the last time ({@link ContentEmbeddings.refresh}): geometric intervals, so the
 * cost is O(1) amortised per upsert and IDFs are never off by more than ln 1.25. A
 * refresh takes about 1 s per 100k strategies here (so ≈ 10 s at 1M, once per 25 %
 * growth); a bulk load should pass `refreshGrowth: Infinity` and refresh once at the end.
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
  /**
   * Re-project every vector when the count has grown (or shrunk) by this factor since
   * the last refresh; 1.25 unless given, `Infinity` to refresh only when asked.
   */
  refreshGrowth?: number;
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

/**
 * Murmur3's 32-bit finaliser: a cheap, well-mixed hash of an integer, the same
 * everywhere. The projection is drawn from it on the fly rather than kept in a
 * table: a table of 2^18 × 8 entries is 12 MB, and looking a feature up in it is a
 * cache miss, and drawing the table took longer than a refresh.
 */
function fmix32(x: number): number {
  let h = x | 0;
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  // Signed on purpose: V8 keeps int32 in registers, while a uint32 above 2^31 becomes a double (2× slower here).
  return h | 0;
}

/** Smoothed IDF (as scikit-learn's) of a feature in df of n documents: never zero, finite for an unseen feature. */
function idf(n: number, df: number): number {
  return Math.log((1 + n) / (1 + df)) + 1;
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
  /** Dimensions per block: a feature's j-th nonzero is in block j, so its nonzeros are distinct. */
  readonly #block: number;
  readonly #seed: number;
  /** ±1/√nonzeros: keeps a projected unit vector unit length on average. */
  readonly #scale: number;
  /** Scratch for one vector's sums. */
  readonly #sums: Float64Array;
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
  readonly #refreshGrowth: number;

  constructor(options: EmbeddingOptions = {}) {
    this.dims = options.dims ?? 128;
    const hashBits = options.hashBits ?? 18;
    if (hashBits > 32 - TF_BITS) throw new RangeError(`hashBits must be at most ${32 - TF_BITS}`);
    this.#hashMask = (1 << hashBits) - 1;
    this.#nonzeros = Math.min(options.nonzeros ?? 8, this.dims);
    const features = 1 << hashBits;
    this.#documentFrequency = new Uint32Array(features);
    this.#block = Math.floor(this.dims / this.#nonzeros);
    // A power-of-two block lets a mask pick the dimension (an integer division is slow here).
    if (this.#block * this.#nonzeros !== this.dims || (this.#block & (this.#block - 1)) !== 0) {
      throw new RangeError("dims must be nonzeros times a power of two");
    }
    this.#seed = Math.imul(options.seed ?? 0x5eed, 0x9e3779b9);
    this.#scale = 1 / Math.sqrt(this.#nonzeros);
    this.#sums = new Float64Array(this.dims);
    this.#refreshGrowth = options.refreshGrowth ?? 1.25;
    if (!(this.#refreshGrowth > 1)) throw new RangeError("refreshGrowth must be above 1");
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
    const idfs = this.#idfTable();
    for (let row = 0; row < this.#features.length; row++) {
      const packed = this.#features[row];
      if (packed) this.#project(packed, this.#vectors, row * this.dims, false, idfs);
    }
    this.#sizeAtRefresh = this.size;
  }

  #maybeRefresh(): void {
    const size = this.size;
    const growth = this.#refreshGrowth;
    if (size > this.#sizeAtRefresh * growth + 8 || size < this.#sizeAtRefresh / growth - 8) this.refresh();
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

  /**
   * The weight of every hashed feature under the current counts, for a refresh:
   * one logarithm per bucket instead of one per feature of every strategy.
   */
  #idfTable(): Float64Array {
    const n = this.size;
    const table = new Float64Array(this.#documentFrequency.length);
    for (let bucket = 0; bucket < table.length; bucket++)
      table[bucket] = idf(n, this.#documentFrequency[bucket] as number);
    return table;
  }

  /** Writes the unit vector of packed features at out[offset…]: sublinear tf × smoothed idf, projected. */
  #project(packed: Uint32Array, out: Float32Array, offset: number, knownOnly = false, idfs?: Float64Array): void {
    const dims = this.dims;
    const nonzeros = this.#nonzeros;
    const block = this.#block;
    const mask = block - 1;
    const seed = this.#seed;
    // Sums in doubles, written once: cheaper than read-modify-writes of float32 in `out`.
    const sums = this.#sums.fill(0);
    const documentFrequency = this.#documentFrequency;
    const n = this.size;
    for (let i = 0; i < packed.length; i++) {
      const p = packed[i] as number;
      const bucket = p >>> TF_BITS;
      const df = documentFrequency[bucket] as number;
      if (knownOnly && df === 0) continue;
      const weight = (1 + Math.log(p & TF_MAX)) * (idfs ? (idfs[bucket] as number) : idf(n, df)) * this.#scale;
      const base = bucket * nonzeros;
      for (let j = 0; j < nonzeros; j++) {
        // One hash per (feature, j): its low bits pick the dimension in block j, its top bit the sign.
        const h = fmix32((base + j) ^ seed);
        const at = j * block + (h & mask);
        sums[at] = (sums[at] as number) + (h < 0 ? -weight : weight);
      }
    }
    let norm = 0;
    for (let d = 0; d < dims; d++) norm += (sums[d] as number) ** 2;
    const inverse = norm === 0 ? 0 : 1 / Math.sqrt(norm);
    for (let d = 0; d < dims; d++) out[offset + d] = (sums[d] as number) * inverse;
  }
}
