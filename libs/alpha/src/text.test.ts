import fc from "fast-check";
import { describe, expect, test } from "vitest";
import type { Expr } from "./ast.js";
import { ExpressionError } from "./errors.js";
import { exprArbs } from "./testing/arbitraries.js";
import { parse, print } from "./text.js";
import { check, depth, nodeAt, replaceAt, size } from "./tree.js";

function parseError(text: string): ExpressionError {
  try {
    parse(text);
  } catch (error) {
    if (error instanceof ExpressionError) return error;
    throw error;
  }
  throw new Error(`${text} parsed`);
}

describe("text form", () => {
  const arbs = exprArbs(6);
  const anyExpr = fc.oneof(arbs.series, arbs.bool, arbs.position);

  test("parse(print(e)) is e, and print is canonical (one text per tree)", () => {
    fc.assert(
      fc.property(anyExpr, (expr) => {
        const text = print(expr);
        const back = parse(text);
        expect(back).toEqual(expr);
        expect(print(back)).toBe(text);
      }),
      { numRuns: 500 },
    );
  });

  test("spacing does not matter", () => {
    fc.assert(
      fc.property(anyExpr, fc.constantFrom(" ", "\n", "\t  "), (expr, space) => {
        const spaced = print(expr).replaceAll("(", `${space}(${space}`).replaceAll(", ", `${space},${space}`);
        expect(parse(`${space}${spaced}${space}`)).toEqual(expr);
      }),
      { numRuns: 200 },
    );
  });

  test("every generated tree type-checks as its own type", () => {
    fc.assert(
      fc.property(arbs.position, (expr) => {
        expect(check(expr, "position")).toBe("position");
      }),
    );
  });

  test("the canonical form of a strategy", () => {
    const text =
      'long_short(crosses_above(ema(close(AAA), 10), sma(close("BTC/USD"), 50)), gt(zscore(volume(B-1.X), 20), -1.5))';
    const expr = parse(text, "position");
    expect(print(expr)).toBe(text);
    expect(size(expr)).toBe(9);
    expect(depth(expr)).toBe(4);
    expect(nodeAt(expr, [1, 0]).op).toBe("zscore");
    expect(print(parse("gt(hour(), 1e-7)"))).toBe("gt(hour(), 1e-7)");
    expect(parse("gt(hour(), -0)").c).toBe(-0);
    expect(print(parse("gt(hour(), -0)"))).toBe("gt(hour(), -0)");
  });

  test.each([
    ["sma(close(AAA), 7)", 16, /window \(one of 2, 3, 5, 10, 20, 50, 100\)/],
    ["lag(close(AAA), -1)", 16, /lag \(one of 1, 2, 3/],
    ["lead(close(AAA), 1)", 0, /unknown operator lead/],
    ["signal(close(AAA))", 7, /signal needs a bool at 7, got a series \(close\)/],
    ["signal(gt(close(AAA), 1)) x", 26, /expected end of input at 26/],
    ["gt(close(AAA), )", 15, /expected a threshold at 15/],
    ["gt(close(AAA), 1e999)", 15, /within the range of a double/],
    ["close()", 6, /an asset name at 6/],
    ['close("")', 6, /non-empty asset name at 6/],
    ["add(close(A), close(B)", 22, /expected "\)" at 22, found end of input/],
  ])("%s is refused at offset %i", (text, position, message) => {
    const error = parseError(text);
    expect(error.code).toBe("PARSE");
    expect(error.retryable).toBe(false);
    expect(error.position).toBe(position);
    expect(error.message).toMatch(message);
  });

  test("a strategy must be a position", () => {
    expect(() => parse("  gt(close(A), 1)", "position")).toThrow(/expected a position at 2, got a bool/);
    expect(parse("signal(gt(close(A), 1))", "position").op).toBe("signal");
  });

  test("nothing can name a future bar: lags and windows only come from their fixed positive sets", () => {
    for (const k of [0, -1, -5, 1.5, 4, 1000]) {
      expect(() => parse(`lag(close(A), ${k})`)).toThrow(ExpressionError);
      expect(() => check({ op: "lag", args: [{ op: "close", args: [], asset: "A" }], k })).toThrow(
        /lag must be one of/,
      );
      expect(() => check({ op: "sma", args: [{ op: "close", args: [], asset: "A" }], k })).toThrow(
        /window must be one of/,
      );
    }
  });
});

describe("check", () => {
  const close: Expr = { op: "close", args: [], asset: "A" };

  test.each<[unknown, RegExp, string]>([
    [{ op: "nope", args: [] }, /unknown operator nope/, ""],
    [{ op: "add", args: [close] }, /add takes 2 argument/, ""],
    [{ op: "signal", args: [close] }, /signal needs a bool here, got a series/, "args[0]"],
    [{ op: "gt", args: [close] }, /threshold mismatch/, ""],
    [{ op: "gt", args: [close], c: Number.NaN }, /finite number/, ""],
    [{ op: "close", args: [], asset: "" }, /non-empty name/, ""],
    [{ op: "close", args: [], asset: "A", k: 2 }, /lag\/window parameter mismatch/, ""],
    [
      { op: "signal", args: [{ op: "gt", args: [{ op: "sma", args: [close], k: 7 }], c: 1 }] },
      /window must be one of/,
      "args[0].args[0]",
    ],
  ])("%j is refused", (expr, message, path) => {
    try {
      check(expr as Expr);
      throw new Error("accepted");
    } catch (error) {
      expect(error).toBeInstanceOf(ExpressionError);
      expect((error as ExpressionError).code).toBe("INVALID_EXPRESSION");
      expect((error as ExpressionError).message).toMatch(message);
      expect((error as ExpressionError).path).toBe(path);
    }
  });

  test("expected type", () => {
    expect(() => check(close, "position")).toThrow(/expected a position, got a series/);
  });

  test("replaceAt copies the spine and shares the rest", () => {
    const expr = parse("signal(and(gt(close(A), 1), lt(close(B), 2)))");
    const replaced = replaceAt(expr, [0, 1], parse("gt(hour(), 12)"));
    expect(print(replaced)).toBe("signal(and(gt(close(A), 1), gt(hour(), 12)))");
    expect(nodeAt(replaced, [0, 0])).toBe(nodeAt(expr, [0, 0]));
    expect(print(expr)).toBe("signal(and(gt(close(A), 1), lt(close(B), 2)))");
    expect(() => replaceAt(expr, [0, 5], close)).toThrow(RangeError);
  });
});
