import { describe, expect, test } from "vitest";
import { transition } from "xstate";
import { ConflictError, ErrorCodes, errorFromWire } from "./errors.js";
import {
  eventsAllowedIn,
  type GateRecord,
  HISTORY_MAX,
  type LifecycleContext,
  type LifecycleEvent,
  LifecycleEvents,
  nextLifecycle,
  nextLifecycleState,
  phaseOfValue,
  stateOfValue,
  strategyLifecycle,
  valueName,
} from "./lifecycle.js";
import { TradingStates } from "./risk.js";
import { LifecycleStates, lifecycleOf, MaturityPhases, newStrategy, type StoredLifecycle } from "./strategy.js";

const E = LifecycleEvents;
const S = LifecycleStates;
const passed: GateRecord = { passed: true, at: 1 };
const failed: GateRecord = { passed: false, at: 1 };
const meta = { at: 10, by: "alice", reason: "why not" };

/** One event of each kind, with payloads that satisfy every guard. */
const permissive: Record<string, LifecycleEvent> = {
  [E.Update]: { type: E.Update, behaviour: false },
  [E.AttachEvidence]: { type: E.AttachEvidence, evidence: { sharpe: 2 } },
  [E.StartBacktest]: { type: E.StartBacktest },
  [E.Validate]: { type: E.Validate, gates: passed },
  [E.Activate]: { type: E.Activate, gates: passed, trading: TradingStates.Active },
  [E.Suspend]: { type: E.Suspend },
  [E.Resume]: { type: E.Resume, trading: TradingStates.Active },
  [E.Retire]: { type: E.Retire, reason: "done" },
  [E.Maturity]: { type: E.Maturity, phase: MaturityPhases.Growth },
  [E.RecordGates]: { type: E.RecordGates, gates: failed },
};

/** The state after each event, from each state (undefined: refused). */
const TABLE: Record<string, Record<string, string | undefined>> = {
  candidate: {
    UPDATE: "candidate",
    ATTACH_EVIDENCE: "backtesting",
    START_BACKTEST: "backtesting",
    RETIRE: "retired",
  },
  backtesting: {
    UPDATE: "backtesting",
    ATTACH_EVIDENCE: "backtesting",
    VALIDATE: "validated",
    RECORD_GATES: "backtesting",
    RETIRE: "retired",
  },
  validated: {
    UPDATE: "validated",
    ATTACH_EVIDENCE: "backtesting",
    ACTIVATE: "active.birth",
    RECORD_GATES: "validated",
    RETIRE: "retired",
  },
  "active.growth": {
    UPDATE: "active.growth",
    SUSPEND: "suspended",
    RETIRE: "retired",
    MATURITY: undefined, // already growth: a phase change needs another phase
  },
  suspended: { UPDATE: "suspended", RESUME: "active.birth", RETIRE: "retired" },
  retired: {},
};

function lifecycleValue(name: string): StoredLifecycle["value"] {
  const [state, phase] = name.split(".");
  return phase === undefined ? (state as string) : { [state as string]: phase };
}

function refusal(current: StoredLifecycle, event: LifecycleEvent): ConflictError {
  let thrown: unknown;
  try {
    nextLifecycle(current, event);
  } catch (err) {
    thrown = err;
  }
  expect(thrown).toBeInstanceOf(ConflictError);
  return thrown as ConflictError;
}

describe("strategy lifecycle", () => {
  test("a new strategy starts as a candidate", () => {
    expect(strategyLifecycle.config.initial).toBe(S.Candidate);
    expect(newStrategy({ id: "a", name: "n", owner: "o" }, 1)).toMatchObject({
      state: "candidate",
      lifecycle: { value: "candidate", context: {} },
    });
  });

  for (const [from, moves] of Object.entries(TABLE)) {
    for (const [type, event] of Object.entries(permissive)) {
      const to = moves[type];
      test(`${from} + ${type} → ${to ?? "INVALID_TRANSITION"}`, () => {
        const current = { value: lifecycleValue(from), context: {} };
        if (to === undefined) {
          const error = refusal(current, event);
          expect(error.code).toBe(ErrorCodes.InvalidTransition);
          expect(error.details).toMatchObject({ state: from, event: type });
          expect(error.message).toContain(from);
        } else {
          expect(valueName(nextLifecycle(current, event).value)).toBe(to);
        }
      });
    }
  }

  test("a refusal names the moves the state allows", () => {
    const error = refusal({ value: "candidate", context: {} }, permissive[E.Activate] as LifecycleEvent);
    expect(error.details?.allowed).toEqual(["ATTACH_EVIDENCE", "RETIRE", "START_BACKTEST", "UPDATE"]);
    expect(error.message).toBe(
      "a candidate strategy cannot take ACTIVATE; it can take ATTACH_EVIDENCE, RETIRE, START_BACKTEST, UPDATE",
    );
    expect(errorFromWire(error.toWire())).toMatchObject({ code: ErrorCodes.InvalidTransition, retryable: false });
    expect(eventsAllowedIn("retired")).toEqual([]);
    expect(refusal({ value: "retired", context: {} }, { type: E.Update }).message).toBe(
      "a retired strategy cannot take UPDATE; it can take nothing",
    );
  });

  describe("guards", () => {
    test("VALIDATE needs the gates to have passed", () => {
      const error = refusal({ value: "backtesting", context: {} }, { type: E.Validate, gates: failed });
      expect(error.message).toContain("a condition of that move does not hold");
    });

    test("ACTIVATE needs passed gates and an ACTIVE trading state", () => {
      const at = { value: "validated", context: {} };
      for (const trading of [TradingStates.Halted, TradingStates.Reducing, null]) {
        expect(refusal(at, { type: E.Activate, gates: passed, trading }).code).toBe(ErrorCodes.InvalidTransition);
      }
      expect(refusal(at, { type: E.Activate, gates: failed, trading: "ACTIVE" }).code).toBe(
        ErrorCodes.InvalidTransition,
      );
    });

    test("RESUME needs an ACTIVE trading state and returns to the phase the strategy left", () => {
      const active = nextLifecycle({ value: "validated", context: {} }, permissive[E.Activate] as LifecycleEvent);
      const growing = nextLifecycle(active, { type: E.Maturity, phase: MaturityPhases.Maturity });
      const suspended = nextLifecycle(growing, { type: E.Suspend });
      expect(suspended.value).toBe("suspended");
      expect((suspended.context as LifecycleContext).phase).toBe("maturity");
      expect(refusal(suspended, { type: E.Resume, trading: TradingStates.Halted }).code).toBe(
        ErrorCodes.InvalidTransition,
      );
      expect(nextLifecycle(suspended, { type: E.Resume, trading: TradingStates.Active }).value).toEqual({
        active: "maturity",
      });
    });

    test("an active or suspended strategy keeps what it does; a validated one goes back to backtesting", () => {
      const change: LifecycleEvent = { type: E.Update, behaviour: true };
      expect(refusal({ value: { active: "birth" }, context: {} }, change).code).toBe(ErrorCodes.InvalidTransition);
      expect(refusal({ value: "suspended", context: {} }, change).code).toBe(ErrorCodes.InvalidTransition);
      expect(nextLifecycle({ value: "validated", context: {} }, change).value).toBe("backtesting");
      expect(nextLifecycle({ value: "candidate", context: {} }, change).value).toBe("candidate");
    });
  });

  test("the maturity phases move among each other and are kept in the context", () => {
    let current = nextLifecycle({ value: "validated", context: {} }, permissive[E.Activate] as LifecycleEvent);
    expect(current.value).toEqual({ active: "birth" });
    expect(current.context.phase).toBe("birth");
    for (const phase of ["growth", "maturity", "decline", "birth", "maturity"] as const) {
      current = nextLifecycle(current, { type: E.Maturity, phase });
      expect(phaseOfValue(current.value)).toBe(phase);
      expect(current.context.phase).toBe(phase);
      expect(stateOfValue(current.value)).toBe("active");
    }
  });

  test("evidence and gate evaluations are kept in the context", () => {
    const evidence = { sharpe: 1.7, trades: 1200 };
    const tested = nextLifecycle({ value: "candidate", context: {} }, { type: E.AttachEvidence, evidence });
    expect(tested.context.evidence).toEqual(evidence);
    const refused = nextLifecycle(tested, { type: E.RecordGates, gates: failed });
    expect(refused).toMatchObject({ value: "backtesting", context: { evidence, gates: failed } });
    const validated = nextLifecycle(refused, { type: E.Validate, gates: passed });
    expect(validated.context.gates).toEqual(passed);
  });

  test("every move but an update is recorded with who and why, the latest HISTORY_MAX kept", () => {
    let current: StoredLifecycle = { value: "candidate", context: {} };
    current = nextLifecycle(current, { type: E.Update }, meta);
    expect(current.context.history).toBeUndefined();
    current = nextLifecycle(current, { type: E.StartBacktest }, meta);
    expect(current.context.history).toEqual([
      { at: 10, by: "alice", event: "START_BACKTEST", from: "candidate", to: "backtesting", reason: "why not" },
    ]);
    current = nextLifecycle(current, { type: E.Validate, gates: passed }, { at: 11, by: "bob" });
    current = nextLifecycle(current, permissive[E.Activate] as LifecycleEvent, { at: 12, by: "bob" });
    for (let i = 0; i < HISTORY_MAX; i++) {
      current = nextLifecycle(
        current,
        { type: E.Maturity, phase: i % 2 === 0 ? "growth" : "maturity" },
        { at: 100 + i, by: "shard" },
      );
    }
    const history = current.context.history as unknown[];
    expect(history).toHaveLength(HISTORY_MAX);
    expect(history[0]).toMatchObject({ at: 100, event: "MATURITY", from: "active.birth", to: "active.growth" });
    expect(current.context.moves).toBe(HISTORY_MAX + 3);
  });

  describe("strategies stored as draft", () => {
    test("a draft is a candidate for every move", () => {
      expect(stateOfValue("draft")).toBe("candidate");
      expect(nextLifecycleState("draft", { type: E.Retire })).toBe("retired");
      expect(nextLifecycle({ value: "draft", context: {} }, { type: E.Update }).value).toBe("candidate");
      expect(nextLifecycle({ value: "draft", context: {} }, { type: E.StartBacktest }, meta).context.history).toEqual([
        { at: 10, by: "alice", event: "START_BACKTEST", from: "candidate", to: "backtesting", reason: "why not" },
      ]);
      expect(refusal({ value: "draft", context: {} }, permissive[E.Activate] as LifecycleEvent).details).toMatchObject({
        state: "candidate",
      });
    });

    test("one stored before the lifecycle field existed is read from its state", () => {
      expect(lifecycleOf({ state: "draft" })).toEqual({ value: "draft", context: {} });
    });
  });

  test("the machine is pure: the same move from the same state gives the same result", () => {
    const from = { value: "validated", context: {} };
    const a = nextLifecycle(from, permissive[E.Activate] as LifecycleEvent, meta);
    const b = nextLifecycle(from, permissive[E.Activate] as LifecycleEvent, meta);
    expect(a).toEqual(b);
    expect(from).toEqual({ value: "validated", context: {} });
  });
});

describe("updates, whose outcome per state is remembered", () => {
  const values: StoredLifecycle["value"][] = [
    S.Candidate,
    S.Backtesting,
    S.Validated,
    // A bare "active" resolves to its first phase.
    S.Active,
    ...Object.values(MaturityPhases).map((phase) => ({ [S.Active]: phase }) as StoredLifecycle["value"]),
    S.Suspended,
    S.Retired,
    "draft" as StoredLifecycle["value"],
  ];
  const contexts: LifecycleContext[] = [
    {},
    { gates: passed, evidence: { sharpe: 2 }, moves: 3 },
    {
      phase: MaturityPhases.Decline,
      gates: failed,
      history: [{ at: 1, by: "bob", event: E.Retire, from: "a", to: "b" }],
    },
  ];
  /** What the machine itself says, run afresh: the next lifecycle, or the refusal. */
  const machine = (current: StoredLifecycle, event: LifecycleEvent): StoredLifecycle | "refused" => {
    const value = current.value === "draft" ? S.Candidate : current.value;
    const snapshot = strategyLifecycle.resolveState({ value, context: current.context as LifecycleContext });
    if (strategyLifecycle.getTransitionData(snapshot, event).length === 0) return "refused";
    const [next] = transition(strategyLifecycle, snapshot, event);
    return { value: next.value as StoredLifecycle["value"], context: { ...next.context } };
  };

  test("agree with the machine in every state, for both kinds of update, whatever the context, asked twice", () => {
    let refused = 0;
    for (const value of values) {
      for (const behaviour of [true, false, undefined]) {
        for (const context of contexts) {
          const current = { value, context };
          const event: LifecycleEvent = { type: E.Update, behaviour };
          const expected = machine(current, event);
          for (let ask = 0; ask < 2; ask++) {
            if (expected === "refused") {
              expect(() => nextLifecycle(current, event)).toThrow(
                expect.objectContaining({ code: ErrorCodes.InvalidTransition }),
              );
            } else {
              const next = nextLifecycle(current, event);
              expect(next).toEqual(expected);
              // The caller's context is copied, never shared.
              expect(next.context).not.toBe(context);
            }
          }
          if (expected === "refused") refused++;
        }
      }
    }
    // Some updates are refused (behaviour changes of active, suspended and retired strategies), most are not.
    expect(refused).toBeGreaterThan(0);
    expect(refused).toBeLessThan(values.length * 3 * contexts.length);
  });
});
