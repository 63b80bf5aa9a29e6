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
): Buffer {
  const scanner = new MsgpackScanner(source);
  const header = scanner.mapHeader(start);
  if (header === undefined) throw new ValidationError(ErrorCodes.Malformed, "strategy must be a msgpack map");
  const present = Object.keys(input).length;
  if (header.count !== present) {
    throw new ValidationError(ErrorCodes.Malformed, `strategy ${input.id} repeats a key`, {
      details: { id: input.id },
    });
  }
  const missing = OPTIONAL_FIELDS.filter((field) => input[field] === undefined);
  let length = 3 + (end - header.start) + SERVER_FIELDS_LENGTH;
  for (const field of missing) length += DEFAULT_ENTRIES[field].length;
  const out = Buffer.allocUnsafe(length);
  const count = present + missing.length + SERVER_FIELD_COUNT;
  out[0] = 0xde;
  out.writeUInt16BE(count, 1);
  let pos = 3;
  out.set(source.subarray(header.start, end), pos);
  pos += end - header.start;
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
