/**
 * The lexer of the filter language: query text to tokens with their offsets.
 * A dotted field path (`param.lookback`, `metric.sharpe`, `param."odd name"`)
 * is one token, so that a parameter name may start with a digit or hold a
 * keyword (`param.limit`) without the parser having to guess.
 */
import { QueryError } from "./query-error.js";

/** The kinds of token. */
export const TokenKinds = {
  Word: "word",
  String: "string",
  Number: "number",
  Op: "op",
  LParen: "(",
  RParen: ")",
  Comma: ",",
  End: "end",
} as const;

/** One segment of a dotted word; `quoted` when written as a string (`param."a b"`). */
export interface Segment {
  text: string;
  start: number;
  quoted: boolean;
}

/** A token with its source range `[start, end)`. */
export type Token =
  | { kind: typeof TokenKinds.Word; segments: Segment[]; start: number; end: number }
  | { kind: typeof TokenKinds.String; value: string; start: number; end: number }
  | { kind: typeof TokenKinds.Number; value: number; start: number; end: number }
  | { kind: typeof TokenKinds.Op; op: string; start: number; end: number }
  | {
      kind: typeof TokenKinds.LParen | typeof TokenKinds.RParen | typeof TokenKinds.Comma | typeof TokenKinds.End;
      start: number;
      end: number;
    };

const WORD_START = /[A-Za-z_]/;
const WORD_PART = /[A-Za-z0-9_]/;
const DIGIT = /[0-9]/;
const NUMBER = /-?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?/y;
/** Longest first, so `<=` is not read as `<` then `=`. */
const OPS = ["<=", ">=", "<>", "!=", "=", "<", ">", "~"] as const;
const ESCAPES: Readonly<Record<string, string>> = { n: "\n", t: "\t", r: "\r", "\\": "\\", "'": "'", '"': '"' };

/** How a token reads in an error message (`found …`). */
export function describeToken(text: string, token: Token): string {
  if (token.kind === TokenKinds.End) return "end of query";
  const source = text.slice(token.start, token.end);
  if (token.kind === TokenKinds.String) return `string ${source}`;
  if (token.kind === TokenKinds.Number) return `number ${source}`;
  return `'${source}'`;
}

/** The tokens of `text`, ending with an End token; throws {@link QueryError} at the first bad character. */
export function tokenize(text: string, field?: string): Token[] {
  const fail = (position: number, message: string, expected?: string, found?: string): never => {
    throw new QueryError(text, position, message, { field, expected, found });
  };
  const tokens: Token[] = [];
  let i = 0;

  const readString = (): { value: string; end: number } => {
    const quote = text[i];
    const start = i;
    let value = "";
    let j = i + 1;
    while (j < text.length) {
      const c = text[j] as string;
      if (c === quote) return { value, end: j + 1 };
      if (c !== "\\") {
        value += c;
        j++;
        continue;
      }
      const next = text[j + 1];
      if (next === undefined) break;
      const escaped = ESCAPES[next];
      if (escaped !== undefined) {
        value += escaped;
        j += 2;
      } else if (next === "u") {
        const hex = text.slice(j + 2, j + 6);
        if (!/^[0-9A-Fa-f]{4}$/.test(hex)) fail(j, "invalid \\u escape: expected 4 hex digits", "4 hex digits");
        value += String.fromCharCode(Number.parseInt(hex, 16));
        j += 6;
      } else {
        // Kept as written, so LIKE (`\%`) and regex (`\d`) escapes need no doubling.
        value += `\\${next}`;
        j += 2;
      }
    }
    return fail(start, `unterminated string: no closing ${quote}`, `closing ${quote}`, "end of query");
  };

  while (i < text.length) {
    const c = text[i] as string;
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    const start = i;
    if (c === "(" || c === ")" || c === ",") {
      tokens.push({ kind: c, start, end: i + 1 });
      i++;
      continue;
    }
    if (c === "'" || c === '"') {
      const { value, end } = readString();
      tokens.push({ kind: TokenKinds.String, value, start, end });
      i = end;
      continue;
    }
    if (DIGIT.test(c) || ((c === "-" || c === ".") && /[0-9.]/.test(text[i + 1] ?? ""))) {
      NUMBER.lastIndex = i;
      const match = NUMBER.exec(text);
      if (match === null) return fail(start, `unexpected character '${c}'`, "a number", `'${c}'`);
      const value = Number(match[0]);
      if (!Number.isFinite(value)) fail(start, `number ${match[0]} is out of range`);
      i += match[0].length;
      if (WORD_PART.test(text[i] ?? "")) fail(i, `unexpected character '${text[i]}' after number ${match[0]}`);
      tokens.push({ kind: TokenKinds.Number, value, start, end: i });
      continue;
    }
    if (WORD_START.test(c)) {
      const segments: Segment[] = [];
      let j = i;
      while (WORD_PART.test(text[j] ?? "")) j++;
      segments.push({ text: text.slice(i, j), start: i, quoted: false });
      i = j;
      while (text[i] === ".") {
        i++;
        const q = text[i];
        if (q === "'" || q === '"') {
          const segmentStart = i;
          const { value, end } = readString();
          segments.push({ text: value, start: segmentStart, quoted: true });
          i = end;
        } else if (WORD_PART.test(q ?? "")) {
          const segmentStart = i;
          while (WORD_PART.test(text[i] ?? "")) i++;
          segments.push({ text: text.slice(segmentStart, i), start: segmentStart, quoted: false });
        } else {
          fail(i, "expected a name after '.'", "a name", q === undefined ? "end of query" : `'${q}'`);
        }
      }
      tokens.push({ kind: TokenKinds.Word, segments, start, end: i });
      continue;
    }
    const op = OPS.find((o) => text.startsWith(o, i));
    if (op !== undefined) {
      tokens.push({ kind: TokenKinds.Op, op, start, end: i + op.length });
      i += op.length;
      continue;
    }
    fail(start, `unexpected character '${c}'`, undefined, `'${c}'`);
  }
  tokens.push({ kind: TokenKinds.End, start: text.length, end: text.length });
  return tokens;
}
