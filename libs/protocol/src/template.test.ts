import { TypeCompiler } from "@sinclair/typebox/compiler";
import { describe, expect, test } from "vitest";
import { encode } from "./codec.js";
import { ErrorCodes } from "./errors.js";
import { requestEnvelopeSchema } from "./messages.js";
import { clusterSubjects } from "./subjects.js";
import { type TemplateInput, TemplateRequestBodies, templateSummary } from "./template.js";
import { parseWith } from "./validate.js";

/** A mean-reversion pattern: a lookback, an entry threshold, a side, a stop-loss and a take-profit. */
const MEAN_REVERSION: TemplateInput = {
  id: "mean-reversion",
  name: "Mean reversion",
  family: "reversion",
  tags: ["fx"],
  params: {
    lookback: { type: "integer", min: 5, max: 250, default: 20, description: "bars in the mean" },
    threshold: { type: "number", min: 0.5, max: 5, default: 2 },
    side: { type: "string", enum: ["long", "short", "both"], default: "both" },
    venue: { type: "string", required: true },
    hedged: { type: "boolean", default: false },
    stopLoss: { type: "number", min: 0.001, max: 0.2, risk: true },
    takeProfit: { type: "number", min: 0.001, max: 1, default: 0.05 },
  },
  rules: [
    { param: "stopLoss", op: "<", other: "takeProfit", message: "a stop-loss tighter than the take-profit" },
    { param: "lookback", op: ">=", value: 10, message: "short lookbacks overfit" },
  ],
};

describe("template wire", () => {
  test("summary of a stored version", () => {
    expect(templateSummary({ ...MEAN_REVERSION, version: 2, createdAt: 5, createdBy: "ops" })).toEqual({
      id: "mean-reversion",
      version: 2,
      name: "Mean reversion",
      description: "",
      family: "reversion",
      tags: ["fx"],
      params: ["lookback", "threshold", "side", "venue", "hedged", "stopLoss", "takeProfit"],
      riskParams: ["stopLoss"],
      createdAt: 5,
      createdBy: "ops",
    });
  });

  test("subjects and bucket", () => {
    const s = clusterSubjects("c1");
    expect([s.templates("list"), s.templates("instantiate"), s.templatesControl("put"), s.templateBucket]).toEqual([
      "c1.templates.list",
      "c1.templates.instantiate",
      "c1.control.templates.put",
      "c1-templates",
    ]);
  });

  test("an instantiate request is a write: cid and issued are required, unknown strategy fields refused", () => {
    const check = TypeCompiler.Compile(requestEnvelopeSchema(TemplateRequestBodies.instantiate, true));
    const body = { template: "mean-reversion", strategy: { id: "mr-1", name: "MR 1", owner: "desk" }, params: {} };
    expect(parseWith(check, encode({ v: 1, cid: "c-1", issued: 1, body }))).toMatchObject({ body });
    expect(() => parseWith(check, encode({ v: 1, issued: 1, body }))).toThrow(
      expect.objectContaining({ code: ErrorCodes.MissingField, field: "cid" }),
    );
    expect(() =>
      parseWith(
        check,
        encode({ v: 1, cid: "c", issued: 1, body: { ...body, strategy: { ...body.strategy, venues: [] } } }),
      ),
    ).toThrow(expect.objectContaining({ code: ErrorCodes.UnknownField, field: "body.strategy.venues" }));
    expect(() => parseWith(check, encode({ v: 1, cid: "c", issued: 1, body: { ...body, version: 0 } }))).toThrow(
      expect.objectContaining({ code: ErrorCodes.InvalidField, field: "body.version" }),
    );
  });
});
