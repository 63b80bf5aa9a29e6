/**
 * The stored form of a strategy: standard msgpack bytes of a {@link Strategy}.
 * Shards keep these bytes (not objects: a decoded strategy costs ~1.5 KB of heap,
 * its bytes ~0.4 KB) and send them back verbatim in replies.
 *
 * Registration builds the stored bytes by splicing: the strategy map the client
 * sent, followed by defaults for the optional fields it left out and the
 * server-set fields. No strategy is re-encoded on the bulk path.
 */
import { decode, encode } from "./codec.js";
import { ErrorCodes, ValidationError } from "./errors.js";
import { MsgpackScanner } from "./msgpack-scan.js";
import { LifecycleStates, type Strategy, type StrategyInput } from "./strategy.js";

const OPTIONAL_DEFAULTS = {
  description: "",
  tags: [],
  family: null,
  parents: [],
  template: null,
  venues: [],
  dependencies: [],
} as const satisfies Partial<Record<keyof StrategyInput, unknown>>;
type OptionalField = keyof typeof OPTIONAL_DEFAULTS;
const OPTIONAL_FIELDS = Object.keys(OPTIONAL_DEFAULTS) as OptionalField[];

function copy(bytes: Uint8Array): Buffer {
  return Buffer.from(bytes);
}

const DEFAULT_ENTRIES = Object.fromEntries(
  OPTIONAL_FIELDS.map((field) => [field, Buffer.concat([copy(encode(field)), copy(encode(OPTIONAL_DEFAULTS[field]))])]),
) as Record<OptionalField, Buffer>;

const FLOAT64 = 0xcb;
const VERSION_AND_STATE = Buffer.concat([
  copy(encode("version")),
  copy(encode(1)),
  copy(encode("state")),
  copy(encode(LifecycleStates.Draft)),
]);
const CREATED_AT_KEY = copy(encode("createdAt"));
const UPDATED_AT_KEY = copy(encode("updatedAt"));
/** `version: 1, state: "draft", createdAt: <f64>, updatedAt: <f64>`. */
const SERVER_FIELDS_LENGTH = VERSION_AND_STATE.length + CREATED_AT_KEY.length + UPDATED_AT_KEY.length + 18;
const SERVER_FIELD_COUNT = 4;

function writeServerFields(out: Buffer, at: number, now: number): void {
  let pos = at + VERSION_AND_STATE.copy(out, at);
  for (const key of [CREATED_AT_KEY, UPDATED_AT_KEY]) {
    pos += key.copy(out, pos);
    out[pos] = FLOAT64;
    out.writeDoubleBE(now, pos + 1);
    pos += 9;
  }
}

/** Keys of every plain object in `value`, at any depth. */
function keyCount(value: unknown): number {
  if (value === null || typeof value !== "object") return 0;
  let n = 0;
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) n += keyCount(value[i]);
    return n;
  }
  if (ArrayBuffer.isView(value)) return 0;
  const values = Object.values(value);
  n = values.length;
  for (let i = 0; i < values.length; i++) n += keyCount(values[i]);
  return n;
}

/**
 * Checks that `source[start, end)` is a msgpack map that decoded to `input` with
 * no key repeated at any depth: a map that repeats a key decodes to its last
 * value, so its bytes (which keep both) must not be stored. `mapEntries`, if
 * known, is the number of map entries in the range (see MsgpackScanner.arrayItems).
 * Returns the position of the map's first key. Throws MALFORMED.
 */
export function checkStrategyMap(
  source: Uint8Array,
  start: number,
  end: number,
  input: StrategyInput,
  mapEntries?: number,
): number {
  const scanner = new MsgpackScanner(source);
  const header = scanner.mapHeader(start);
  if (header === undefined) throw new ValidationError(ErrorCodes.Malformed, "strategy must be a msgpack map");
  let entries = mapEntries;
  if (entries === undefined) {
    if (scanner.skip(start) !== end)
      throw new ValidationError(ErrorCodes.Malformed, "strategy bytes do not end where expected");
    entries = scanner.mapEntries;
  }
  if (entries !== keyCount(input)) {
    throw new ValidationError(ErrorCodes.Malformed, `strategy ${input.id} repeats a key in one of its maps`, {
      details: { id: input.id },
    });
  }
  return header.start;
}

/** A stored strategy about to be written somewhere (e.g. into a log entry): its length and how to write it. */
export interface RecordSource {
  readonly length: number;
  writeTo(out: Buffer, at: number): void;
}

/** A RecordSource of bytes already encoded. */
export function bytesRecord(bytes: Uint8Array): RecordSource {
  return {
    length: bytes.length,
    writeTo: (out, at) => {
      out.set(bytes, at);
    },
  };
}

/**
 * A newly registered strategy, spliced from the client's own bytes:
 * `source[start, end)` must be the standard-msgpack map that decoded to `input`
 * (already validated); the stored form is that map's entries, then defaults for
 * the optional fields it left out, then the server fields. Nothing is copied
 * until it is written. Throws MALFORMED if the map repeats a key.
 */
export function planNewStrategy(
  source: Uint8Array,
  start: number,
  end: number,
  input: StrategyInput,
  now: number,
  /** Map entries in the range, if the caller already counted them (see checkStrategyMap). */
  mapEntries?: number,
): RecordSource {
  const entries = checkStrategyMap(source, start, end, input, mapEntries);
  const missing = OPTIONAL_FIELDS.filter((field) => input[field] === undefined);
  return splicePlan(source, entries, end, Object.keys(input).length, missing, now);
}

const OPTIONAL_KEYS = OPTIONAL_FIELDS.map((field) => Buffer.from(field, "utf8"));

/** Index in OPTIONAL_FIELDS of the fixstr key at `p`, or -1. */
function optionalKeyAt(source: Uint8Array, p: number): number {
  const t = source[p] as number;
  if (t < 0xa0 || t > 0xbf) return -1;
  const length = t & 0x1f;
  for (let k = 0; k < OPTIONAL_KEYS.length; k++) {
    const key = OPTIONAL_KEYS[k] as Buffer;
    if (key.length !== length) continue;
    let same = true;
    for (let i = 0; i < length && same; i++) same = source[p + 1 + i] === key[i];
    if (same) return k;
  }
  return -1;
}

/**
 * planNewStrategy for bytes already validated on the wire (compileBytesCheck):
 * which optional fields are present is read from the map's keys, no object needed.
 */
export function planValidatedStrategy(source: Buffer, start: number, end: number, now: number): RecordSource {
  const scanner = new MsgpackScanner(source, true);
  const header = scanner.mapHeader(start);
  if (header === undefined) throw new ValidationError(ErrorCodes.Malformed, "strategy must be a msgpack map");
  let present = 0;
  let p = header.start;
  for (let i = 0; i < header.count; i++) {
    const k = optionalKeyAt(source, p);
    if (k >= 0) present |= 1 << k;
    p = scanner.skip(scanner.skip(p));
  }
  const missing = OPTIONAL_FIELDS.filter((_, k) => (present & (1 << k)) === 0);
  return splicePlan(source, header.start, end, header.count, missing, now);
}

function splicePlan(
  source: Uint8Array,
  entries: number,
  end: number,
  presentCount: number,
  missing: OptionalField[],
  now: number,
): RecordSource {
  const count = presentCount + missing.length + SERVER_FIELD_COUNT;
  let length = 3 + (end - entries) + SERVER_FIELDS_LENGTH;
  for (const field of missing) length += DEFAULT_ENTRIES[field].length;
  return {
    length,
    writeTo: (out, at) => {
      out[at] = 0xde;
      out.writeUInt16BE(count, at + 1);
      let pos = at + 3;
      out.set(source.subarray(entries, end), pos);
      pos += end - entries;
      for (const field of missing) pos += DEFAULT_ENTRIES[field].copy(out, pos);
      writeServerFields(out, pos, now);
    },
  };
}

/** The bytes a RecordSource writes. */
export function writeRecord(record: RecordSource): Buffer {
  const out = Buffer.allocUnsafe(record.length);
  record.writeTo(out, 0);
  return out;
}

/** The stored bytes of a newly registered strategy, spliced from the client's own bytes (see planNewStrategy). */
export function spliceNewStrategy(...args: Parameters<typeof planNewStrategy>): Buffer {
  return writeRecord(planNewStrategy(...args));
}

/** The stored bytes of `strategy` (an owned copy). */
export function encodeStrategy(strategy: Strategy): Buffer {
  return Buffer.from(encode(strategy));
}

/** Decodes stored strategy bytes. */
export function decodeStrategy(bytes: Uint8Array): Strategy {
  return decode(bytes) as Strategy;
}
