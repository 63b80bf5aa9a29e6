/**
 * @stratreg/search: finding strategies. Pure, no I/O: the search service keeps
 * these indexes from the partition logs and answers queries with them.
 * @module
 */

/** The metric names a filter may compare (one per ranking metric). */
export { METRICS } from "@stratreg/protocol";

// Filter language

/** What a query needs: the fields and metrics it reads, and the equality constraints an index can narrow by. */
export {
  INDEXED_FIELDS,
  type IndexConstraint,
  type IndexedField,
  type QueryFields,
  queryFields,
  requiredEquals,
} from "./query/analyze.js";
/** The syntax tree of a filter query, its field catalogue and its bounds. */
export {
  BUILTIN_FIELDS,
  type BuiltinField,
  type CompareOp,
  type Comparison,
  type Direction,
  type Expr,
  FieldKinds,
  type FieldRef,
  type Literal,
  type MatchMode,
  MatchModes,
  NodeKinds,
  type OrderKey,
  type Query,
  QueryLimits,
  type Span,
} from "./query/ast.js";
/** Compiles a query to closures over a {@link SearchDocument}, and runs it over many. */
export { applyQuery, type CompiledQuery, compileQuery, type SearchDocument } from "./query/compile.js";
/** Parses and type-checks query text into a {@link Query}; throws {@link QueryError} with the position. */
export { type ParseOptions, parseQuery } from "./query/parser.js";
/** The canonical text of a query or expression (parsing it gives back the same tree). */
export { printExpr, printQuery } from "./query/print.js";
/** A query that does not parse or type-check (code INVALID_QUERY), and the caret rendering of a position. */
export { lineColumnAt, QueryError, type QueryErrorOptions, renderQueryPosition } from "./query/query-error.js";

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
