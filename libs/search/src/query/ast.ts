/**
 * The typed syntax tree of a filter query, and the catalogue of the fields a
 * query may name. The parser builds it, the printer and the compiler read it;
 * every node keeps its source span so a later check can still point at the text.
 */
import { Limits, METRICS, type Metric } from "@stratreg/protocol";

/** A half-open range `[start, end)` of 0-based offsets into the query text. */
export interface Span {
  start: number;
  end: number;
}

/** The value types a field holds; `any` is a template parameter (number, string or boolean). */
export const ValueTypes = {
  String: "string",
  Number: "number",
  Any: "any",
} as const;
export type ValueType = (typeof ValueTypes)[keyof typeof ValueTypes];

/** A built-in field: its value type, and whether it holds many values (a comparison holds if ANY does). */
export interface BuiltinFieldSpec {
  type: ValueType;
  multi: boolean;
}

/** Every built-in field by its canonical name (the name the printer writes). */
export const BUILTIN_FIELDS = {
  id: { type: "string", multi: false },
  name: { type: "string", multi: false },
  description: { type: "string", multi: false },
  owner: { type: "string", multi: false },
  family: { type: "string", multi: false },
  /** How it was made (variation, crossover, manual), read by its parents when not stored. */
  origin: { type: "string", multi: false },
  state: { type: "string", multi: false },
  phase: { type: "string", multi: false },
  template: { type: "string", multi: false },
  "template.version": { type: "number", multi: false },
  version: { type: "number", multi: false },
  createdAt: { type: "number", multi: false },
  updatedAt: { type: "number", multi: false },
  tags: { type: "string", multi: true },
  venues: { type: "string", multi: true },
  symbols: { type: "string", multi: true },
  parents: { type: "string", multi: true },
  dependencies: { type: "string", multi: true },
} as const satisfies Record<string, BuiltinFieldSpec>;
export type BuiltinField = keyof typeof BUILTIN_FIELDS;

/** Names a user may write for a built-in field, lower-cased (field names are case-insensitive). */
export const FIELD_ALIASES: ReadonlyMap<string, BuiltinField> = new Map<string, BuiltinField>([
  ...(Object.keys(BUILTIN_FIELDS) as BuiltinField[]).map((field): [string, BuiltinField] => [
    field.toLowerCase(),
    field,
  ]),
  ["tag", "tags"],
  ["venue", "venues"],
  ["symbol", "symbols"],
  ["parent", "parents"],
  ["dependency", "dependencies"],
]);

/** Metric names, lower-cased, to their canonical spelling. */
export const METRIC_ALIASES: ReadonlyMap<string, Metric> = new Map(METRICS.map((m) => [m.toLowerCase(), m]));

/** The kinds of field a query names. */
export const FieldKinds = {
  Builtin: "builtin",
  Param: "param",
  Metric: "metric",
} as const;

/** A resolved field reference. */
export type FieldRef =
  | { kind: typeof FieldKinds.Builtin; name: BuiltinField; span: Span }
  | { kind: typeof FieldKinds.Param; name: string; span: Span }
  | { kind: typeof FieldKinds.Metric; name: Metric; span: Span };

/** The value type and multiplicity of any field reference. */
export function fieldSpec(field: FieldRef): BuiltinFieldSpec {
  if (field.kind === FieldKinds.Builtin) return BUILTIN_FIELDS[field.name];
  if (field.kind === FieldKinds.Metric) return { type: ValueTypes.Number, multi: false };
  return { type: ValueTypes.Any, multi: false };
}

/** A literal in the query. `null` only ever parses to be refused with a hint (use IS NULL). */
export interface Literal {
  value: string | number | boolean;
  span: Span;
}

/** Comparison operators, after `<>` has been read as `!=`. */
export const CompareOps = ["=", "!=", "<", "<=", ">", ">="] as const;
export type CompareOp = (typeof CompareOps)[number];

/** Pattern-matching modes: SQL LIKE, its case-insensitive ILIKE, and a JavaScript regular expression. */
export const MatchModes = {
  Like: "like",
  Ilike: "ilike",
  Regex: "regex",
} as const;
export type MatchMode = (typeof MatchModes)[keyof typeof MatchModes];

/** The kinds of expression node. */
export const NodeKinds = {
  Or: "or",
  And: "and",
  Not: "not",
  Compare: "compare",
  In: "in",
  Match: "match",
  IsNull: "isNull",
  Between: "between",
} as const;

/** `a OR b OR …` (at least two operands). */
export interface OrNode {
  kind: typeof NodeKinds.Or;
  operands: Expr[];
  span: Span;
}
/** `a AND b AND …` (at least two operands). */
export interface AndNode {
  kind: typeof NodeKinds.And;
  operands: Expr[];
  span: Span;
}
/** `NOT a`. */
export interface NotNode {
  kind: typeof NodeKinds.Not;
  operand: Expr;
  span: Span;
}
/** `field op value`. */
export interface CompareNode {
  kind: typeof NodeKinds.Compare;
  field: FieldRef;
  op: CompareOp;
  value: Literal;
  span: Span;
}
/** `field [NOT] IN (v, …)`. */
export interface InNode {
  kind: typeof NodeKinds.In;
  field: FieldRef;
  negated: boolean;
  values: Literal[];
  span: Span;
}
/** `field [NOT] LIKE|ILIKE|REGEXP 'pattern'` (`~` is REGEXP). */
export interface MatchNode {
  kind: typeof NodeKinds.Match;
  field: FieldRef;
  mode: MatchMode;
  negated: boolean;
  pattern: Literal & { value: string };
  span: Span;
}
/** `field IS [NOT] NULL`. */
export interface IsNullNode {
  kind: typeof NodeKinds.IsNull;
  field: FieldRef;
  negated: boolean;
  span: Span;
}
/** `field [NOT] BETWEEN low AND high` (inclusive at both ends). */
export interface BetweenNode {
  kind: typeof NodeKinds.Between;
  field: FieldRef;
  negated: boolean;
  low: Literal;
  high: Literal;
  span: Span;
}

/** Any filter expression. */
export type Expr = OrNode | AndNode | NotNode | CompareNode | InNode | MatchNode | IsNullNode | BetweenNode;
/** A comparison: the leaves of the expression tree, each naming one field. */
export type Comparison = CompareNode | InNode | MatchNode | IsNullNode | BetweenNode;

/** Sort directions of ORDER BY. */
export const Directions = {
  Asc: "asc",
  Desc: "desc",
} as const;
export type Direction = (typeof Directions)[keyof typeof Directions];

/** One ORDER BY key. */
export interface OrderKey {
  field: FieldRef;
  direction: Direction;
  span: Span;
}

/** A whole query: an optional filter (none matches everything), ORDER BY keys, and an optional LIMIT. */
export interface Query {
  filter: Expr | null;
  orderBy: OrderKey[];
  limit: number | null;
}

/** Bounds on a query, so that a hostile or careless one is an answer, not a stuck or crashed service. */
export const QueryLimits = {
  /** Longest query text, in characters. */
  maxLength: 10_000,
  /** Deepest nesting of NOT and parentheses (the parser recurses once per level). */
  maxDepth: 64,
  /**
   * Longest LIKE or regex pattern. It bounds the size of the RegExp, not its worst case: a short
   * regex can still backtrack badly (`(a+)+$`) on a long description; RE2 or a deadline would.
   */
  maxPatternLength: 256,
  /** Largest LIMIT: the most strategies one list request returns. */
  maxLimit: Limits.listMax,
} as const;
