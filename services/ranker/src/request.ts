/**
 * Edge validation of the ranker's requests, by the protocol's own parser and in
 * the order the shards use (docs/protocol.md): size (PAYLOAD_TOO_LARGE);
 * standard msgpack data (MALFORMED); a map at the top (MALFORMED); `v`
 * (MISSING_FIELD, UNSUPPORTED_VERSION); a `__proto__` key (UNKNOWN_FIELD); then
 * the schema of the envelope and body (MISSING_FIELD, INVALID_FIELD,
 * UNKNOWN_FIELD). Unknown envelope fields are ignored, unknown body fields refused.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import {
  ForecastQuerySchema,
  parseWith,
  type RankerOp,
  RankerOps,
  RankQuerySchema,
  requestEnvelopeSchema,
  SelectQuerySchema,
  TopQuerySchema,
} from "@stratreg/protocol";

/** Request bodies of the ranker's operations. */
export const RankerRequestBodies = {
  [RankerOps.Top]: TopQuerySchema,
  [RankerOps.Rank]: RankQuerySchema,
  [RankerOps.Forecast]: ForecastQuerySchema,
  [RankerOps.Select]: SelectQuerySchema,
  [RankerOps.Status]: Type.Object({}, { additionalProperties: false }),
} as const;

type Bodies = typeof RankerRequestBodies;

/** A validated ranker request. */
export interface RankerRequest<Op extends RankerOp> {
  v: number;
  /** How many ms the caller still waits for the reply. */
  deadlineMs?: number;
  body: Static<Bodies[Op]>;
}

const checks: Partial<Record<RankerOp, TypeCheck<TSchema>>> = {};

function checkFor(op: RankerOp): TypeCheck<TSchema> {
  let check = checks[op];
  if (check === undefined) {
    // The ranker writes nothing: cid and issued are allowed, never required.
    check = TypeCompiler.Compile(requestEnvelopeSchema(RankerRequestBodies[op], false));
    checks[op] = check;
  }
  return check;
}

/** Checks, decodes and validates a request for `op`; throws a ValidationError naming the first problem. */
export function parseRankerRequest<Op extends RankerOp>(op: Op, payload: Uint8Array): RankerRequest<Op> {
  return parseWith<RankerRequest<Op>>(checkFor(op), payload);
}
