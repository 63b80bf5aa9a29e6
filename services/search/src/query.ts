/**
 * Answering `query` and `similar` from the index: the filter narrowed by the
 * inverted maps where it pins a field, full text as the candidate set when
 * given, then the filter over each candidate, and only the page asked for
 * ordered (a bounded heap, so ordering a million matches costs a pass, not a sort).
 */
import {
  ErrorCodes,
  encode,
  NotFoundError,
  type SearchHit,
  SearchLimits,
  type SearchQuery,
  type SimilarityKind,
  SimilarityKinds,
  type SimilarQuery,
  ValidationError,
} from "@stratreg/protocol";
import { compileQuery, requiredEquals } from "@stratreg/search";
import { topK } from "./heap.js";
import type { StrategyDoc, StrategyIndex } from "./strategies.js";

/** Results per page when neither the request nor the filter says. */
export const DEFAULT_LIMIT = 20;
/** Full-text matches considered before the filter and paging. */
const TEXT_CANDIDATES = 10_000;
/** Neighbours returned when `k` is not given. */
const DEFAULT_K = 10;

const byId = (a: StrategyDoc, b: StrategyDoc) =>
  a.strategy.id < b.strategy.id ? -1 : a.strategy.id > b.strategy.id ? 1 : 0;

/** One page of results and the total. */
export interface QueryPage {
  hits: SearchHit[];
  total: number;
  next: number | null;
}

/** Runs a search over the index. Throws QueryError (INVALID_QUERY) for a filter that does not parse. */
export function runQuery(index: StrategyIndex, body: SearchQuery, maxReplyBytes = Number.POSITIVE_INFINITY): QueryPage {
  const compiled = body.filter === undefined ? undefined : compileQuery(body.filter, { field: "body.filter" });
  let candidates: Iterable<StrategyDoc>;
  let scores: Map<string, number> | undefined;
  if (body.text !== undefined) {
    const found = index.text.search(body.text, { limit: TEXT_CANDIDATES, fuzzy: body.fuzzy ?? true });
    scores = new Map(found.map((hit) => [hit.id, hit.score]));
    candidates = found.flatMap((hit) => {
      const doc = index.docs.get(hit.id);
      return doc === undefined ? [] : [doc];
    });
  } else {
    candidates = index.candidates(compiled === undefined ? [] : requiredEquals(compiled.query));
  }
  const matches: StrategyDoc[] = [];
  for (const doc of candidates) if (compiled === undefined || compiled.filter(doc)) matches.push(doc);

  let order: (a: StrategyDoc, b: StrategyDoc) => number = byId;
  if (compiled?.order !== undefined) order = compiled.order as (a: StrategyDoc, b: StrategyDoc) => number;
  else if (scores !== undefined) {
    const s = scores;
    order = (a, b) => (s.get(b.strategy.id) as number) - (s.get(a.strategy.id) as number) || byId(a, b);
  }
  const total = compiled?.limit == null ? matches.length : Math.min(compiled.limit, matches.length);
  const offset = body.offset ?? 0;
  const limit = body.limit ?? compiled?.limit ?? DEFAULT_LIMIT;
  const end = Math.min(total, offset + limit);
  let page = offset >= end ? [] : topK(matches, end, order).slice(offset);
  if (body.strategies === true) {
    // Whole strategies may not fit one reply: the page ends early and `next` carries on from there.
    let bytes = 0;
    const over = page.findIndex((doc) => {
      bytes += encode(doc.strategy).length + 64;
      return bytes > maxReplyBytes;
    });
    if (over >= 0) page = page.slice(0, Math.max(1, over));
  }
  const next = offset + page.length < total ? offset + page.length : null;
  return {
    hits: page.map((doc) => {
      const hit: SearchHit = { id: doc.strategy.id, version: doc.strategy.version };
      const score = scores?.get(doc.strategy.id);
      if (score !== undefined) hit.score = score;
      if (body.strategies === true) hit.strategy = doc.strategy;
      return hit;
    }),
    total,
    next,
  };
}

/** Strategies like one strategy (or a text), by content or by returns. */
export function runSimilar(index: StrategyIndex, body: SimilarQuery): { hits: SearchHit[]; by: SimilarityKind } {
  const by = body.by ?? SimilarityKinds.Content;
  const k = Math.min(body.k ?? DEFAULT_K, SearchLimits.kMax);
  if ((body.id === undefined) === (body.text === undefined)) {
    throw new ValidationError(ErrorCodes.InvalidField, "give exactly one of id and text", { field: "body.id" });
  }
  if (body.id !== undefined && !index.docs.has(body.id)) {
    throw new NotFoundError(`no strategy ${body.id}`, { details: { id: body.id } });
  }
  const versioned = (id: string) => index.docs.get(id)?.strategy.version ?? 0;
  if (by === SimilarityKinds.Returns) {
    if (body.id === undefined) {
      throw new ValidationError(ErrorCodes.InvalidField, "similarity by returns needs an id", { field: "body.id" });
    }
    const found = index.behaviour.similarByReturns(body.id, k);
    return {
      by,
      hits: found.map((n) => ({ id: n.id, version: versioned(n.id), score: n.correlation, overlap: n.overlap })),
    };
  }
  const found =
    body.id !== undefined ? index.content.similar(body.id, k) : index.content.similarToText(body.text as string, k);
  return { by, hits: found.map((n) => ({ id: n.id, version: versioned(n.id), score: n.score })) };
}
