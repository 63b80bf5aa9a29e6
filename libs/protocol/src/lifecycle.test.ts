import { describe, expect, test } from "vitest";
import { getNextSnapshot } from "xstate";
import { ConflictError, ErrorCodes, errorFromWire } from "./errors.js";
import {
  type LifecycleEvent,
  LifecycleEvents,
  nextLifecycle,
  nextLifecycleState,
  strategyLifecycle,
} from "./lifecycle.js";
import { type LifecycleState, LifecycleStates, lifecycleOf, newStrategy } from "./strategy.js";

const retire: LifecycleEvent = { type: LifecycleEvents.Retire };

function conflictOf(state: LifecycleState, event: LifecycleEvent): ConflictError {
  let thrown: unknown;
  try {
    nextLifecycleState(state, event);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConflictError);
  return thrown as ConflictError;
}

describe("strategy lifecycle", () => {
  test("a new strategy starts as draft", () => {
    expect(strategyLifecycle.config.initial).toBe(LifecycleStates.Draft);
    expect(strategyLifecycle.resolveState({ value: "draft", context: {} }).value).toBe("draft");
  });

  test("draft → RETIRE → retired", () => {
    expect(nextLifecycleState(LifecycleStates.Draft, retire)).toBe(LifecycleStates.Retired);
    expect(nextLifecycleState("draft", { type: "RETIRE", reason: "decayed alpha" })).toBe("retired");
  });

  test("retired → RETIRE is a ConflictError INVALID_TRANSITION, not retryable", () => {
    const error = conflictOf(LifecycleStates.Retired, retire);
    expect(error.code).toBe(ErrorCodes.InvalidTransition);
    expect(error.retryable).toBe(false);
    expect(error.details).toEqual({ state: "retired", event: "RETIRE" });
    expect(error.message).toContain("retired");
    const back = errorFromWire(error.toWire());
    expect(back).toBeInstanceOf(ConflictError);
    expect(back.code).toBe(ErrorCodes.InvalidTransition);
  });

  test("a draft may be updated and stays a draft", () => {
    expect(nextLifecycleState(LifecycleStates.Draft, { type: LifecycleEvents.Update })).toBe(LifecycleStates.Draft);
  });

  test("a retired strategy never changes again: UPDATE is INVALID_TRANSITION too", () => {
    const error = conflictOf(LifecycleStates.Retired, { type: LifecycleEvents.Update });
    expect(error.code).toBe(ErrorCodes.InvalidTransition);
    expect(error.details).toEqual({ state: "retired", event: "UPDATE" });
  });

  test("retired is final", () => {
    const snapshot = strategyLifecycle.resolveState({ value: "retired", context: {} });
    expect(snapshot.status).toBe("done");
    expect(snapshot.can(retire)).toBe(false);
    expect(snapshot.can({ type: LifecycleEvents.Update })).toBe(false);
  });

  test("the machine has exactly the documented states and events", () => {
    expect(Object.keys(strategyLifecycle.states).sort()).toEqual(Object.values(LifecycleStates).sort());
    expect([...strategyLifecycle.events].sort()).toEqual(Object.values(LifecycleEvents).sort());
    expect(Object.values(LifecycleEvents).sort()).toEqual(["RETIRE", "UPDATE"]);
  });

  test("every state accepts exactly the documented moves", () => {
    const moves = Object.values(LifecycleStates).flatMap((state) =>
      Object.values(LifecycleEvents).flatMap((type) => {
        try {
          return [`${state} -${type}-> ${nextLifecycleState(state, { type })}`];
        } catch (err) {
          expect(err).toBeInstanceOf(ConflictError);
          return [];
        }
      }),
    );
    expect(moves.sort()).toEqual(["draft -RETIRE-> retired", "draft -UPDATE-> draft"]);
  });

  test("nextLifecycleState agrees with xstate's own transition", () => {
    const snapshot = strategyLifecycle.resolveState({ value: "draft", context: {} });
    expect(getNextSnapshot(strategyLifecycle, snapshot, retire).value).toBe(nextLifecycleState("draft", retire));
  });

  test("transitions are pure: the same input always gives the same output", () => {
    for (let i = 0; i < 3; i++) expect(nextLifecycleState("draft", retire)).toBe("retired");
  });
});

describe("the stored lifecycle", () => {
  test("is the machine's { value, context }; strategies stored before it read as { value: state, context: {} }", () => {
    expect(newStrategy({ id: "a", name: "n", owner: "o" }, 1).lifecycle).toEqual({ value: "draft", context: {} });
    expect(lifecycleOf({ state: "retired" })).toEqual({ value: "retired", context: {} });
    expect(nextLifecycle({ value: "draft", context: {} }, { type: LifecycleEvents.Retire })).toEqual({
      value: "retired",
      context: {},
    });
    expect(() => nextLifecycle({ value: "retired", context: {} }, { type: LifecycleEvents.Update })).toThrow(
      /cannot take UPDATE/,
    );
  });
});
