/**
 * The canonical text form of an expression and its parser. The text is the identity of a
 * pattern: the compile cache, de-duplication in a population and, later, stored candidates all
 * key on it, so `print` has exactly one output per tree and `parse(print(e))` gives `e` back.
 *
 * Grammar (whitespace between tokens is ignored):
 *
 *     expr      := NAME "(" [ arguments ] ")"
 *     arguments := item { "," item }        -- the operator's child expressions, then its parameter
 *     item      := expr | NUMBER | ASSET
 *     NAME      := [a-z_]+                   -- an operator of OPS
 *     ASSET     := [A-Za-z_][A-Za-z0-9_.-]* | JSON string
 *     NUMBER    := -?(digits[.digits] | .digits)([eE][+-]?digits)?
 */
import { type Expr, integerSet, isOp, type NodeType, OPS } from "./ast.js";
import { ExpressionError, ExpressionErrorCodes } from "./errors.js";
import { isBareAsset } from "./tree.js";

/** The canonical text of an expression: `name(arg, …, param)`, `", "` between items. */
export function print(expr: Expr): string {
  const items = expr.args.map(print);
  if (expr.asset !== undefined) items.push(isBareAsset(expr.asset) ? expr.asset : JSON.stringify(expr.asset));
  if (expr.k !== undefined) items.push(String(expr.k));
  // String() is the shortest text that reads back as the same double; −0 keeps its sign.
  if (expr.c !== undefined) items.push(Object.is(expr.c, -0) ? "-0" : String(expr.c));
  return `${expr.op}(${items.join(", ")})`;
}

const NUMBER = /-?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?/y;
const NAME = /[A-Za-z_][A-Za-z0-9_.-]*/y;
const STRING = /"(?:[^"\\]|\\.)*"/y;

/**
 * Reads an expression from its text form (canonical or with any spacing). With `expected`, the
 * root must have that type (`"position"` for a strategy). Throws an {@link ExpressionError}
 * (`PARSE`) whose `position` is the offset of the offending character and whose message says
 * what was expected there.
 */
export function parse(text: string, expected?: NodeType): Expr {
  const reader = new Reader(text);
  const start = reader.skip();
  const expr = reader.expr();
  reader.skip();
  if (reader.pos < text.length) throw reader.fail("end of input");
  const type = OPS[expr.op].type;
  if (expected !== undefined && type !== expected) {
    throw new ExpressionError(ExpressionErrorCodes.PARSE, `expected a ${expected} at ${start}, got a ${type}`, {
      position: start,
    });
  }
  return expr;
}

class Reader {
  pos = 0;

  constructor(readonly text: string) {}

  skip(): number {
    while (this.pos < this.text.length && /\s/.test(this.text[this.pos] as string)) this.pos++;
    return this.pos;
  }

  fail(expected: string, at = this.pos): ExpressionError {
    const found = at < this.text.length ? JSON.stringify(this.text.slice(at, at + 12)) : "end of input";
    return new ExpressionError(ExpressionErrorCodes.PARSE, `expected ${expected} at ${at}, found ${found}`, {
      position: at,
    });
  }

  match(pattern: RegExp): string | undefined {
    pattern.lastIndex = this.pos;
    const m = pattern.exec(this.text);
    if (m === null) return undefined;
    this.pos += m[0].length;
    return m[0];
  }

  punct(char: string): void {
    this.skip();
    if (this.text[this.pos] !== char) throw this.fail(`"${char}"`);
    this.pos++;
  }

  expr(): Expr {
    const at = this.skip();
    const name = this.match(NAME);
    if (name === undefined) throw this.fail("an operator name");
    if (!isOp(name))
      throw new ExpressionError(ExpressionErrorCodes.PARSE, `unknown operator ${name} at ${at}`, { position: at });
    const spec = OPS[name];
    this.punct("(");
    const args: Expr[] = [];
    spec.args.forEach((want, i) => {
      if (i > 0) this.punct(",");
      const argAt = this.skip();
      const arg = this.expr();
      const got = OPS[arg.op].type;
      if (got !== want) {
        throw new ExpressionError(
          ExpressionErrorCodes.PARSE,
          `${name} needs a ${want} at ${argAt}, got a ${got} (${arg.op})`,
          { position: argAt },
        );
      }
      args.push(arg);
    });
    let expr: Expr = { op: name, args };
    if ("param" in spec) {
      if (spec.args.length > 0) this.punct(",");
      const paramAt = this.skip();
      if (spec.param === "asset") {
        expr = { op: name, args, asset: this.asset() };
      } else if (spec.param === "threshold") {
        expr = { op: name, args, c: this.number("a threshold") };
      } else {
        const allowed = integerSet(spec.param);
        const k = this.number(`a ${spec.param} (one of ${allowed.join(", ")})`);
        if (!allowed.includes(k)) throw this.fail(`a ${spec.param} (one of ${allowed.join(", ")})`, paramAt);
        expr = { op: name, args, k };
      }
    }
    this.punct(")");
    return expr;
  }

  asset(): string {
    const at = this.pos;
    if (this.text[at] === '"') {
      const quoted = this.match(STRING);
      if (quoted === undefined) throw this.fail("a closed string");
      const name = JSON.parse(quoted) as string;
      if (name.length === 0) throw this.fail("a non-empty asset name", at);
      return name;
    }
    const name = this.match(NAME);
    if (name === undefined) throw this.fail("an asset name");
    return name;
  }

  number(what: string): number {
    const at = this.pos;
    const literal = this.match(NUMBER);
    if (literal === undefined) throw this.fail(what);
    const value = Number(literal);
    if (!Number.isFinite(value)) throw this.fail(`${what} within the range of a double`, at);
    return value;
  }
}
