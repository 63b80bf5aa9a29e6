/**
 * A search process's lifecycle as an xstate machine (pure: the process carries
 * out every effect around it and reports what happened as events):
 *
 *   starting ──CONNECTED──▶ loading ──LOADED──▶ serving ◀──LAG (within bound)──┐
 *                                                  │ LAG (past bound)            │
 *                                                  └────────────▶ lagging ───────┘
 *   any state ──STOP──▶ stopping ──STOPPED──▶ stopped
 *
 * Only serving and lagging answer queries; every answer says how far behind
 * the logs it was, and lagging is logged so that an operator sees it.
 */
import { assign, setup } from "xstate";

export const SearchStates = {
  Starting: "starting",
  Loading: "loading",
  Serving: "serving",
  Lagging: "lagging",
  Stopping: "stopping",
  Stopped: "stopped",
} as const;
export type SearchState = (typeof SearchStates)[keyof typeof SearchStates];

export const SearchEvents = {
  /** Connected and following: snapshots are loading. */
  Connected: "CONNECTED",
  /** Every partition loaded and the replica current once. */
  Loaded: "LOADED",
  /** The replica's lag now, ms. */
  Lag: "LAG",
  Stop: "STOP",
  Stopped: "STOPPED",
} as const;

export type SearchEvent =
  | { type: typeof SearchEvents.Connected }
  | { type: typeof SearchEvents.Loaded; strategies: number }
  | { type: typeof SearchEvents.Lag; ms: number }
  | { type: typeof SearchEvents.Stop }
  | { type: typeof SearchEvents.Stopped };

export interface SearchContext {
  /** The lag bound past which the process calls itself lagging, ms. */
  maxLagMs: number;
  lagMs: number;
}

/** The lifecycle machine of a search process. */
export function createSearchMachine(maxLagMs: number) {
  return setup({
    types: { context: {} as SearchContext, events: {} as SearchEvent },
    guards: {
      pastBound: ({ context, event }) => event.type === SearchEvents.Lag && event.ms > context.maxLagMs,
      withinBound: ({ context, event }) => event.type === SearchEvents.Lag && event.ms <= context.maxLagMs,
    },
    actions: {
      noteLag: assign({ lagMs: ({ context, event }) => (event.type === SearchEvents.Lag ? event.ms : context.lagMs) }),
    },
  }).createMachine({
    id: "search",
    context: { maxLagMs, lagMs: Number.POSITIVE_INFINITY },
    initial: SearchStates.Starting,
    on: { [SearchEvents.Stop]: `.${SearchStates.Stopping}` },
    states: {
      [SearchStates.Starting]: { on: { [SearchEvents.Connected]: SearchStates.Loading } },
      [SearchStates.Loading]: { on: { [SearchEvents.Loaded]: SearchStates.Serving } },
      [SearchStates.Serving]: {
        on: {
          [SearchEvents.Lag]: [
            { guard: "pastBound", target: SearchStates.Lagging, actions: "noteLag" },
            { actions: "noteLag" },
          ],
        },
      },
      [SearchStates.Lagging]: {
        on: {
          [SearchEvents.Lag]: [
            { guard: "withinBound", target: SearchStates.Serving, actions: "noteLag" },
            { actions: "noteLag" },
          ],
        },
      },
      [SearchStates.Stopping]: { on: { [SearchEvents.Stop]: {}, [SearchEvents.Stopped]: SearchStates.Stopped } },
      [SearchStates.Stopped]: { type: "final", on: { [SearchEvents.Stop]: {} } },
    },
  });
}

/** Whether a process in `state` answers queries. */
export function answers(state: SearchState): boolean {
  return state === SearchStates.Serving || state === SearchStates.Lagging;
}
