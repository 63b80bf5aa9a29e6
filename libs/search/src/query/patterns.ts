/**
 * LIKE and regex patterns as RegExps: one reader of the LIKE syntax, used by
 * the parser (to refuse a bad pattern with its position) and by the compiler
 * (to build the RegExp once per query, not once per strategy).
 */
import { type MatchMode, MatchModes } from "./ast.js";

const REGEX_SPECIAL = /[.*+?^${}()|[\]\\/]/g;

/**
 * The RegExp of a SQL LIKE pattern: `%` is any run of characters, `_` exactly
 * one (UTF-16 code unit), `\` makes the next character literal; anchored at
 * both ends. Throws on a trailing lone `\`, giving the offset in the pattern.
 */
export function likeToRegExp(pattern: string, caseInsensitive: boolean): RegExp {
  let source = "";
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i] as string;
    if (c === "\\") {
      const next = pattern[i + 1];
      if (next === undefined) throw new PatternError("LIKE pattern ends in a lone escape '\\'", i);
      source += next.replace(REGEX_SPECIAL, "\\$&");
      i++;
    } else if (c === "%") source += "[\\s\\S]*";
    else if (c === "_") source += "[\\s\\S]";
    else source += c.replace(REGEX_SPECIAL, "\\$&");
  }
  // No `g` flag: a global RegExp keeps `lastIndex` between tests and would skip matches.
  return new RegExp(`^${source}$`, caseInsensitive ? "i" : "");
}

/** A pattern that does not compile, with the offset of the fault inside the pattern when known. */
export class PatternError extends Error {
  override name = "PatternError";
  constructor(
    message: string,
    readonly offset: number,
  ) {
    super(message);
  }
}

/** The RegExp of a match: LIKE, ILIKE or a JavaScript regex (unanchored, as `RegExp.test` searches). */
export function patternToRegExp(mode: MatchMode, pattern: string): RegExp {
  if (mode === MatchModes.Regex) {
    try {
      return new RegExp(pattern);
    } catch (err) {
      // V8 says "Invalid regular expression: /(/: Unterminated group"; keep the part after its prefix.
      const reason = (err instanceof Error ? err.message : String(err)).replace(/^Invalid regular expression: /, "");
      throw new PatternError(`invalid regular expression ${reason}`, 0);
    }
  }
  return likeToRegExp(pattern, mode === MatchModes.Ilike);
}
