import { describe, expect, test } from "vitest";
import { type Expr, NodeKinds, type Query } from "./ast.js";
import { parseQuery } from "./parser.js";
import { printExpr, printQuery } from "./print.js";

/** The filter of `text`, printed canonically (nested AND/OR parenthesised: the tree's shape made visible). */
function shape(text: string): string {
  const { filter } = parseQuery(text);
  if (filter === null) throw new Error("no filter");
  return printExpr(filter);
}

function filterOf(text: string): Expr {
  const { filter } = parseQuery(text);
  if (filter === null) throw new Error("no filter");
  return filter;
}

describe("precedence and grouping", () => {
  test("AND binds tighter than OR", () => {
    expect(shape("id = 'a' OR id = 'b' AND id = 'c'")).toBe("id = 'a' OR (id = 'b' AND id = 'c')");
    expect(shape("id = 'a' AND id = 'b' OR id = 'c'")).toBe("(id = 'a' AND id = 'b') OR id = 'c'");
  });

  test("NOT binds tighter than AND", () => {
    expect(shape("NOT id = 'a' AND id = 'b'")).toBe("NOT id = 'a' AND id = 'b'");
    const filter = filterOf("NOT id = 'a' AND id = 'b'");
    expect(filter.kind).toBe(NodeKinds.And);
    if (filter.kind === NodeKinds.And) expect(filter.operands[0]?.kind).toBe(NodeKinds.Not);
  });

  test("NOT NOT nests", () => {
    const filter = filterOf("not not id = 'a'");
    expect(filter.kind).toBe(NodeKinds.Not);
    if (filter.kind === NodeKinds.Not) expect(filter.operand.kind).toBe(NodeKinds.Not);
  });

  test("parentheses override precedence and are kept as grouping", () => {
    expect(shape("(id = 'a' OR id = 'b') AND id = 'c'")).toBe("(id = 'a' OR id = 'b') AND id = 'c'");
    expect(shape("NOT (id = 'a' OR id = 'b')")).toBe("NOT (id = 'a' OR id = 'b')");
    expect(shape("((id = 'a'))")).toBe("id = 'a'");
  });

  test("a chain of one operator is one n-ary node", () => {
    const filter = filterOf("id = 'a' OR id = 'b' OR id = 'c' OR id = 'd'");
    expect(filter.kind).toBe(NodeKinds.Or);
    if (filter.kind === NodeKinds.Or) expect(filter.operands).toHaveLength(4);
  });

  test("keywords are case-insensitive", () => {
    expect(shape("id = 'a' oR Not id = 'b' aNd tags In ('x') and name ilike 'A%' And family iS nOt NuLl")).toBe(
      "id = 'a' OR (NOT id = 'b' AND tags IN ('x') AND name ILIKE 'A%' AND family IS NOT NULL)",
    );
    expect(printQuery(parseQuery("order by sharpe desc limit 3"))).toBe("ORDER BY sharpe DESC LIMIT 3");
  });
});

describe("operators", () => {
  test.each([
    ["sharpe = 1", "sharpe = 1"],
    ["sharpe != 1", "sharpe != 1"],
    ["sharpe <> 1", "sharpe != 1"],
    ["sharpe < 1", "sharpe < 1"],
    ["sharpe <= 1", "sharpe <= 1"],
    ["sharpe > 1", "sharpe > 1"],
    ["sharpe >= 1", "sharpe >= 1"],
    ["sharpe>=1", "sharpe >= 1"],
    ["state IN ('active', 'validated')", "state IN ('active', 'validated')"],
    ["state NOT IN ('retired')", "state NOT IN ('retired')"],
    ["name LIKE 'mom%'", "name LIKE 'mom%'"],
    ["name NOT LIKE '_x'", "name NOT LIKE '_x'"],
    ["name ILIKE 'MOM%'", "name ILIKE 'MOM%'"],
    ["name ~ '^mom'", "name REGEXP '^mom'"],
    ["name REGEXP '^mom'", "name REGEXP '^mom'"],
    ["name NOT REGEXP '^mom'", "name NOT REGEXP '^mom'"],
    ["family IS NULL", "family IS NULL"],
    ["family IS NOT NULL", "family IS NOT NULL"],
    ["sharpe BETWEEN 0.5 AND 2", "sharpe BETWEEN 0.5 AND 2"],
    ["sharpe NOT BETWEEN -1 AND 1", "sharpe NOT BETWEEN -1 AND 1"],
    ["param.fast = true", "param.fast = true"],
    ["param.mode IN ('a', 1, false)", "param.mode IN ('a', 1, false)"],
  ])("%s", (text, printed) => {
    expect(shape(text)).toBe(printed);
  });
});

describe("values", () => {
  const literalOf = (text: string): unknown => {
    const filter = filterOf(text);
    if (filter.kind !== NodeKinds.Compare) throw new Error(`not a comparison: ${filter.kind}`);
    return filter.value.value;
  };

  test("strings in either quote, with escapes", () => {
    expect(literalOf(`name = 'it\\'s'`)).toBe("it's");
    expect(literalOf(`name = "say \\"hi\\""`)).toBe('say "hi"');
    expect(literalOf(`name = "it's"`)).toBe("it's");
    expect(literalOf(`name = 'a\\nb\\tc\\\\d'`)).toBe("a\nb\tc\\d");
    expect(literalOf(`name = '\\u00e9t\\u00E9'`)).toBe("été");
    expect(literalOf(`name = ''`)).toBe("");
  });

  test("an unknown escape keeps its backslash, so LIKE and regex escapes need no doubling", () => {
    expect(literalOf(`name = '50\\%'`)).toBe("50\\%");
    expect(literalOf(`name = '\\d+'`)).toBe("\\d+");
  });

  test("numbers: integers, decimals, negatives, exponents", () => {
    expect(literalOf("sharpe = 3")).toBe(3);
    expect(literalOf("sharpe = 1.25")).toBe(1.25);
    expect(literalOf("sharpe = -0.5")).toBe(-0.5);
    expect(literalOf("sharpe = .5")).toBe(0.5);
    expect(literalOf("sharpe = 1e3")).toBe(1000);
    expect(literalOf("sharpe = 2.5E-2")).toBe(0.025);
    expect(literalOf("sharpe = -1e+2")).toBe(-100);
  });

  test("booleans, in any case", () => {
    expect(literalOf("param.on = TRUE")).toBe(true);
    expect(literalOf("param.on = false")).toBe(false);
  });
});

describe("fields", () => {
  const fieldOf = (text: string): unknown => {
    const filter = filterOf(text);
    if (filter.kind === NodeKinds.Or || filter.kind === NodeKinds.And || filter.kind === NodeKinds.Not) {
      throw new Error("not a comparison");
    }
    const { span: _span, ...field } = filter.field;
    return field;
  };

  test("aliases resolve to canonical names, case-insensitively", () => {
    expect(fieldOf("tag = 'x'")).toEqual({ kind: "builtin", name: "tags" });
    expect(fieldOf("VENUE = 'x'")).toEqual({ kind: "builtin", name: "venues" });
    expect(fieldOf("symbol = 'x'")).toEqual({ kind: "builtin", name: "symbols" });
    expect(fieldOf("parent = 'x'")).toEqual({ kind: "builtin", name: "parents" });
    expect(fieldOf("dependency = 'x'")).toEqual({ kind: "builtin", name: "dependencies" });
    expect(fieldOf("createdat > 0")).toEqual({ kind: "builtin", name: "createdAt" });
    expect(fieldOf("Template.Version = 2")).toEqual({ kind: "builtin", name: "template.version" });
  });

  test("metrics bare or under metric., case-insensitively", () => {
    expect(fieldOf("sharpe > 1")).toEqual({ kind: "metric", name: "sharpe" });
    expect(fieldOf("metric.maxdrawdown > -0.2")).toEqual({ kind: "metric", name: "maxDrawdown" });
    expect(fieldOf("MAXDRAWDOWN > -0.2")).toEqual({ kind: "metric", name: "maxDrawdown" });
  });

  test("parameters keep their case; odd names are quoted; keywords are fine after param.", () => {
    expect(fieldOf("param.lookBack = 20")).toEqual({ kind: "param", name: "lookBack" });
    expect(fieldOf("params.lookback = 20")).toEqual({ kind: "param", name: "lookback" });
    expect(fieldOf(`param."stop loss" = 2`)).toEqual({ kind: "param", name: "stop loss" });
    expect(fieldOf(`param.'a-b' = 2`)).toEqual({ kind: "param", name: "a-b" });
    expect(fieldOf("param.1m = 2")).toEqual({ kind: "param", name: "1m" });
    expect(fieldOf("param.limit = 2")).toEqual({ kind: "param", name: "limit" });
    expect(fieldOf("param.a.b = 2")).toEqual({ kind: "param", name: "a.b" });
    expect(shape(`param."stop loss" = 2`)).toBe(`param."stop loss" = 2`);
  });
});

describe("ORDER BY and LIMIT", () => {
  const strip = (query: Query) => ({
    filter: query.filter === null ? null : printExpr(query.filter),
    orderBy: query.orderBy.map((k) => `${k.field.name} ${k.direction}`),
    limit: query.limit,
  });

  test("an empty query matches everything, unordered, unlimited", () => {
    expect(strip(parseQuery(""))).toEqual({ filter: null, orderBy: [], limit: null });
    expect(strip(parseQuery("  \n "))).toEqual({ filter: null, orderBy: [], limit: null });
  });

  test("ORDER BY alone, LIMIT alone, and both after a filter", () => {
    expect(strip(parseQuery("ORDER BY sharpe DESC, name"))).toEqual({
      filter: null,
      orderBy: ["sharpe desc", "name asc"],
      limit: null,
    });
    expect(strip(parseQuery("LIMIT 0"))).toEqual({ filter: null, orderBy: [], limit: 0 });
    expect(strip(parseQuery("state = 'active' ORDER BY metric.calmar ASC, createdAt DESC LIMIT 1000"))).toEqual({
      filter: "state = 'active'",
      orderBy: ["calmar asc", "createdAt desc"],
      limit: 1000,
    });
  });

  test("spans point at the source", () => {
    const text = "  owner = 'ann' AND sharpe > 1";
    const filter = filterOf(text);
    expect(text.slice(filter.span.start, filter.span.end)).toBe("owner = 'ann' AND sharpe > 1");
    if (filter.kind !== NodeKinds.And) throw new Error("expected AND");
    const second = filter.operands[1];
    if (second?.kind !== NodeKinds.Compare) throw new Error("expected a comparison");
    expect(text.slice(second.span.start, second.span.end)).toBe("sharpe > 1");
    expect(text.slice(second.value.span.start, second.value.span.end)).toBe("1");
  });
});
