/**
 * The discovery loop as an xstate machine (pure: the service carries out every
 * effect around it and reports what happened as events):
 *
 *   starting ──CONNECTED──▶ idle ──RUN (not halted)────────────────▶ running ──RUN_ENDED──▶ idle
 *                            │  └──DATA (auto, enough new bars)─────▶ running
 *                            │                                          │ TRADING HALTED: the service
 *                            │                                          ▼ aborts the run, keeping its checkpoint
 *                            └──TRADING HALTED──▶ halted ◀──RUN_ENDED── halting
 *                                                         └──TRADING (not halted)──▶ idle
 *   any state ──STOP──▶ stopping ──STOPPED──▶ stopped
 *
 * A run is started only once the risk guard's trading state is known and not
 * HALTED: a halted platform neither mines nor registers strategies (REDUCING
 * limits orders, not research). Bars keep arriving
 * in every state; in idle, enough new bars start a run when auto-runs are on.
 */
import { type TradingState, TradingStates } from "@stratreg/protocol";
import { assign, setup } from "xstate";

export const DiscoveryStates = {
  Starting: "starting",
  Idle: "idle",
  Running: "running",
  /** A halt arrived during a run: the run is being stopped. */
  Halting: "halting",
  Halted: "halted",
  Stopping: "stopping",
  Stopped: "stopped",
} as const;
export type DiscoveryState = (typeof DiscoveryStates)[keyof typeof DiscoveryStates];

export const DiscoveryEvents = {
  /** Connected; endpoints registered; the trading state as known (undefined: none heard yet). */
  Connected: "CONNECTED",
  /** An operator asked for a run (the service has checked the request). */
  Run: "RUN",
  /** Bars were appended: how many. */
  Data: "DATA",
  /** The trading state changed. */
  Trading: "TRADING",
  /** The run ended, however. */
  RunEnded: "RUN_ENDED",
  Stop: "STOP",
  Stopped: "STOPPED",
} as const;

export type DiscoveryEvent =
  | { type: typeof DiscoveryEvents.Connected; trading: TradingState | undefined }
  | { type: typeof DiscoveryEvents.Run; runId: string }
  | { type: typeof DiscoveryEvents.Data; bars: number }
  | { type: typeof DiscoveryEvents.Trading; state: TradingState }
  | { type: typeof DiscoveryEvents.RunEnded; runId: string; outcome: string }
  | { type: typeof DiscoveryEvents.Stop }
  | { type: typeof DiscoveryEvents.Stopped };

export interface DiscoveryContext {
  /** The trading state last heard (undefined: none yet, which counts as not active). */
  trading: TradingState | undefined;
  /** The run in progress (or being stopped). */
  runId: string | undefined;
  /** Bars appended since the last run started. */
  newBars: number;
  runs: number;
}

/** Whether a run may start under `trading`: known, and not HALTED. */
export function mayRun(trading: TradingState | undefined): boolean {
  return trading !== undefined && trading !== TradingStates.Halted;
}

/** Settings of the loop. */
export interface LoopSettings {
  /** Start a run by itself once this many new bars have arrived; 0 turns auto-runs off. */
  autoRunBars: number;
}

/** The discovery loop's machine. */
export function createDiscoveryMachine(settings: LoopSettings) {
  return setup({
    types: { context: {} as DiscoveryContext, events: {} as DiscoveryEvent },
    guards: {
      mayRun: ({ context }) => mayRun(context.trading),
      isHalted: ({ context }) => context.trading === TradingStates.Halted,
      notHalted: ({ context }) => context.trading !== undefined && context.trading !== TradingStates.Halted,
      halts: ({ event }) => event.type === DiscoveryEvents.Trading && event.state === TradingStates.Halted,
      enoughNewData: ({ context, event }) =>
        settings.autoRunBars > 0 &&
        mayRun(context.trading) &&
        event.type === DiscoveryEvents.Data &&
        context.newBars + event.bars >= settings.autoRunBars,
      liftsHalt: ({ event }) => event.type === DiscoveryEvents.Trading && event.state !== TradingStates.Halted,
    },
    actions: {
      noteTrading: assign({
        trading: ({ context, event }) =>
          event.type === DiscoveryEvents.Trading || event.type === DiscoveryEvents.Connected
            ? event.type === DiscoveryEvents.Trading
              ? event.state
              : event.trading
            : context.trading,
      }),
      noteData: assign({
        newBars: ({ context, event }) => context.newBars + (event.type === DiscoveryEvents.Data ? event.bars : 0),
      }),
      startRun: assign({
        runId: ({ event }) => (event.type === DiscoveryEvents.Run ? event.runId : undefined),
        newBars: 0,
        runs: ({ context }) => context.runs + 1,
      }),
      endRun: assign({ runId: undefined }),
    },
  }).createMachine({
    id: "discovery",
    context: { trading: undefined, runId: undefined, newBars: 0, runs: 0 },
    initial: DiscoveryStates.Starting,
    on: { [DiscoveryEvents.Stop]: `.${DiscoveryStates.Stopping}` },
    states: {
      [DiscoveryStates.Starting]: {
        on: { [DiscoveryEvents.Connected]: { target: DiscoveryStates.Idle, actions: "noteTrading" } },
      },
      [DiscoveryStates.Idle]: {
        always: { guard: "isHalted", target: DiscoveryStates.Halted },
        on: {
          [DiscoveryEvents.Run]: { guard: "mayRun", target: DiscoveryStates.Running, actions: "startRun" },
          [DiscoveryEvents.Data]: [
            { guard: "enoughNewData", target: DiscoveryStates.Running, actions: "startRun" },
            { actions: "noteData" },
          ],
          [DiscoveryEvents.Trading]: [
            { guard: "halts", target: DiscoveryStates.Halted, actions: "noteTrading" },
            { actions: "noteTrading" },
          ],
        },
      },
      [DiscoveryStates.Running]: {
        on: {
          [DiscoveryEvents.RunEnded]: { target: DiscoveryStates.Idle, actions: "endRun" },
          [DiscoveryEvents.Trading]: [
            { guard: "halts", target: DiscoveryStates.Halting, actions: "noteTrading" },
            { actions: "noteTrading" },
          ],
          [DiscoveryEvents.Data]: { actions: "noteData" },
        },
      },
      [DiscoveryStates.Halting]: {
        on: {
          [DiscoveryEvents.RunEnded]: { target: DiscoveryStates.Halted, actions: "endRun" },
          [DiscoveryEvents.Trading]: { actions: "noteTrading" },
          [DiscoveryEvents.Data]: { actions: "noteData" },
        },
      },
      [DiscoveryStates.Halted]: {
        // Trading may have resumed while a halted run was still stopping (in halting).
        always: { guard: "notHalted", target: DiscoveryStates.Idle },
        on: {
          [DiscoveryEvents.Trading]: [
            { guard: "liftsHalt", target: DiscoveryStates.Idle, actions: "noteTrading" },
            { actions: "noteTrading" },
          ],
          [DiscoveryEvents.Data]: { actions: "noteData" },
        },
      },
      [DiscoveryStates.Stopping]: {
        on: { [DiscoveryEvents.Stopped]: DiscoveryStates.Stopped },
      },
      [DiscoveryStates.Stopped]: { type: "final" },
    },
  });
}
