/**
 * A risk guard's lifecycle as an xstate machine (pure: the guard carries out
 * every effect and reports what happened as events):
 *
 *   starting ─CONNECTED─▶ recovering ─RECOVERED─▶ standby ─LEASE_TAKEN─▶ taking-over ─TOOK_OVER─▶ active
 *                              ▲                     ▲                       │ TAKEOVER_FAILED        │
 *                              │                     └───────────────────────┘                        │
 *                              └──────────────────────────────FENCED──────────────────────────────────┘
 *   any state ─STOP─▶ stopping ─STOPPED─▶ stopped
 *
 * Only `active` answers checks and writes; a standby follows the log. A guard
 * that is fenced (its lease lost, or an append refused because another guard
 * wrote) rebuilds its state from the log before it may lead again: its memory
 * may hold decisions the log never took.
 */
import { assign, setup } from "xstate";

export const GuardStates = {
  Starting: "starting",
  Recovering: "recovering",
  Standby: "standby",
  TakingOver: "taking-over",
  Active: "active",
  Stopping: "stopping",
  Stopped: "stopped",
} as const;
export type GuardState = (typeof GuardStates)[keyof typeof GuardStates];

export const GuardEvents = {
  Connected: "CONNECTED",
  /** The state was rebuilt from the log. */
  Recovered: "RECOVERED",
  /** This guard took the leader lease. */
  LeaseTaken: "LEASE_TAKEN",
  /** Caught up and the epoch marker was appended: this guard leads. */
  TookOver: "TOOK_OVER",
  TakeoverFailed: "TAKEOVER_FAILED",
  /** The lease was lost or an append was refused: another guard leads. */
  Fenced: "FENCED",
  Stop: "STOP",
  Stopped: "STOPPED",
} as const;

export type GuardEvent =
  | { type: typeof GuardEvents.Connected }
  | { type: typeof GuardEvents.Recovered; seq: number }
  | { type: typeof GuardEvents.LeaseTaken; epoch: number }
  | { type: typeof GuardEvents.TookOver; epoch: number }
  | { type: typeof GuardEvents.TakeoverFailed; reason: string }
  | { type: typeof GuardEvents.Fenced; reason: string }
  | { type: typeof GuardEvents.Stop }
  | { type: typeof GuardEvents.Stopped };

export interface GuardContext {
  epoch: number;
  /** Times this guard took over, and was fenced. */
  takeovers: number;
  fenced: number;
  lastReason: string | null;
}

export const guardMachine = setup({
  types: { context: {} as GuardContext, events: {} as GuardEvent },
  actions: {
    noteEpoch: assign({
      epoch: ({ context, event }) =>
        event.type === GuardEvents.LeaseTaken || event.type === GuardEvents.TookOver ? event.epoch : context.epoch,
    }),
    noteTakeover: assign({ takeovers: ({ context }) => context.takeovers + 1 }),
    noteFenced: assign({
      fenced: ({ context }) => context.fenced + 1,
      lastReason: ({ event }) => (event.type === GuardEvents.Fenced ? event.reason : null),
    }),
    noteFailure: assign({
      lastReason: ({ event }) => (event.type === GuardEvents.TakeoverFailed ? event.reason : null),
    }),
  },
}).createMachine({
  id: "risk-guard",
  initial: GuardStates.Starting,
  context: { epoch: 0, takeovers: 0, fenced: 0, lastReason: null },
  on: { [GuardEvents.Stop]: `.${GuardStates.Stopping}` },
  states: {
    [GuardStates.Starting]: { on: { [GuardEvents.Connected]: GuardStates.Recovering } },
    [GuardStates.Recovering]: { on: { [GuardEvents.Recovered]: GuardStates.Standby } },
    [GuardStates.Standby]: {
      on: { [GuardEvents.LeaseTaken]: { target: GuardStates.TakingOver, actions: "noteEpoch" } },
    },
    [GuardStates.TakingOver]: {
      on: {
        [GuardEvents.TookOver]: { target: GuardStates.Active, actions: ["noteEpoch", "noteTakeover"] },
        [GuardEvents.TakeoverFailed]: { target: GuardStates.Recovering, actions: "noteFailure" },
        [GuardEvents.Fenced]: { target: GuardStates.Recovering, actions: "noteFenced" },
      },
    },
    [GuardStates.Active]: {
      on: { [GuardEvents.Fenced]: { target: GuardStates.Recovering, actions: "noteFenced" } },
    },
    [GuardStates.Stopping]: {
      on: { [GuardEvents.Stop]: {}, [GuardEvents.Stopped]: GuardStates.Stopped },
    },
    [GuardStates.Stopped]: { type: "final" },
  },
});
