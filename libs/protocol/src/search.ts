/**
 * Search on the wire: `<cluster>.search.<op>`, answered by any search process
 * (queue group). A search process follows every partition log into indexes of
 * its own (docs/adr/014), so each reply says how far behind the logs it was.
 */
import { type Static, Type } from "@sinclair/typebox";
import { StrategyIdSchema } from "./strategy.js";

/** Operations of the search service. */
export const SearchOps = {
  /** Filter, full text, or both; ordered, paginated. */
  Query: "query",
  /** Strategies like one strategy (or like a text): by content or by behaviour. */
  Similar: "similar",
  /** How many strategies the process holds and how far behind the logs it is. */
  Status: "status",
} as const;
export type SearchOp = (typeof SearchOps)[keyof typeof SearchOps];

/** Name under which search processes register with the NATS services framework. */
export const SEARCH_SERVICE_NAME = "stratreg-search";

/** Size limits of search requests. */
export const SearchLimits = {
  /** Longest filter text. */
  filterMaxLength: 4000,
  /** Longest full-text query. */
  textMaxLength: 500,
  /** Most results on one page. */
  limitMax: 1000,
  /** Deepest offset a page may start at. */
  offsetMax: 100_000,
  /** Most neighbours a similarity query returns. */
  kMax: 200,
} as const;

/** How a similarity query compares strategies. */
export const SimilarityKinds = {
  /** A TF-IDF embedding of name, description, tags, template and parameters. */
  Content: "content",
  /** Correlation of recent returns (from performance reports). */
  Returns: "returns",
} as const;
export type SimilarityKind = (typeof SimilarityKinds)[keyof typeof SimilarityKinds];

/** Request bodies, by op. */
export const SearchRequestBodies = {
  [SearchOps.Query]: Type.Object(
    {
      /** The filter language (libs/search): `state = 'active' AND sharpe > 1 ORDER BY sharpe DESC LIMIT 20`. */
      filter: Type.Optional(Type.String({ maxLength: SearchLimits.filterMaxLength })),
      /** Full text over name, description, tags and owner (BM25, fuzzy); results by relevance unless the filter orders them. */
      text: Type.Optional(Type.String({ minLength: 1, maxLength: SearchLimits.textMaxLength })),
      /** Allow typos in the full text (default true). */
      fuzzy: Type.Optional(Type.Boolean()),
      /** Results per page (default 20, or the filter's LIMIT). */
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SearchLimits.limitMax })),
      /** Results to skip (the previous page's `next`). */
      offset: Type.Optional(Type.Integer({ minimum: 0, maximum: SearchLimits.offsetMax })),
      /** Return whole strategies, not only ids and versions. */
      strategies: Type.Optional(Type.Boolean()),
    },
    { additionalProperties: false },
  ),
  [SearchOps.Similar]: Type.Object(
    {
      /** The strategy to find neighbours of. */
      id: Type.Optional(StrategyIdSchema),
      /** Or a text to find strategies like (content only). */
      text: Type.Optional(Type.String({ minLength: 1, maxLength: SearchLimits.textMaxLength })),
      by: Type.Optional(Type.Union([Type.Literal(SimilarityKinds.Content), Type.Literal(SimilarityKinds.Returns)])),
      k: Type.Optional(Type.Integer({ minimum: 1, maximum: SearchLimits.kMax })),
    },
    { additionalProperties: false },
  ),
  [SearchOps.Status]: Type.Object({}, { additionalProperties: false }),
} as const;

/** A search request's body. */
export type SearchQuery = Static<(typeof SearchRequestBodies)[typeof SearchOps.Query]>;
/** A similarity request's body. */
export type SimilarQuery = Static<(typeof SearchRequestBodies)[typeof SearchOps.Similar]>;

/** How far behind the partition logs a search process was when it answered. */
export interface SearchLag {
  /** Log entries pending at its last look. */
  entries: number;
  /** Ms since it last knew it held everything (null before the first time). */
  ms: number | null;
}

/** One result. */
export interface SearchHit {
  id: string;
  /** The strategy's version the result was computed on. */
  version: number;
  /** Relevance (full text), or similarity (cosine or correlation). */
  score?: number;
  /** Overlapping periods a correlation was computed over (similar by returns). */
  overlap?: number;
  /** The strategy itself, when asked for. */
  strategy?: unknown;
}

/** Reply of `query`. */
export interface SearchReply {
  hits: SearchHit[];
  /** Matches in all (before paging). */
  total: number;
  /** The offset of the next page, null when this is the last. */
  next: number | null;
  lag: SearchLag;
  /** Which search process answered. */
  member: string;
}

/** Reply of `similar`. */
export interface SimilarReply {
  hits: SearchHit[];
  by: SimilarityKind;
  lag: SearchLag;
  member: string;
}

/** Reply of `status`. */
export interface SearchStatus {
  member: string;
  strategies: number;
  /** Strategies with a returns series (similar by returns). */
  withReturns: number;
  lag: SearchLag;
  /** Partitions followed. */
  partitions: number;
}
