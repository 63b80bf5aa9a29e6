/**
 * Edge validation of version-control requests, by the protocol's own parser and
 * in the order every stratreg service uses (docs/protocol.md): size, standard
 * msgpack, a map, `v`, `__proto__`, then the envelope and body schema. Rollback
 * and merge require `cid` and `issued`: they become the shard update's.
 */
import type { TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import {
  parseWith,
  requestEnvelopeSchema,
  VERSION_WRITE_OPS,
  type VersionOp,
  VersionRequestBodies,
  type VersionRequestBody,
} from "@stratreg/protocol";

/** A validated version-control request. */
export interface VersionRequest<Op extends VersionOp> {
  v: number;
  cid?: string;
  issued?: number;
  deadlineMs?: number;
  body: VersionRequestBody<Op>;
}

const checks = new Map<VersionOp, TypeCheck<TSchema>>();

function checkFor(op: VersionOp): TypeCheck<TSchema> {
  let check = checks.get(op);
  if (check === undefined) {
    check = TypeCompiler.Compile(requestEnvelopeSchema(VersionRequestBodies[op], VERSION_WRITE_OPS.has(op)));
    checks.set(op, check);
  }
  return check;
}

/** Checks, decodes and validates a request for `op`; throws a ValidationError naming the first problem. */
export function parseVersionRequest<Op extends VersionOp>(op: Op, payload: Uint8Array): VersionRequest<Op> {
  return parseWith<VersionRequest<Op>>(checkFor(op), payload);
}
