/**
 * The strategy lifecycle as a pure xstate machine. Strategies are data, not
 * actors: a shard stores each strategy's state value and applies `transition()`
 * to it, so a million strategies cost no actors. The machine is the
 * documentation of every state and every allowed move.
 *
 * Today a strategy is registered as `draft`, may be edited while it is one, and
 * can be retired, after which it never changes again; the quality-gated
 * moves towards live trading are added here by the lifecycle work.
 */
import { setup, transition } from "xstate";
import { ConflictError, ErrorCodes } from "./errors.js";
import { type LifecycleState, LifecycleStates, type StoredLifecycle } from "./strategy.js";

/** Events a strategy's lifecycle accepts. */
export const LifecycleEvents = {
  /** A change to the strategy's descriptive fields. */
  Update: "UPDATE",
  /** Withdraw the strategy for good. */
  Retire: "RETIRE",
} as const;

/** An event sent to a strategy's lifecycle. */
export type LifecycleEvent =
  | { type: typeof LifecycleEvents.Update }
  | { type: typeof LifecycleEvents.Retire; reason?: string | undefined };

/** The strategy lifecycle machine (pure: no actions with side effects, no timers). */
export const strategyLifecycle = setup({
  types: {
    events: {} as LifecycleEvent,
  },
}).createMachine({
  id: "strategy",
  initial: LifecycleStates.Draft,
  states: {
    [LifecycleStates.Draft]: {
      on: {
        // A draft may be edited; it stays a draft.
        [LifecycleEvents.Update]: { target: LifecycleStates.Draft },
        [LifecycleEvents.Retire]: { target: LifecycleStates.Retired },
      },
    },
    [LifecycleStates.Retired]: {
      type: "final",
    },
  },
});

/**
 * The lifecycle after `event`, as the machine's `{ value, context }`, or a
 * ConflictError (INVALID_TRANSITION) when the machine does not allow that move.
 */
export function nextLifecycle(current: StoredLifecycle, event: LifecycleEvent): StoredLifecycle {
  const snapshot = strategyLifecycle.resolveState({ value: current.value, context: current.context });
  if (!snapshot.can(event)) {
    throw new ConflictError(ErrorCodes.InvalidTransition, `a ${current.value} strategy cannot take ${event.type}`, {
      details: { state: current.value, event: event.type },
    });
  }
  const [next] = transition(strategyLifecycle, snapshot, event);
  return { value: next.value as string, context: (next.context ?? {}) as Record<string, unknown> };
}

/** The state value after `event` (see {@link nextLifecycle}). */
export function nextLifecycleState(state: LifecycleState, event: LifecycleEvent): LifecycleState {
  return nextLifecycle({ value: state, context: {} }, event).value as LifecycleState;
}
