/**
 * @stratreg/search: finding strategies. Pure, no I/O: the search service keeps
 * these indexes from the partition logs and answers queries with them.
 * @module
 */

/** The metric names a filter may compare (one per ranking metric). */
export { METRICS } from "@stratreg/protocol";

// Full text and similarity

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
  type TextSearchOptions,
  typoBudget,
} from "./text.js";
