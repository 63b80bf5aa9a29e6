/**
 * msgpack encoding and decoding. Every endpoint speaks standard msgpack
 * (`useRecords: false`); bulk endpoints also accept msgpackr's self-describing
 * record extension when the request says so in the `Stratreg-Encoding` header.
 */
import { type Options, Packr, Unpackr } from "msgpackr";
import { ErrorCodes, ValidationError } from "./errors.js";

const standardPackr = new Packr({ useRecords: false, variableMapSize: true });
const recordPackr = new Packr({ useRecords: true });
// msgpackr 2.1 supports skipValues; its typings do not list it yet.
const standardSkippingUndefined = new Packr({
  useRecords: false,
  variableMapSize: true,
  skipValues: [undefined],
} as Options & { skipValues: unknown[] });
// int64/uint64 are legal for small numbers too: decode them as numbers while they fit.
// ("auto" — a number while it is safe, else a BigInt — is supported by msgpackr but missing from its typings.)
const unpackr = new Unpackr({ useRecords: false, mapsAsObjects: true, int64AsType: "auto" as "number" });

/** Encodes `value` as standard msgpack. The result may be a view into a shared buffer: copy it to keep it. */
export function encode(value: unknown): Uint8Array {
  return standardPackr.pack(value);
}

/**
 * Encodes a decoded value again as standard msgpack, leaving out every map entry whose value is
 * `undefined` (standard msgpack has no plain form for it; msgpackr would write an extension), as
 * if it had not been sent. The result may be a view into a shared buffer: copy it to keep it.
 */
export function encodeWithoutUndefined(value: unknown): Uint8Array {
  return standardSkippingUndefined.pack(value);
}

/** Encodes `value` with msgpackr's self-describing record extension (for bulk requests). */
export function encodeRecords(value: unknown): Uint8Array {
  return recordPackr.pack(value);
}

/** Decodes msgpack bytes (standard or record-extended); throws a MALFORMED ValidationError on bad bytes. */
export function decode(bytes: Uint8Array): unknown {
  if (bytes.length === 0) throw new ValidationError(ErrorCodes.Malformed, "empty payload: expected a msgpack map");
  try {
    return unpackr.unpack(bytes);
  } catch (err) {
    throw new ValidationError(ErrorCodes.Malformed, `payload is not valid msgpack: ${(err as Error).message}`, {
      cause: err,
    });
  }
}

/**
 * Pre-encoded msgpack bytes to be spliced verbatim into a message built by
 * {@link encodeWithRaw}; lets a shard return stored strategies without re-encoding them.
 */
export class RawMsgpack {
  constructor(readonly bytes: Uint8Array) {}
}

function arrayHeader(length: number): Uint8Array {
  if (length < 16) return Uint8Array.of(0x90 | length);
  if (length < 0x10000) return Uint8Array.of(0xdc, length >> 8, length & 0xff);
  return Uint8Array.of(0xdd, length >>> 24, (length >> 16) & 0xff, (length >> 8) & 0xff, length & 0xff);
}

function mapHeader(size: number): Uint8Array {
  if (size < 16) return Uint8Array.of(0x80 | size);
  if (size < 0x10000) return Uint8Array.of(0xde, size >> 8, size & 0xff);
  return Uint8Array.of(0xdf, size >>> 24, (size >> 16) & 0xff, (size >> 8) & 0xff, size & 0xff);
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object") return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

/** Whether `value` holds a RawMsgpack at any depth of arrays and plain objects. */
function containsRaw(value: unknown): boolean {
  if (value instanceof RawMsgpack) return true;
  if (Array.isArray(value)) return value.some(containsRaw);
  if (isPlainObject(value)) return Object.values(value).some(containsRaw);
  return false;
}

function collect(value: unknown, chunks: Uint8Array[]): void {
  if (value instanceof RawMsgpack) {
    chunks.push(value.bytes);
  } else if (!containsRaw(value)) {
    // Copy: the packr reuses its buffer between calls.
    chunks.push(Buffer.from(standardPackr.pack(value)));
  } else if (Array.isArray(value)) {
    chunks.push(arrayHeader(value.length));
    for (const item of value) collect(item, chunks);
  } else {
    const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
    chunks.push(mapHeader(entries.length));
    for (const [key, v] of entries) {
      chunks.push(Buffer.from(standardPackr.pack(key)));
      collect(v, chunks);
    }
  }
}

/**
 * Encodes `value` as standard msgpack, writing any {@link RawMsgpack} (alone or
 * inside arrays and plain objects) as its bytes, unchanged.
 */
export function encodeWithRaw(value: unknown): Uint8Array {
  const chunks: Uint8Array[] = [];
  collect(value, chunks);
  return Buffer.concat(chunks);
}
