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
  copy(encode(LifecycleStates.Candidate)),
  copy(encode("lifecycle")),
  copy(encode({ value: LifecycleStates.Candidate, context: {} })),
]);
const CREATED_AT_KEY = copy(encode("createdAt"));
const UPDATED_AT_KEY = copy(encode("updatedAt"));
/** `version: 1, state: "candidate", lifecycle: { value: "candidate", context: {} }, createdAt: <f64>, updatedAt: <f64>`. */
const SERVER_FIELDS_LENGTH = VERSION_AND_STATE.length + CREATED_AT_KEY.length + UPDATED_AT_KEY.length + 18;
const SERVER_FIELD_COUNT = 5;

function writeServerFields(out: Buffer, at: number, now: number): void {
  let pos = at + VERSION_AND_STATE.copy(out, at);
  for (const key of [CREATED_AT_KEY, UPDATED_AT_KEY]) {
    pos += key.copy(out, pos);
    out[pos] = FLOAT64;
    out.writeDoubleBE(now, pos + 1);
    pos += 9;
  }
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

const OPTIONAL_KEYS = OPTIONAL_FIELDS.map((field) => Buffer.from(field, "utf8"));

/** Index in OPTIONAL_FIELDS of the str key at `p` (any str width), or -1. */
function optionalKeyAt(source: Uint8Array, p: number): number {
  const t = source[p] as number;
  let start: number;
  let length: number;
  if (t >= 0xa0 && t <= 0xbf) {
    start = p + 1;
    length = t & 0x1f;
  } else if (t === 0xd9) {
    start = p + 2;
    length = source[p + 1] as number;
  } else if (t === 0xda) {
    start = p + 3;
    length = ((source[p + 1] as number) << 8) | (source[p + 2] as number);
  } else {
    // str 32 keys are longer than any field name.
    return -1;
  }
  for (let k = 0; k < OPTIONAL_KEYS.length; k++) {
    const key = OPTIONAL_KEYS[k] as Buffer;
    if (key.length !== length) continue;
    let same = true;
    for (let i = 0; i < length && same; i++) same = source[start + i] === key[i];
    if (same) return k;
  }
  return -1;
}

/**
 * A newly registered strategy, spliced from the client's own bytes:
 * `source[start, end)` must be a strategy map that passed the bytes check
 * (compileBytesCheck of StrategyInputSchema: valid, string keys, none repeated).
 * The stored form is that map's entries, then defaults for the optional fields
 * it left out (read from its keys; no object is decoded), then the server fields.
 * Nothing is copied until it is written.
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

/** The stored bytes of a newly registered strategy, spliced from the client's own bytes (see planValidatedStrategy). */
export function spliceNewStrategy(...args: Parameters<typeof planValidatedStrategy>): Buffer {
  return writeRecord(planValidatedStrategy(...args));
}

/** The stored bytes of `strategy` (an owned copy). */
export function encodeStrategy(strategy: Strategy): Buffer {
  return Buffer.from(encode(strategy));
}

/** Decodes stored strategy bytes. */
export function decodeStrategy(bytes: Uint8Array): Strategy {
  return decode(bytes) as Strategy;
}
