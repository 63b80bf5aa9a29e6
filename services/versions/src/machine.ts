/**
 * A versions process's lifecycle as an xstate machine (pure: the process
 * carries out every effect around it and reports what happened as events):
 *
 *   starting ──CONNECTED──▶ catching-up ──CAUGHT_UP──▶ serving ◀──LAG (within bound)──┐
 *                                                         │ LAG (past bound)           │
 *                                                         └───────────▶ lagging ───────┘
 *   any state ──STOP──▶ stopping ──STOPPED──▶ stopped
 *
 * Only serving and lagging answer: until the copy has caught up with the
 * history once, a version may be missing that a moment later is there.
 */
import { assign, setup } from "xstate";

export const VersionsStates = {
  Starting: "starting",
  CatchingUp: "catching-up",
  Serving: "serving",
  Lagging: "lagging",
  Stopping: "stopping",
  Stopped: "stopped",
} as const;
export type VersionsState = (typeof VersionsStates)[keyof typeof VersionsStates];

export const VersionsEvents = {
  /** Connected, streams and buckets there: the copy is reading the history. */
  Connected: "CONNECTED",
  /** The copy reached the end of the history once. */
  CaughtUp: "CAUGHT_UP",
  /** History entries not yet copied, now. */
  Lag: "LAG",
  Stop: "STOP",
  Stopped: "STOPPED",
} as const;

export type VersionsEvent =
  | { type: typeof VersionsEvents.Connected }
  | { type: typeof VersionsEvents.CaughtUp }
  | { type: typeof VersionsEvents.Lag; entries: number }
  | { type: typeof VersionsEvents.Stop }
  | { type: typeof VersionsEvents.Stopped };

export interface VersionsContext {
  /** Entries behind past which the process calls itself lagging. */
  maxLagEntries: number;
  lagEntries: number;
}

/** The lifecycle machine of a versions process. */
export function createVersionsMachine(maxLagEntries: number) {
  return setup({
    types: { context: {} as VersionsContext, events: {} as VersionsEvent },
    guards: {
      pastBound: ({ context, event }) => event.type === VersionsEvents.Lag && event.entries > context.maxLagEntries,
      withinBound: ({ context, event }) => event.type === VersionsEvents.Lag && event.entries <= context.maxLagEntries,
    },
    actions: {
      noteLag: assign({
        lagEntries: ({ context, event }) => (event.type === VersionsEvents.Lag ? event.entries : context.lagEntries),
      }),
    },
  }).createMachine({
    id: "versions",
    context: { maxLagEntries, lagEntries: Number.POSITIVE_INFINITY },
    initial: VersionsStates.Starting,
    on: { [VersionsEvents.Stop]: `.${VersionsStates.Stopping}` },
    states: {
      [VersionsStates.Starting]: { on: { [VersionsEvents.Connected]: VersionsStates.CatchingUp } },
      [VersionsStates.CatchingUp]: {
        on: {
          [VersionsEvents.CaughtUp]: VersionsStates.Serving,
          [VersionsEvents.Lag]: { actions: "noteLag" },
        },
      },
      [VersionsStates.Serving]: {
        on: {
          [VersionsEvents.Lag]: [
            { guard: "pastBound", target: VersionsStates.Lagging, actions: "noteLag" },
            { actions: "noteLag" },
          ],
        },
      },
      [VersionsStates.Lagging]: {
        on: {
          [VersionsEvents.Lag]: [
            { guard: "withinBound", target: VersionsStates.Serving, actions: "noteLag" },
            { actions: "noteLag" },
          ],
        },
      },
      [VersionsStates.Stopping]: {
        on: { [VersionsEvents.Stop]: {}, [VersionsEvents.Stopped]: VersionsStates.Stopped },
      },
      [VersionsStates.Stopped]: { type: "final", on: { [VersionsEvents.Stop]: {} } },
    },
  });
}

/** Whether a process in `state` answers requests (status always answers). */
export function answers(state: VersionsState): boolean {
  return state === VersionsStates.Serving || state === VersionsStates.Lagging;
}
