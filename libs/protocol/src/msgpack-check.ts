/**
 * Checks of request bytes generated from TypeBox (JSON Schema) schemas: one
 * JavaScript function per schema, walking the bytes (short headers inline, the
 * readers of msgpack-read.ts for the rest) instead of decoding them (ADR 018).
 * Decoding a strategy into objects and checking those costs several
 * microseconds and most of a shard's garbage collection; walking the bytes
 * costs about one (docs/adr/003). It is a fast *accept* path: what it accepts,
 * the canonical path (the standard check, decoding, TypeBox) accepts too, and
 * it accepts the ordinary encodings of what the canonical path accepts, except
 * keys decoders change (property-tested), so a caller may store accepted bytes
 * as they are and decode the rest to name the problem.
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
import * as read from "./msgpack-read.js";
import { freshKey, NONE, readStr, SMALL_MAP, strIsUtf8, strText } from "./msgpack-read.js";

/** Checks the value at `pos`; returns the position after it, or -1 if it does not conform. */
export type BytesCheck = (bytes: Buffer, pos: number) => number;

// ---- Checks generated from schemas -------------------------------------------------------------

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
    // 256 entries, so that any byte indexes it (a byte above 0x7e is never allowed).
    const allowed = new Uint8Array(256);
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

/** `^[\s\S]{m,n}$`: a pattern that only bounds the length, checked without building the string. */
const LENGTH_ONLY = /^\^\[\\s\\S\]\{(\d+),(\d+)\}\$$/;

/** The string schema of a record's keys: a length range when the pattern is only that, else the pattern. */
function lengthOrPattern(source: string): Record<string, unknown> {
  const match = LENGTH_ONLY.exec(source);
  return match === null ? { pattern: source } : { minLength: Number(match[1]), maxLength: Number(match[2]) };
}

/**
 * Helpers the generated checks call off their fast paths. The inline header
 * reads leave no module state behind: each helper reads its str again with
 * `readStr` before looking at strStart/strLength.
 */
const helpers = {
  /** Whether the str at `p` has `min`…`max` UTF-16 units and matches `pattern`, read as text. */
  textFits(b: Buffer, p: number, min: number, max: number, pattern: RegExp | undefined): boolean {
    const text = readStr(b, p) ? strText(b) : undefined;
    if (text === undefined || text.length < min || text.length > max) return false;
    return pattern === undefined || pattern.test(text);
  },
  /** Whether the str at `p` may be a key of an open map besides its named ones (see {@link freshKey}). */
  otherKey(b: Buffer, p: number, from: number, seen: Set<string> | undefined): boolean {
    return readStr(b, p) && strIsUtf8(b) && freshKey(b, from, seen);
  },
  /** Whether the str at `p`, a record key its schema accepted, is not a repeat nor one decoders change. */
  recordKey(b: Buffer, p: number, from: number, seen: Set<string> | undefined): boolean {
    return readStr(b, p) && freshKey(b, from, seen);
  },
};

/** A number as a JavaScript literal in generated code. */
function literal(value: unknown, what: string): string {
  if (typeof value !== "number" || Number.isNaN(value)) throw new TypeError(`${what} must be a number`);
  return value === Number.POSITIVE_INFINITY
    ? "Infinity"
    : value === Number.NEGATIVE_INFINITY
      ? "-Infinity"
      : `${value}`;
}

/** `x >= min && x <= max`, leaving out the unbounded sides ("true" when both are). */
function inRange(x: string, min: number, max: number, what: string): string {
  const sides: string[] = [];
  if (min !== Number.NEGATIVE_INFINITY) sides.push(`${x} >= ${literal(min, what)}`);
  if (max !== Number.POSITIVE_INFINITY) sides.push(`${x} <= ${literal(max, what)}`);
  return sides.length === 0 ? "true" : sides.join(" && ");
}

/** Whether the bytes from `start` are `key`'s (its length is compared apart), as one condition. */
function bytesAre(start: string, key: Uint8Array): string {
  return key.length === 0
    ? "true"
    : Array.from(key, (byte, i) => `b[${start}${i === 0 ? "" : ` + ${i}`}] === ${byte}`).join(" && ");
}

/**
 * Reads the header of a str at `at` into `s` (its first byte) and `l` (its byte
 * length), a fixstr or str 8 inline; runs `fail` if there is none or it is cut short.
 */
function strHeader(at: string, fail: string): string {
  return `let s, l;
  { const t = b[${at}];
    if (t >= 0xa0 && t <= 0xbf) { s = ${at} + 1; l = t & 0x1f; }
    else if (t === 0xd9) { s = ${at} + 2; l = b[${at} + 1] ?? 0; }
    else { if (!R.readStr(b, ${at})) ${fail} s = R.strStart; l = R.strLength; } }
  if (s + l > b.length) ${fail}`;
}

/**
 * Reads the header of the map (`map`) or array at `p` into `n` (its count) and
 * `q` (its first entry), and refuses a count outside the schema's bounds
 * (min/maxProperties of a map, min/maxItems of an array).
 */
function countHeader(map: boolean, schema: TSchema): string {
  const [lo, hi, read, first] = map ? [0x80, 0x8f, "mapHeader", "mapStart"] : [0x90, 0x9f, "arrayHeader", "arrayStart"];
  const [min, max]: [number, number] = map
    ? [schema.minProperties ?? 0, schema.maxProperties ?? Number.POSITIVE_INFINITY]
    : [schema.minItems ?? 0, schema.maxItems ?? Number.POSITIVE_INFINITY];
  return `let n, q;
  { const t = b[p];
    if (t >= ${lo} && t <= ${hi}) { n = t & 0x0f; q = p + 1; }
    else { n = R.${read}(b, p); if (n < 0) return -1; q = R.${first}; } }
  if (!(${inRange("n", min, max, "the bounds of a count")})) return -1;`;
}

/**
 * The source of the checks of one schema: a function per schema met (one per
 * schema object, shared wherever it is used), compiled together so that each
 * calls the next directly and V8 can inline it. The checks walk the bytes with
 * fixstr, fixmap, fixarray and fixint headers read inline, map keys matched by
 * their length and bytes, and the readers of msgpack-read.ts for the rest.
 */
class CheckSource {
  private readonly constants: unknown[] = [];
  private readonly functions: string[] = [];
  private readonly named = new Map<TSchema, string>();
  private readonly generating = new Set<TSchema>();

  constructor(private readonly layouts: readonly MapLayouts[]) {}

  /** A value the generated code refers to by the returned name. */
  constant(value: unknown): string {
    this.constants.push(value);
    return `c${this.constants.length - 1}`;
  }

  /** The name of the function that checks `schema`; with `positions`, a map's own, recording where its values are. */
  check(schema: TSchema, positions?: Int32Array): string {
    // A schema met again inside itself would be one function for every level of nesting, without a bound.
    if (this.generating.has(schema)) throw new TypeError("recursive schemas are not supported on bytes");
    const known = positions === undefined ? this.named.get(schema) : undefined;
    if (known !== undefined) return known;
    const name = `f${this.functions.length}`;
    if (positions === undefined) this.named.set(schema, name);
    this.functions.push("");
    const at = this.functions.length - 1;
    this.generating.add(schema);
    this.functions[at] = `function ${name}(b, p) {\n  ${this.body(schema, positions)}\n}`;
    this.generating.delete(schema);
    return name;
  }

  /** The check `entry` names, with every function it calls. */
  compile(entry: string): BytesCheck {
    const bind = this.constants.map((_, i) => `c${i} = C[${i}]`).join(", ");
    const source = `"use strict";\n${bind === "" ? "" : `const ${bind};\n`}${this.functions.join("\n")}\nreturn ${entry};`;
    return new Function("R", "H", "C", source)(read, helpers, this.constants) as BytesCheck;
  }

  private body(schema: TSchema, positions?: Int32Array): string {
    switch (schema[Kind]) {
      case "Object":
        return this.object(schema, positions);
      case "Record":
        return this.record(schema);
      case "String":
        return this.string(schema);
      case "Integer":
        return this.number(schema, true);
      case "Number":
        return this.number(schema, false);
      case "Boolean":
        return "const t = b[p];\n  return t === 0xc2 || t === 0xc3 ? p + 1 : -1;";
      case "Null":
        return "return b[p] === 0xc0 ? p + 1 : -1;";
      case "Array":
        return this.array(schema);
      case "Union":
        return this.union(schema);
      case "Literal":
        return this.literal(schema);
      case "Unknown":
      case "Any":
        return "return R.anyDataCheck(b, p);";
      default:
        throw new TypeError(`schema kind ${String(schema[Kind])} is not supported on bytes`);
    }
  }

  private string(schema: TSchema): string {
    const min: number = schema.minLength ?? 0;
    const max: number = schema.maxLength ?? Number.POSITIVE_INFINITY;
    const classes = typeof schema.pattern === "string" ? classPattern(schema.pattern) : undefined;
    if (classes !== undefined) {
      const first = this.constant(classes.first);
      const rest = this.constant(classes.rest);
      return `${strHeader("p", "return -1;")}
  if (l === 0${min > 1 ? ` || l < ${literal(min, "minLength")}` : ""}${max === Number.POSITIVE_INFINITY ? "" : ` || l > ${literal(max, "maxLength")}`}) return -1;
  const e = s + l;
  if (${first}[b[s]] !== 1) return -1;
  for (let i = s + 1; i < e; i++) if (${rest}[b[i]] !== 1) return -1;
  return e;`;
    }
    const pattern = typeof schema.pattern === "string" ? this.constant(new RegExp(schema.pattern)) : "undefined";
    // An ASCII string has as many UTF-16 units as bytes: only others, and patterns, need the text.
    const ascii =
      pattern === "undefined"
        ? `let i = s;
  while (i < e && b[i] < 0x80) i++;
  if (i === e) return ${inRange("l", min, max, "a length")} ? e : -1;\n  `
        : "";
    return `${strHeader("p", "return -1;")}
  const e = s + l;
  ${ascii}return H.textFits(b, p, ${literal(min, "minLength")}, ${literal(max, "maxLength")}, ${pattern}) ? e : -1;`;
  }

  private number(schema: TSchema, integer: boolean): string {
    const min: number = schema.minimum ?? Number.NEGATIVE_INFINITY;
    const max: number = schema.maximum ?? Number.POSITIVE_INFINITY;
    return `const t = b[p];
  if (t <= 0x7f) return ${inRange("t", min, max, "minimum and maximum")} ? p + 1 : -1;
  if (t >= 0xe0) return ${inRange("t - 0x100", min, max, "minimum and maximum")} ? p + 1 : -1;
  ${
    // A float 64 with any finite value is finite unless its exponent bits are all set: no number is read.
    !integer && min === Number.NEGATIVE_INFINITY && max === Number.POSITIVE_INFINITY
      ? "if (t === 0xcb) return p + 9 <= b.length && ((b[p + 1] & 0x7f) !== 0x7f || (b[p + 2] & 0xf0) !== 0xf0) ? p + 9 : -1;"
      : `if (t === 0xcb) {
    if (p + 9 > b.length) return -1;
    const x = b.readDoubleBE(p + 1);
    return ${integer ? "Number.isInteger" : "Number.isFinite"}(x) && ${inRange("x", min, max, "minimum and maximum")} ? p + 9 : -1;
  }`
  }
  if (!R.readNumber(b, p)) return -1;
  const x = R.numValue;
  if (!${integer ? "Number.isInteger" : "Number.isFinite"}(x)) return -1;
  return ${inRange("x", min, max, "minimum and maximum")} ? R.numEnd : -1;`;
  }

  private array(schema: TSchema): string {
    const item = this.check(schema.items as TSchema);
    return `${countHeader(false, schema)}
  for (let i = 0; i < n; i++) { q = ${item}(b, q); if (q < 0) return -1; }
  return q;`;
  }

  private union(schema: TSchema): string {
    const variants = (schema.anyOf as TSchema[]).map((variant) => this.check(variant));
    return `let q;\n  ${variants.map((v) => `q = ${v}(b, p);\n  if (q >= 0) return q;`).join("\n  ")}\n  return -1;`;
  }

  /** A string constant (e.g. one value of an `as const` set such as a metric name). */
  private literal(schema: TSchema): string {
    if (typeof schema.const !== "string") throw new TypeError("only string literals are supported on bytes");
    const expected = Buffer.from(schema.const, "utf8");
    return `${strHeader("p", "return -1;")}
  return l === ${expected.length} && ${bytesAre("s", expected)} ? s + l : -1;`;
  }

  private record(schema: TSchema): string {
    const patterns = Object.keys(schema.patternProperties ?? {});
    if (patterns.length !== 1 || schema.additionalProperties !== false) {
      throw new TypeError("only records with one key pattern and additionalProperties: false are supported");
    }
    const source = patterns[0] as string;
    const key = this.check({ [Kind]: "String", type: "string", ...lengthOrPattern(source) } as unknown as TSchema);
    const value = this.check(schema.patternProperties[source] as TSchema);
    return `${countHeader(true, schema)}
  const from = R.keyMark();
  const seen = n > ${SMALL_MAP} ? new Set() : undefined;
  for (let i = 0; i < n; i++) {
    const v = ${key}(b, q);
    if (v < 0 || !H.recordKey(b, q, from, seen)) return R.forgetKeys(from, -1);
    q = ${value}(b, v);
    if (q < 0) return R.forgetKeys(from, -1);
  }
  return R.forgetKeys(from, q);`;
  }

  /**
   * A map of named properties. `given` receives where the value of each
   * property starts in the last map checked (-1 when absent), in the order of
   * `schema.properties`. A map of a schema some layout collects is recorded
   * there once accepted.
   */
  private object(schema: TSchema, given?: Int32Array): string {
    const layout = this.layouts.find((l) => l.schema === schema);
    const extra = schema.additionalProperties;
    if (extra !== false && extra !== true && extra !== undefined)
      throw new TypeError("only objects with additionalProperties true, false or absent are supported");
    const open = extra !== false;
    const names = Object.keys(schema.properties ?? {});
    if (names.length > 30) throw new TypeError("objects of more than 30 properties are not supported");
    const recorded = layout?.fields.map((field) => {
      const k = names.indexOf(field);
      if (k < 0) throw new TypeError(`a layout field ${field} is not a property of its schema`);
      return k;
    });
    // Where the values are: every property's for `given`, the recorded ones' for a layout.
    const kept = given !== undefined ? names.map((_, k) => k) : (recorded ?? []);
    const positions = given ?? (layout === undefined ? undefined : new Int32Array(names.length).fill(NONE));
    const at = positions === undefined ? "" : this.constant(positions);
    const fail = open ? "return R.forgetKeys(from, -1);" : "return -1;";
    let requiredMask = 0;
    const required: string[] = schema.required ?? [];
    names.forEach((name, k) => {
      if (required.includes(name) && (schema.properties[name] as TSchema)[OptionalKind] !== "Optional")
        requiredMask |= 1 << k;
    });
    // Keys by byte length: a key costs a switch and a comparison of its bytes.
    const byLength = new Map<number, number[]>();
    const keys = names.map((name) => Buffer.from(name, "utf8"));
    keys.forEach((key, k) => {
      byLength.set(key.length, [...(byLength.get(key.length) ?? []), k]);
    });
    const cases = [...byLength].map(([length, ks]) => {
      const matches = ks.map((k) => {
        const check = this.check(schema.properties[names[k] as string] as TSchema);
        const keep = kept.includes(k) ? ` ${at}[${k}] = v;` : "";
        return `if (${bytesAre("s", keys[k] as Buffer)}) { if (seen & ${1 << k}) ${fail} seen |= ${1 << k};${keep} q = ${check}(b, v); break found; }`;
      });
      return `case ${length}:\n        ${matches.join("\n        ")}\n        break;`;
    });
    const other = open ? `if (!H.otherKey(b, q, from, others)) ${fail}\n      q = R.anyDataCheck(b, v);` : "return -1;";
    const record =
      layout === undefined ? "" : `${this.constant(layout)}.record(p, q, ${at}, ${this.constant(recorded)});\n  `;
    return `${kept.map((k) => `${at}[${k}] = -1;`).join(" ")}
  ${countHeader(true, schema)}
  ${open ? `const from = R.keyMark();\n  const others = n > ${SMALL_MAP} ? new Set() : undefined;` : ""}
  let seen = 0;
  for (let i = 0; i < n; i++) {
    ${strHeader("q", fail)}
    const v = s + l;
    found: {
      switch (l) {
      ${cases.join("\n      ")}
      }
      ${other}
    }
    if (q < 0) ${fail}
  }
  if ((seen & ${requiredMask}) !== ${requiredMask}) ${fail}
  ${record}return ${open ? "R.forgetKeys(from, q)" : "q"};`;
  }
}

/**
 * Compiles `schema` into a check over msgpack bytes. Throws TypeError for schema
 * features it does not support. Maps of a schema one of `layouts` collects are
 * recorded there as the check accepts them.
 */
export function compileBytesCheck(schema: TSchema, layouts: readonly MapLayouts[] = []): BytesCheck {
  const source = new CheckSource(layouts);
  return source.compile(source.check(schema));
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
  const source = new CheckSource(layouts);
  const inner = source.compile(source.check(schema, positions));
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
