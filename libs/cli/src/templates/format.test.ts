import type { Template, TemplateParamSpec } from "@stratreg/client";
import { describe, expect, test } from "vitest";
import { CliError } from "../errors.js";
import { paramsFromArgs, parseTemplateRef, templateLines, templateListLines, violationLines } from "./format.js";

const SPECS: Record<string, TemplateParamSpec> = {
  lookback: { type: "integer", min: 5, max: 250, default: 20 },
  entryZ: { type: "number" },
  venue: { type: "string", required: true },
  hedged: { type: "boolean" },
};

const TEMPLATE: Template = {
  id: "mean-reversion",
  name: "Mean reversion",
  family: "reversion",
  tags: ["fx"],
  params: {
    lookback: { type: "integer", min: 5, max: 250, default: 20, description: "bars in the mean" },
    side: { type: "string", enum: ["long", "short"], default: "long" },
    venue: { type: "string", required: true },
    stopLoss: { type: "number", min: 0.001, max: 0.2, risk: true },
  },
  rules: [{ param: "lookback", op: ">=", value: 10, message: "short lookbacks overfit" }],
  version: 2,
  createdAt: Date.UTC(2026, 0, 5),
  createdBy: "ops-alice",
};

describe("template text", () => {
  test("one template: fields, the parameter table and the rules", () => {
    expect(templateLines(TEMPLATE)).toEqual([
      "id:          mean-reversion",
      "version:     2",
      "name:        Mean reversion",
      "family:      reversion",
      "tags:        fx",
      "description: -",
      "created:     2026-01-05T00:00:00.000Z by ops-alice",
      "parameters:",
      "  NAME      TYPE     DEFAULT  RANGE         ONE OF            FLAGS     DESCRIPTION",
      "  lookback  integer  20       5 to 250      -                 -         bars in the mean",
      '  side      string   "long"   -             "long" | "short"  -         -',
      "  venue     string   -        -             -                 required  -",
      "  stopLoss  number   -        0.001 to 0.2  -                 risk      -",
      "rules:",
      "  lookback >= 10: short lookbacks overfit",
    ]);
    const bare: Template = { id: "t", name: "T", params: { x: { type: "number", min: 0 } }, version: 1, createdAt: 0 };
    const lines = templateLines(bare);
    expect(lines).toContain("  x     number  -        0 to …  -       -      -");
    expect(lines.at(-1)).toBe("rules: -");
    expect(lines).toContain("created:     1970-01-01T00:00:00.000Z");
  });

  test("the list, risk parameters marked", () => {
    expect(templateListLines([])).toEqual(["no templates"]);
    expect(
      templateListLines([
        {
          id: "mean-reversion",
          version: 12,
          name: "Mean reversion",
          description: "",
          family: null,
          tags: [],
          params: ["lookback", "stopLoss"],
          riskParams: ["stopLoss"],
          createdAt: Date.UTC(2026, 0, 5),
          createdBy: null,
        },
      ]),
    ).toEqual([
      "ID              VERSION  NAME            FAMILY  PARAMS (! risk)      CREATED",
      "mean-reversion       12  Mean reversion  -       lookback, stopLoss!  2026-01-05T00:00:00.000Z",
    ]);
  });

  test("violations one per line; none without details", () => {
    expect(
      violationLines({
        violations: [
          {
            field: "body.params.lookback",
            code: "INVALID_FIELD",
            message: "params.lookback must be at least 5 (got 3)",
          },
          { field: "body.params.venue", code: "MISSING_FIELD", message: "params.venue is required" },
        ],
      }),
    ).toEqual([
      "  body.params.lookback: INVALID_FIELD params.lookback must be at least 5 (got 3)",
      "  body.params.venue: MISSING_FIELD params.venue is required",
    ]);
    expect(violationLines(undefined)).toEqual([]);
    expect(violationLines({ expected: 1 })).toEqual([]);
  });
});

describe("--param and template references", () => {
  test("values are typed by the template's specs", () => {
    expect(paramsFromArgs(["lookback=40", "entryZ=1.5", "venue=lmax", "hedged=true"], SPECS)).toEqual({
      lookback: 40,
      entryZ: 1.5,
      venue: "lmax",
      hedged: true,
    });
    // A string parameter keeps digits as text; '=' after the first belongs to the value.
    expect(paramsFromArgs(["venue=123", "hedged=false"], SPECS)).toEqual({ venue: "123", hedged: false });
    expect(paramsFromArgs(["venue=a=b"], SPECS)).toEqual({ venue: "a=b" });
  });

  test("what does not read as its type, or is not a parameter, is sent as text for the registry to name", () => {
    expect(paramsFromArgs(["lookback=ten", "entryZ=", "hedged=yes", "colour=red"], SPECS)).toEqual({
      lookback: "ten",
      entryZ: "",
      hedged: "yes",
      colour: "red",
    });
  });

  test("a malformed or repeated --param is the CLI's own error", () => {
    expect(() => paramsFromArgs(["lookback"], SPECS)).toThrow(CliError);
    expect(() => paramsFromArgs(["=1"], SPECS)).toThrow(/--param needs name=value/);
    expect(() => paramsFromArgs(["lookback=1", "lookback=2"], SPECS)).toThrow(/--param lookback is given twice/);
  });

  test("id or id@version", () => {
    expect(parseTemplateRef("mean-reversion")).toEqual({ id: "mean-reversion" });
    expect(parseTemplateRef("mean-reversion@12")).toEqual({ id: "mean-reversion", version: 12 });
    for (const bad of ["mean-reversion@", "mean-reversion@0", "mean-reversion@1.5", "@2", "x@v2"]) {
      expect(() => parseTemplateRef(bad), bad).toThrow(/is not a template: use <id> or <id>@<version>/);
    }
  });
});
