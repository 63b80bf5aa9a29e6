/**
 * The ranker's lifecycle as an xstate machine (pure: the service carries out
 * every effect around it and reports what happened as events):
 *
 *   starting ──CONNECTED──▶ syncing ──VIEWS (all held)──▶ serving ◀──VIEWS (all held)──┐
 *      │                       │                             │ VIEWS (some missing)     │
 *      │                       └──after syncGraceMs────────▶ degraded ──────────────────┘
 *      └──STOP / any other state ──STOP──▶ stopping ──STOPPED──▶ stopped
 *
 * syncing, serving and degraded all answer queries; degraded answers say which
 * partitions they may miss (no view held, or none heard from in time).
 */
import { assign, setup } from "xstate";

export const RankerStates = {
  Starting: "starting",
  Syncing: "syncing",
  Serving: "serving",
  Degraded: "degraded",
  Stopping: "stopping",
  Stopped: "stopped",
} as const;
export type RankerState = (typeof RankerStates)[keyof typeof RankerStates];

export const RankerEvents = {
  /** Connected, subscribed to the publications, endpoints registered. */
  Connected: "CONNECTED",
  /** How many partitions the views miss right now. */
  Views: "VIEWS",
  Stop: "STOP",
  /** Endpoints and subscriptions are closed. */
  Stopped: "STOPPED",
} as const;

export type RankerEvent =
  | { type: typeof RankerEvents.Connected; partitions: number }
  | { type: typeof RankerEvents.Views; missing: number }
  | { type: typeof RankerEvents.Stop }
  | { type: typeof RankerEvents.Stopped };

export interface RankerContext {
  partitions: number;
  /** Partitions missing at the last VIEWS event. */
  missing: number;
}

/** The lifecycle machine; `syncGraceMs` is how long syncing waits for every partition before calling itself degraded. */
export function createRankerMachine(syncGraceMs: number) {
  return setup({
    types: { context: {} as RankerContext, events: {} as RankerEvent },
    guards: {
      allPartitionsHeld: ({ event }) => event.type === RankerEvents.Views && event.missing === 0,
      somePartitionsMissing: ({ event }) => event.type === RankerEvents.Views && event.missing > 0,
    },
    actions: {
      noteMissing: assign({
        missing: ({ context, event }) => (event.type === RankerEvents.Views ? event.missing : context.missing),
      }),
      notePartitions: assign({
        partitions: ({ context, event }) =>
          event.type === RankerEvents.Connected ? event.partitions : context.partitions,
        missing: ({ context, event }) => (event.type === RankerEvents.Connected ? event.partitions : context.missing),
      }),
    },
    delays: { syncGrace: syncGraceMs },
  }).createMachine({
    id: "ranker",
    context: { partitions: 0, missing: 0 },
    initial: RankerStates.Starting,
    on: { [RankerEvents.Stop]: `.${RankerStates.Stopping}` },
    states: {
      [RankerStates.Starting]: {
        on: { [RankerEvents.Connected]: { target: RankerStates.Syncing, actions: "notePartitions" } },
      },
      [RankerStates.Syncing]: {
        after: { syncGrace: RankerStates.Degraded },
        on: {
          [RankerEvents.Views]: [
            { guard: "allPartitionsHeld", target: RankerStates.Serving, actions: "noteMissing" },
            { actions: "noteMissing" },
          ],
        },
      },
      [RankerStates.Serving]: {
        on: {
          [RankerEvents.Views]: [
            { guard: "somePartitionsMissing", target: RankerStates.Degraded, actions: "noteMissing" },
            { actions: "noteMissing" },
          ],
        },
      },
      [RankerStates.Degraded]: {
        on: {
          [RankerEvents.Views]: [
            { guard: "allPartitionsHeld", target: RankerStates.Serving, actions: "noteMissing" },
            { actions: "noteMissing" },
          ],
        },
      },
      [RankerStates.Stopping]: {
        on: { [RankerEvents.Stop]: {}, [RankerEvents.Stopped]: RankerStates.Stopped },
      },
      [RankerStates.Stopped]: { type: "final", on: { [RankerEvents.Stop]: {} } },
    },
  });
}
