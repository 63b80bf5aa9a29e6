/**
 * Properties of the filter language: random queries over random strategies give
 * the same ids, in the same order, from the compiled evaluator as from a naive
 * interpreter that walks the tree per strategy; and printing is a fixed point
 * of parsing. The interpreter reads fields, matches LIKE and sorts on its own,
 * so it shares nothing with the compiler but the written-down semantics.
 */
import type { Metric, Strategy, TemplateRef } from "@stratreg/protocol";
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import {
  BUILTIN_FIELDS,
  type BuiltinField,
  type CompareOp,
  CompareOps,
  type Expr,
  type FieldRef,
  type Literal,
  type OrderKey,
  type Query,
} from "./ast.js";
import { applyQuery, compileQuery, type SearchDocument } from "./compile.js";
import { parseQuery } from "./parser.js";
import { printQuery } from "./print.js";

type Value = string | number | boolean;
const SPAN = { start: 0, end: 0 };

// ---- random strategies --------------------------------------------------------

/** Few, short, ASCII words, so that comparisons often hit; `%`, `_`, `\` and quotes test escaping. */
const word = fc.constantFrom("a", "b", "ab", "A", "Ab", "mom", "mom_1", "x%y", "q'uote", 'd"q', "back\\slash", "");
const label = word.filter((w) => w !== "");
const number = fc.constantFrom(-2, -1, -0.5, 0, 0.25, 1, 1.5, 2, 1000, 1e-3);
const PARAMS = ["lookback", "mode", "on", "odd name", "a.b", "constructor"] as const;
const PHASES = ["birth", "growth", "maturity", "decline"] as const;
const STATES = ["candidate", "backtesting", "validated", "active", "suspended", "retired", "draft"] as const;
const METRIC_NAMES: Metric[] = ["sharpe", "calmar", "maxDrawdown", "winRate"];

const paramValue: fc.Arbitrary<Value> = fc.oneof(number, word, fc.boolean());
const template: fc.Arbitrary<TemplateRef | null> = fc.option(
  fc.record(
    {
      id: label,
      version: fc.integer({ min: 1, max: 3 }),
      params: fc.dictionary(fc.constantFrom(...PARAMS), paramValue, { maxKeys: 4 }),
    },
    { requiredKeys: ["id", "params"] },
  ),
);

const strategyFields = fc.record({
  name: label,
  description: word,
  tags: fc.array(label, { maxLength: 3 }),
  owner: label,
  family: fc.option(label),
  parents: fc.array(label, { maxLength: 2 }),
  template,
  venues: fc.array(fc.record({ venue: label, symbols: fc.array(label, { maxLength: 2 }) }), { maxLength: 2 }),
  dependencies: fc.array(label, { maxLength: 2 }),
  version: fc.integer({ min: 1, max: 4 }),
  state: fc.constantFrom(...STATES),
  phase: fc.option(fc.constantFrom(...PHASES)),
  legacy: fc.boolean(),
  createdAt: fc.integer({ min: 0, max: 3 }),
  updatedAt: fc.integer({ min: 0, max: 3 }),
  metrics: fc.dictionary(
    fc.constantFrom(...METRIC_NAMES),
    fc.oneof(number, fc.constant(null), fc.constant(Number.NaN)),
  ),
});

interface Doc extends SearchDocument {
  metrics: Partial<Record<Metric, number | null>>;
}

const docs: fc.Arbitrary<Doc[]> = fc
  .uniqueArray(fc.tuple(fc.stringMatching(/^[a-c0-9]{1,3}$/), strategyFields), {
    maxLength: 12,
    selector: ([id]) => id,
  })
  .map((entries) =>
    entries.map(([id, { phase, legacy, metrics, ...fields }]) => {
      const lifecycle = legacy ? undefined : { value: phase === null ? fields.state : { active: phase }, context: {} };
      const strategy = { id, ...fields, ...(lifecycle === undefined ? {} : { lifecycle }) } as Strategy;
      return { strategy, metrics, metric: (name: Metric) => metrics[name] ?? null };
    }),
  );

// ---- random queries -----------------------------------------------------------

const builtin = (name: BuiltinField): FieldRef => ({ kind: "builtin", name, span: SPAN });
const fields: FieldRef[] = [
  ...(Object.keys(BUILTIN_FIELDS) as BuiltinField[]).map(builtin),
  ...PARAMS.map((name): FieldRef => ({ kind: "param", name, span: SPAN })),
  ...METRIC_NAMES.map((name): FieldRef => ({ kind: "metric", name, span: SPAN })),
];
const typeOf = (field: FieldRef): "string" | "number" | "any" =>
  field.kind === "builtin" ? BUILTIN_FIELDS[field.name].type : field.kind === "metric" ? "number" : "any";
const literal = (value: Value): Literal => ({ value, span: SPAN });

/** A value a comparison on `field` may take (no booleans where an order is asked for). */
function valueFor(field: FieldRef, ordered: boolean): fc.Arbitrary<Literal> {
  const type = typeOf(field);
  const any = ordered ? fc.oneof(number, word) : paramValue;
  return (type === "string" ? word : type === "number" ? number : any).map(literal);
}

const likePattern = fc
  .array(fc.constantFrom("a", "b", "A", "m", "%", "_", "\\%", "\\_", "\\\\", "'", "x"), { maxLength: 5 })
  .map((parts) => parts.join(""));
const regexPattern = fc.constantFrom("^a", "b$", "a|b", "[A-Z]", "\\d", "^$", ".", "o.*_", "\\\\");

function comparison(field: FieldRef): fc.Arbitrary<Expr> {
  const base = { field, span: SPAN };
  const textual = typeOf(field) !== "number";
  const options: fc.Arbitrary<Expr>[] = [
    fc
      .constantFrom(...CompareOps)
      .chain((op: CompareOp) =>
        valueFor(field, op !== "=" && op !== "!=").map((value): Expr => ({ kind: "compare", ...base, op, value })),
      ),
    fc
      .record({ negated: fc.boolean(), values: fc.array(valueFor(field, false), { minLength: 1, maxLength: 3 }) })
      .map((r): Expr => ({ kind: "in", ...base, ...r })),
    fc.boolean().map((negated): Expr => ({ kind: "isNull", ...base, negated })),
    fc.record({ negated: fc.boolean(), low: valueFor(field, true) }).chain((r) =>
      valueFor(field, true)
        .filter((high) => typeof high.value === typeof r.low.value)
        .map((high): Expr => ({ kind: "between", ...base, ...r, high })),
    ),
  ];
  if (textual) {
    options.push(
      fc
        .record({ negated: fc.boolean(), mode: fc.constantFrom("like" as const, "ilike" as const), p: likePattern })
        .map(({ p, ...r }): Expr => ({ kind: "match", ...base, ...r, pattern: { value: p, span: SPAN } })),
      fc
        .record({ negated: fc.boolean(), p: regexPattern })
        .map(
          ({ p, ...r }): Expr => ({ kind: "match", ...base, ...r, mode: "regex", pattern: { value: p, span: SPAN } }),
        ),
    );
  }
  return fc.oneof(...options);
}

const leaf = fc.constantFrom(...fields).chain(comparison);
const { expr } = fc.letrec<{ expr: Expr }>((tie) => ({
  expr: fc.oneof(
    { depthSize: "small", withCrossShrink: true },
    leaf,
    tie("expr").map((operand): Expr => ({ kind: "not", operand, span: SPAN })),
    fc
      .array(tie("expr"), { minLength: 2, maxLength: 3 })
      .map((operands): Expr => ({ kind: "and", operands, span: SPAN })),
    fc
      .array(tie("expr"), { minLength: 2, maxLength: 3 })
      .map((operands): Expr => ({ kind: "or", operands, span: SPAN })),
  ),
}));

const orderable = fields.filter((f) => f.kind === "metric" || (f.kind === "builtin" && !BUILTIN_FIELDS[f.name].multi));
const orderKey = fc
  .record({ field: fc.constantFrom(...orderable), direction: fc.constantFrom("asc" as const, "desc" as const) })
  .map((k): OrderKey => ({ ...k, span: SPAN }));
const query: fc.Arbitrary<Query> = fc.record({
  filter: fc.option(expr, { freq: 5 }),
  orderBy: fc.array(orderKey, { maxLength: 2 }),
  limit: fc.option(fc.integer({ min: 0, max: 8 })),
});

// ---- the naive reference interpreter ------------------------------------------

/** Every value of `field` in `doc`: none when null or empty, one for a scalar, any number for a list. */
function valuesOf(doc: Doc, field: FieldRef): Value[] {
  const s = doc.strategy;
  if (field.kind === "metric") {
    const v = doc.metrics[field.name];
    return v === undefined || v === null || Number.isNaN(v) ? [] : [v];
  }
  if (field.kind === "param") {
    const params = s.template?.params ?? {};
    return Object.keys(params).includes(field.name) ? [params[field.name] as Value] : [];
  }
  const one = (v: Value | null | undefined): Value[] => (v === null || v === undefined ? [] : [v]);
  switch (field.name) {
    case "tags":
      return [...s.tags];
    case "venues":
      return s.venues.map((v) => v.venue);
    case "symbols":
      return s.venues.reduce<string[]>((all, v) => all.concat(v.symbols), []);
    case "parents":
      return [...s.parents];
    case "dependencies":
      return [...s.dependencies];
    case "template":
      return one(s.template?.id);
    case "template.version":
      return one(s.template?.version);
    case "origin":
      // Not stored by the arbitrary strategies: read by their parents.
      return one(s.parents.length === 1 ? "variation" : s.parents.length === 2 ? "crossover" : "manual");
    case "phase": {
      const value = s.lifecycle?.value;
      return typeof value === "object" ? one(value.active) : [];
    }
    default:
      return one(s[field.name]);
  }
}

/** SQL LIKE by recursion over the pattern, one character at a time. */
function like(pattern: string, text: string, ci: boolean): boolean {
  const same = (a: string, b: string) => (ci ? a.toLowerCase() === b.toLowerCase() : a === b);
  const go = (p: number, t: number): boolean => {
    if (p === pattern.length) return t === text.length;
    const c = pattern[p] as string;
    if (c === "%") return go(p + 1, t) || (t < text.length && go(p, t + 1));
    if (t === text.length) return false;
    if (c === "_") return go(p + 1, t + 1);
    const literalChar = c === "\\" ? (pattern[++p] as string) : c;
    return same(literalChar, text[t] as string) && go(p + 1, t + 1);
  };
  return go(0, 0);
}

function sameTypeLess(a: Value, b: Value): boolean {
  return typeof a === typeof b && a < b;
}

function holds(expr: Expr, doc: Doc): boolean {
  if (expr.kind === "and") return expr.operands.every((e) => holds(e, doc));
  if (expr.kind === "or") return expr.operands.some((e) => holds(e, doc));
  if (expr.kind === "not") return !holds(expr.operand, doc);
  const values = valuesOf(doc, expr.field);
  if (expr.kind === "isNull") return expr.negated ? values.length > 0 : values.length === 0;
  return values.some((v) => elementHolds(expr, v));
}

/** Whether one value of a comparison's field satisfies it. */
function elementHolds(expr: Exclude<Expr, { kind: "and" | "or" | "not" | "isNull" }>, v: Value): boolean {
  switch (expr.kind) {
    case "compare": {
      const x = expr.value.value;
      if (expr.op === "=") return v === x;
      if (expr.op === "!=") return v !== x;
      if (expr.op === "<") return sameTypeLess(v, x);
      if (expr.op === ">") return sameTypeLess(x, v);
      if (expr.op === "<=") return sameTypeLess(v, x) || (typeof v === typeof x && v === x);
      return sameTypeLess(x, v) || (typeof v === typeof x && v === x);
    }
    case "in":
      return expr.values.some((l) => l.value === v) !== expr.negated;
    case "match": {
      if (typeof v !== "string") return false;
      const p = expr.pattern.value;
      const matched = expr.mode === "regex" ? new RegExp(p).test(v) : like(p, v, expr.mode === "ilike");
      return matched !== expr.negated;
    }
    case "between": {
      if (typeof v !== typeof expr.low.value) return false;
      const inside = !sameTypeLess(v, expr.low.value) && !sameTypeLess(expr.high.value, v);
      return inside !== expr.negated;
    }
  }
}

function reference(q: Query, all: Doc[]): string[] {
  const matched = all.filter((doc) => q.filter === null || holds(q.filter, doc));
  if (q.orderBy.length > 0) {
    matched.sort((a, b) => {
      for (const key of q.orderBy) {
        const [x] = valuesOf(a, key.field);
        const [y] = valuesOf(b, key.field);
        if (x === undefined && y === undefined) continue;
        if (x === undefined) return 1;
        if (y === undefined) return -1;
        if (x === y) continue;
        return (sameTypeLess(x, y) ? -1 : 1) * (key.direction === "asc" ? 1 : -1);
      }
      return sameTypeLess(a.strategy.id, b.strategy.id) ? -1 : 1;
    });
  }
  const ids = matched.map((d) => d.strategy.id);
  return q.limit === null ? ids : ids.slice(0, q.limit);
}

/** A query without its spans (the generated trees carry dummy ones). */
function withoutSpans(value: unknown): unknown {
  return JSON.parse(JSON.stringify(value, (key, v) => (key === "span" ? undefined : v)));
}

// ---- the properties -----------------------------------------------------------

describe("filter language properties", () => {
  test("the compiled evaluator agrees with the naive interpreter (same ids, same order)", () => {
    fc.assert(
      fc.property(query, docs, (q, all) => {
        const compiled = compileQuery(printQuery(q));
        expect(applyQuery(compiled, all).map((d) => d.strategy.id)).toEqual(reference(q, all));
      }),
      { numRuns: 500 },
    );
  });

  test("printing is a fixed point of parsing, and parsing gives back the tree", () => {
    fc.assert(
      fc.property(query, (q) => {
        const text = printQuery(q);
        const parsed = parseQuery(text);
        expect(printQuery(parsed)).toBe(text);
        expect(withoutSpans(parsed)).toEqual(withoutSpans(q));
      }),
      { numRuns: 500 },
    );
  });
});
