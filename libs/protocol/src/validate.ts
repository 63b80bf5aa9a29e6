/**
 * Edge validation: turns request bytes into a typed request or a
 * ValidationError with a stable code and the path of the offending field.
 * Every standard request is first checked on its bytes (msgpack-check.ts:
 * standard msgpack data only, so that nothing msgpackr would quietly change is
 * decoded, let alone stored), then decoded and checked against its schema.
 * Schemas are compiled once (TypeBox's JIT compiler) so validation costs well
 * under a microsecond per strategy. The order of the checks, and so which
 * problem a reply names, is documented in docs/protocol.md.
 */
import { Kind, type Static, type TSchema, Type } from "@sinclair/typebox";
import { type TypeCheck, TypeCompiler } from "@sinclair/typebox/compiler";
import { type ValueError, ValueErrorType } from "@sinclair/typebox/errors";
import { decode } from "./codec.js";
import { type ErrorCode, ErrorCodes, ValidationError } from "./errors.js";
import { PROTOCOL_VERSION, type Request, RequestBodies, requestSchema } from "./messages.js";
import { compileMapCheck, type MapCheck, MapLayouts } from "./msgpack-check.js";
import {
  MAX_NESTING,
  type MsgpackPath,
  type MsgpackProblem,
  MsgpackProblems,
  mapValuePositions,
  numberAt,
  standardMsgpackProblem,
  stringAt,
} from "./msgpack-read.js";
import { MsgpackScanner } from "./msgpack-scan.js";
import { STRATEGY_LAYOUT_FIELDS } from "./record.js";
import { RiskLimitsSchema } from "./risk.js";
import {
  Limits,
  type Origin,
  originProblem,
  type StrategyInput,
  StrategyInputSchema,
  type StrategyPatch,
} from "./strategy.js";
import { type Encoding, Encodings, type PartitionOp, PartitionOps } from "./subjects.js";

/** Array fields whose length is a batch size: too many items is BATCH_TOO_LARGE. */
const BATCH_PATHS = new Set(["/body/strategies", "/body/ids", "/body/reports"]);

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

/** Compiled on first use: clients import this module but only shards validate. */
const checks: Partial<Record<PartitionOp, TypeCheck<TSchema>>> = {};

function checkFor(op: PartitionOp): TypeCheck<TSchema> {
  let check = checks[op];
  if (check === undefined) {
    check = TypeCompiler.Compile(requestSchema(op));
    checks[op] = check;
  }
  return check;
}

const bytesChecks: Partial<Record<PartitionOp, MapCheck>> = {};

/** Where the strategies of the register or register-batch request last accepted are. */
const strategyLayouts = new MapLayouts(StrategyInputSchema, STRATEGY_LAYOUT_FIELDS);
const ORIGIN_FIELD = STRATEGY_LAYOUT_FIELDS.indexOf("origin");
const PARENTS_FIELD = STRATEGY_LAYOUT_FIELDS.indexOf("parents");

/** Requests whose body a shard reads straight from the bytes (the get fast path): the body fields recorded. */
const bodyLayouts: Partial<Record<PartitionOp, MapLayouts>> = {
  [PartitionOps.Get]: new MapLayouts(RequestBodies[PartitionOps.Get], ["id"]),
};

/** The bytes check of `op`'s requests: the request schema, with `v` the version this build speaks (in any width). */
function bytesCheckFor(op: PartitionOp): MapCheck {
  let check = bytesChecks[op];
  if (check === undefined) {
    const schema = requestSchema(op);
    const version = Type.Integer({ minimum: PROTOCOL_VERSION, maximum: PROTOCOL_VERSION });
    const registers = op === PartitionOps.Register || op === PartitionOps.RegisterBatch;
    const body = bodyLayouts[op];
    check = compileMapCheck(
      { ...schema, properties: { ...schema.properties, v: version } },
      registers ? [strategyLayouts] : body === undefined ? [] : [body],
    );
    bytesChecks[op] = check;
  }
  return check;
}

/**
 * The body of `payload`, right after {@link acceptsBytes} accepted it as an `op`
 * request whose body the fast path reads (get: its `id` is field 0); undefined
 * otherwise. The table is reused by the next check.
 */
export function acceptedBody(op: PartitionOp, payload: Buffer): MapLayouts | undefined {
  const body = bodyLayouts[op];
  return body !== undefined && payload === acceptedBytes && acceptedBy === bytesChecks[op] ? body : undefined;
}

/**
 * Where each strategy of `payload` is, with its fields (in the order of
 * {@link STRATEGY_LAYOUT_FIELDS}), right after {@link acceptsBytes} accepted
 * `payload` as a register or register-batch request; undefined otherwise. The
 * table is reused by the next check.
 */
export function acceptedStrategies(payload: Buffer): MapLayouts | undefined {
  const registration =
    acceptedBy !== undefined &&
    (acceptedBy === bytesChecks[PartitionOps.RegisterBatch] || acceptedBy === bytesChecks[PartitionOps.Register]);
  return payload === acceptedBytes && registration ? strategyLayouts : undefined;
}

// The payload acceptsBytes accepted last, and the check that accepted it: envelopeFields reads its positions.
let acceptedBytes: Buffer | undefined;
let acceptedBy: MapCheck | undefined;

/**
 * Whether `payload` is a valid request for `op`, checked on its bytes without
 * decoding (the fast path: standard msgpack, valid, nothing repeated, the
 * protocol version this build speaks). It agrees with {@link parseRequest}: when
 * it says no, parseRequest throws the error that names the problem. `limit`: the
 * largest payload accepted (a request re-encoded by the shard had its own size
 * checked as it was sent).
 */
export function acceptsBytes(op: PartitionOp, payload: Buffer, limit: number = Limits.payloadMaxBytes): boolean {
  acceptedBytes = undefined;
  if (payload.length > limit) return false;
  const check = bytesCheckFor(op);
  if (check.check(payload, 0) !== payload.length) return false;
  if (!originsFitBytes(op, payload)) return false;
  acceptedBytes = payload;
  acceptedBy = check;
  return true;
}

// ---- Origin and parents: the one rule across fields of a strategy ------------------------------

/**
 * On the bytes of a register or register-batch request the bytes check
 * accepted: whether every strategy's origin fits its parents, read where the
 * check recorded each strategy's origin and parents.
 */
function originsFitBytes(op: PartitionOp, payload: Buffer): boolean {
  if (op !== PartitionOps.Register && op !== PartitionOps.RegisterBatch) return true;
  const scanner = new MsgpackScanner(payload, true);
  const layouts = strategyLayouts;
  for (let i = 0; i < layouts.count; i++) {
    const originAt = layouts.valueAt(i, ORIGIN_FIELD);
    if (originAt < 0) continue;
    const parentsAt = layouts.valueAt(i, PARENTS_FIELD);
    const parents = parentsAt < 0 ? 0 : (scanner.arrayHeader(parentsAt)?.count ?? 0);
    if (originProblem(scanner.string(originAt) as Origin, new Array<string>(parents)) !== undefined) return false;
  }
  return true;
}

/** Throws INVALID_FIELD naming the first strategy (or patch) of a valid request whose origin does not fit its parents. */
function checkOrigins(op: PartitionOp, body: unknown): void {
  const check = (fields: Pick<StrategyInput, "origin" | "parents">, field: string) => {
    // A patch without parents is checked against the stored ones when it is applied (patchStrategy).
    if (fields.parents === undefined && op === PartitionOps.Update) return;
    const problem = originProblem(fields.origin, fields.parents ?? []);
    if (problem !== undefined) {
      throw new ValidationError(ErrorCodes.InvalidField, `${field}: ${problem}`, {
        field,
        details: { origin: fields.origin, parents: fields.parents?.length ?? 0 },
      });
    }
  };
  if (op === PartitionOps.Register) check((body as { strategy: StrategyInput }).strategy, "body.strategy.origin");
  else if (op === PartitionOps.RegisterBatch) {
    (body as { strategies: StrategyInput[] }).strategies.forEach((strategy, i) => {
      check(strategy, `body.strategies[${i}].origin`);
    });
  } else if (op === PartitionOps.Update) check((body as { patch: StrategyPatch }).patch, "body.patch.origin");
}

const ENVELOPE_FIELDS = ["cid", "issued", "deadlineMs"] as const;

/** The envelope fields a shard acts on before (or without) decoding a request. */
export interface EnvelopeFields {
  cid?: string;
  issued?: number;
  deadlineMs?: number;
}

/**
 * Reads `cid`, `issued` and `deadlineMs` from request bytes that passed
 * {@link acceptsBytes} (the register and register-batch fast path), without
 * decoding the request. Right after acceptsBytes accepted the same buffer it
 * reads where that check found them; otherwise it walks the envelope's entries
 * (skipping `body`). A field of the wrong type is left out; bytes that are not a
 * standard msgpack map are MALFORMED.
 */
export function envelopeFields(bytes: Buffer): EnvelopeFields {
  let at: (name: (typeof ENVELOPE_FIELDS)[number]) => number;
  if (bytes === acceptedBytes && acceptedBy !== undefined) {
    at = acceptedBy.valueAt;
  } else {
    const positions = mapValuePositions(bytes, 0, ENVELOPE_FIELDS);
    if (positions === undefined) {
      throw new ValidationError(ErrorCodes.Malformed, "payload is not a standard msgpack map (the request envelope)");
    }
    at = (name) => positions[ENVELOPE_FIELDS.indexOf(name)] ?? -1;
  }
  const fields: EnvelopeFields = {};
  const cidAt = at("cid");
  const issuedAt = at("issued");
  const deadlineAt = at("deadlineMs");
  const cid = cidAt < 0 ? undefined : stringAt(bytes, cidAt);
  const issued = issuedAt < 0 ? undefined : numberAt(bytes, issuedAt);
  const deadlineMs = deadlineAt < 0 ? undefined : numberAt(bytes, deadlineAt);
  if (cid !== undefined) fields.cid = cid;
  if (issued !== undefined) fields.issued = issued;
  if (deadlineMs !== undefined) fields.deadlineMs = deadlineMs;
  return fields;
}

/** Compiles every request validator now (a shard does this at start, before taking requests). */
export function compileValidators(): void {
  for (const op of Object.keys(RequestBodies) as PartitionOp[]) {
    checkFor(op);
    bytesCheckFor(op);
  }
}

/** Checks that an already decoded value is a map and carries the protocol version this build speaks. */
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

/** `["body", "strategies", 3, "name"]` → `body.strategies[3].name`. */
function pathText(path: MsgpackPath): string {
  let out = "";
  for (const step of path) out += typeof step === "number" ? `[${step}]` : out === "" ? step : `.${step}`;
  return out;
}

/** What is wrong, in words, with bytes that are not standard msgpack data. */
function describeProblem(problem: MsgpackProblem, length: number): string {
  switch (problem.kind) {
    case MsgpackProblems.Truncated:
      return length === 0
        ? "empty payload: expected a msgpack map"
        : `the payload ends inside a value (byte ${problem.at})`;
    case MsgpackProblems.NotData: {
      const type = `0x${(problem.typeByte ?? 0).toString(16)}`;
      return problem.typeByte === 0xc1
        ? `byte 0xc1 at ${problem.at} is never used in msgpack`
        : `msgpack extension type ${problem.extType ?? "?"} (${type}) at byte ${problem.at}: requests must be standard msgpack, without extension types`;
    }
    case MsgpackProblems.InvalidUtf8:
      return `the string at byte ${problem.at} is not valid UTF-8`;
    case MsgpackProblems.KeyNotString:
      return `the map key at byte ${problem.at} is not a string`;
    case MsgpackProblems.KeyRepeated:
      return `the map key at byte ${problem.at} is given twice in one map`;
    case MsgpackProblems.KeyByteOrderMark:
      return `the map key at byte ${problem.at} starts with U+FEFF (a byte order mark)`;
    case MsgpackProblems.TooDeep:
      return `maps and arrays nest more than ${MAX_NESTING} levels deep (byte ${problem.at})`;
    case MsgpackProblems.Trailing:
      return `${length - problem.at} bytes follow the request map`;
    case MsgpackProblems.ProtoKey:
      return "__proto__ is not a known field";
  }
}

/**
 * Refuses bytes that are not standard msgpack data (MALFORMED, naming where);
 * returns the path of a `__proto__` key if there is one (refused later, once the
 * envelope is known to be of this version).
 */
function checkStandard(payload: Uint8Array): string | undefined {
  const bytes = Buffer.isBuffer(payload)
    ? payload
    : Buffer.from(payload.buffer, payload.byteOffset, payload.byteLength);
  const problem = standardMsgpackProblem(bytes);
  if (problem === undefined) return undefined;
  const field = pathText(problem.path);
  if (problem.kind === MsgpackProblems.ProtoKey) return field;
  const message = describeProblem(problem, bytes.length);
  throw new ValidationError(ErrorCodes.Malformed, field === "" ? message : `${field}: ${message}`, {
    field: field === "" ? undefined : field,
  });
}

/**
 * Validates an already decoded request for `op`; throws a ValidationError. The
 * bytes it came from are not seen here: requests off the wire go through
 * {@link parseRequest}, which checks them first.
 */
export function validateRequest<Op extends PartitionOp>(
  op: Op,
  value: unknown,
): Request<Static<(typeof RequestBodies)[Op]>> {
  checkEnvelope(value);
  checkSchema(checkFor(op), value);
  checkOrigins(op, (value as { body: unknown }).body);
  return value as unknown as Request<Static<(typeof RequestBodies)[Op]>>;
}

/**
 * Checks, decodes and validates a request for `op`; throws a ValidationError
 * naming the first problem, in this order: size (PAYLOAD_TOO_LARGE); standard
 * msgpack data (MALFORMED: extension types, invalid UTF-8, non-string or
 * repeated keys, trailing bytes); a map at the top (MALFORMED); `v`
 * (MISSING_FIELD, UNSUPPORTED_VERSION); a `__proto__` key anywhere
 * (UNKNOWN_FIELD); then the schema (MISSING_FIELD, INVALID_FIELD,
 * UNKNOWN_FIELD, BATCH_TOO_LARGE). A request in msgpackr's record encoding
 * (`encoding` {@link Encodings.Records}, register-batch only) is decoded as it is.
 */
export function parseRequest<Op extends PartitionOp>(
  op: Op,
  payload: Uint8Array,
  encoding: Encoding = Encodings.Msgpack,
): Request<Static<(typeof RequestBodies)[Op]>> {
  const request = parseWith<Request<Static<(typeof RequestBodies)[Op]>>>(
    checkFor(op),
    payload,
    encoding === Encodings.Records,
  );
  checkOrigins(op, request.body);
  return request;
}

/**
 * Checks, decodes and validates a request against a compiled envelope schema
 * (see {@link requestEnvelopeSchema}), in the order {@link parseRequest}
 * documents: what every stratreg endpoint uses, the partitions' and other
 * services' alike. `records`: msgpackr's record encoding is accepted as it is.
 */
export function parseWith<T>(check: TypeCheck<TSchema>, payload: Uint8Array, records = false): T {
  checkPayloadSize(payload);
  const protoKey = records ? undefined : checkStandard(payload);
  const value = decode(payload);
  checkEnvelope(value);
  if (protoKey !== undefined) {
    throw new ValidationError(ErrorCodes.UnknownField, `${protoKey} is not a known field`, { field: protoKey });
  }
  checkSchema(check, value);
  return value as T;
}

/** Throws the ValidationError naming the first field of `value` that `check`'s schema refuses. */
function checkSchema(check: TypeCheck<TSchema>, value: unknown): void {
  if (!check.Check(value)) throw validationErrorOf(check, value);
  const binary = binaryWhereMap(check.Schema(), value);
  if (binary !== undefined) {
    throw new ValidationError(ErrorCodes.InvalidField, `${binary || "request"} must be a map, not binary data`, {
      field: binary || undefined,
    });
  }
}

/**
 * Where `value` holds binary data (a msgpack bin, decoded as a Uint8Array) in
 * place of a map its schema asks for, as a field path; undefined if nowhere.
 * TypeBox takes a Uint8Array for an object, the bytes check does not: this
 * keeps the two paths agreeing. No request field is binary.
 */
function binaryWhereMap(schema: TSchema, value: unknown): string | undefined {
  const path = binaryPath(schema, value);
  if (path === undefined) return undefined;
  let text = "";
  for (let i = path.length - 1; i >= 0; i--) {
    const key = path[i] as string | number;
    text += typeof key === "number" ? `[${key}]` : text === "" ? key : `.${key}`;
  }
  return text;
}

/**
 * The path to where {@link binaryWhereMap} finds binary data, innermost key
 * first (it is built only on the way out of a find, so a request without
 * binary data costs no path and no list per value).
 */
function binaryPath(schema: TSchema, value: unknown): Array<string | number> | undefined {
  const kind = schema[Kind];
  // Only an Object takes a bin (a record, an array, a string or a number does not): TypeBox passed the rest.
  if (value instanceof Uint8Array) {
    const variants: TSchema[] = kind === "Union" ? schema.anyOf : [schema];
    return variants.some((v) => v[Kind] === "Object") ? [] : undefined;
  }
  if (value === null || typeof value !== "object") return undefined;
  if (kind === "Union") {
    for (const variant of schema.anyOf as TSchema[]) {
      const found = binaryPath(variant, value);
      if (found !== undefined) return found;
    }
  } else if (kind === "Array") {
    const items = value as unknown[];
    for (let i = 0; i < items.length; i++) {
      const found = binaryPath(schema.items as TSchema, items[i]);
      if (found !== undefined) return [...found, i];
    }
  } else if (kind === "Object") {
    const properties = schema.properties as Record<string, TSchema>;
    for (const name in properties) {
      const found = binaryPath(properties[name] as TSchema, (value as Record<string, unknown>)[name]);
      if (found !== undefined) return [...found, name];
    }
  } else if (kind === "Record") {
    const inner = Object.values(schema.patternProperties as Record<string, TSchema>)[0] as TSchema;
    for (const key in value) {
      if (!Object.hasOwn(value, key)) continue;
      const found = binaryPath(inner, (value as Record<string, unknown>)[key]);
      if (found !== undefined) return [...found, key];
    }
  }
  return undefined;
}

let limitsCheck: TypeCheck<TSchema> | undefined;

/**
 * Why `value` is not a valid set of risk limits (the first problem, naming the field as in
 * `symbols.EURUSD.gross`), or undefined when it is one. What the guard's `set-limits` checks,
 * for tools that check a limits file before sending it.
 */
export function riskLimitsError(value: unknown): ValidationError | undefined {
  limitsCheck ??= TypeCompiler.Compile(RiskLimitsSchema);
  return limitsCheck.Check(value) ? undefined : validationErrorOf(limitsCheck, value);
}
