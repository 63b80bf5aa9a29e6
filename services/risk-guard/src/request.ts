/**
 * Edge validation of the risk guard's requests, by the protocol's own parser
 * and in the order every stratreg service uses (docs/protocol.md): size,
 * standard msgpack, a map, `v`, `__proto__`, then the envelope and body
 * schema. Unknown envelope fields are ignored, unknown body fields refused.
 * Checks and order events are idempotent by their own ids; `cid` is allowed,
 * and a limits change uses it to answer a retry with the first reply.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import {
  parseWith,
  RiskControlBodies,
  type RiskControlOp,
  type RiskOp,
  RiskRequestBodies,
  requestEnvelopeSchema,
} from "@stratreg/protocol";

type Bodies = typeof RiskRequestBodies & typeof RiskControlBodies;
export type GuardOp = RiskOp | RiskControlOp;

/** A validated request. */
export interface GuardRequest<Op extends GuardOp> {
  v: number;
  cid?: string;
  deadlineMs?: number;
  body: Static<Bodies[Op]>;
}

const BODIES: Record<GuardOp, TSchema> = { ...RiskRequestBodies, ...RiskControlBodies };
const checks = new Map<GuardOp, TypeCheck<TSchema>>();

/** Compiles every validator now (at start, before taking requests). */
export function compileGuardValidators(): void {
  for (const op of Object.keys(BODIES) as GuardOp[]) checkFor(op);
}

function checkFor(op: GuardOp): TypeCheck<TSchema> {
  let check = checks.get(op);
  if (check === undefined) {
    check = TypeCompiler.Compile(requestEnvelopeSchema(BODIES[op], false));
    checks.set(op, check);
  }
  return check;
}

/** Checks, decodes and validates a request for `op`; throws a ValidationError naming the first problem. */
export function parseGuardRequest<Op extends GuardOp>(op: Op, payload: Uint8Array): GuardRequest<Op> {
  return parseWith<GuardRequest<Op>>(checkFor(op), payload);
}
