/**
 * Checks of request bytes compiled from TypeBox (JSON Schema) schemas, walking
 * the bytes with the readers of msgpack-read.ts instead of decoding them.
 * Decoding a strategy into objects and checking those costs several
 * microseconds and most of a shard's garbage collection; walking the bytes
 * costs about one (docs/adr/003). It is a fast *accept* path: what it accepts,
 * the canonical path (the standard check, decoding, TypeBox) accepts too, and
 * vice versa (property-tested), so a caller may store accepted bytes as they
 * are and decode the rest to name the problem.
 *
 * Schema features supported: Object (properties, required, min/maxProperties;
 * additionalProperties false, or true/absent for an open map whose other
 * values must be standard msgpack data), Record (one pattern,
 * additionalProperties: false, maxProperties), String (min/maxLength in UTF-16
 * units as JavaScript counts them, pattern), Integer and Number
 * (minimum/maximum, finite), Boolean, Null, Array (items, min/maxItems), Union,
 * Unknown/Any (any standard msgpack data). Repeated map keys are refused at
 * every depth, and so are keys that JavaScript decoders change (`__proto__`,
 * a leading U+FEFF).
 */
import { Kind, OptionalKind, type TSchema } from "@sinclair/typebox";
import {
  anyDataCheck,
  arrayHeader,
  arrayStart,
  forgetKeys,
  keyStarts,
  mapHeader,
  mapStart,
  NONE,
  numEnd,
  numValue,
  PROTO_KEY,
  readNumber,
  readStr,
  repeatsKey,
  SMALL_MAP,
  startsWithBom,
  strIs,
  strIsAscii,
  strIsUtf8,
  strLength,
  strStart,
  strText,
} from "./msgpack-read.js";

/** Checks the value at `pos`; returns the position after it, or -1 if it does not conform. */
export type BytesCheck = (bytes: Buffer, pos: number) => number;

// ---- Checks compiled from schemas --------------------------------------------------------------

/**
 * `^[first][rest]*$` with classes of plain ASCII characters and ranges (the id
 * patterns): the bytes of a string are checked against two tables, no string is
 * built. Undefined for any other pattern.
 */
function classPattern(source: string): { first: Uint8Array; rest: Uint8Array } | undefined {
  const match = /^\^\[([^\]\\]+)\]\[([^\]\\]+)\]\*\$$/.exec(source);
  if (match === null) return undefined;
  const table = (cls: string): Uint8Array | undefined => {
    // A negated class is not a list of characters.
    if (cls.startsWith("^")) return undefined;
    const allowed = new Uint8Array(128);
    for (let i = 0; i < cls.length; i++) {
      const c = cls.charCodeAt(i);
      if (c > 0x7e) return undefined;
      const end = cls.charCodeAt(i + 2);
      if (cls[i + 1] === "-" && i + 2 < cls.length) {
        if (end > 0x7e || end < c) return undefined;
        allowed.fill(1, c, end + 1);
        i += 2;
      } else allowed[c] = 1;
    }
    return allowed;
  };
  const first = table(match[1] as string);
  const rest = table(match[2] as string);
  return first === undefined || rest === undefined ? undefined : { first, rest };
}

function stringCheck(schema: TSchema): BytesCheck {
  const min: number = schema.minLength ?? 0;
  const max: number = schema.maxLength ?? Number.POSITIVE_INFINITY;
  const classes = typeof schema.pattern === "string" ? classPattern(schema.pattern) : undefined;
  if (classes !== undefined) {
    const { first, rest } = classes;
    return (b, p) => {
      if (!readStr(b, p) || strLength < min || strLength > max || strLength === 0) return NONE;
      const end = strStart + strLength;
      if (first[b[strStart] as number] !== 1) return NONE;
      for (let i = strStart + 1; i < end; i++) if (rest[b[i] as number] !== 1) return NONE;
      return end;
    };
  }
  const pattern = typeof schema.pattern === "string" ? new RegExp(schema.pattern) : undefined;
  return (b, p) => {
    if (!readStr(b, p)) return NONE;
    const end = strStart + strLength;
    if (pattern === undefined && strIsAscii(b)) return strLength >= min && strLength <= max ? end : NONE;
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

function arrayCheck(schema: TSchema, layouts: readonly MapLayouts[]): BytesCheck {
  const min: number = schema.minItems ?? 0;
  const max: number = schema.maxItems ?? Number.POSITIVE_INFINITY;
  const item = compileBytesCheck(schema.items as TSchema, layouts);
  return (b, p) => {
    const count = arrayHeader(b, p);
    if (count === NONE || count < min || count > max) return NONE;
    let q = arrayStart;
    for (let i = 0; i < count && q !== NONE; i++) q = item(b, q);
    return q;
  };
}

/**
 * `positions`, when given, receives where the value of each property starts in
 * the last map checked (-1 when absent), in the order of `schema.properties`.
 * A map of a schema some `layouts` collects is recorded there once accepted.
 */
function objectCheck(schema: TSchema, layouts: readonly MapLayouts[], given?: Int32Array): BytesCheck {
  const layout = layouts.find((l) => l.schema === schema);
  const positions =
    given ?? (layout === undefined ? undefined : new Int32Array(Object.keys(schema.properties ?? {}).length));
  const extra = schema.additionalProperties;
  if (extra !== false && extra !== true && extra !== undefined)
    throw new TypeError("only objects with additionalProperties true, false or absent are supported");
  const open = extra !== false;
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
  const checks = names.map((name) => compileBytesCheck(schema.properties[name] as TSchema, layouts));
  const recorded = layout?.fields.map((field) => {
    const k = names.indexOf(field);
    if (k < 0) throw new TypeError(`a layout field ${field} is not a property of its schema`);
    return k;
  });
  const required: string[] = schema.required ?? [];
  let requiredMask = 0;
  names.forEach((name, i) => {
    if (required.includes(name) && (schema.properties[name] as TSchema)[OptionalKind] !== "Optional")
      requiredMask |= 1 << i;
  });
  const minProps: number = schema.minProperties ?? 0;
  const maxProps: number = schema.maxProperties ?? Number.POSITIVE_INFINITY;
  return (b, p) => {
    positions?.fill(NONE);
    const count = mapHeader(b, p);
    if (count === NONE || count < minProps || count > maxProps) return NONE;
    let q = mapStart;
    let seen = 0;
    // Other keys of an open map: remembered like a record's, to refuse one given twice.
    const from = keyStarts.length;
    const others = open && count > SMALL_MAP ? new Set<string>() : undefined;
    for (let i = 0; i < count; i++) {
      if (!readStr(b, q)) return forgetKeys(from, NONE);
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
      const valueAt = strStart + strLength;
      if (found < 0) {
        if (!open || !strIsUtf8(b) || startsWithBom(b) || strIs(b, PROTO_KEY) || repeatsKey(b, from, others))
          return forgetKeys(from, NONE);
        q = anyDataCheck(b, valueAt);
      } else {
        if (seen & (1 << found)) return forgetKeys(from, NONE);
        seen |= 1 << found;
        if (positions !== undefined) positions[found] = valueAt;
        q = (checks[found] as BytesCheck)(b, valueAt);
      }
      if (q === NONE) return forgetKeys(from, NONE);
    }
    if ((seen & requiredMask) !== requiredMask) return forgetKeys(from, NONE);
    if (layout !== undefined) layout.record(p, q, positions as Int32Array, recorded as number[]);
    return forgetKeys(from, q);
  };
}

/** `^[\s\S]{m,n}$`: a pattern that only bounds the length, checked without building the string. */
const LENGTH_ONLY = /^\^\[\\s\\S\]\{(\d+),(\d+)\}\$$/;

function recordCheck(schema: TSchema, layouts: readonly MapLayouts[]): BytesCheck {
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
  const value = compileBytesCheck(schema.patternProperties[source] as TSchema, layouts);
  const maxProps: number = schema.maxProperties ?? Number.POSITIVE_INFINITY;
  const minProps: number = schema.minProperties ?? 0;
  return (b, p) => {
    const count = mapHeader(b, p);
    if (count === NONE || count < minProps || count > maxProps) return NONE;
    let q = mapStart;
    const from = keyStarts.length;
    const seen = count > SMALL_MAP ? new Set<string>() : undefined;
    for (let i = 0; i < count; i++) {
      const keyEnd = keyCheck(b, q);
      // "__proto__" decodes differently in JavaScript (msgpackr renames it): refuse it.
      if (keyEnd === NONE || !readStr(b, q) || strIs(b, PROTO_KEY) || startsWithBom(b) || repeatsKey(b, from, seen))
        return forgetKeys(from, NONE);
      q = value(b, keyEnd);
      if (q === NONE) return forgetKeys(from, NONE);
    }
    return forgetKeys(from, q);
  };
}

/** The string schema of a record's keys: a length range when the pattern is only that, else the pattern. */
function lengthOrPattern(source: string): Record<string, unknown> {
  const match = LENGTH_ONLY.exec(source);
  return match === null ? { pattern: source } : { minLength: Number(match[1]), maxLength: Number(match[2]) };
}

function unionCheck(schema: TSchema, layouts: readonly MapLayouts[]): BytesCheck {
  const variants = (schema.anyOf as TSchema[]).map((variant) => compileBytesCheck(variant, layouts));
  return (b, p) => {
    for (const variant of variants) {
      const q = variant(b, p);
      if (q !== NONE) return q;
    }
    return NONE;
  };
}

/** A string constant (e.g. one value of an `as const` set such as a metric name). */
function literalCheck(schema: TSchema): BytesCheck {
  if (typeof schema.const !== "string") throw new TypeError("only string literals are supported on bytes");
  const expected = Buffer.from(schema.const, "utf8");
  return (b, p) => (readStr(b, p) && strIs(b, expected) ? strStart + strLength : NONE);
}

/**
 * Compiles `schema` into a check over msgpack bytes. Throws TypeError for schema
 * features it does not support. Maps of a schema one of `layouts` collects are
 * recorded there as the check accepts them.
 */
export function compileBytesCheck(schema: TSchema, layouts: readonly MapLayouts[] = []): BytesCheck {
  switch (schema[Kind]) {
    case "Object":
      return objectCheck(schema, layouts);
    case "Record":
      return recordCheck(schema, layouts);
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
      return arrayCheck(schema, layouts);
    case "Union":
      return unionCheck(schema, layouts);
    case "Literal":
      return literalCheck(schema);
    case "Unknown":
    case "Any":
      return anyDataCheck;
    default:
      throw new TypeError(`schema kind ${String(schema[Kind])} is not supported on bytes`);
  }
}

/** A compiled check of a map that also says where the values of its properties start. */
export interface MapCheck {
  check: BytesCheck;
  /** Where the value of property `name` starts in the map the check last accepted; -1 when absent. */
  valueAt(name: string): number;
}

/**
 * Compiles an Object `schema` into a {@link MapCheck} (e.g. of a request
 * envelope). `layouts` collect the maps of their schemas anywhere inside: each
 * check starts them afresh, so after an accepted check they hold that request's.
 */
export function compileMapCheck(schema: TSchema, layouts: readonly MapLayouts[] = []): MapCheck {
  if (schema[Kind] !== "Object") throw new TypeError("compileMapCheck takes an Object schema");
  const names = Object.keys(schema.properties ?? {});
  const positions = new Int32Array(names.length).fill(NONE);
  const inner = objectCheck(schema, layouts, positions);
  const check: BytesCheck =
    layouts.length === 0
      ? inner
      : (b, p) => {
          for (const layout of layouts) layout.count = 0;
          return inner(b, p);
        };
  return { check, valueAt: (name) => positions[names.indexOf(name)] ?? NONE };
}

/**
 * Where the maps of one Object schema are in the bytes a check accepted, in the
 * order met: each map's start and end, and where the values of the chosen
 * `fields` start (-1 when absent). One reusable table, so that reading a
 * request's strategies costs no walk of its own and no garbage: valid until
 * the next check that collects into it.
 */
export class MapLayouts {
  /** Maps recorded. */
  count = 0;
  private table: Int32Array;
  private readonly stride: number;

  constructor(
    readonly schema: TSchema,
    readonly fields: readonly string[],
    table?: Int32Array,
  ) {
    this.stride = 2 + fields.length;
    this.table = table ?? new Int32Array(this.stride * 64);
    if (table !== undefined) this.count = table.length / this.stride;
  }

  /** Records a map accepted at [start, end), its fields' values at `positions[recorded[f]]`. */
  record(start: number, end: number, positions: Int32Array, recorded: readonly number[]): void {
    let at = this.count * this.stride;
    if (at + this.stride > this.table.length) {
      const grown = new Int32Array(this.table.length * 2);
      grown.set(this.table);
      this.table = grown;
    }
    this.table[at++] = start;
    this.table[at++] = end;
    for (const k of recorded) this.table[at++] = positions[k] as number;
    this.count++;
  }

  /** A copy holding the maps recorded so far (the table itself is reused by the next check). */
  copy(): MapLayouts {
    return new MapLayouts(this.schema, this.fields, this.table.slice(0, this.count * this.stride));
  }

  /** Where the `i`-th map starts. */
  start(i: number): number {
    return this.table[i * this.stride] as number;
  }

  /** Where the `i`-th map ends (the position after it). */
  end(i: number): number {
    return this.table[i * this.stride + 1] as number;
  }

  /** Where the value of `fields[field]` starts in the `i`-th map, or -1. */
  valueAt(i: number, field: number): number {
    return this.table[i * this.stride + 2 + field] as number;
  }
}
