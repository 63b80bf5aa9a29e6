import { MEAN_REVERSION } from "@stratreg/testkit";
import { describe, expect, test } from "vitest";
import { ErrorCodes, ValidationError } from "./errors.js";
import { checkTemplate, resolveTemplateParams, templateInputError, templateParamViolations } from "./template-check.js";

/** Every violation's field and code, in order. */
const kinds = (violations: Array<{ field: string; code: string }>) => violations.map((v) => [v.field, v.code]);

function thrown(run: () => unknown): ValidationError {
  try {
    run();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error("expected a ValidationError");
}

describe("checkTemplate", () => {
  test("a sound template has no problems", () => {
    expect(checkTemplate(MEAN_REVERSION)).toEqual([]);
    expect(templateInputError(MEAN_REVERSION)).toBeUndefined();
  });

  test("names each problem of the parameter specs by field", () => {
    const problems = checkTemplate({
      params: {
        "1bad": { type: "number" },
        range: { type: "number", min: 5, max: 1 },
        label: { type: "string", min: 1, max: 3 },
        whole: { type: "integer", min: 0.5 },
        choice: { type: "string", enum: ["a", 1, "a"] },
        flag: { type: "boolean", enum: [true] },
        low: { type: "number", min: 0, max: 1, default: 2 },
        typed: { type: "integer", default: "ten" },
        picked: { type: "string", enum: ["x", "y"], default: "z" },
        both: { type: "number", required: true, default: 1 },
        stop: { type: "number", risk: true, min: 0 },
        named: { type: "string", risk: true },
      },
    });
    expect(kinds(problems)).toEqual([
      ["params.1bad", "INVALID_FIELD"],
      ["params.range.min", "INVALID_FIELD"],
      ["params.label.min", "INVALID_FIELD"],
      ["params.label.max", "INVALID_FIELD"],
      ["params.whole.min", "INVALID_FIELD"],
      ["params.choice.enum[1]", "INVALID_FIELD"],
      ["params.choice.enum[2]", "INVALID_FIELD"],
      ["params.flag.enum", "INVALID_FIELD"],
      ["params.low.default", "INVALID_FIELD"],
      ["params.typed.default", "INVALID_FIELD"],
      ["params.picked.default", "INVALID_FIELD"],
      ["params.both.required", "INVALID_FIELD"],
      ["params.stop.risk", "INVALID_FIELD"],
      ["params.named.risk", "INVALID_FIELD"],
    ]);
    expect(problems[1]?.message).toBe("params.range.min (5) is above max (1)");
    expect(problems[8]?.message).toBe("params.low.default must be at most 1 (got 2)");
    expect(problems[9]?.message).toBe('params.typed.default must be an integer (got string "ten")');
    expect(problems[12]?.message).toBe("params.stop.risk needs a range: a risk parameter has both min and max");
  });

  test("names each problem of the rules by field", () => {
    const problems = checkTemplate({
      params: {
        a: { type: "number" },
        b: { type: "integer" },
        s: { type: "string" },
      },
      rules: [
        { param: "nope", op: "<", value: 1, message: "m" },
        { param: "a", op: "<", message: "neither" },
        { param: "a", op: "<", value: 1, other: "b", message: "both" },
        { param: "a", op: "<", other: "ghost", message: "m" },
        { param: "a", op: "<", other: "a", message: "m" },
        { param: "a", op: "==", other: "s", message: "m" },
        { param: "a", op: "<", value: "x", message: "m" },
        { param: "s", op: ">", value: "m", message: "m" },
        { param: "a", op: "<", other: "b", message: "numbers compare across number and integer" },
        { param: "b", op: "<", value: 2.5, message: "an integer against a fractional bound is fine" },
      ],
    });
    expect(kinds(problems)).toEqual([
      ["rules[0].param", "INVALID_FIELD"],
      ["rules[1]", "INVALID_FIELD"],
      ["rules[2]", "INVALID_FIELD"],
      ["rules[3].other", "INVALID_FIELD"],
      ["rules[4].other", "INVALID_FIELD"],
      ["rules[5].other", "INVALID_FIELD"],
      ["rules[6].value", "INVALID_FIELD"],
      ["rules[7].op", "INVALID_FIELD"],
    ]);
  });

  test("a rule the defaults break is a problem of the template", () => {
    const problems = checkTemplate({
      params: {
        stopLoss: { type: "number", min: 0, max: 1, default: 0.1, risk: true },
        takeProfit: { type: "number", min: 0, max: 1, default: 0.05 },
      },
      rules: [{ param: "stopLoss", op: "<", other: "takeProfit", message: "stop inside the target" }],
    });
    expect(problems).toEqual([
      {
        field: "rules[0]",
        code: ErrorCodes.InvalidField,
        message:
          "rules[0] is broken by the defaults: stop inside the target: stopLoss (0.1) must be < takeProfit (0.05)",
      },
    ]);
  });

  test("templateInputError: the schema first (first problem), then every definition problem", () => {
    expect(templateInputError({ ...MEAN_REVERSION, colour: "red" })).toMatchObject({
      code: ErrorCodes.UnknownField,
      field: "colour",
    });
    expect(templateInputError({ ...MEAN_REVERSION, id: "has.dot" })).toMatchObject({
      code: ErrorCodes.InvalidField,
      field: "id",
    });
    expect(templateInputError({ ...MEAN_REVERSION, params: {} })).toMatchObject({
      code: ErrorCodes.InvalidField,
      field: "params",
    });
    expect(
      templateInputError({ ...MEAN_REVERSION, params: { x: { type: "number", min: 1, max: 2, colour: 1 } } }),
    ).toMatchObject({ code: ErrorCodes.UnknownField, field: "params.x.colour" });
    expect(templateInputError({ ...MEAN_REVERSION, params: { x: { type: "decimal" } } })).toMatchObject({
      code: ErrorCodes.InvalidField,
      field: "params.x.type",
    });
    const unsound = templateInputError({
      ...MEAN_REVERSION,
      params: { x: { type: "number", min: 3, max: 1 }, y: { type: "number", risk: true } },
      rules: [],
    });
    expect(unsound).toMatchObject({ code: ErrorCodes.InvalidField, field: "params.x.min" });
    expect(kinds(unsound?.details?.violations as [])).toEqual([
      ["params.x.min", "INVALID_FIELD"],
      ["params.y.risk", "INVALID_FIELD"],
    ]);
  });
});

describe("resolveTemplateParams", () => {
  test("fills the defaults and keeps the caller's values", () => {
    expect(resolveTemplateParams(MEAN_REVERSION, { venue: "lmax", stopLoss: 0.01, lookback: 40 })).toEqual({
      params: {
        lookback: 40,
        threshold: 2,
        side: "both",
        venue: "lmax",
        hedged: false,
        stopLoss: 0.01,
        takeProfit: 0.05,
      },
    });
  });

  test("an optional parameter without a default stays absent", () => {
    const template = { params: { note: { type: "string" as const } } };
    expect(resolveTemplateParams(template, {})).toEqual({ params: {} });
    expect(resolveTemplateParams(template, { note: "hi" })).toEqual({ params: { note: "hi" } });
  });

  test("a risk parameter with a default needs no value from the caller; one without needs it", () => {
    const withDefault = { params: { stop: { type: "number" as const, min: 0, max: 1, default: 0.02, risk: true } } };
    expect(resolveTemplateParams(withDefault)).toEqual({ params: { stop: 0.02 } });
    const error = thrown(() =>
      resolveTemplateParams({ params: { stop: { type: "number", min: 0, max: 1, risk: true } } }),
    );
    expect(error).toMatchObject({ code: ErrorCodes.MissingField, field: "params.stop" });
    expect(error.message).toMatch(/params\.stop is a risk parameter: every instance must set it/);
  });

  test("every violation kind, each named by field, the first one on the error", () => {
    const error = thrown(() =>
      resolveTemplateParams(
        { ...MEAN_REVERSION, version: 3 },
        {
          lookback: 2.5, // type: not an integer
          threshold: 9, // range: above max
          side: "sideways", // enum
          hedged: "yes", // type: not a boolean
          // venue: required, missing
          // stopLoss: risk, missing (no default)
          takeProfit: 0.0001, // range: below min
          colour: "red", // unknown
        },
      ),
    );
    expect(error.code).toBe(ErrorCodes.InvalidField);
    expect(error.field).toBe("params.lookback");
    expect(error.details).toMatchObject({ template: "mean-reversion", version: 3 });
    const violations = error.details?.violations as Array<{ field: string; code: string; message: string }>;
    expect(kinds(violations)).toEqual([
      ["params.lookback", "INVALID_FIELD"],
      ["params.threshold", "INVALID_FIELD"],
      ["params.side", "INVALID_FIELD"],
      ["params.venue", "MISSING_FIELD"],
      ["params.hedged", "INVALID_FIELD"],
      ["params.stopLoss", "MISSING_FIELD"],
      ["params.takeProfit", "INVALID_FIELD"],
      ["params.colour", "UNKNOWN_FIELD"],
    ]);
    expect(violations.map((v) => v.message)).toEqual([
      "params.lookback must be an integer (got number 2.5)",
      "params.threshold must be at most 5 (got 9)",
      'params.side must be one of "long", "short", "both" (got "sideways")',
      "params.venue is required",
      'params.hedged must be a boolean (got string "yes")',
      "params.stopLoss is a risk parameter: every instance must set it",
      "params.takeProfit must be at least 0.001 (got 0.0001)",
      "params.colour is not a parameter of the template",
    ]);
    expect(error.message).toMatch(/^parameters break template mean-reversion v3: params\.lookback must be an integer/);
    expect(error.message).toMatch(/and 7 more: params\.threshold, .*, params\.colour\)$/);
  });

  test("broken rules are violations of the rule's parameter, checked on the values after defaults", () => {
    // takeProfit defaults to 0.05, so a stop-loss of 0.08 breaks the first rule; lookback 5 breaks the second.
    const { violations } = templateParamViolations(MEAN_REVERSION, { venue: "lmax", stopLoss: 0.08, lookback: 5 });
    expect(violations).toEqual([
      {
        field: "params.stopLoss",
        code: ErrorCodes.InvalidField,
        message: "a stop-loss tighter than the take-profit: stopLoss (0.08) must be < takeProfit (0.05)",
      },
      {
        field: "params.lookback",
        code: ErrorCodes.InvalidField,
        message: "short lookbacks overfit: lookback (5) must be >= 10",
      },
    ]);
    const error = thrown(() => resolveTemplateParams(MEAN_REVERSION, { venue: "lmax", stopLoss: 0.08, lookback: 5 }));
    expect(error).toMatchObject({ code: ErrorCodes.InvalidField, field: "params.stopLoss" });
  });

  test("a rule over a parameter that has no value or a bad one is not checked", () => {
    const { violations } = templateParamViolations(MEAN_REVERSION, { venue: "lmax", stopLoss: 5 });
    // stopLoss is out of range: the rule comparing it with takeProfit is not reported on top.
    expect(kinds(violations)).toEqual([["params.stopLoss", "INVALID_FIELD"]]);
    const optional = {
      params: { a: { type: "number" as const }, b: { type: "number" as const } },
      rules: [{ param: "a", op: "<" as const, other: "b", message: "a below b" }],
    };
    expect(templateParamViolations(optional, { a: 3 }).violations).toEqual([]);
    expect(kinds(templateParamViolations(optional, { a: 3, b: 1 }).violations)).toEqual([
      ["params.a", "INVALID_FIELD"],
    ]);
  });

  test("==, != and the ordering operators", () => {
    const template = (op: "<" | "<=" | ">" | ">=" | "==" | "!=", value: number | string) => ({
      params: { x: { type: "number" as const }, s: { type: "string" as const } },
      rules: [{ param: typeof value === "string" ? "s" : "x", op, value, message: "m" }],
    });
    const broken = (
      op: Parameters<typeof template>[0],
      value: number | string,
      given: Record<string, number | string>,
    ) => templateParamViolations(template(op, value), given).violations.length > 0;
    expect([broken("<", 2, { x: 1 }), broken("<", 2, { x: 2 })]).toEqual([false, true]);
    expect([broken("<=", 2, { x: 2 }), broken("<=", 2, { x: 3 })]).toEqual([false, true]);
    expect([broken(">", 2, { x: 3 }), broken(">", 2, { x: 2 })]).toEqual([false, true]);
    expect([broken(">=", 2, { x: 2 }), broken(">=", 2, { x: 1 })]).toEqual([false, true]);
    expect([broken("==", "a", { s: "a" }), broken("==", "a", { s: "b" })]).toEqual([false, true]);
    expect([broken("!=", "a", { s: "b" }), broken("!=", "a", { s: "a" })]).toEqual([false, true]);
  });

  test("numbers must be finite, strings at most 256 characters", () => {
    const template = { params: { x: { type: "number" as const }, s: { type: "string" as const } } };
    const { violations } = templateParamViolations(template, { x: Number.POSITIVE_INFINITY, s: "z".repeat(257) });
    expect(violations.map((v) => v.message)).toEqual([
      "params.x must be a number (got Infinity)",
      "params.s must be at most 256 characters (got 257)",
    ]);
  });

  test("a parameter named like an Object.prototype member is an ordinary unknown name", () => {
    const { violations } = templateParamViolations(MEAN_REVERSION, {
      venue: "v",
      stopLoss: 0.01,
      constructor: 1,
      toString: "x",
    });
    expect(kinds(violations)).toEqual([
      ["params.constructor", "UNKNOWN_FIELD"],
      ["params.toString", "UNKNOWN_FIELD"],
    ]);
  });
});
