/**
 * The platform's trading state as a pure xstate machine. The risk guard runs
 * it as an actor, persists every move in its log and broadcasts the result;
 * replaying the log drives the same machine to the same state.
 *
 *   ACTIVE ──REDUCE / DRAWDOWN(reduce)──▶ REDUCING ──HALT / DRAWDOWN(halt)──▶ HALTED
 *     ▲  └──────────────HALT / DRAWDOWN(halt)──────────────────────────────────┘ │
 *     └──────────RESUME (by an operator; a second one when two are required)─────┘
 *
 * Automatic moves (a drawdown) only ever tighten; only an operator's RESUME
 * loosens. With `confirmations: 2` a RESUME waits, recorded, until a second,
 * different operator sends one too (a HALT meanwhile withdraws it).
 */
import { assign, setup, transition } from "xstate";
import { type TradingState, TradingStates, type TradingStatus } from "./risk.js";

/** Events the trading state accepts. */
export const TradingEvents = {
  /** An operator's emergency shutdown. */
  Halt: "HALT",
  /** An operator restricts trading to position-reducing orders. */
  Reduce: "REDUCE",
  /** An operator resumes trading. */
  Resume: "RESUME",
  /** The portfolio's drawdown crossed a configured level. */
  Drawdown: "DRAWDOWN",
} as const;

/** Who, why and when, carried by every event. */
interface Stamp {
  by: string;
  reason: string;
  at: number;
}

/** An event sent to the trading state. */
export type TradingEvent =
  | ({ type: typeof TradingEvents.Halt } & Stamp)
  | ({ type: typeof TradingEvents.Reduce } & Stamp)
  | ({ type: typeof TradingEvents.Resume; confirmations: 1 | 2 } & Stamp)
  | ({ type: typeof TradingEvents.Drawdown; level: "reduce" | "halt" } & Stamp);

/** The machine's context: the status but its state value. */
export type TradingContext = Omit<TradingStatus, "state">;

/** The trading-state machine (pure: no side effects, no timers). */
export const tradingStateMachine = setup({
  types: { context: {} as TradingContext, events: {} as TradingEvent },
  guards: {
    drawdownHalts: ({ event }) => event.type === TradingEvents.Drawdown && event.level === "halt",
    drawdownReduces: ({ event }) => event.type === TradingEvents.Drawdown && event.level === "reduce",
    /** One operator suffices, or this is a second operator confirming another's resume. */
    resumeConfirmed: ({ context, event }) =>
      event.type === TradingEvents.Resume &&
      (event.confirmations === 1 || (context.pendingResume != null && context.pendingResume.by !== event.by)),
    /** A resume waits for a second operator's confirmation. */
    resumePending: ({ context }) => context.pendingResume != null,
    /** The first of two operators asks to resume (or the same one asks again). */
    resumeAwaitsSecondOperator: ({ event }) => event.type === TradingEvents.Resume && event.confirmations === 2,
  },
  actions: {
    stamp: assign(({ context, event }) => ({
      reason: event.reason,
      by: event.by,
      at: event.at,
      version: context.version + 1,
      pendingResume: null,
    })),
    notePendingResume: assign(({ context, event }) => ({
      pendingResume: context.pendingResume != null ? context.pendingResume : { by: event.by, at: event.at },
      version: context.pendingResume != null ? context.version : context.version + 1,
    })),
  },
}).createMachine({
  id: "trading",
  initial: TradingStates.Active,
  context: { reason: "initial state", by: "risk-guard", at: 0, version: 0, pendingResume: null },
  states: {
    [TradingStates.Active]: {
      on: {
        [TradingEvents.Halt]: { target: TradingStates.Halted, actions: "stamp" },
        [TradingEvents.Reduce]: { target: TradingStates.Reducing, actions: "stamp" },
        [TradingEvents.Drawdown]: [
          { guard: "drawdownHalts", target: TradingStates.Halted, actions: "stamp" },
          { guard: "drawdownReduces", target: TradingStates.Reducing, actions: "stamp" },
        ],
      },
    },
    [TradingStates.Reducing]: {
      on: {
        [TradingEvents.Halt]: { target: TradingStates.Halted, actions: "stamp" },
        [TradingEvents.Drawdown]: { guard: "drawdownHalts", target: TradingStates.Halted, actions: "stamp" },
        [TradingEvents.Resume]: [
          { guard: "resumeConfirmed", target: TradingStates.Active, actions: "stamp" },
          { guard: "resumeAwaitsSecondOperator", actions: "notePendingResume" },
        ],
      },
    },
    [TradingStates.Halted]: {
      on: {
        // Halting again withdraws a resume that was waiting for its confirmation.
        [TradingEvents.Halt]: { guard: "resumePending", target: TradingStates.Halted, actions: "stamp" },
        [TradingEvents.Resume]: [
          { guard: "resumeConfirmed", target: TradingStates.Active, actions: "stamp" },
          { guard: "resumeAwaitsSecondOperator", actions: "notePendingResume" },
        ],
      },
    },
  },
});

/** The initial trading status (ACTIVE, version 0). */
export function initialTradingStatus(): TradingStatus {
  return {
    state: TradingStates.Active,
    reason: "initial state",
    by: "risk-guard",
    at: 0,
    version: 0,
    pendingResume: null,
  };
}

/** The status after `event`, or the same object when the machine ignores the event in this state. */
export function nextTradingStatus(current: TradingStatus, event: TradingEvent): TradingStatus {
  const { state, ...context } = current;
  const snapshot = tradingStateMachine.resolveState({
    value: state,
    context: { ...context, pendingResume: context.pendingResume ?? null },
  });
  const [next] = transition(tradingStateMachine, snapshot, event);
  const value = next.value as TradingState;
  if (value === state && next.context.version === current.version) return current;
  return { state: value, ...next.context };
}

/** Whether `state` lets an order through that does not reduce a position. */
export function allowsIncreasing(state: TradingState): boolean {
  return state === TradingStates.Active;
}
