/**
 * The canonical text of a query: keywords in upper case, fields by their
 * canonical names, strings single-quoted. Nested AND/OR are parenthesised even
 * where precedence would not need it, so that parsing the text gives back the
 * same tree (the round-trip property the tests check), and a service can log or
 * cache queries by one spelling.
 */
import { type Expr, FieldKinds, type FieldRef, type Literal, MatchModes, NodeKinds, type Query } from "./ast.js";

const BARE_NAME = /^[A-Za-z0-9_]+$/;

/** A string literal in `quote`s, with `\`, the quote and control characters escaped. */
export function quoteString(value: string, quote: "'" | '"' = "'"): string {
  let out = quote;
  for (const c of value) {
    if (c === "\\" || c === quote) out += `\\${c}`;
    else if (c === "\n") out += "\\n";
    else if (c === "\r") out += "\\r";
    else if (c === "\t") out += "\\t";
    else if (c < " " || c === "\u007f") out += `\\u${c.charCodeAt(0).toString(16).padStart(4, "0")}`;
    else out += c;
  }
  return out + quote;
}

/** A field as the query language writes it. */
export function printField(field: FieldRef): string {
  if (field.kind === FieldKinds.Param) {
    return `param.${BARE_NAME.test(field.name) ? field.name : quoteString(field.name, '"')}`;
  }
  return field.name;
}

function printLiteral(literal: Literal): string {
  const { value } = literal;
  return typeof value === "string" ? quoteString(value) : String(value);
}

/** An expression's text; `nested` when it sits under AND, OR or NOT and must keep its grouping. */
export function printExpr(expr: Expr, nested = false): string {
  switch (expr.kind) {
    case NodeKinds.Or:
    case NodeKinds.And: {
      const text = expr.operands.map((e) => printExpr(e, true)).join(expr.kind === NodeKinds.Or ? " OR " : " AND ");
      return nested ? `(${text})` : text;
    }
    case NodeKinds.Not:
      return `NOT ${printExpr(expr.operand, true)}`;
    case NodeKinds.Compare:
      return `${printField(expr.field)} ${expr.op} ${printLiteral(expr.value)}`;
    case NodeKinds.In:
      return `${printField(expr.field)} ${expr.negated ? "NOT IN" : "IN"} (${expr.values.map(printLiteral).join(", ")})`;
    case NodeKinds.Match: {
      const op = expr.mode === MatchModes.Regex ? "REGEXP" : expr.mode.toUpperCase();
      return `${printField(expr.field)} ${expr.negated ? "NOT " : ""}${op} ${quoteString(expr.pattern.value)}`;
    }
    case NodeKinds.IsNull:
      return `${printField(expr.field)} IS ${expr.negated ? "NOT NULL" : "NULL"}`;
    case NodeKinds.Between:
      return `${printField(expr.field)} ${expr.negated ? "NOT BETWEEN" : "BETWEEN"} ${printLiteral(expr.low)} AND ${printLiteral(expr.high)}`;
  }
}

/** The canonical text of a whole query (the empty string for one that matches everything, unordered). */
export function printQuery(query: Query): string {
  const parts: string[] = [];
  if (query.filter !== null) parts.push(printExpr(query.filter));
  if (query.orderBy.length > 0) {
    const keys = query.orderBy.map((k) => `${printField(k.field)} ${k.direction.toUpperCase()}`);
    parts.push(`ORDER BY ${keys.join(", ")}`);
  }
  if (query.limit !== null) parts.push(`LIMIT ${query.limit}`);
  return parts.join(" ");
}
