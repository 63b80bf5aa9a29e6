/**
 * Edge validation: turns request bytes into a typed request or a
 * ValidationError with a stable code and the path of the offending field.
 * Schemas are compiled once (TypeBox's JIT compiler) so validation costs well
 * under a microsecond per strategy.
 */
import type { Static, TSchema } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { decode } from "./codec.js";
import { type ErrorCode, ErrorCodes, ValidationError } from "./errors.js";
import { PROTOCOL_VERSION, type Request, RequestBodies, requestEnvelopeSchema } from "./messages.js";
import { type BytesCheck, compileBytesCheck } from "./msgpack-check.js";
import { MsgpackScanner } from "./msgpack-scan.js";
import { Limits } from "./strategy.js";
import type { PartitionOp } from "./subjects.js";

/** Array fields whose length is a batch size: too many items is BATCH_TOO_LARGE. */
const BATCH_PATHS = new Set(["/body/strategies", "/body/ids"]);

/** `/body/strategies/3/name` → `body.strategies[3].name`. */
export function fieldPath(pointer: string): string {
  let out = "";
  for (const token of pointer.split("/").slice(1)) {
    const key = token.replace(/~1/g, "/").replace(/~0/g, "~");
    if (/^\d+$/.test(key)) out += `[${key}]`;
    else out += out === "" ? key : `.${key}`;
  }
  return out;
}

function codeOf(error: ValueError): ErrorCode {
  switch (error.type) {
    case ValueErrorType.ObjectAdditionalProperties:
      return ErrorCodes.UnknownField;
    case ValueErrorType.ObjectRequiredProperty:
      return ErrorCodes.MissingField;
    case ValueErrorType.ArrayMaxItems:
      return BATCH_PATHS.has(error.path) ? ErrorCodes.BatchTooLarge : ErrorCodes.InvalidField;
    default:
      return ErrorCodes.InvalidField;
  }
}

/**
 * The most telling error: for a union (e.g. `template: T | null`), the error
 * inside the variant that got furthest into the value, so the field named is
 * the one actually wrong (`template.params.x`, not `template`).
 */
function innermost(error: ValueError): ValueError {
  if (error.type !== ValueErrorType.Union || error.errors.length === 0) return error;
  let best = error;
  for (const variant of error.errors) {
    const first = variant.First();
    if (first === undefined) continue;
    const inner = innermost(first);
    if (inner.path.length > best.path.length) best = inner;
  }
  return best;
}

/** The ValidationError describing why `value` fails `check` (the first problem found). */
export function validationErrorOf(check: TypeCheck<TSchema>, value: unknown): ValidationError {
  const found = check.Errors(value).First();
  const first = found === undefined ? undefined : innermost(found);
  if (first === undefined) return new ValidationError(ErrorCodes.InvalidField, "invalid request");
  const field = fieldPath(first.path);
  const code = codeOf(first);
  const what =
    code === ErrorCodes.UnknownField
      ? "is not a known field"
      : code === ErrorCodes.MissingField
        ? "is required"
        : code === ErrorCodes.BatchTooLarge
          ? `holds more than ${Limits.batchMax} items`
          : `is invalid: ${first.message}`;
  return new ValidationError(code, `${field || "request"} ${what}`, { field: field || undefined });
}

type Checks = { [Op in PartitionOp]: TypeCheck<ReturnType<typeof requestEnvelopeSchema<(typeof RequestBodies)[Op]>>> };

/** Compiled on first use: clients import this module but only shards validate. */
const checks: Partial<Checks> = {};

function checkFor(op: PartitionOp): TypeCheck<TSchema> {
  let check = checks[op] as TypeCheck<TSchema> | undefined;
  if (check === undefined) {
    check = TypeCompiler.Compile(requestEnvelopeSchema(RequestBodies[op]));
    (checks as Record<string, TypeCheck<TSchema>>)[op] = check;
  }
  return check;
}

const bytesChecks: Partial<Record<PartitionOp, BytesCheck>> = {};

function bytesCheckFor(op: PartitionOp): BytesCheck {
  let check = bytesChecks[op];
  if (check === undefined) {
    check = compileBytesCheck(requestEnvelopeSchema(RequestBodies[op]));
    bytesChecks[op] = check;
  }
  return check;
}
const VERSION_BYTE = PROTOCOL_VERSION; // a positive fixint encodes itself

/**
 * Whether the bytes check accepts `payload` as a request for `op` (the fast path:
 * standard msgpack, valid, nothing repeated, protocol version 1 as a fixint). When
 * it does not, decode and use validateRequest, which decides and names the problem.
 */
export function acceptsBytes(op: PartitionOp, payload: Buffer): boolean {
  if (payload.length > Limits.payloadMaxBytes) return false;
  if (bytesCheckFor(op)(payload, 0) !== payload.length) return false;
  const v = new MsgpackScanner(payload).mapValue(0, "v");
  return v !== undefined && payload[v] === VERSION_BYTE;
}

/** Compiles every request validator now (a shard does this at start, before taking requests). */
export function compileValidators(): void {
  for (const op of Object.keys(RequestBodies) as PartitionOp[]) {
    checkFor(op);
    bytesCheckFor(op);
  }
}

/** Checks size, envelope and protocol version of an already decoded value. */
function checkEnvelope(value: unknown): asserts value is Record<string, unknown> {
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
}

/** Rejects payloads over the size limit before decoding them. */
export function checkPayloadSize(payload: Uint8Array, limit: number = Limits.payloadMaxBytes): void {
  if (payload.length > limit) {
    throw new ValidationError(ErrorCodes.PayloadTooLarge, `payload of ${payload.length} bytes exceeds ${limit}`, {
      details: { size: payload.length, limit },
    });
  }
}

/** Validates an already decoded request for `op`; throws a ValidationError. */
export function validateRequest<Op extends PartitionOp>(
  op: Op,
  value: unknown,
): Request<Static<(typeof RequestBodies)[Op]>> {
  checkEnvelope(value);
  const check = checkFor(op);
  if (!check.Check(value)) throw validationErrorOf(check, value);
  return value as unknown as Request<Static<(typeof RequestBodies)[Op]>>;
}

/** Decodes and validates a request for `op`; throws a ValidationError. */
export function parseRequest<Op extends PartitionOp>(
  op: Op,
  payload: Uint8Array,
): Request<Static<(typeof RequestBodies)[Op]>> {
  checkPayloadSize(payload);
  return validateRequest(op, decode(payload));
}
