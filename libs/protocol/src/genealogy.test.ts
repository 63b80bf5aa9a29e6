/**
 * How a strategy was made (`origin`) and what genealogy counts as having passed
 * the gates: the origin refused where it does not fit the parents, on the
 * bytes fast path, the decoded path and updates alike; strategies stored
 * without an origin read by their parents.
 */
import fc from "fast-check";
import { describe, expect, test } from "vitest";
import { encode } from "./codec.js";
import { ErrorCodes, ValidationError } from "./errors.js";
import { gatesEvaluated, passedGates } from "./genealogy.js";
import { newStrategy, type Origin, originOf, originProblem, patchStrategy, type Strategy } from "./strategy.js";
import { PartitionOps } from "./subjects.js";
import { acceptsBytes, parseRequest, validateRequest } from "./validate.js";

const W = { v: 1, cid: "cmd-0", issued: 1_767_225_600_000 } as const;
const input = (id: string, extra: Record<string, unknown> = {}) => ({ id, name: id, owner: "desk", ...extra });
const bytes = (value: unknown) => Buffer.from(encode(value));

function refusal(work: () => unknown): ValidationError {
  try {
    work();
  } catch (err) {
    expect(err).toBeInstanceOf(ValidationError);
    return err as ValidationError;
  }
  throw new Error("expected a refusal");
}

describe("origin", () => {
  test("reads a strategy without one by its parents: none manual, one a variation, two a crossover, more manual", () => {
    expect(originOf({ parents: [] })).toBe("manual");
    expect(originOf({ parents: ["a"] })).toBe("variation");
    expect(originOf({ parents: ["a", "b"] })).toBe("crossover");
    expect(originOf({ parents: ["a", "b", "c"] })).toBe("manual");
    expect(originOf({ parents: [], origin: "variation" })).toBe("variation");
  });

  test("fits a variation to one parent, a crossover to two, and manual to any", () => {
    fc.assert(
      fc.property(
        fc.constantFrom<Origin>("variation", "crossover", "manual"),
        fc.array(fc.string(), { maxLength: 4 }),
        (origin, parents) => {
          const fits = origin === "manual" || parents.length === (origin === "variation" ? 1 : 2);
          expect(originProblem(origin, parents) === undefined).toBe(fits);
        },
      ),
    );
  });

  test("registers a strategy whose origin fits its parents on the bytes fast path, and stores the origin", () => {
    const request = { ...W, body: { strategy: input("x1", { parents: ["p1", "p2"], origin: "crossover" }) } };
    expect(acceptsBytes(PartitionOps.Register, bytes(request))).toBe(true);
    expect(parseRequest(PartitionOps.Register, bytes(request)).body.strategy.origin).toBe("crossover");
    expect(newStrategy(request.body.strategy as never, 0).origin).toBe("crossover");
    expect(newStrategy(input("x2") as never, 0)).not.toHaveProperty("origin");
  });

  test("refuses a crossover without two parents as INVALID_FIELD naming the strategy's origin, on every path", () => {
    const single = { ...W, body: { strategy: input("x1", { parents: ["p1"], origin: "crossover" }) } };
    expect(acceptsBytes(PartitionOps.Register, bytes(single))).toBe(false);
    const err = refusal(() => parseRequest(PartitionOps.Register, bytes(single)));
    expect(err.code).toBe(ErrorCodes.InvalidField);
    expect(err.field).toBe("body.strategy.origin");
    expect(err.message).toContain("crossover needs exactly 2 parents; parents has 1");
    expect(refusal(() => validateRequest(PartitionOps.Register, single)).field).toBe("body.strategy.origin");

    const batch = {
      ...W,
      body: {
        strategies: [
          input("b0", { origin: "manual" }),
          input("b1", { parents: ["b0"], origin: "variation" }),
          input("b2", { origin: "variation" }),
        ],
      },
    };
    expect(acceptsBytes(PartitionOps.RegisterBatch, bytes(batch))).toBe(false);
    const batchErr = refusal(() => parseRequest(PartitionOps.RegisterBatch, bytes(batch)));
    expect(batchErr.field).toBe("body.strategies[2].origin");
    expect(batchErr.message).toContain("variation needs exactly one parent; parents has 0");
  });

  test("refuses an origin that is not one of the three, and an update whose origin and parents disagree", () => {
    const odd = { ...W, body: { strategy: input("x1", { origin: "mutation" }) } };
    expect(acceptsBytes(PartitionOps.Register, bytes(odd))).toBe(false);
    const err = refusal(() => parseRequest(PartitionOps.Register, bytes(odd)));
    expect([err.code, err.field]).toEqual([ErrorCodes.InvalidField, "body.strategy.origin"]);

    const update = {
      ...W,
      body: { id: "x1", expectedVersion: 1, patch: { parents: ["a", "b", "c"], origin: "crossover" } },
    };
    expect(refusal(() => parseRequest(PartitionOps.Update, bytes(update))).field).toBe("body.patch.origin");
    const originOnly = { ...W, body: { id: "x1", expectedVersion: 1, patch: { origin: "variation" } } };
    expect(parseRequest(PartitionOps.Update, bytes(originOnly)).body.patch.origin).toBe("variation");
  });

  test("an update checks the origin against the parents it leaves stored, and the parents against a stored origin", () => {
    const stored: Strategy = newStrategy(input("x1", { parents: ["a"], origin: "variation" }) as never, 0);
    expect(patchStrategy(stored, { parents: ["b"] }, 1)).toMatchObject({ parents: ["b"], origin: "variation" });
    const parents = refusal(() => patchStrategy(stored, { parents: ["a", "b"] }, 1));
    expect([parents.code, parents.field]).toEqual([ErrorCodes.InvalidField, "body.patch.parents"]);
    const origin = refusal(() => patchStrategy(stored, { origin: "crossover" }, 1));
    expect(origin.field).toBe("body.patch.origin");
    expect(patchStrategy(stored, { parents: ["a", "b"], origin: "crossover" }, 1).origin).toBe("crossover");
    // A strategy stored before origins existed takes any parents.
    const legacy = newStrategy(input("x2", { parents: ["a"] }) as never, 0);
    expect(patchStrategy(legacy, { parents: ["a", "b", "c"] }, 1)).not.toHaveProperty("origin");
  });
});

describe("passed the gates", () => {
  const at = (state: Strategy["state"], context: Record<string, unknown> = {}, value?: unknown) =>
    ({ state, lifecycle: { value: value ?? state, context } }) as Pick<Strategy, "state" | "lifecycle">;

  test("counts validated, active and suspended, and retired only where the lifecycle shows it had passed", () => {
    expect(passedGates(at("validated"))).toBe(true);
    expect(passedGates(at("active", { phase: "birth" }, { active: "birth" }))).toBe(true);
    expect(passedGates(at("suspended"))).toBe(true);
    expect(passedGates(at("candidate"))).toBe(false);
    expect(passedGates(at("backtesting", { gates: { passed: false, at: 1 } }))).toBe(false);
    expect(passedGates(at("retired"))).toBe(false);
    expect(passedGates(at("retired", { phase: "decline" }))).toBe(true);
    expect(
      passedGates(at("retired", { history: [{ event: "ACTIVATE", from: "validated", to: "active.birth" }] })),
    ).toBe(true);
    expect(passedGates(at("retired", { gates: { passed: false, at: 1 } }))).toBe(false);
    expect(passedGates({ state: "draft" })).toBe(false);
  });

  test("counts as evaluated what passed or keeps a gate evaluation", () => {
    expect(gatesEvaluated(at("backtesting", { gates: { passed: false, at: 1 } }))).toBe(true);
    expect(gatesEvaluated(at("backtesting"))).toBe(false);
    expect(gatesEvaluated(at("validated"))).toBe(true);
  });
});
