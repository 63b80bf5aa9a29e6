/**
 * Search on the wire: `<cluster>.search.<op>`, answered by any search process
 * (queue group). A search process follows every partition log into indexes of
 * its own (docs/adr/014), so each reply says how far behind the logs it was.
 */
import { type Static, Type } from "@sinclair/typebox";
import { type Metric, Metrics } from "./performance.js";
import { type LifecycleState, Limits, type Origin, StrategyIdSchema } from "./strategy.js";

/** Operations of the search service. */
export const SearchOps = {
  /** Filter, full text, or both; ordered, paginated. */
  Query: "query",
  /** Strategies like one strategy (or like a text): by content or by behaviour. */
  Similar: "similar",
  /** How many strategies the process holds and how far behind the logs it is. */
  Status: "status",
  /** A strategy's ancestors and/or descendants through `parents`, to a depth. */
  Lineage: "lineage",
  /** A family's members, the parent edges among them, and how the family performs. */
  Family: "family",
  /** Children whose parents are in different families. */
  Breeding: "breeding",
  /** Roots whose descendants passed the gates generation after generation. */
  Dynasties: "dynasties",
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
  /** Deepest a lineage goes (generations from the strategy asked about). */
  depthMax: 64,
  /** Generations a lineage goes when the request does not say. */
  depthDefault: 8,
  /** Most nodes in one lineage or family reply (default and most; a reply also ends before max_payload). */
  nodesDefault: 1000,
  nodesMax: 10_000,
  /** Most consecutive generations a dynasty query may ask for. */
  generationsMax: 64,
} as const;

/** Which way a lineage goes from the strategy asked about. */
export const LineageDirections = {
  /** Parents, their parents, … */
  Ancestors: "ancestors",
  /** Children, their children, … */
  Descendants: "descendants",
  Both: "both",
} as const;
export type LineageDirection = (typeof LineageDirections)[keyof typeof LineageDirections];

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
  [SearchOps.Lineage]: Type.Object(
    {
      id: StrategyIdSchema,
      direction: Type.Union([
        Type.Literal(LineageDirections.Ancestors),
        Type.Literal(LineageDirections.Descendants),
        Type.Literal(LineageDirections.Both),
      ]),
      /** Generations to go (default 8). */
      depth: Type.Optional(Type.Integer({ minimum: 1, maximum: SearchLimits.depthMax })),
      /** Most nodes besides the strategy itself (default 1000); past it the reply says `truncated`. */
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SearchLimits.nodesMax })),
    },
    { additionalProperties: false },
  ),
  [SearchOps.Family]: Type.Object(
    {
      family: Type.String({ minLength: 1, maxLength: Limits.labelMaxLength }),
      /** The metric the family's performance and best member are judged by (default sharpe). */
      metric: Type.Optional(Type.Union(Object.values(Metrics).map((metric) => Type.Literal(metric)))),
      /** Most members listed (default 1000); the statistics count every member. */
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SearchLimits.nodesMax })),
    },
    { additionalProperties: false },
  ),
  [SearchOps.Breeding]: Type.Object(
    {
      /** Only children with a parent in, or themselves in, this family. */
      family: Type.Optional(Type.String({ minLength: 1, maxLength: Limits.labelMaxLength })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SearchLimits.limitMax })),
      offset: Type.Optional(Type.Integer({ minimum: 0, maximum: SearchLimits.offsetMax })),
    },
    { additionalProperties: false },
  ),
  [SearchOps.Dynasties]: Type.Object(
    {
      /** Consecutive generations that must have passed the gates (default 3). */
      k: Type.Optional(Type.Integer({ minimum: 1, maximum: SearchLimits.generationsMax })),
      /** Only roots of this family. */
      family: Type.Optional(Type.String({ minLength: 1, maxLength: Limits.labelMaxLength })),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: SearchLimits.limitMax })),
    },
    { additionalProperties: false },
  ),
} as const;

/** A search request's body. */
export type SearchQuery = Static<(typeof SearchRequestBodies)[typeof SearchOps.Query]>;
/** A similarity request's body. */
export type SimilarQuery = Static<(typeof SearchRequestBodies)[typeof SearchOps.Similar]>;
/** A lineage request's body. */
export type LineageQuery = Static<(typeof SearchRequestBodies)[typeof SearchOps.Lineage]>;
/** A family request's body. */
export type FamilyQuery = Static<(typeof SearchRequestBodies)[typeof SearchOps.Family]>;
/** A cross-family breeding request's body. */
export type BreedingQuery = Static<(typeof SearchRequestBodies)[typeof SearchOps.Breeding]>;
/** A dynasties request's body. */
export type DynastiesQuery = Static<(typeof SearchRequestBodies)[typeof SearchOps.Dynasties]>;

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

// ---- Genealogy (docs/protocol.md, Genealogy; docs/adr/015) ----------------------------------------

/** One strategy in a lineage or family tree. */
export interface GenealogyNode {
  id: string;
  version: number;
  name: string;
  family: string | null;
  origin: Origin;
  state: LifecycleState;
  parents: string[];
  /** Whether its lifecycle reached validated or beyond ({@link passedGates}). */
  passed: boolean;
  /** Generations from the strategy asked about (a lineage; negative for ancestors); absent in a family tree. */
  depth?: number;
}

/** A parent edge: `child` names `parent` among its parents. */
export interface GenealogyEdge {
  parent: string;
  child: string;
}

/** Reply of `lineage`. */
export interface LineageReply {
  id: string;
  direction: LineageDirection;
  depth: number;
  /** The strategy itself (depth 0), then each one reached, at its shortest depth (ancestors negative). */
  nodes: GenealogyNode[];
  /** Every parent edge between the nodes (and to missing parents). */
  edges: GenealogyEdge[];
  /** Parents named by an ancestor reached but registered nowhere. */
  missing: string[];
  /** Strategies reached within the depth, the strategy itself not counted (listed or not). */
  total: number;
  /** Fewer nodes are listed than were reached (the limit, or the reply's size). */
  truncated: boolean;
  lag: SearchLag;
  member: string;
}

/** A family's performance by one metric. */
export interface FamilyPerformance {
  metric: Metric;
  /** Members with a value of the metric. */
  count: number;
  mean: number | null;
  median: number | null;
  /** The member with the best value (the highest, or lowest where lower is better). */
  best: { id: string; value: number } | null;
}

/** Reply of `family`. */
export interface FamilyReply {
  family: string;
  /** Members in all. */
  size: number;
  /** Members listed (up to the limit), in id order. */
  members: GenealogyNode[];
  /** Parent edges between members. */
  edges: GenealogyEdge[];
  /** Members none of whose parents are in the family. */
  roots: string[];
  /** Members listed are fewer than the family. */
  truncated: boolean;
  performance: FamilyPerformance;
  /** Members whose lifecycle reached validated or beyond ÷ members the gates were evaluated on (null: none were). */
  survival: { passed: number; evaluated: number; rate: number | null };
  /** Members by origin. */
  origins: Record<Origin, number>;
  lag: SearchLag;
  member: string;
}

/** A child of parents from different families. */
export interface CrossBreed {
  id: string;
  family: string | null;
  origin: Origin;
  parents: Array<{ id: string; family: string | null }>;
}

/** Reply of `breeding`. */
export interface BreedingReply {
  children: CrossBreed[];
  total: number;
  next: number | null;
  lag: SearchLag;
  member: string;
}

/** A root whose descendants passed the gates `length` generations in a row from generation 1. */
export interface Dynasty {
  root: string;
  family: string | null;
  /** Consecutive generations (from 1) with at least one member that passed the gates. */
  length: number;
  /** Per generation 1..length: the descendants at that shortest depth that passed. */
  generations: string[][];
}

/** Reply of `dynasties`. */
export interface DynastiesReply {
  k: number;
  /** Longest first, then by root id. */
  dynasties: Dynasty[];
  total: number;
  lag: SearchLag;
  member: string;
}
