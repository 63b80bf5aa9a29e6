/**
 * Edge validation of discovery's requests, by the protocol's own parser and in
 * the order every stratreg service uses (docs/protocol.md): size, standard
 * msgpack, a map, `v`, `__proto__`, then the envelope and body schema. Unknown
 * envelope fields are ignored, unknown body fields refused.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import {
  DiscoveryControlBodies,
  type DiscoveryControlOp,
  type DiscoveryOp,
  DiscoveryRequestBodies,
  parseWith,
  requestEnvelopeSchema,
} from "@stratreg/protocol";

type Bodies = typeof DiscoveryRequestBodies & typeof DiscoveryControlBodies;
/** Every operation discovery serves, client and control side. */
export type DiscoveryServiceOp = DiscoveryOp | DiscoveryControlOp;

/** A validated request. */
export interface DiscoveryRequest<Op extends DiscoveryServiceOp> {
  v: number;
  cid?: string;
  deadlineMs?: number;
  body: Static<Bodies[Op]>;
}

const BODIES: Record<DiscoveryServiceOp, TSchema> = { ...DiscoveryRequestBodies, ...DiscoveryControlBodies };
const checks = new Map<DiscoveryServiceOp, TypeCheck<TSchema>>();

function checkFor(op: DiscoveryServiceOp): TypeCheck<TSchema> {
  let check = checks.get(op);
  if (check === undefined) {
    check = TypeCompiler.Compile(requestEnvelopeSchema(BODIES[op], false));
    checks.set(op, check);
  }
  return check;
}

/** Compiles every validator now (at start, before taking requests). */
export function compileDiscoveryValidators(): void {
  for (const op of Object.keys(BODIES) as DiscoveryServiceOp[]) checkFor(op);
}

/** Checks, decodes and validates a request for `op`; throws a ValidationError naming the first problem. */
export function parseDiscoveryRequest<Op extends DiscoveryServiceOp>(
  op: Op,
  payload: Uint8Array,
): DiscoveryRequest<Op> {
  return parseWith<DiscoveryRequest<Op>>(checkFor(op), payload);
}
