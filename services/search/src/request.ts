/**
 * Edge validation of search requests, by the protocol's own parser and in the
 * order every stratreg service uses (docs/protocol.md): size, standard
 * msgpack, a map, `v`, `__proto__`, then the envelope and body schema. Unknown
 * envelope fields are ignored, unknown body fields refused.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { parseWith, requestEnvelopeSchema, type SearchOp, SearchRequestBodies } from "@stratreg/protocol";

type Bodies = typeof SearchRequestBodies;

/** A validated search request. */
export interface SearchRequest<Op extends SearchOp> {
  v: number;
  deadlineMs?: number;
  body: Static<Bodies[Op]>;
}

const checks = new Map<SearchOp, TypeCheck<TSchema>>();

function checkFor(op: SearchOp): TypeCheck<TSchema> {
  let check = checks.get(op);
  if (check === undefined) {
    // Search writes nothing: cid and issued are allowed, never required.
    check = TypeCompiler.Compile(requestEnvelopeSchema(SearchRequestBodies[op], false));
    checks.set(op, check);
  }
  return check;
}

/** Checks, decodes and validates a request for `op`; throws a ValidationError naming the first problem. */
export function parseSearchRequest<Op extends SearchOp>(op: Op, payload: Uint8Array): SearchRequest<Op> {
  return parseWith<SearchRequest<Op>>(checkFor(op), payload);
}
