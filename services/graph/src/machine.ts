/**
 * A graph process's lifecycle as an xstate machine (pure: the process carries
 * out every effect and reports what happened as events):
 *
 *   standby ──LEASE_TAKEN──▶ catching-up ──TOOK_OVER──▶ leading
 *      ▲                          │ STEPPED_DOWN             │ STEPPED_DOWN (lease lost, append fenced)
 *      └──────────────────────────┴──────────────────────────┘
 *   any state ──STOP──▶ stopping ──STOPPED──▶ stopped
 *
 * Only a leading process answers on the graph subjects; a standby watches the
 * lease and takes it when it may be taken.
 */
import { assign, setup } from "xstate";

export const GraphStates = {
  Standby: "standby",
  CatchingUp: "catching-up",
  Leading: "leading",
  Stopping: "stopping",
  Stopped: "stopped",
} as const;
export type GraphState = (typeof GraphStates)[keyof typeof GraphStates];

export const GraphEvents = {
  LeaseTaken: "LEASE_TAKEN",
  TookOver: "TOOK_OVER",
  SteppedDown: "STEPPED_DOWN",
  Stop: "STOP",
  Stopped: "STOPPED",
} as const;

export type GraphEvent =
  | { type: typeof GraphEvents.LeaseTaken; epoch: number }
  | { type: typeof GraphEvents.TookOver; epoch: number }
  | { type: typeof GraphEvents.SteppedDown; reason: string }
  | { type: typeof GraphEvents.Stop }
  | { type: typeof GraphEvents.Stopped };

export interface GraphContext {
  epoch: number;
  /** Why the last leadership ended, if one did. */
  lastStepDown: string | null;
}

export const graphMachine = setup({
  types: { context: {} as GraphContext, events: {} as GraphEvent },
  actions: {
    noteEpoch: assign({ epoch: ({ context, event }) => ("epoch" in event ? event.epoch : context.epoch) }),
    noteStepDown: assign({
      lastStepDown: ({ context, event }) =>
        event.type === GraphEvents.SteppedDown ? event.reason : context.lastStepDown,
    }),
  },
}).createMachine({
  id: "graph",
  initial: GraphStates.Standby,
  context: { epoch: 0, lastStepDown: null },
  on: { [GraphEvents.Stop]: `.${GraphStates.Stopping}` },
  states: {
    [GraphStates.Standby]: {
      on: { [GraphEvents.LeaseTaken]: { target: GraphStates.CatchingUp, actions: "noteEpoch" } },
    },
    [GraphStates.CatchingUp]: {
      on: {
        [GraphEvents.TookOver]: { target: GraphStates.Leading, actions: "noteEpoch" },
        [GraphEvents.SteppedDown]: { target: GraphStates.Standby, actions: "noteStepDown" },
      },
    },
    [GraphStates.Leading]: {
      on: { [GraphEvents.SteppedDown]: { target: GraphStates.Standby, actions: "noteStepDown" } },
    },
    [GraphStates.Stopping]: {
      on: { [GraphEvents.Stop]: {}, [GraphEvents.Stopped]: GraphStates.Stopped },
    },
    [GraphStates.Stopped]: { type: "final", on: { [GraphEvents.Stop]: {} } },
  },
});
