/**
 * @stratreg/search: finding strategies. Pure, no I/O: the search service keeps
 * these indexes from the partition logs and answers queries with them.
 * @module
 */

/** The metric names a filter may compare (one per ranking metric). */
export { METRICS } from "@stratreg/protocol";

// Full text and similarity

/**
 * Similarity by behaviour: each strategy's most recent returns in a fixed window,
 * and the strategies whose returns correlate most over their shared periods.
 */
export {
  BehaviourIndex,
  type BehaviourMatch,
  type BehaviourOptions,
  type ReturnSeries,
  type SimilarByReturnsOptions,
} from "./behaviour.js";
/**
 * Content embeddings: TF-IDF over a strategy's words, tags, template, parameters
 * and venues, feature-hashed and projected by a fixed seeded sparse random
 * projection to unit vectors in one Float32Array.
 */
export { ContentEmbeddings, type EmbeddingOptions, strategyFeatures, textFeatures } from "./embedding.js";
/** Exact k-nearest-neighbour search by cosine over rows of unit vectors, with a bounded top-k heap. */
export { type NearestOptions, type Neighbour, nearestRows, type VectorRows } from "./knn.js";
/** Similarity by content: embeddings and exact kNN behind `upsert`, `remove`, `similar` and `similarToText`. */
export { ContentIndex, type ContentMatch } from "./similar.js";
/**
 * Full-text search over name, description, tags and owner: BM25+ relevance with
 * field boosts, typos by edit distance scaled to the term's length, prefixes.
 */
export {
  type PrefixMode,
  PrefixModes,
  TEXT_FIELD_BOOSTS,
  type TextField,
  type TextHit,
  TextIndex,
  type TextIndexOptions,
  type TextSearchOptions,
  typoBudget,
} from "./text.js";
