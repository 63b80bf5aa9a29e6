/**
 * The parser of the filter language: tokens to a typed, checked {@link Query}.
 *
 * Hand-written recursive descent rather than a generated parser (peggy): the
 * grammar is five levels deep, and the errors are the product — each names
 * what was expected and what was found in the user's terms (`expected a number
 * for sharpe`), and the checks a grammar tool cannot do (unknown field, a
 * string compared with a number field, a regex that does not compile) report
 * positions the same way. It also keeps the library free of a runtime grammar
 * compile and of a dependency for ~300 lines of code.
 *
 * ```
 * query   := [expr] [ORDER BY key (',' key)*] [LIMIT n]
 * expr    := and (OR and)*
 * and     := not (AND not)*
 * not     := NOT not | primary
 * primary := '(' expr ')' | comparison
 * ```
 */
import {
  type CompareOp,
  type Expr,
  FIELD_ALIASES,
  FieldKinds,
  type FieldRef,
  fieldSpec,
  type Literal,
  type MatchMode,
  MatchModes,
  METRIC_ALIASES,
  NodeKinds,
  type OrderKey,
  type Query,
  QueryLimits,
  type Span,
  ValueTypes,
} from "./ast.js";
import { describeToken, type Segment, type Token, TokenKinds, tokenize } from "./lexer.js";
import { PatternError, patternToRegExp } from "./patterns.js";
import { QueryError } from "./query-error.js";

/** Options of {@link parseQuery}. */
export interface ParseOptions {
  /** Path of the request field that held the query, for the error's `field` (default `body.query`). */
  field?: string;
}

/** Reserved words (matched case-insensitively); none is a field name, so a field never needs quoting. */
const KEYWORDS: ReadonlySet<string> = new Set(
  "AND OR NOT IN LIKE ILIKE REGEXP IS NULL BETWEEN TRUE FALSE ORDER BY ASC DESC LIMIT".split(" "),
);

const OPERATORS_EXPECTED = "an operator (=, !=, <>, <, <=, >, >=, IN, LIKE, ILIKE, ~, REGEXP, IS, BETWEEN)";

/** Parses and checks a query; throws {@link QueryError} with the position of the first fault. */
export function parseQuery(text: string, options: ParseOptions = {}): Query {
  if (text.length > QueryLimits.maxLength) {
    throw new QueryError(text, QueryLimits.maxLength, `query is longer than ${QueryLimits.maxLength} characters`, {
      field: options.field,
    });
  }
  return new Parser(text, tokenize(text, options.field), options.field).query();
}

class Parser {
  private index = 0;
  private depth = 0;

  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
    private readonly fieldPath: string | undefined,
  ) {}

  query(): Query {
    let filter: Expr | null = null;
    if (!this.atKeyword("ORDER") && !this.atKeyword("LIMIT") && this.peek().kind !== TokenKinds.End) {
      filter = this.or();
    }
    const orderBy: OrderKey[] = [];
    if (this.atKeyword("ORDER")) {
      this.next();
      this.expectKeyword("BY");
      do orderBy.push(this.orderKey());
      while (this.accept(TokenKinds.Comma));
    }
    let limit: number | null = null;
    if (this.atKeyword("LIMIT")) {
      this.next();
      const token = this.peek();
      if (token.kind !== TokenKinds.Number || !Number.isInteger(token.value) || token.value < 0) {
        this.fail(token, "a whole number of strategies after LIMIT");
      }
      limit = (token as { value: number }).value;
      if (limit > QueryLimits.maxLimit) {
        throw this.error(token.start, `LIMIT ${limit} exceeds the maximum of ${QueryLimits.maxLimit}`);
      }
      this.next();
    }
    const expected =
      limit !== null
        ? "end of query"
        : orderBy.length > 0
          ? "',', LIMIT or end of query"
          : "AND, OR, ORDER BY, LIMIT or end of query";
    if (this.peek().kind !== TokenKinds.End) this.fail(this.peek(), expected);
    return { filter, orderBy, limit };
  }

  private or(): Expr {
    return this.nary(NodeKinds.Or, "OR", () => this.and());
  }

  private and(): Expr {
    return this.nary(NodeKinds.And, "AND", () => this.not());
  }

  private nary(kind: typeof NodeKinds.Or | typeof NodeKinds.And, keyword: string, operand: () => Expr): Expr {
    const first = operand();
    const operands = [first];
    while (this.atKeyword(keyword)) {
      this.next();
      operands.push(operand());
    }
    if (operands.length === 1) return first;
    return { kind, operands, span: this.spanFrom(first.span.start) };
  }

  private not(): Expr {
    if (!this.atKeyword("NOT")) return this.primary();
    const start = this.next().start;
    this.enter(start);
    const operand = this.not();
    this.depth--;
    return { kind: NodeKinds.Not, operand, span: this.spanFrom(start) };
  }

  private primary(): Expr {
    const token = this.peek();
    if (token.kind !== TokenKinds.LParen) return this.comparison();
    this.next();
    this.enter(token.start);
    const inner = this.or();
    this.depth--;
    if (!this.accept(TokenKinds.RParen)) this.fail(this.peek(), "')' or AND/OR");
    return inner;
  }

  private comparison(): Expr {
    const field = this.field("a comparison (field, NOT or '(')");
    const start = field.span.start;
    const spec = fieldSpec(field);
    const token = this.peek();
    if (token.kind === TokenKinds.Op) {
      this.next();
      if (token.op === "~") return this.match(field, MatchModes.Regex, false, start);
      const op = (token.op === "<>" ? "!=" : token.op) as CompareOp;
      const value = this.value(field, op !== "=" && op !== "!=");
      return { kind: NodeKinds.Compare, field, op, value, span: this.spanFrom(start) };
    }
    if (this.atKeyword("IS")) {
      this.next();
      const negated = this.acceptKeyword("NOT");
      this.expectKeyword("NULL", negated ? "NULL" : "NULL or NOT NULL");
      return { kind: NodeKinds.IsNull, field, negated, span: this.spanFrom(start) };
    }
    const negated = this.acceptKeyword("NOT");
    if (this.acceptKeyword("IN")) {
      if (!this.accept(TokenKinds.LParen)) this.fail(this.peek(), "'(' after IN");
      const values: Literal[] = [];
      do values.push(this.value(field, false));
      while (this.accept(TokenKinds.Comma));
      if (!this.accept(TokenKinds.RParen)) this.fail(this.peek(), "',' or ')' in the IN list");
      return { kind: NodeKinds.In, field, negated, values, span: this.spanFrom(start) };
    }
    if (this.acceptKeyword("BETWEEN")) {
      const low = this.value(field, true);
      this.expectKeyword("AND", "AND between the bounds of BETWEEN");
      const high = this.value(field, true);
      if (spec.type === ValueTypes.Any && typeof low.value !== typeof high.value) {
        throw this.error(
          high.span.start,
          `the bounds of BETWEEN must be of one type: ${typeof low.value} and ${typeof high.value}`,
        );
      }
      return { kind: NodeKinds.Between, field, negated, low, high, span: this.spanFrom(start) };
    }
    if (this.acceptKeyword("LIKE")) return this.match(field, MatchModes.Like, negated, start);
    if (this.acceptKeyword("ILIKE")) return this.match(field, MatchModes.Ilike, negated, start);
    if (this.acceptKeyword("REGEXP")) return this.match(field, MatchModes.Regex, negated, start);
    return this.fail(this.peek(), negated ? "IN, LIKE, ILIKE, REGEXP or BETWEEN after NOT" : OPERATORS_EXPECTED);
  }

  private match(field: FieldRef, mode: MatchMode, negated: boolean, start: number): Expr {
    const spec = fieldSpec(field);
    if (spec.type === ValueTypes.Number) {
      throw this.error(field.span.start, `${mode.toUpperCase()} applies to text; ${fieldName(field)} holds numbers`);
    }
    const token = this.peek();
    if (token.kind !== TokenKinds.String)
      return this.fail(token, `a quoted ${mode === MatchModes.Regex ? "regex" : "pattern"}`);
    this.next();
    if (token.value.length > QueryLimits.maxPatternLength) {
      throw this.error(token.start, `pattern is longer than ${QueryLimits.maxPatternLength} characters`);
    }
    try {
      patternToRegExp(mode, token.value);
    } catch (err) {
      if (!(err instanceof PatternError)) throw err;
      throw this.error(token.start, err.message);
    }
    const pattern = { value: token.value, span: { start: token.start, end: token.end } };
    return { kind: NodeKinds.Match, field, mode, negated, pattern, span: this.spanFrom(start) };
  }

  /** A literal for `field`, refused when its type can never match the field's (`ordered`: used with < > BETWEEN). */
  private value(field: FieldRef, ordered: boolean): Literal {
    const token = this.peek();
    let value: string | number | boolean;
    if (token.kind === TokenKinds.String || token.kind === TokenKinds.Number) value = token.value;
    else if (this.atKeyword("TRUE")) value = true;
    else if (this.atKeyword("FALSE")) value = false;
    else if (this.atKeyword("NULL")) {
      throw this.error(
        token.start,
        `null is never equal to anything: write ${fieldName(field)} IS NULL or IS NOT NULL`,
      );
    } else return this.fail(token, "a value (a quoted string, a number, true or false)");
    const type = fieldSpec(field).type;
    const found = describeToken(this.text, token);
    if (type !== ValueTypes.Any && typeof value !== type) {
      const expected = type === ValueTypes.String ? "a quoted string" : "a number";
      throw this.error(token.start, `expected ${expected} for ${fieldName(field)}, found ${found}`, expected, found);
    }
    if (ordered && typeof value === "boolean") {
      throw this.error(token.start, `booleans have no order: compare ${fieldName(field)} with = or != only`);
    }
    this.next();
    return { value, span: { start: token.start, end: token.end } };
  }

  private orderKey(): OrderKey {
    const field = this.field("a field or metric to order by");
    const spec = fieldSpec(field);
    if (spec.multi || field.kind === FieldKinds.Param) {
      const why = spec.multi ? "holds many values" : "may hold numbers, strings or booleans";
      throw this.error(field.span.start, `cannot ORDER BY ${fieldName(field)}: it ${why}`);
    }
    let direction: OrderKey["direction"] = "asc";
    if (this.acceptKeyword("DESC")) direction = "desc";
    else this.acceptKeyword("ASC");
    return { field, direction, span: this.spanFrom(field.span.start) };
  }

  /** Resolves the next word to a field: a built-in (or its alias), `param.<name>`, `metric.<name>` or a bare metric. */
  private field(expected: string): FieldRef {
    const token = this.peek();
    if (token.kind !== TokenKinds.Word || this.keywordOf(token) !== null) return this.fail(token, expected);
    this.next();
    const span: Span = { start: token.start, end: token.end };
    const [head, ...rest] = token.segments as [Segment, ...Segment[]];
    const lower = head.text.toLowerCase();
    if (lower === "param" || lower === "params") {
      const name = rest.map((s) => s.text).join(".");
      if (name === "") throw this.error(rest[0]?.start ?? token.end, "expected a parameter name after param.");
      return { kind: FieldKinds.Param, name, span };
    }
    const path = token.segments.map((s) => s.text.toLowerCase());
    if (lower === "metric" || lower === "metrics") {
      if (rest.length === 0) throw this.error(token.end, `expected a metric name after ${head.text}.`);
      const metric = rest.length === 1 ? METRIC_ALIASES.get(path[1] as string) : undefined;
      if (metric === undefined) {
        throw this.error(
          (rest[0] as Segment).start,
          `unknown metric '${rest.map((s) => s.text).join(".")}': expected one of ${[...METRIC_ALIASES.values()].join(", ")}`,
        );
      }
      return { kind: FieldKinds.Metric, name: metric, span };
    }
    const builtin = token.segments.some((s) => s.quoted) ? undefined : FIELD_ALIASES.get(path.join("."));
    if (builtin !== undefined) return { kind: FieldKinds.Builtin, name: builtin, span };
    const metric = path.length === 1 ? METRIC_ALIASES.get(lower) : undefined;
    if (metric !== undefined) return { kind: FieldKinds.Metric, name: metric, span };
    const written = this.text.slice(token.start, token.end);
    throw this.error(
      token.start,
      `unknown field '${written}': expected a field (id, name, tags, …), param.<name> or a metric (sharpe, …)`,
      "a field",
      `'${written}'`,
    );
  }

  private enter(position: number): void {
    this.depth++;
    if (this.depth > QueryLimits.maxDepth) {
      throw this.error(position, `query nests deeper than ${QueryLimits.maxDepth} levels of NOT and parentheses`);
    }
  }

  private peek(): Token {
    return this.tokens[this.index] as Token;
  }

  private next(): Token {
    const token = this.peek();
    if (token.kind !== TokenKinds.End) this.index++;
    return token;
  }

  private accept(kind: Token["kind"]): boolean {
    if (this.peek().kind !== kind) return false;
    this.next();
    return true;
  }

  private keywordOf(token: Token): string | null {
    if (token.kind !== TokenKinds.Word || token.segments.length !== 1) return null;
    const segment = token.segments[0] as { text: string; quoted: boolean };
    const upper = segment.text.toUpperCase();
    return !segment.quoted && KEYWORDS.has(upper) ? upper : null;
  }

  private atKeyword(keyword: string): boolean {
    return this.keywordOf(this.peek()) === keyword;
  }

  private acceptKeyword(keyword: string): boolean {
    if (!this.atKeyword(keyword)) return false;
    this.next();
    return true;
  }

  private expectKeyword(keyword: string, expected: string = keyword): void {
    if (!this.acceptKeyword(keyword)) this.fail(this.peek(), expected);
  }

  /** The span from `start` to the end of the last token consumed. */
  private spanFrom(start: number): Span {
    const last = this.tokens[this.index - 1];
    return { start, end: last === undefined ? start : last.end };
  }

  private error(position: number, message: string, expected?: string, found?: string): QueryError {
    return new QueryError(this.text, position, message, { field: this.fieldPath, expected, found });
  }

  private fail(token: Token, expected: string): never {
    const found = describeToken(this.text, token);
    throw this.error(token.start, `expected ${expected}, found ${found}`, expected, found);
  }
}

/** How a field reads in a message: its canonical name. */
export function fieldName(field: FieldRef): string {
  if (field.kind === FieldKinds.Builtin) return field.name;
  if (field.kind === FieldKinds.Metric) return field.name;
  return `param.${field.name}`;
}
