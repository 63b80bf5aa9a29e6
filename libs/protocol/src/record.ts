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
  if (Array.isArray(value)) return value.reduce((n: number, item) => n + keyCount(item), 0);
  if (value === null || typeof value !== "object" || ArrayBuffer.isView(value)) return 0;
  let n = 0;
  for (const key in value) n += 1 + keyCount((value as Record<string, unknown>)[key]);
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

/**
 * The stored bytes of a newly registered strategy, spliced from the client's own
 * bytes: `source[start, end)` must be the standard-msgpack map that decoded to
 * `input` (already validated). Throws MALFORMED if the map repeats a key.
 */
export function spliceNewStrategy(
  source: Uint8Array,
  start: number,
  end: number,
  input: StrategyInput,
  now: number,
  /** Map entries in the range, if the caller already counted them (see checkStrategyMap). */
  mapEntries?: number,
): Buffer {
  const entries = checkStrategyMap(source, start, end, input, mapEntries);
  const present = Object.keys(input).length;
  const missing = OPTIONAL_FIELDS.filter((field) => input[field] === undefined);
  let length = 3 + (end - entries) + SERVER_FIELDS_LENGTH;
  for (const field of missing) length += DEFAULT_ENTRIES[field].length;
  const out = Buffer.allocUnsafe(length);
  const count = present + missing.length + SERVER_FIELD_COUNT;
  out[0] = 0xde;
  out.writeUInt16BE(count, 1);
  let pos = 3;
  out.set(source.subarray(entries, end), pos);
  pos += end - entries;
  for (const field of missing) pos += DEFAULT_ENTRIES[field].copy(out, pos);
  writeServerFields(out, pos, now);
  return out;
}

/** The stored bytes of `strategy` (an owned copy). */
export function encodeStrategy(strategy: Strategy): Buffer {
  return Buffer.from(encode(strategy));
}

/** Decodes stored strategy bytes. */
export function decodeStrategy(bytes: Uint8Array): Strategy {
  return decode(bytes) as Strategy;
}
