/**
 * What a query needs, read off its tree without running it: the fields and
 * metrics it touches (so the search service loads metrics only when asked for),
 * and the equality constraints every match must meet (so it can narrow by an
 * inverted index before scanning).
 */
import type { Metric } from "@stratreg/protocol";
import { type Expr, FieldKinds, type FieldRef, NodeKinds, type Query } from "./ast.js";
import { printField } from "./print.js";

/** The fields a query reads, in its filter or its ORDER BY. */
export interface QueryFields {
  /** Non-metric fields by canonical name (`owner`, `tags`, `param.lookback`), sorted. */
  fields: string[];
  /** Metrics, sorted; empty when the query can run without any. */
  metrics: Metric[];
}

/** The fields and metrics `query` touches. */
export function queryFields(query: Query): QueryFields {
  const fields = new Set<string>();
  const metrics = new Set<Metric>();
  const note = (field: FieldRef): void => {
    if (field.kind === FieldKinds.Metric) metrics.add(field.name);
    else fields.add(printField(field));
  };
  const walk = (expr: Expr): void => {
    if (expr.kind === NodeKinds.Or || expr.kind === NodeKinds.And) expr.operands.forEach(walk);
    else if (expr.kind === NodeKinds.Not) walk(expr.operand);
    else note(expr.field);
  };
  if (query.filter !== null) walk(query.filter);
  for (const key of query.orderBy) note(key.field);
  return { fields: [...fields].sort(), metrics: [...metrics].sort() };
}

/** The fields an inverted index can narrow by. */
export const INDEXED_FIELDS = ["state", "owner", "family", "template", "tags"] as const;
/** One of {@link INDEXED_FIELDS}. */
export type IndexedField = (typeof INDEXED_FIELDS)[number];

/**
 * A constraint every match meets: the field's value is one of `values` (for
 * `tags`: some tag is). Several constraints on one field all hold.
 */
export interface IndexConstraint {
  field: IndexedField;
  values: string[];
}

const INDEXED: ReadonlySet<string> = new Set(INDEXED_FIELDS);

/**
 * The `field = 'v'` and `field IN ('v', …)` comparisons on an indexed field
 * that sit at the top level of the filter or of its top-level AND: each one
 * every match must meet. Anything under OR or NOT is left to the scan; an empty
 * answer means "no narrowing", never "no match".
 */
export function requiredEquals(query: Query): IndexConstraint[] {
  const filter = query.filter;
  if (filter === null) return [];
  const conjuncts = filter.kind === NodeKinds.And ? filter.operands : [filter];
  const constraints: IndexConstraint[] = [];
  for (const expr of conjuncts) {
    if (expr.kind !== NodeKinds.Compare && expr.kind !== NodeKinds.In) continue;
    if (expr.field.kind !== FieldKinds.Builtin || !INDEXED.has(expr.field.name)) continue;
    const field = expr.field.name as IndexedField;
    if (expr.kind === NodeKinds.Compare && expr.op === "=" && typeof expr.value.value === "string") {
      constraints.push({ field, values: [expr.value.value] });
    } else if (expr.kind === NodeKinds.In && !expr.negated) {
      const values = expr.values.map((l) => l.value).filter((v): v is string => typeof v === "string");
      constraints.push({ field, values: [...new Set(values)] });
    }
  }
  return constraints;
}
