import { type Metric, newStrategy, type Strategy, type StrategyInput } from "@stratreg/protocol";
import { describe, expect, test } from "vitest";
import { queryFields, requiredEquals } from "./analyze.js";
import { applyQuery, compileQuery, type SearchDocument } from "./compile.js";
import { parseQuery } from "./parser.js";

function doc(
  input: Partial<StrategyInput> & { id: string },
  extra: Partial<Strategy> = {},
  metrics: Partial<Record<Metric, number>> = {},
): SearchDocument {
  const strategy = { ...newStrategy({ name: input.id, owner: "ann", ...input }, 0), ...extra };
  return { strategy, metric: (name) => metrics[name] ?? null };
}

const DOCS: SearchDocument[] = [
  doc(
    {
      id: "mom-1",
      tags: ["momentum", "fx"],
      family: "mom",
      template: { id: "xover", version: 2, params: { fast: 10 } },
    },
    { state: "active", lifecycle: { value: { active: "growth" }, context: {} } },
    { sharpe: 1.8, maxDrawdown: -0.1 },
  ),
  doc(
    { id: "mom-2", tags: ["momentum"], family: "mom", venues: [{ venue: "binance", symbols: ["BTCUSDT", "ETHUSDT"] }] },
    {},
    { sharpe: 0.4 },
  ),
  doc({ id: "mr-1", tags: [], owner: "bob", template: { id: "bands", params: { mode: "z", constructor: 1 } } }),
];

function ids(text: string, docs: SearchDocument[] = DOCS): string[] {
  return applyQuery(compileQuery(text), docs).map((d) => d.strategy.id);
}

describe("null semantics: comparisons on null are false, NOT is plain negation", () => {
  test("a metric not defined yet fails every comparison, and its NOT holds", () => {
    expect(ids("sharpe > 1")).toEqual(["mom-1"]);
    expect(ids("sharpe <= 1")).toEqual(["mom-2"]);
    expect(ids("NOT sharpe > 1")).toEqual(["mom-2", "mr-1"]);
    expect(ids("sharpe != 0.4")).toEqual(["mom-1"]);
    expect(ids("NOT sharpe = 0.4")).toEqual(["mom-1", "mr-1"]);
    expect(ids("sharpe IS NULL")).toEqual(["mr-1"]);
  });

  test("a null family fails NOT IN and NOT LIKE too", () => {
    expect(ids("family NOT IN ('x')")).toEqual(["mom-1", "mom-2"]);
    expect(ids("family NOT LIKE 'x%'")).toEqual(["mom-1", "mom-2"]);
    expect(ids("family IS NOT NULL")).toEqual(["mom-1", "mom-2"]);
  });
});

describe("fields", () => {
  test("a multi-valued field holds when any element does; empty is null", () => {
    expect(ids("tag = 'fx'")).toEqual(["mom-1"]);
    expect(ids("tags != 'fx'")).toEqual(["mom-1", "mom-2"]);
    expect(ids("NOT tags = 'fx'")).toEqual(["mom-2", "mr-1"]);
    expect(ids("tags IS NULL")).toEqual(["mr-1"]);
    expect(ids("symbol LIKE 'ETH%'")).toEqual(["mom-2"]);
    expect(ids("venue = 'binance'")).toEqual(["mom-2"]);
  });

  test("phase, template, template.version and parameters", () => {
    expect(ids("phase = 'growth'")).toEqual(["mom-1"]);
    expect(ids("phase IS NULL")).toEqual(["mom-2", "mr-1"]);
    expect(ids("template = 'bands'")).toEqual(["mr-1"]);
    expect(ids("template.version >= 2")).toEqual(["mom-1"]);
    expect(ids("param.fast BETWEEN 5 AND 10")).toEqual(["mom-1"]);
    expect(ids("param.mode ILIKE 'Z'")).toEqual(["mr-1"]);
    expect(ids("param.mode != 10")).toEqual(["mr-1"]);
    expect(ids("param.mode > 1")).toEqual([]);
  });

  test("a parameter named like an Object.prototype member reads only the strategy's own", () => {
    expect(ids("param.constructor IS NOT NULL")).toEqual(["mr-1"]);
    expect(ids("param.toString IS NULL")).toEqual(["mom-1", "mom-2", "mr-1"]);
  });

  test("a strategy stored before lifecycles existed has no phase", () => {
    const legacy = doc({ id: "old" }, { state: "active", lifecycle: undefined });
    expect(ids("phase IS NULL AND state = 'active'", [legacy])).toEqual(["old"]);
  });
});

describe("ORDER BY and LIMIT", () => {
  test("nulls last in both directions, ties by id", () => {
    expect(ids("ORDER BY sharpe DESC")).toEqual(["mom-1", "mom-2", "mr-1"]);
    expect(ids("ORDER BY sharpe ASC")).toEqual(["mom-2", "mom-1", "mr-1"]);
    expect(ids("ORDER BY family DESC")).toEqual(["mom-1", "mom-2", "mr-1"]);
    expect(ids("ORDER BY owner DESC LIMIT 2")).toEqual(["mr-1", "mom-1"]);
  });

  test("without ORDER BY the comparator is undefined and input order stays", () => {
    const compiled = compileQuery("LIMIT 2");
    expect(compiled.order).toBeUndefined();
    expect(compiled.limit).toBe(2);
    expect(ids("LIMIT 2")).toEqual(["mom-1", "mom-2"]);
    expect(ids("")).toEqual(["mom-1", "mom-2", "mr-1"]);
  });
});

describe("what a query touches", () => {
  test("fields and metrics of the filter and of ORDER BY", () => {
    const q = parseQuery(
      "owner = 'ann' AND (NOT tag = 'x' OR metric.calmar > 1) AND param.fast > 2 ORDER BY sharpe DESC",
    );
    expect(queryFields(q)).toEqual({ fields: ["owner", "param.fast", "tags"], metrics: ["calmar", "sharpe"] });
    expect(queryFields(parseQuery(""))).toEqual({ fields: [], metrics: [] });
  });

  test("requiredEquals: top-level = and IN on indexed fields; nothing under OR or NOT", () => {
    const q = parseQuery(
      "state IN ('active', 'validated', 'active') AND owner = 'ann' AND tag = 'fx' AND family != 'x' AND template NOT IN ('a') AND name = 'n' AND (family = 'mom' OR sharpe > 1) AND NOT template = 'b'",
    );
    expect(requiredEquals(q)).toEqual([
      { field: "state", values: ["active", "validated"] },
      { field: "owner", values: ["ann"] },
      { field: "tags", values: ["fx"] },
    ]);
    expect(requiredEquals(parseQuery("family = 'mom'"))).toEqual([{ field: "family", values: ["mom"] }]);
    expect(requiredEquals(parseQuery("family = 'mom' OR owner = 'ann'"))).toEqual([]);
    expect(requiredEquals(parseQuery("ORDER BY id"))).toEqual([]);
  });
});
