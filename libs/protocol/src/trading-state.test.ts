import { describe, expect, test } from "vitest";
import { TradingStates } from "./risk.js";
import { allowsIncreasing, initialTradingStatus, nextTradingStatus, TradingEvents } from "./trading-state.js";

const at = 1_700_000_000_000;
const halt = { type: TradingEvents.Halt, by: "alice", reason: "outage", at } as const;
const reduce = { type: TradingEvents.Reduce, by: "alice", reason: "risk off", at } as const;
const resume = (by: string, confirmations: 1 | 2 = 1) =>
  ({ type: TradingEvents.Resume, by, reason: "ok", at: at + 1, confirmations }) as const;
const drawdown = (level: "reduce" | "halt") =>
  ({ type: TradingEvents.Drawdown, level, by: "risk-guard", reason: `dd ${level}`, at }) as const;

describe("trading state", () => {
  test("an operator halts, reduces and resumes; each move is stamped and numbered", () => {
    const halted = nextTradingStatus(initialTradingStatus(), halt);
    expect(halted).toEqual({
      state: TradingStates.Halted,
      by: "alice",
      reason: "outage",
      at,
      version: 1,
      pendingResume: null,
    });
    const active = nextTradingStatus(halted, resume("bob"));
    expect(active).toMatchObject({ state: TradingStates.Active, by: "bob", version: 2 });
    const reducing = nextTradingStatus(active, reduce);
    expect(reducing).toMatchObject({ state: TradingStates.Reducing, version: 3 });
    expect(nextTradingStatus(reducing, halt)).toMatchObject({ state: TradingStates.Halted, version: 4 });
  });

  test("a drawdown only tightens: reduce, then halt; never loosens", () => {
    const reducing = nextTradingStatus(initialTradingStatus(), drawdown("reduce"));
    expect(reducing.state).toBe(TradingStates.Reducing);
    expect(nextTradingStatus(reducing, drawdown("reduce"))).toBe(reducing);
    const halted = nextTradingStatus(reducing, drawdown("halt"));
    expect(halted.state).toBe(TradingStates.Halted);
    expect(nextTradingStatus(halted, drawdown("reduce"))).toBe(halted);
    expect(nextTradingStatus(initialTradingStatus(), drawdown("halt")).state).toBe(TradingStates.Halted);
  });

  test("moves that mean nothing in a state leave it as it is", () => {
    const active = initialTradingStatus();
    expect(nextTradingStatus(active, resume("bob"))).toBe(active);
    const halted = nextTradingStatus(active, halt);
    expect(nextTradingStatus(halted, halt)).toBe(halted);
    expect(nextTradingStatus(halted, reduce)).toBe(halted);
  });

  test("with two confirmations, a second, different operator must resume too", () => {
    const halted = nextTradingStatus(initialTradingStatus(), halt);
    const pending = nextTradingStatus(halted, resume("alice", 2));
    expect(pending).toMatchObject({ state: TradingStates.Halted, pendingResume: { by: "alice" }, version: 2 });
    // The same operator asking again changes nothing.
    expect(nextTradingStatus(pending, resume("alice", 2))).toBe(pending);
    const active = nextTradingStatus(pending, resume("bob", 2));
    expect(active).toMatchObject({ state: TradingStates.Active, by: "bob", version: 3, pendingResume: null });
    // A halt in between withdraws the waiting resume: two operators are needed again.
    const withdrawn = nextTradingStatus(pending, { ...halt, reason: "not yet" });
    expect(withdrawn).toMatchObject({
      state: TradingStates.Halted,
      reason: "not yet",
      pendingResume: null,
      version: 3,
    });
    expect(nextTradingStatus(withdrawn, resume("bob", 2))).toMatchObject({
      state: TradingStates.Halted,
      pendingResume: { by: "bob" },
    });
  });

  test("only ACTIVE lets increasing orders through", () => {
    expect(allowsIncreasing(TradingStates.Active)).toBe(true);
    expect(allowsIncreasing(TradingStates.Reducing)).toBe(false);
    expect(allowsIncreasing(TradingStates.Halted)).toBe(false);
  });
});
