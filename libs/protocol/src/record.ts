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
import type { EntryItems } from "./log.js";
import { type BytesCheck, compileBytesCheck, MapLayouts } from "./msgpack-check.js";
import { mapHeader, mapStart, readStr, strLength, strStart } from "./msgpack-read.js";
import { LifecycleStates, type Strategy, type StrategyInput, StrategyInputSchema } from "./strategy.js";

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

/**
 * The fields of each strategy of a register or register-batch request whose
 * place the bytes check records: the id, the origin (checked against the
 * parents), and every optional field (a stored strategy gets defaults for those
 * it lacks), in the order of OPTIONAL_FIELDS.
 */
export const STRATEGY_LAYOUT_FIELDS = ["id", "origin", ...OPTIONAL_FIELDS] as const;
const ID_AT = STRATEGY_LAYOUT_FIELDS.indexOf("id");
const OPTIONAL_AT = STRATEGY_LAYOUT_FIELDS.indexOf(OPTIONAL_FIELDS[0] as OptionalField);

/** The defaults of the optional fields a strategy lacks, one buffer per set of missing fields (a bit each). */
const defaultsByMissing: Buffer[] = [];

function defaultsFor(missing: number): Buffer {
  let bytes = defaultsByMissing[missing];
  if (bytes === undefined) {
    bytes = Buffer.concat(OPTIONAL_FIELDS.filter((_, k) => (missing & (1 << k)) !== 0).map((f) => DEFAULT_ENTRIES[f]));
    defaultsByMissing[missing] = bytes;
  }
  return bytes;
}

/**
 * Copies `source[start, end)` into `target` at `at` and returns where the copy
 * ends there. Short runs (ids, defaults, server fields) are copied byte by byte:
 * `Buffer.copy` costs about 100 ns whatever the length, as much as a loop over
 * 40 bytes, and makes a view per call.
 */
function copyBytes(source: Buffer, start: number, end: number, target: Uint8Array, at: number): number {
  if (end - start > 64) return at + source.copy(target, at, start, end);
  let to = at;
  for (let i = start; i < end; i++) target[to++] = source[i] as number;
  return to;
}

/**
 * Newly registered strategies as log entry items, spliced from the request's
 * bytes where its bytes check recorded them (`layouts`, of
 * {@link STRATEGY_LAYOUT_FIELDS}): each stored form is a map header, the
 * client's own entries, the defaults of the optional fields it left out, and
 * the server fields, those built once for the batch. The ids are copied as the
 * request's bytes. `chosen` are the strategies to write (indexes into
 * `layouts`), `ids` their ids.
 */
export class NewStrategyItems implements EntryItems {
  private readonly serverFields: Buffer;
  readonly count: number;

  constructor(
    private readonly source: Buffer,
    private readonly layouts: MapLayouts,
    private readonly chosen: readonly number[],
    private readonly ids: readonly string[],
    now: number,
  ) {
    this.count = chosen.length;
    this.serverFields = Buffer.allocUnsafe(SERVER_FIELDS_LENGTH);
    writeServerFields(this.serverFields, 0, now);
  }

  idLength(i: number): number {
    const at = this.layouts.valueAt(this.chosen[i] as number, ID_AT);
    readStr(this.source, at);
    return strStart + strLength - at;
  }

  writeId(i: number, out: Buffer, at: number): void {
    const from = this.layouts.valueAt(this.chosen[i] as number, ID_AT);
    readStr(this.source, from);
    copyBytes(this.source, from, strStart + strLength, out, at);
  }

  id(i: number): string {
    return this.ids[i] as string;
  }

  recordLength(i: number): number {
    const k = this.chosen[i] as number;
    mapHeader(this.source, this.layouts.start(k));
    return 3 + (this.layouts.end(k) - mapStart) + defaultsFor(this.missing(k)).length + this.serverFields.length;
  }

  writeRecord(i: number, out: Buffer, at: number): void {
    const k = this.chosen[i] as number;
    const present = mapHeader(this.source, this.layouts.start(k));
    const entries = mapStart;
    const missing = this.missing(k);
    out[at] = 0xde;
    out.writeUInt16BE(present + (MISSING_COUNTS[missing] as number) + SERVER_FIELD_COUNT, at + 1);
    let pos = copyBytes(this.source, entries, this.layouts.end(k), out, at + 3);
    const defaults = defaultsFor(missing);
    pos = copyBytes(defaults, 0, defaults.length, out, pos);
    copyBytes(this.serverFields, 0, this.serverFields.length, out, pos);
  }

  /** The optional fields the `k`-th strategy lacks, a bit each in the order of OPTIONAL_FIELDS. */
  private missing(k: number): number {
    let missing = 0;
    for (let f = 0; f < OPTIONAL_FIELDS.length; f++) {
      if (this.layouts.valueAt(k, OPTIONAL_AT + f) < 0) missing |= 1 << f;
    }
    return missing;
  }
}

/** How many fields each set of missing optional fields holds. */
const MISSING_COUNTS = Array.from({ length: 1 << OPTIONAL_FIELDS.length }, (_, m) => {
  let n = 0;
  for (let b = m; b !== 0; b &= b - 1) n++;
  return n;
});

/**
 * The id (field 0 of `layouts`) of the `i`-th map of checked request bytes, as
 * a flat string (ids are ASCII, by their pattern).
 */
export function idOf(source: Buffer, layouts: MapLayouts, i: number): string {
  readStr(source, layouts.valueAt(i, ID_AT));
  return source.toString("latin1", strStart, strStart + strLength);
}

let strategyCheck: { check: BytesCheck; layouts: MapLayouts } | undefined;

/**
 * The stored bytes of a newly registered strategy, spliced from the client's
 * own bytes as registration does: `source[start, end)` must be a strategy map
 * that passes the bytes check of StrategyInputSchema (else MALFORMED).
 */
export function spliceNewStrategy(source: Buffer, start: number, end: number, now: number): Buffer {
  if (strategyCheck === undefined) {
    const layouts = new MapLayouts(StrategyInputSchema, STRATEGY_LAYOUT_FIELDS);
    strategyCheck = { check: compileBytesCheck(StrategyInputSchema, [layouts]), layouts };
  }
  const { check, layouts } = strategyCheck;
  layouts.count = 0;
  if (check(source, start) !== end || layouts.count !== 1) {
    throw new ValidationError(ErrorCodes.Malformed, "strategy must be a msgpack map that passes its schema");
  }
  const id = idOf(source, layouts, 0);
  const items = new NewStrategyItems(source, layouts, [0], [id], now);
  const out = Buffer.allocUnsafe(items.recordLength(0));
  items.writeRecord(0, out, 0);
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
