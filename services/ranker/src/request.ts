/**
 * Edge validation of the ranker's requests, in the order the shards use
 * (docs/protocol.md): size (PAYLOAD_TOO_LARGE); standard msgpack data
 * (MALFORMED); a map at the top (MALFORMED); `v` (MISSING_FIELD,
 * UNSUPPORTED_VERSION); a `__proto__` key (UNKNOWN_FIELD); then the schema of
 * the envelope and body (MISSING_FIELD, INVALID_FIELD, UNKNOWN_FIELD).
 * Unknown envelope fields are ignored, unknown body fields refused.
 */
import { type Static, type TSchema, Type } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import {
  checkPayloadSize,
  DeadlineMsSchema,
  decode,
  ErrorCodes,
  ForecastQuerySchema,
  type MsgpackPath,
  MsgpackProblems,
  PROTOCOL_VERSION,
  type RankerOp,
  RankerOps,
  RankQuerySchema,
  SelectQuerySchema,
  standardMsgpackProblem,
  TopQuerySchema,
  ValidationError,
  validationErrorOf,
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

const envelope = (body: TSchema) =>
  Type.Object({ v: Type.Integer(), deadlineMs: Type.Optional(DeadlineMsSchema), body }, { additionalProperties: true });

const checks: Partial<Record<RankerOp, TypeCheck<TSchema>>> = {};

function checkFor(op: RankerOp): TypeCheck<TSchema> {
  let check = checks[op];
  if (check === undefined) {
    check = TypeCompiler.Compile(envelope(RankerRequestBodies[op]));
    checks[op] = check;
  }
  return check;
}

function pathText(path: MsgpackPath): string {
  let out = "";
  for (const step of path) out += typeof step === "number" ? `[${step}]` : out === "" ? step : `.${step}`;
  return out;
}

/** Checks, decodes and validates a request for `op`; throws a ValidationError naming the first problem. */
export function parseRankerRequest<Op extends RankerOp>(op: Op, payload: Uint8Array): RankerRequest<Op> {
  checkPayloadSize(payload);
  const bytes = Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const problem = standardMsgpackProblem(bytes);
  let protoKey: string | undefined;
  if (problem !== undefined) {
    const field = pathText(problem.path);
    if (problem.kind !== MsgpackProblems.ProtoKey) {
      const what =
        bytes.length === 0 ? "empty payload: expected a msgpack map" : `not standard msgpack data (${problem.kind})`;
      throw new ValidationError(
        ErrorCodes.Malformed,
        `${field === "" ? "" : `${field}: `}${what} at byte ${problem.at}`,
        {
          field: field === "" ? undefined : field,
        },
      );
    }
    protoKey = field;
  }
  const value = decode(bytes) as unknown;
  const proto = value === null || typeof value !== "object" ? undefined : Object.getPrototypeOf(value);
  if (proto !== Object.prototype && proto !== null) {
    throw new ValidationError(ErrorCodes.Malformed, "payload must be a msgpack map (the request envelope)");
  }
  const v = (value as Record<string, unknown>).v;
  if (v === undefined) {
    throw new ValidationError(ErrorCodes.MissingField, "v (the protocol version) is required", { field: "v" });
  }
  if (v !== PROTOCOL_VERSION) {
    throw new ValidationError(
      ErrorCodes.UnsupportedVersion,
      `protocol version ${typeof v === "bigint" ? `${v}n` : JSON.stringify(v)} is not supported; this service speaks ${PROTOCOL_VERSION}`,
      { field: "v", details: { supported: [PROTOCOL_VERSION] } },
    );
  }
  if (protoKey !== undefined) {
    throw new ValidationError(ErrorCodes.UnknownField, `${protoKey} is not a known field`, { field: protoKey });
  }
  const check = checkFor(op);
  if (!check.Check(value)) throw validationErrorOf(check, value);
  return value as RankerRequest<Op>;
}
