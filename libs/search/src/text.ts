/**
 * Full-text search over strategies' name, description, tags and owner.
 *
 * The inverted index, BM25+ scoring, fuzzy (Levenshtein over a radix tree) and
 * prefix matching are MiniSearch's: a small, dependency-free, well-kept library
 * whose `discard` drops a document in O(1) and whose auto-vacuum later cleans its
 * postings in small batches, which is what an index fed by a change log needs.
 * This module decides what is indexed, how terms are cut and how a query is read.
 */
import type { Strategy } from "@stratreg/protocol";
import MiniSearch, { type SearchOptions } from "minisearch";

/** How much a match in each field weighs: a word in the name says most about what a strategy is. */
export const TEXT_FIELD_BOOSTS = { name: 3, tags: 2, description: 1, owner: 1 } as const;

/** The fields a text query looks in. */
export type TextField = keyof typeof TEXT_FIELD_BOOSTS;

/** Which query terms also match as prefixes of indexed terms. */
export const PrefixModes = {
  /** Only the last term, as a user typing sees it ("stat-ar" finds "stat-arb"). */
  Last: "last",
  /** Every term. */
  All: "all",
  /** None: whole terms only. */
  None: "none",
} as const;
/** One of {@link PrefixModes}. */
export type PrefixMode = (typeof PrefixModes)[keyof typeof PrefixModes];

/** Options of {@link TextIndex.search}. */
export interface TextSearchOptions {
  /** Most results returned; 10 unless given. */
  limit?: number;
  /** Whether terms also match with typos (edit distance scaled to the term's length, see {@link typoBudget}); true unless given. */
  fuzzy?: boolean;
  /** Which terms also match as prefixes; `"last"` unless given. */
  prefix?: PrefixMode;
  /** Whether a result must match every query term (`true`) or any (`false`, the default, ranked by BM25+). */
  allTerms?: boolean;
}

/** Options of {@link TextIndex}. */
export interface TextIndexOptions {
  /**
   * Index only the first this-many characters of each description (cut at a word
   * boundary); all of it unless given. The index costs about 3 KB per strategy
   * with 500-character descriptions, most of it description postings: the knob
   * that keeps 1M strategies within a memory budget.
   */
  descriptionChars?: number;
}

/** One text search result. */
export interface TextHit {
  id: string;
  /** BM25+ relevance with field boosts; only comparable within one search. */
  score: number;
  /** The indexed terms that matched (after typo and prefix expansion). */
  terms: string[];
  /** For each matched indexed term, the fields it matched in. */
  match: Record<string, TextField[]>;
}

/**
 * Words too common in descriptions to tell strategies apart. Dropping them at
 * index time keeps their long posting lists out of memory; BM25's IDF would
 * weigh them near zero anyway.
 */
const STOP_WORDS = new Set(
  (
    "a an and are as at be by for from has in is it its of on or that the this to was were will with " +
    "we our which when while into than then there these those also can not but all any each"
  ).split(" "),
);

/** Shortest term that is matched by prefix: one or two letters would match much of the vocabulary. */
const PREFIX_MIN_LENGTH = 2;

/**
 * The edit distance a query term may be away from an indexed term, scaled to its
 * length as Lucene's AUTO fuzziness does: short terms must match exactly (one edit
 * turns "arb" into "arm"), mid-length ones allow one typo, longer ones two.
 */
export function typoBudget(term: string): number {
  if (term.length < 4) return 0;
  if (term.length < 7) return 1;
  return 2;
}

function processTerm(term: string): string | null {
  const lower = term.toLowerCase();
  return STOP_WORDS.has(lower) ? null : lower;
}

/**
 * The text fields of one strategy as MiniSearch sees them; only these are kept
 * (no stored fields), so the index holds postings and ids, not documents.
 */
interface TextDocument {
  id: string;
  name: string;
  description: string;
  tags: string;
  owner: string;
}

/** The first `chars` characters of a text, less a word cut in two. */
function leading(text: string, chars: number): string {
  if (text.length <= chars) return text;
  const cut = text.slice(0, chars + 1);
  const lastBreak = cut.search(/\s\S*$/u);
  return lastBreak > 0 ? cut.slice(0, lastBreak) : cut.slice(0, chars);
}

function textDocument(strategy: Strategy, descriptionChars: number): TextDocument {
  return {
    id: strategy.id,
    name: strategy.name,
    description: leading(strategy.description, descriptionChars),
    // Tags are separate phrases; a space keeps "stat-arb" and "crypto" from running together.
    tags: strategy.tags.join(" "),
    owner: strategy.owner,
  };
}

/**
 * A full-text index of strategies, updated one strategy at a time as the registry
 * changes them. Retired strategies stay in (the caller filters by state).
 */
export class TextIndex {
  readonly #search = new MiniSearch<TextDocument>({
    fields: Object.keys(TEXT_FIELD_BOOSTS),
    storeFields: [],
    processTerm,
    // Vacuum once a tenth of the postings may be stale; it runs in batches between events.
    autoVacuum: { minDirtCount: 1000, minDirtFactor: 0.1, batchSize: 1000, batchWait: 10 },
  });
  /** The version indexed for each id, so a replayed or out-of-order older version is ignored. */
  readonly #versions = new Map<string, number>();
  readonly #descriptionChars: number;

  constructor(options: TextIndexOptions = {}) {
    this.#descriptionChars = options.descriptionChars ?? Number.POSITIVE_INFINITY;
    if (!(this.#descriptionChars >= 0)) throw new RangeError("descriptionChars must be ≥ 0");
  }

  /** How many strategies are indexed. */
  get size(): number {
    return this.#search.documentCount;
  }

  /** Whether a strategy is indexed. */
  has(id: string): boolean {
    return this.#versions.has(id);
  }

  /**
   * Indexes a strategy, replacing the version indexed for its id if this one is
   * newer. Returns false (and changes nothing) for a version not newer than the
   * indexed one, so replaying a log is harmless.
   */
  upsert(strategy: Strategy): boolean {
    const indexed = this.#versions.get(strategy.id);
    if (indexed !== undefined) {
      if (strategy.version <= indexed) return false;
      this.#search.discard(strategy.id);
    }
    this.#search.add(textDocument(strategy, this.#descriptionChars));
    this.#versions.set(strategy.id, strategy.version);
    return true;
  }

  /** Drops a strategy from the index (a strategy that was deleted, not retired). Returns whether it was there. */
  remove(id: string): boolean {
    if (!this.#versions.delete(id)) return false;
    this.#search.discard(id);
    return true;
  }

  /**
   * The strategies best matching `text`, most relevant first. Terms are cut on
   * spaces and punctuation ("stat-arb" is "stat" and "arb"), lower-cased, and
   * common English words dropped; an empty query finds nothing.
   */
  search(text: string, options: TextSearchOptions = {}): TextHit[] {
    const limit = options.limit ?? 10;
    if (limit <= 0) return [];
    const prefixMode = options.prefix ?? PrefixModes.Last;
    const fuzzy = options.fuzzy ?? true;
    const searchOptions: SearchOptions = {
      boost: { ...TEXT_FIELD_BOOSTS },
      combineWith: options.allTerms === true ? "AND" : "OR",
      fuzzy: fuzzy ? (term) => typoBudget(term) : false,
      prefix: (term, index, terms) =>
        term.length >= PREFIX_MIN_LENGTH &&
        (prefixMode === PrefixModes.All || (prefixMode === PrefixModes.Last && index === terms.length - 1)),
    };
    const results = this.#search.search(text, searchOptions);
    const hits: TextHit[] = [];
    for (const result of results) {
      if (hits.length === limit) break;
      hits.push({
        id: result.id as string,
        score: result.score,
        terms: result.terms,
        match: result.match as Record<string, TextField[]>,
      });
    }
    return hits;
  }
}
