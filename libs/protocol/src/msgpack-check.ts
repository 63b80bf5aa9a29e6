/**
 * Validation of standard msgpack bytes against a TypeBox (JSON Schema) schema,
 * without decoding them. Decoding a strategy into objects and checking those
 * costs several microseconds and most of a shard's garbage collection; walking
 * the bytes costs about one (docs/adr/003). It is a fast *accept* path only:
 * when it says no (or meets anything unusual), the caller decodes and lets the
 * TypeBox checker decide and name the problem, so the two can never disagree on
 * what is accepted except by being stricter here (property-tested).
 *
 * Supported: Object (properties, required, additionalProperties: false,
 * min/maxProperties), Record (one pattern, additionalProperties: false,
 * maxProperties), String (min/maxLength in UTF-16 units as JavaScript counts
 * them, pattern), Integer and Number (minimum/maximum, finite), Boolean, Null,
 * Array (items, min/maxItems), Union. Repeated map keys are refused at every
 * depth, and so are record keys that JavaScript decoders change (`__proto__`,
 * a leading U+FEFF).
 */
import { isUtf8 } from "node:buffer";
import { Kind, OptionalKind, type TSchema } from "@sinclair/typebox";

/** Checks the value at `pos`; returns the position after it, or -1 if it does not conform. */
export type BytesCheck = (bytes: Buffer, pos: number) => number;

const NONE = -1;

// Results of the readers below, kept in module state to avoid allocating per value.
let strStart = 0;
let strLength = 0;
let numValue = 0;
let numEnd = 0;

/** Reads a str header at `p` into strStart/strLength; false if the value is not a str. */
function readStr(b: Buffer, p: number): boolean {
  const t = b[p];
  if (t === undefined) return false;
  if (t >= 0xa0 && t <= 0xbf) {
    strStart = p + 1;
    strLength = t & 0x1f;
  } else if (t === 0xd9) {
    strStart = p + 2;
    strLength = b[p + 1] ?? 0;
  } else if (t === 0xda) {
    strStart = p + 3;
    strLength = p + 3 <= b.length ? b.readUInt16BE(p + 1) : 0;
  } else if (t === 0xdb) {
    strStart = p + 5;
    strLength = p + 5 <= b.length ? b.readUInt32BE(p + 1) : 0;
  } else {
    return false;
  }
  return strStart + strLength <= b.length;
}

/** Reads a number at `p` into numValue/numEnd; false if the value is not a (safely representable) number. */
function readNumber(b: Buffer, p: number): boolean {
  const t = b[p];
  if (t === undefined) return false;
  if (t <= 0x7f) {
    numValue = t;
    numEnd = p + 1;
    return true;
  }
  if (t >= 0xe0) {
    numValue = t - 0x100;
    numEnd = p + 1;
    return true;
  }
  const need =
    t === 0xcc || t === 0xd0 ? 2 : t === 0xcd || t === 0xd1 ? 3 : t === 0xca || t === 0xce || t === 0xd2 ? 5 : 9;
  if (t < 0xca || t > 0xd3 || p + need > b.length) return false;
  switch (t) {
    case 0xca:
      numValue = b.readFloatBE(p + 1);
      break;
    case 0xcb:
      numValue = b.readDoubleBE(p + 1);
      break;
    case 0xcc:
      numValue = b.readUInt8(p + 1);
      break;
    case 0xcd:
      numValue = b.readUInt16BE(p + 1);
      break;
    case 0xce:
      numValue = b.readUInt32BE(p + 1);
      break;
    case 0xcf:
      numValue = Number(b.readBigUInt64BE(p + 1));
      if (!Number.isSafeInteger(numValue)) return false;
      break;
    case 0xd0:
      numValue = b.readInt8(p + 1);
      break;
    case 0xd1:
      numValue = b.readInt16BE(p + 1);
      break;
    case 0xd2:
      numValue = b.readInt32BE(p + 1);
      break;
    default:
      numValue = Number(b.readBigInt64BE(p + 1));
      if (!Number.isSafeInteger(numValue)) return false;
  }
  numEnd = p + need;
  return true;
}

/** The text of the str at strStart/strLength, or undefined if it is not valid UTF-8. */
function strText(b: Buffer): string | undefined {
  const end = strStart + strLength;
  for (let i = strStart; i < end; i++) {
    if ((b[i] as number) > 0x7f)
      return isUtf8(b.subarray(strStart, end)) ? b.toString("utf8", strStart, end) : undefined;
  }
  return b.toString("latin1", strStart, end);
}

function stringCheck(schema: TSchema): BytesCheck {
  const min: number = schema.minLength ?? 0;
  const max: number = schema.maxLength ?? Number.POSITIVE_INFINITY;
  const pattern = typeof schema.pattern === "string" ? new RegExp(schema.pattern) : undefined;
  return (b, p) => {
    if (!readStr(b, p)) return NONE;
    const end = strStart + strLength;
    let ascii = true;
    for (let i = strStart; i < end; i++) {
      if ((b[i] as number) > 0x7f) {
        ascii = false;
        break;
      }
    }
    if (ascii && pattern === undefined) return strLength >= min && strLength <= max ? end : NONE;
    const text = strText(b);
    if (text === undefined || text.length < min || text.length > max) return NONE;
    return pattern === undefined || pattern.test(text) ? end : NONE;
  };
}

function numberCheck(schema: TSchema, integer: boolean): BytesCheck {
  const min: number = schema.minimum ?? Number.NEGATIVE_INFINITY;
  const max: number = schema.maximum ?? Number.POSITIVE_INFINITY;
  return (b, p) => {
    if (!readNumber(b, p) || !Number.isFinite(numValue)) return NONE;
    if (integer && !Number.isInteger(numValue)) return NONE;
    return numValue >= min && numValue <= max ? numEnd : NONE;
  };
}

let mapStart = 0;

/** The entry count of the map at `p` (and its first key's position in mapStart), or -1. */
function mapHeader(b: Buffer, p: number): number {
  const t = b[p];
  if (t === undefined) return NONE;
  if (t >= 0x80 && t <= 0x8f) {
    mapStart = p + 1;
    return t & 0x0f;
  }
  if (t === 0xde && p + 3 <= b.length) {
    mapStart = p + 3;
    return b.readUInt16BE(p + 1);
  }
  if (t === 0xdf && p + 5 <= b.length) {
    mapStart = p + 5;
    return b.readUInt32BE(p + 1);
  }
  return NONE;
}

/** Whether the str at strStart/strLength is exactly `key`. */
function strIs(b: Buffer, key: Uint8Array): boolean {
  if (key.length !== strLength) return false;
  for (let i = 0; i < strLength; i++) if (b[strStart + i] !== key[i]) return false;
  return true;
}

function arrayCheck(schema: TSchema): BytesCheck {
  const min: number = schema.minItems ?? 0;
  const max: number = schema.maxItems ?? Number.POSITIVE_INFINITY;
  const item = compileBytesCheck(schema.items as TSchema);
  return (b, p) => {
    const t = b[p];
    if (t === undefined) return NONE;
    let count: number;
    let q: number;
    if (t >= 0x90 && t <= 0x9f) {
      count = t & 0x0f;
      q = p + 1;
    } else if (t === 0xdc && p + 3 <= b.length) {
      count = b.readUInt16BE(p + 1);
      q = p + 3;
    } else if (t === 0xdd && p + 5 <= b.length) {
      count = b.readUInt32BE(p + 1);
      q = p + 5;
    } else {
      return NONE;
    }
    if (count < min || count > max) return NONE;
    for (let i = 0; i < count && q !== NONE; i++) q = item(b, q);
    return q;
  };
}

function objectCheck(schema: TSchema): BytesCheck {
  if (schema.additionalProperties !== false)
    throw new TypeError("only objects with additionalProperties: false are supported");
  const names = Object.keys(schema.properties ?? {});
  if (names.length > 30) throw new TypeError("objects of more than 30 properties are not supported");
  const keys = names.map((name) => Buffer.from(name, "utf8"));
  // Candidates by (length, first byte): usually one, so a key costs one comparison.
  const byShape: number[][] = [];
  keys.forEach((key, k) => {
    const shape = key.length * 256 + (key[0] ?? 0);
    const list = byShape[shape];
    if (list === undefined) byShape[shape] = [k];
    else list.push(k);
  });
  const checks = names.map((name) => compileBytesCheck(schema.properties[name] as TSchema));
  const required: string[] = schema.required ?? [];
  let requiredMask = 0;
  names.forEach((name, i) => {
    if (required.includes(name) && (schema.properties[name] as TSchema)[OptionalKind] !== "Optional")
      requiredMask |= 1 << i;
  });
  const minProps: number = schema.minProperties ?? 0;
  const maxProps: number = schema.maxProperties ?? Number.POSITIVE_INFINITY;
  return (b, p) => {
    const count = mapHeader(b, p);
    if (count === NONE || count < minProps || count > maxProps) return NONE;
    let q = mapStart;
    let seen = 0;
    for (let i = 0; i < count; i++) {
      if (!readStr(b, q)) return NONE;
      let found = -1;
      const candidates = byShape[strLength * 256 + (strLength > 0 ? (b[strStart] as number) : 0)];
      if (candidates !== undefined) {
        for (const k of candidates) {
          if (strIs(b, keys[k] as Buffer)) {
            found = k;
            break;
          }
        }
      }
      if (found < 0 || seen & (1 << found)) return NONE;
      seen |= 1 << found;
      q = (checks[found] as BytesCheck)(b, strStart + strLength);
      if (q === NONE) return NONE;
    }
    return (seen & requiredMask) === requiredMask ? q : NONE;
  };
}

/** `^[\s\S]{m,n}$`: a pattern that only bounds the length, checked without building the string. */
const LENGTH_ONLY = /^\^\[\\s\\S\]\{(\d+),(\d+)\}\$$/;

const PROTO_KEY = Buffer.from("__proto__");

/**
 * Whether the str at strStart/strLength starts with U+FEFF, which msgpackr's
 * JavaScript decoder (used where msgpackr-extract is not built) drops from
 * longer strings: such a key could decode to another key of the same map.
 */
function startsWithBom(b: Buffer): boolean {
  return strLength >= 3 && b[strStart] === 0xef && b[strStart + 1] === 0xbb && b[strStart + 2] === 0xbf;
}

function recordCheck(schema: TSchema): BytesCheck {
  const patterns = Object.keys(schema.patternProperties ?? {});
  if (patterns.length !== 1 || schema.additionalProperties !== false) {
    throw new TypeError("only records with one key pattern and additionalProperties: false are supported");
  }
  const source = patterns[0] as string;
  const keyCheck = compileBytesCheck({
    [Kind]: "String",
    type: "string",
    ...lengthOrPattern(source),
  } as unknown as TSchema);
  const value = compileBytesCheck(schema.patternProperties[source] as TSchema);
  const maxProps: number = schema.maxProperties ?? Number.POSITIVE_INFINITY;
  const minProps: number = schema.minProperties ?? 0;
  const starts: number[] = [];
  const lengths: number[] = [];
  return (b, p) => {
    const count = mapHeader(b, p);
    if (count === NONE || count < minProps || count > maxProps) return NONE;
    let q = mapStart;
    const first = starts.length;
    for (let i = 0; i < count; i++) {
      const keyEnd = keyCheck(b, q);
      // "__proto__" decodes differently in JavaScript (msgpackr renames it): refuse it.
      if (keyEnd === NONE || !readStr(b, q) || strIs(b, PROTO_KEY) || startsWithBom(b)) return cleanup(first, NONE);
      // A repeated key: compare with the keys of this map seen so far.
      for (let k = first; k < starts.length; k++) {
        if (
          lengths[k] === strLength &&
          b.compare(b, starts[k], (starts[k] as number) + strLength, strStart, keyEnd) === 0
        ) {
          return cleanup(first, NONE);
        }
      }
      starts.push(strStart);
      lengths.push(strLength);
      q = value(b, keyEnd);
      if (q === NONE) return cleanup(first, NONE);
    }
    return cleanup(first, q);
  };

  /** Forgets this map's keys (records may nest, so the lists are a stack) and passes `result` on. */
  function cleanup(from: number, result: number): number {
    starts.length = from;
    lengths.length = from;
    return result;
  }
}

/** The string schema of a record's keys: a length range when the pattern is only that, else the pattern. */
function lengthOrPattern(source: string): Record<string, unknown> {
  const match = LENGTH_ONLY.exec(source);
  return match === null ? { pattern: source } : { minLength: Number(match[1]), maxLength: Number(match[2]) };
}

function unionCheck(schema: TSchema): BytesCheck {
  const variants = (schema.anyOf as TSchema[]).map(compileBytesCheck);
  return (b, p) => {
    for (const variant of variants) {
      const q = variant(b, p);
      if (q !== NONE) return q;
    }
    return NONE;
  };
}

/** Compiles `schema` into a check over msgpack bytes. Throws TypeError for schema features it does not support. */
export function compileBytesCheck(schema: TSchema): BytesCheck {
  switch (schema[Kind]) {
    case "Object":
      return objectCheck(schema);
    case "Record":
      return recordCheck(schema);
    case "String":
      return stringCheck(schema);
    case "Integer":
      return numberCheck(schema, true);
    case "Number":
      return numberCheck(schema, false);
    case "Boolean":
      return (b, p) => (b[p] === 0xc2 || b[p] === 0xc3 ? p + 1 : NONE);
    case "Null":
      return (b, p) => (b[p] === 0xc0 ? p + 1 : NONE);
    case "Array":
      return arrayCheck(schema);
    case "Union":
      return unionCheck(schema);
    default:
      throw new TypeError(`schema kind ${String(schema[Kind])} is not supported on bytes`);
  }
}
