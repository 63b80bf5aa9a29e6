import { ErrorCodes, errorFromWire, ValidationError } from "@stratreg/protocol";
import { describe, expect, test } from "vitest";
import { parseQuery } from "./parser.js";
import { QueryError, renderQueryPosition } from "./query-error.js";

function errorOf(text: string): QueryError {
  try {
    parseQuery(text);
  } catch (err) {
    if (err instanceof QueryError) return err;
    throw err;
  }
  throw new Error(`parsed without error: ${text}`);
}

describe("malformed queries", () => {
  // [query, position, line, column, message (without the line/column suffix)]
  test.each([
    ["sharpe > 'high'", 9, 1, 10, "expected a number for sharpe, found string 'high'"],
    ["tags > 3", 7, 1, 8, "expected a quoted string for tags, found number 3"],
    ["name = 'abc", 7, 1, 8, "unterminated string: no closing '"],
    [
      "colour = 'red'",
      0,
      1,
      1,
      "unknown field 'colour': expected a field (id, name, tags, …), param.<name> or a metric (sharpe, …)",
    ],
    [
      "metric.alpha > 1",
      7,
      1,
      8,
      "unknown metric 'alpha': expected one of sharpe, sortino, calmar, maxDrawdown, cagr, totalReturn, volatility, psr, winRate, profitFactor",
    ],
    ["id = 'a' )", 9, 1, 10, "expected AND, OR, ORDER BY, LIMIT or end of query, found ')'"],
    ["(id = 'a' OR id = 'b'", 21, 1, 22, "expected ')' or AND/OR, found end of query"],
    ["id = 'a' AND", 12, 1, 13, "expected a comparison (field, NOT or '('), found end of query"],
    [
      "id 'a'",
      3,
      1,
      4,
      "expected an operator (=, !=, <>, <, <=, >, >=, IN, LIKE, ILIKE, ~, REGEXP, IS, BETWEEN), found string 'a'",
    ],
    ["id = 'a' & id = 'b'", 9, 1, 10, "unexpected character '&'"],
    ["name ~ '(unclosed'", 7, 1, 8, "invalid regular expression /(unclosed/: Unterminated group"],
    ["name LIKE 'ab\\\\'", 10, 1, 11, "LIKE pattern ends in a lone escape '\\'"],
    ["family = null", 9, 1, 10, "null is never equal to anything: write family IS NULL or IS NOT NULL"],
    ["sharpe LIKE '1%'", 0, 1, 1, "LIKE applies to text; sharpe holds numbers"],
    ["param.on > true", 11, 1, 12, "booleans have no order: compare param.on with = or != only"],
    ["state IN ('active',)", 19, 1, 20, "expected a value (a quoted string, a number, true or false), found ')'"],
    ["family IS 'x'", 10, 1, 11, "expected NULL or NOT NULL, found string 'x'"],
    ["sharpe BETWEEN 1 OR 2", 17, 1, 18, "expected AND between the bounds of BETWEEN, found 'OR'"],
    ["ORDER BY tags", 9, 1, 10, "cannot ORDER BY tags: it holds many values"],
    ["ORDER sharpe", 6, 1, 7, "expected BY, found 'sharpe'"],
    ["LIMIT 1001", 6, 1, 7, "LIMIT 1001 exceeds the maximum of 1000"],
    ["LIMIT 2.5", 6, 1, 7, "expected a whole number of strategies after LIMIT, found number 2.5"],
    ["LIMIT 5 ORDER BY id", 8, 1, 9, "expected end of query, found 'ORDER'"],
    [
      "state = 'active'\n  AND owner = 'ann'\n  AND sharpe >> 1",
      51,
      3,
      15,
      "expected a value (a quoted string, a number, true or false), found '>'",
    ],
    ["sharpe > 1e999", 9, 1, 10, "number 1e999 is out of range"],
    ["param. = 1", 6, 1, 7, "expected a name after '.'"],
    ["AND = 1", 0, 1, 1, "expected a comparison (field, NOT or '('), found 'AND'"],
    ["tags IN 'x'", 8, 1, 9, "expected '(' after IN, found string 'x'"],
    ["tags IN ('x' 'y')", 13, 1, 14, "expected ',' or ')' in the IN list, found string 'y'"],
    ["param.x BETWEEN 1 AND 'z'", 22, 1, 23, "the bounds of BETWEEN must be of one type: number and string"],
    ["id NOT = 'a'", 7, 1, 8, "expected IN, LIKE, ILIKE, REGEXP or BETWEEN after NOT, found '='"],
    ["name LIKE 3", 10, 1, 11, "expected a quoted pattern, found number 3"],
    ["name REGEXP 3", 12, 1, 13, "expected a quoted regex, found number 3"],
    ["param = 1", 5, 1, 6, "expected a parameter name after param."],
    ["metric = 1", 6, 1, 7, "expected a metric name after metric."],
    [
      "metric.a.b > 1",
      7,
      1,
      8,
      "unknown metric 'a.b': expected one of sharpe, sortino, calmar, maxDrawdown, cagr, totalReturn, volatility, psr, winRate, profitFactor",
    ],
  ])("%j", (text, position, line, column, message) => {
    const error = errorOf(text);
    expect({ position: error.position, line: error.line, column: error.column, reason: error.reason }).toEqual({
      position,
      line,
      column,
      reason: message,
    });
    expect(error.message).toBe(`${message} (line ${line}, column ${column})`);
  });

  test("patterns longer than 256 characters are refused before they are compiled", () => {
    const error = errorOf(`name ~ '${"a".repeat(257)}'`);
    expect(error.reason).toBe("pattern is longer than 256 characters");
    expect(error.position).toBe(7);
  });

  test("nesting deeper than 64 levels is an error, not a stack overflow", () => {
    const error = errorOf(`${"(".repeat(65)}id = 'a'${")".repeat(65)}`);
    expect(error.reason).toBe("query nests deeper than 64 levels of NOT and parentheses");
    expect(error.position).toBe(64);
    expect(errorOf(`${"NOT ".repeat(1000)}id = 'a'`).reason).toMatch(/nests deeper/);
    expect(() => parseQuery(`${"(".repeat(64)}id = 'a'${")".repeat(64)}`)).not.toThrow();
  });

  test("a query longer than 10000 characters is refused", () => {
    expect(errorOf(`name = '${"x".repeat(10_000)}'`).reason).toBe("query is longer than 10000 characters");
  });
});

describe("QueryError", () => {
  test("is a ValidationError with code INVALID_QUERY, the field, and the position in details", () => {
    const error = errorOf("sharpe > 'high'");
    expect(error).toBeInstanceOf(ValidationError);
    expect(error.name).toBe("QueryError");
    expect(error.code).toBe(ErrorCodes.InvalidQuery);
    expect(error.retryable).toBe(false);
    expect(error.toWire()).toEqual({
      code: "INVALID_QUERY",
      message: "expected a number for sharpe, found string 'high' (line 1, column 10)",
      retryable: false,
      field: "body.query",
      details: { position: 9, line: 1, column: 10, expected: "a number", found: "string 'high'" },
    });
  });

  test("names the request field it was given", () => {
    try {
      parseQuery("nope = 1", { field: "body.filter" });
      expect.unreachable();
    } catch (err) {
      expect((err as QueryError).field).toBe("body.filter");
    }
  });

  test("comes back from the wire as a ValidationError whose details still render", () => {
    const text = "owner = 'ann' AND tags > 3";
    const wire = errorOf(text).toWire();
    const back = errorFromWire(wire);
    expect(back).toBeInstanceOf(ValidationError);
    expect(back.code).toBe("INVALID_QUERY");
    expect(renderQueryPosition(text, back.details?.position as number, "here")).toBe(
      "owner = 'ann' AND tags > 3\n                         ^ here",
    );
  });

  test("render puts a caret under the position, with a line number for multi-line queries", () => {
    expect(errorOf("sharpe > 'high'").render()).toBe(
      "sharpe > 'high'\n         ^ expected a number for sharpe, found string 'high'",
    );
    expect(errorOf("state = 'active'\n  AND bogus = 1").render()).toBe(
      "2 |   AND bogus = 1\n          ^ unknown field 'bogus': expected a field (id, name, tags, …), param.<name> or a metric (sharpe, …)",
    );
  });
});
