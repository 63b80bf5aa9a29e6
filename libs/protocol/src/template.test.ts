import { TypeCompiler } from "@sinclair/typebox/compiler";
import { MEAN_REVERSION } from "@stratreg/testkit";
import { describe, expect, test } from "vitest";
import { encode } from "./codec.js";
import { ErrorCodes } from "./errors.js";
import { requestEnvelopeSchema } from "./messages.js";
import { clusterSubjects } from "./subjects.js";
import { TemplateRequestBodies, templateSummary } from "./template.js";
import { parseWith } from "./validate.js";

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
