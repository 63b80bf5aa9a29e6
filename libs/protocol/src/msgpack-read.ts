/**
 * The one reader of request bytes: the msgpack readers every check shares, and
 * {@link standardMsgpackProblem}, whether a payload is exactly one value of
 * standard msgpack *data*, as any peer decodes it to what was sent: no extension
 * types, valid UTF-8 in every string, string map keys, none repeated in a map,
 * none starting with U+FEFF, at most {@link MAX_NESTING} levels of maps and
 * arrays, nothing after the value. It also says where a `__proto__` key is
 * (JavaScript decoders cannot keep it as a key). Every request path checks its
 * bytes here before anything decodes them, so that what msgpackr would quietly
 * change is refused instead of stored. msgpack-check.ts compiles schema-driven
 * checks on top of these readers.
 */
import { isUtf8 } from "node:buffer";

export const NONE = -1;

/** Most levels of nested maps and arrays a request may have, its envelope map being the first. */
export const MAX_NESTING = 64;

/** Why bytes are not standard msgpack data (see {@link standardMsgpackProblem}). */
export const MsgpackProblems = {
  /** The bytes end inside a value, or there are none. */
  Truncated: "truncated",
  /** An extension type (`0xc7`-`0xc9`, `0xd4`-`0xd8`) or the never-used byte `0xc1`. */
  NotData: "not-data",
  /** A string (value or key) that is not valid UTF-8. */
  InvalidUtf8: "invalid-utf8",
  /** A map key that is not a string. */
  KeyNotString: "key-not-string",
  /** A map that holds the same key twice. */
  KeyRepeated: "key-repeated",
  /** A map key starting with U+FEFF, which JavaScript decoders may drop. */
  KeyByteOrderMark: "key-byte-order-mark",
  /** Maps and arrays nested more than {@link MAX_NESTING} levels deep. */
  TooDeep: "too-deep",
  /** Bytes after the value. */
  Trailing: "trailing",
  /** A map key `__proto__` (JavaScript decoders rename it); reported only when nothing else is wrong. */
  ProtoKey: "proto-key",
} as const;
export type MsgpackProblemKind = (typeof MsgpackProblems)[keyof typeof MsgpackProblems];

/** Where a path goes: map keys and array indexes from the top. */
export type MsgpackPath = Array<string | number>;

/** The first thing in some bytes that is not standard msgpack data. */
export interface MsgpackProblem {
  kind: MsgpackProblemKind;
  /** Byte offset of the offending value or key (for Trailing: of the first extra byte). */
  at: number;
  /** Keys and indexes down to the value; for a key problem, down to its map (a repeated or `__proto__` key included). */
  path: MsgpackPath;
  /** For NotData: the type byte, and the extension's type number when it is an extension and that byte is there. */
  typeByte?: number;
  extType?: number;
}

// Results of the readers below, kept in module state to avoid allocating per value.
export let strStart = 0;
export let strLength = 0;
export let numValue = 0;
export let numEnd = 0;
export let mapStart = 0;

const isStrType = (t: number): boolean => (t >= 0xa0 && t <= 0xbf) || t === 0xd9 || t === 0xda || t === 0xdb;

/** Reads a str header at `p` into strStart/strLength; false if the value is not a str or is cut short. */
export function readStr(b: Buffer, p: number): boolean {
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

/**
 * The largest int 64 / uint 64 the decoder turns into a number (2^53, as msgpackr's
 * `int64AsType: "auto"` does); larger ones become BigInts, which no schema takes.
 */
const INT64_AS_NUMBER = 2n ** 53n;

/** Reads a number at `p` into numValue/numEnd; false if the value is not a number the decoder represents exactly. */
export function readNumber(b: Buffer, p: number): boolean {
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
    case 0xcf: {
      const big = b.readBigUInt64BE(p + 1);
      if (big > INT64_AS_NUMBER) return false;
      numValue = Number(big);
      break;
    }
    case 0xd0:
      numValue = b.readInt8(p + 1);
      break;
    case 0xd1:
      numValue = b.readInt16BE(p + 1);
      break;
    case 0xd2:
      numValue = b.readInt32BE(p + 1);
      break;
    default: {
      const big = b.readBigInt64BE(p + 1);
      if (big > INT64_AS_NUMBER || big < -INT64_AS_NUMBER) return false;
      numValue = Number(big);
    }
  }
  numEnd = p + need;
  return true;
}

/** Whether the str at strStart/strLength is all ASCII. */
export function strIsAscii(b: Buffer): boolean {
  const end = strStart + strLength;
  for (let i = strStart; i < end; i++) if ((b[i] as number) > 0x7f) return false;
  return true;
}

/** Whether the str at strStart/strLength is valid UTF-8 (most are ASCII: only those with a high byte take the full check). */
export function strIsUtf8(b: Buffer): boolean {
  return strIsAscii(b) || isUtf8(b.subarray(strStart, strStart + strLength));
}

/** The text of the str at strStart/strLength, or undefined if it is not valid UTF-8. */
export function strText(b: Buffer): string | undefined {
  if (strIsAscii(b)) return b.toString("latin1", strStart, strStart + strLength);
  return isUtf8(b.subarray(strStart, strStart + strLength))
    ? b.toString("utf8", strStart, strStart + strLength)
    : undefined;
}

/** The entry count of the map at `p` (and its first key's position in mapStart), or -1. */
export function mapHeader(b: Buffer, p: number): number {
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

export let arrayStart = 0;

/** The item count of the array at `p` (and its first item's position in arrayStart), or -1. */
export function arrayHeader(b: Buffer, p: number): number {
  const t = b[p];
  if (t === undefined) return NONE;
  if (t >= 0x90 && t <= 0x9f) {
    arrayStart = p + 1;
    return t & 0x0f;
  }
  if (t === 0xdc && p + 3 <= b.length) {
    arrayStart = p + 3;
    return b.readUInt16BE(p + 1);
  }
  if (t === 0xdd && p + 5 <= b.length) {
    arrayStart = p + 5;
    return b.readUInt32BE(p + 1);
  }
  return NONE;
}

/** Whether the str at strStart/strLength is exactly `key`. */
export function strIs(b: Buffer, key: Uint8Array): boolean {
  if (key.length !== strLength) return false;
  for (let i = 0; i < strLength; i++) if (b[strStart + i] !== key[i]) return false;
  return true;
}

export const PROTO_KEY = Buffer.from("__proto__");

/**
 * Whether the str at strStart/strLength starts with U+FEFF, which msgpackr's
 * JavaScript decoder (used where msgpackr-extract is not built) drops from
 * longer strings: such a key could decode to another key of the same map.
 */
export function startsWithBom(b: Buffer): boolean {
  return strLength >= 3 && b[strStart] === 0xef && b[strStart + 1] === 0xbb && b[strStart + 2] === 0xbf;
}

// ---- Keys seen in the maps being walked --------------------------------------------------------

/**
 * The keys of the maps being walked, as a stack (maps nest): each map compares a
 * key with its own keys, from where its first key was pushed. A map of many
 * keys uses a Set instead, so that a large map costs linear time, not quadratic.
 * The arrays only grow; `keyTop` is the stack's height.
 */
const keyStarts: number[] = [];
const keyLengths: number[] = [];
let keyTop = 0;
export const SMALL_MAP = 16;

/** Where the keys of a map about to be walked start on the stack (pass it to repeatsKey and forgetKeys). */
export function keyMark(): number {
  return keyTop;
}

/**
 * Whether the str at strStart/strLength is a key already seen in this map (its
 * keys pushed from `from`, or in `seen` for a large map); remembers it if not.
 */
export function repeatsKey(b: Buffer, from: number, seen: Set<string> | undefined): boolean {
  if (seen !== undefined) {
    const text = b.toString("latin1", strStart, strStart + strLength);
    if (seen.has(text)) return true;
    seen.add(text);
    return false;
  }
  for (let k = from; k < keyTop; k++) {
    const start = keyStarts[k] as number;
    if (keyLengths[k] === strLength && b.compare(b, start, start + strLength, strStart, strStart + strLength) === 0) {
      return true;
    }
  }
  keyStarts[keyTop] = strStart;
  keyLengths[keyTop] = strLength;
  keyTop++;
  return false;
}

/** Forgets the keys of the map whose keys start at `from`, and passes `result` on. */
export function forgetKeys(from: number, result: number): number {
  keyTop = from;
  return result;
}

/**
 * Whether the str at strStart/strLength may be a key of a map whose other keys
 * start at `from` (or are in `seen`): not `__proto__` (JavaScript decoders
 * rename it), not starting with U+FEFF, not given before in this map.
 */
export function freshKey(b: Buffer, from: number, seen: Set<string> | undefined): boolean {
  return !strIs(b, PROTO_KEY) && !startsWithBom(b) && !repeatsKey(b, from, seen);
}

// ---- Any standard msgpack data -----------------------------------------------------------------

// The first problem a walk met, and where the first `__proto__` key is (-1: none).
let failKind: MsgpackProblemKind = MsgpackProblems.Truncated;
let failAt = 0;
let failPath: MsgpackPath = [];
let failTypeByte = 0;
let protoAt = NONE;
let protoPath: MsgpackPath = [];

/** Records the first problem (with its path, when the walk keeps one) and answers NONE. */
function fail(kind: MsgpackProblemKind, at: number, path: MsgpackPath | undefined, key?: string): number {
  failKind = kind;
  failAt = at;
  if (path !== undefined) failPath = key === undefined ? [...path] : [...path, key];
  return NONE;
}

/** Byte lengths of the scalar types 0xc0-0xd3 with a fixed size; 0 for the others. */
const FIXED_SIZE = [1, 0, 1, 1, 0, 0, 0, 0, 0, 0, 5, 9, 2, 3, 5, 9, 2, 3, 5, 9];

/**
 * Walks any standard msgpack data at `p`, `depth` maps and arrays deep; returns
 * the position after it or NONE (and the problem in module state). With a `path`,
 * it keeps the path to where it is, for the problem's report (slower: errors only).
 */
function walkAny(b: Buffer, p: number, depth: number, path: MsgpackPath | undefined): number {
  const t = b[p];
  if (t === undefined) return fail(MsgpackProblems.Truncated, p, path);
  if (t < 0x80 || t >= 0xe0) return p + 1;
  if (isStrType(t)) {
    if (!readStr(b, p)) return fail(MsgpackProblems.Truncated, p, path);
    return strIsUtf8(b) ? strStart + strLength : fail(MsgpackProblems.InvalidUtf8, p, path);
  }
  if (t < 0x90 || t === 0xde || t === 0xdf) return walkMap(b, p, depth, path);
  if (t < 0xa0 || t === 0xdc || t === 0xdd) {
    const count = arrayHeader(b, p);
    if (count === NONE) return fail(MsgpackProblems.Truncated, p, path);
    if (depth >= MAX_NESTING) return fail(MsgpackProblems.TooDeep, p, path);
    let q = arrayStart;
    for (let i = 0; i < count && q !== NONE; i++) {
      path?.push(i);
      q = walkAny(b, q, depth + 1, path);
      path?.pop();
    }
    return q;
  }
  let end: number;
  if (t === 0xc4) end = p + 2 + (b[p + 1] ?? 0);
  else if (t === 0xc5) end = p + 3 + (p + 3 <= b.length ? b.readUInt16BE(p + 1) : 0);
  else if (t === 0xc6) end = p + 5 + (p + 5 <= b.length ? b.readUInt32BE(p + 1) : 0);
  else if (t <= 0xd3 && (FIXED_SIZE[t - 0xc0] as number) > 0) end = p + (FIXED_SIZE[t - 0xc0] as number);
  else {
    failTypeByte = t;
    return fail(MsgpackProblems.NotData, p, path);
  }
  return end <= b.length ? end : fail(MsgpackProblems.Truncated, p, path);
}

function walkMap(b: Buffer, p: number, depth: number, path: MsgpackPath | undefined): number {
  const count = mapHeader(b, p);
  if (count === NONE) return fail(MsgpackProblems.Truncated, p, path);
  if (depth >= MAX_NESTING) return fail(MsgpackProblems.TooDeep, p, path);
  const from = keyTop;
  const seen = count > SMALL_MAP ? new Set<string>() : undefined;
  let q = mapStart;
  for (let i = 0; i < count; i++) {
    const t = b[q];
    if (t === undefined || (isStrType(t) && !readStr(b, q)))
      return forgetKeys(from, fail(MsgpackProblems.Truncated, q, path));
    if (!isStrType(t)) return forgetKeys(from, fail(MsgpackProblems.KeyNotString, q, path));
    if (!strIsUtf8(b)) return forgetKeys(from, fail(MsgpackProblems.InvalidUtf8, q, path));
    if (startsWithBom(b)) return forgetKeys(from, fail(MsgpackProblems.KeyByteOrderMark, q, path));
    const key = path === undefined ? undefined : b.toString("utf8", strStart, strStart + strLength);
    if (repeatsKey(b, from, seen)) return forgetKeys(from, fail(MsgpackProblems.KeyRepeated, q, path, key));
    if (protoAt === NONE && strIs(b, PROTO_KEY)) {
      protoAt = q;
      if (path !== undefined) protoPath = [...path, "__proto__"];
    }
    const valueAt = strStart + strLength;
    if (key !== undefined) path?.push(key);
    q = walkAny(b, valueAt, depth + 1, path);
    if (key !== undefined) path?.pop();
    if (q === NONE) return forgetKeys(from, NONE);
  }
  return forgetKeys(from, q);
}

/**
 * The first reason `bytes` are not exactly one value of standard msgpack data
 * (see {@link MsgpackProblems}), or undefined if they are. A `__proto__` key is
 * reported (as ProtoKey, the first one) only when nothing else is wrong.
 */
export function standardMsgpackProblem(bytes: Buffer): MsgpackProblem | undefined {
  protoAt = NONE;
  const end = walkAny(bytes, 0, 0, undefined);
  if (end === bytes.length && protoAt === NONE) return undefined;
  // Something is wrong: walk again keeping the path, to say where.
  protoAt = NONE;
  failPath = [];
  const again = walkAny(bytes, 0, 0, []);
  if (again === NONE) {
    const problem: MsgpackProblem = { kind: failKind, at: failAt, path: failPath };
    if (failKind === MsgpackProblems.NotData) {
      problem.typeByte = failTypeByte;
      const extType = extTypeAt(bytes, failAt);
      if (extType !== undefined) problem.extType = extType;
    }
    return problem;
  }
  if (again !== bytes.length) return { kind: MsgpackProblems.Trailing, at: again, path: [] };
  return { kind: MsgpackProblems.ProtoKey, at: protoAt, path: protoPath };
}

/** The type number of the extension at `p` (a signed byte), if it is one and that byte is there. */
function extTypeAt(b: Buffer, p: number): number | undefined {
  const t = b[p] as number;
  const at = t >= 0xd4 && t <= 0xd8 ? p + 1 : t === 0xc7 ? p + 2 : t === 0xc8 ? p + 3 : t === 0xc9 ? p + 5 : NONE;
  return at === NONE || at >= b.length ? undefined : b.readInt8(at);
}

/** A BytesCheck of any standard msgpack data nested in a map (`__proto__` keys refused too). */
export function anyDataCheck(b: Buffer, p: number): number {
  const outer = protoAt;
  protoAt = NONE;
  const end = walkAny(b, p, 1, undefined);
  const proto = protoAt !== NONE;
  protoAt = outer;
  return proto ? NONE : end;
}

// ---- Reading values of checked bytes ------------------------------------------------------------

/** The str at `p` as text, if it is a str of valid UTF-8. */
export function stringAt(b: Buffer, p: number): string | undefined {
  return readStr(b, p) ? strText(b) : undefined;
}

/** The number at `p`, if it is a number (of any width) that JavaScript represents exactly. */
export function numberAt(b: Buffer, p: number): number | undefined {
  return readNumber(b, p) ? numValue : undefined;
}

/**
 * Where the values of `names` start in the map at `p` (-1 when absent), walking
 * the other values as standard msgpack data; undefined if the bytes there are not
 * a map of standard msgpack data.
 */
export function mapValuePositions(b: Buffer, p: number, names: readonly string[]): Int32Array | undefined {
  const count = mapHeader(b, p);
  if (count === NONE) return undefined;
  const wanted = names.map((name) => Buffer.from(name, "utf8"));
  const positions = new Int32Array(names.length).fill(NONE);
  let q = mapStart;
  for (let i = 0; i < count; i++) {
    if (!readStr(b, q)) return undefined;
    const valueAt = strStart + strLength;
    const k = wanted.findIndex((key) => strIs(b, key));
    if (k >= 0 && positions[k] === NONE) positions[k] = valueAt;
    protoAt = NONE;
    q = walkAny(b, valueAt, 1, undefined);
    if (q === NONE) return undefined;
  }
  return positions;
}
