/**
 * The compiler of the filter language: a checked {@link Query} to closures,
 * built once per query, so that filtering a strategy calls functions instead
 * of walking the tree, and LIKE / regex patterns are RegExps built once.
 *
 * Null semantics are two-valued: every comparison (`=`, `!=`, `<`, IN, LIKE,
 * BETWEEN, their NOT forms, …) on a null field (no family, a metric not defined
 * yet, an absent parameter, an empty list) is false, and NOT is plain boolean
 * negation: `NOT (sharpe > 1)` is true for a strategy without a sharpe. A
 * filter answers "is this strategy in the result", so NOT of a filter is
 * exactly the strategies the filter leaves out; SQL's third value would
 * silently drop the undefined ones from both. Only IS [NOT] NULL looks at
 * nullness. Equality across types is "different" (`param.x != 5` holds for
 * x = 'a'); ordering comparisons (`<`, BETWEEN) across types are false.
 */
import { lifecycleOf, type Metric, originOf, type Strategy } from "@stratreg/protocol";
import {
  type BuiltinField,
  type CompareOp,
  type Comparison,
  type Expr,
  FieldKinds,
  type FieldRef,
  fieldSpec,
  type Literal,
  NodeKinds,
  type OrderKey,
  type Query,
} from "./ast.js";
import { type ParseOptions, parseQuery } from "./parser.js";
import { patternToRegExp } from "./patterns.js";

/** What a query is evaluated against: a strategy and its metrics (null where not defined yet). */
export interface SearchDocument {
  strategy: Strategy;
  metric(name: Metric): number | null;
}

/** A query ready to run: a filter, an ORDER BY comparator (undefined without ORDER BY) and the LIMIT. */
export interface CompiledQuery {
  /** The checked query this was compiled from. */
  query: Query;
  /** Whether a document belongs in the result. */
  filter: (doc: SearchDocument) => boolean;
  /** ORDER BY as a comparator: nulls last in either direction, ties by id ascending. */
  order: ((a: SearchDocument, b: SearchDocument) => number) | undefined;
  /** The LIMIT, or null for none. */
  limit: number | null;
}

type Value = string | number | boolean;
type Predicate = (doc: SearchDocument) => boolean;
type ValueTest = (value: Value) => boolean;

/** Parses (when given text) and compiles a query; throws QueryError on a bad one. */
export function compileQuery(query: string | Query, options: ParseOptions = {}): CompiledQuery {
  const checked = typeof query === "string" ? parseQuery(query, options) : query;
  return {
    query: checked,
    filter: checked.filter === null ? () => true : compileExpr(checked.filter),
    order: checked.orderBy.length === 0 ? undefined : compileOrder(checked.orderBy),
    limit: checked.limit,
  };
}

/** The documents a compiled query selects: filtered, ordered (when it has ORDER BY), then cut at LIMIT. */
export function applyQuery<D extends SearchDocument>(compiled: CompiledQuery, docs: Iterable<D>): D[] {
  const selected: D[] = [];
  for (const doc of docs) if (compiled.filter(doc)) selected.push(doc);
  if (compiled.order !== undefined) selected.sort(compiled.order);
  return compiled.limit === null ? selected : selected.slice(0, compiled.limit);
}

function compileExpr(expr: Expr): Predicate {
  switch (expr.kind) {
    // Plain loops: these run once per document per query, a million times over.
    case NodeKinds.Or: {
      const operands = expr.operands.map(compileExpr);
      return (doc) => {
        for (let i = 0; i < operands.length; i++) if ((operands[i] as Predicate)(doc)) return true;
        return false;
      };
    }
    case NodeKinds.And: {
      const operands = expr.operands.map(compileExpr);
      return (doc) => {
        for (let i = 0; i < operands.length; i++) if (!(operands[i] as Predicate)(doc)) return false;
        return true;
      };
    }
    case NodeKinds.Not: {
      const operand = compileExpr(expr.operand);
      return (doc) => !operand(doc);
    }
    default:
      return compileComparison(expr);
  }
}

function compileComparison(node: Comparison): Predicate {
  const { field } = node;
  if (fieldSpec(field).multi) {
    const any = anyReader(field.name as BuiltinField);
    if (node.kind === NodeKinds.IsNull) return node.negated ? (doc) => any(doc, TRUE) : (doc) => !any(doc, TRUE);
    const test = valueTest(node);
    return (doc) => any(doc, test);
  }
  const read = scalarReader(field);
  if (node.kind === NodeKinds.IsNull) return node.negated ? (doc) => read(doc) !== null : (doc) => read(doc) === null;
  const test = valueTest(node);
  return (doc) => {
    const value = read(doc);
    return value !== null && test(value);
  };
}

/** The test one (non-null) value must pass; a multi-valued field passes when any element does. */
function valueTest(node: Exclude<Comparison, { kind: typeof NodeKinds.IsNull }>): ValueTest {
  switch (node.kind) {
    case NodeKinds.Compare:
      return compareTest(node.op, node.value.value);
    case NodeKinds.In: {
      const set = new Set<Value>(node.values.map((l: Literal) => l.value));
      return node.negated ? (v) => !set.has(v) : (v) => set.has(v);
    }
    case NodeKinds.Match: {
      const regex = patternToRegExp(node.mode, node.pattern.value);
      return node.negated
        ? (v) => typeof v === "string" && !regex.test(v)
        : (v) => typeof v === "string" && regex.test(v);
    }
    case NodeKinds.Between: {
      const low = node.low.value;
      const high = node.high.value;
      const type = typeof low;
      return node.negated
        ? (v) => typeof v === type && !(low <= v && v <= high)
        : (v) => typeof v === type && low <= v && v <= high;
    }
  }
}

function compareTest(op: CompareOp, literal: Value): ValueTest {
  const type = typeof literal;
  switch (op) {
    case "=":
      return (v) => v === literal;
    case "!=":
      return (v) => v !== literal;
    case "<":
      return (v) => typeof v === type && v < literal;
    case "<=":
      return (v) => typeof v === type && v <= literal;
    case ">":
      return (v) => typeof v === type && v > literal;
    case ">=":
      return (v) => typeof v === type && v >= literal;
  }
}

/** Reads a single-valued field (null when absent); the one place that maps field names onto a strategy. */
function scalarReader(field: FieldRef): (doc: SearchDocument) => Value | null {
  if (field.kind === FieldKinds.Metric) {
    const metric = field.name;
    return (doc) => {
      const value = doc.metric(metric);
      // A NaN would compare false everywhere and break the sort: it is a metric not defined yet.
      return value === null || Number.isNaN(value) ? null : value;
    };
  }
  if (field.kind === FieldKinds.Param) {
    const name = field.name;
    return ({ strategy }) => {
      const params = strategy.template?.params;
      // hasOwn: a parameter named `constructor` must not read Object.prototype.
      return params !== undefined && Object.hasOwn(params, name) ? (params[name] as Value) : null;
    };
  }
  switch (field.name) {
    case "family":
      return ({ strategy }) => strategy.family;
    case "origin":
      return ({ strategy }) => originOf(strategy);
    case "phase":
      return ({ strategy }) => {
        const value = lifecycleOf(strategy).value;
        return typeof value === "object" && typeof value.active === "string" ? value.active : null;
      };
    case "template":
      return ({ strategy }) => strategy.template?.id ?? null;
    case "template.version":
      return ({ strategy }) => strategy.template?.version ?? null;
    case "id":
    case "name":
    case "description":
    case "owner":
    case "state":
    case "version":
    case "createdAt":
    case "updatedAt": {
      const key = field.name;
      return ({ strategy }) => strategy[key];
    }
    default:
      throw new Error(`${field.name} is not a single-valued field`);
  }
}

/** Reads a multi-valued field as its list of elements (empty when none). */
const TRUE: ValueTest = () => true;

/** Whether any element of a multi-valued field passes `test` (an empty field: none does), allocating nothing. */
function anyReader(field: BuiltinField): (doc: SearchDocument, test: ValueTest) => boolean {
  const anyIn = (list: readonly string[], test: ValueTest) => {
    for (let i = 0; i < list.length; i++) if (test(list[i] as string)) return true;
    return false;
  };
  switch (field) {
    case "tags":
      return ({ strategy }, test) => anyIn(strategy.tags, test);
    case "venues":
      return ({ strategy }, test) => {
        for (const variant of strategy.venues) if (test(variant.venue)) return true;
        return false;
      };
    case "symbols":
      return ({ strategy }, test) => {
        for (const variant of strategy.venues) if (anyIn(variant.symbols, test)) return true;
        return false;
      };
    case "parents":
      return ({ strategy }, test) => anyIn(strategy.parents, test);
    case "dependencies":
      return ({ strategy }, test) => anyIn(strategy.dependencies, test);
    default:
      throw new Error(`${field} is not a multi-valued field`);
  }
}

function compileOrder(keys: OrderKey[]): (a: SearchDocument, b: SearchDocument) => number {
  const readers = keys.map((key) => ({ read: scalarReader(key.field), sign: key.direction === "desc" ? -1 : 1 }));
  return (a, b) => {
    for (const { read, sign } of readers) {
      const x = read(a);
      const y = read(b);
      if (x === y) continue;
      // Nulls last whichever the direction: a missing metric is never "the best".
      if (x === null) return 1;
      if (y === null) return -1;
      return x < y ? -sign : sign;
    }
    const x = a.strategy.id;
    const y = b.strategy.id;
    return x < y ? -1 : x > y ? 1 : 0;
  };
}
