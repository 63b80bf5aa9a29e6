/**
 * The strategy lifecycle as a pure xstate machine. Strategies are data, not
 * actors: a shard stores each strategy's `{ value, context }` and applies
 * `transition()` to it, so a million strategies cost no actors. The machine is
 * the documentation of every state and every allowed move:
 *
 *   candidate ──START_BACKTEST / ATTACH_EVIDENCE──▶ backtesting
 *   backtesting ──VALIDATE [gatesPassed]──▶ validated
 *   validated ──ACTIVATE [gatesPassed, tradingActive]──▶ active (birth)
 *   validated ──ATTACH_EVIDENCE, UPDATE [changesBehaviour]──▶ backtesting
 *   active ──SUSPEND──▶ suspended ──RESUME [tradingActive]──▶ active (the phase it left)
 *   active: birth ⇄ growth ⇄ maturity ⇄ decline (MATURITY, from live performance)
 *   every state but retired ──RETIRE──▶ retired (final)
 *
 * Guards read only the event: the service around the machine evaluates the
 * quality gates and reads the trading state, and passes what it found. A stored
 * legacy `draft` is a `candidate` here.
 */
import { and, assign, not, setup, transition } from "xstate";
import { ConflictError, ErrorCodes } from "./errors.js";
import { type TradingState, TradingStates } from "./risk.js";
import {
  LEGACY_DRAFT,
  type LifecycleState,
  LifecycleStates,
  type MaturityPhase,
  MaturityPhases,
  type StoredLifecycle,
} from "./strategy.js";

/** Events a strategy's lifecycle accepts. */
export const LifecycleEvents = {
  /** A change to the strategy's stored fields (`behaviour`: its template, venues or dependencies changed). */
  Update: "UPDATE",
  /** Backtest evidence attached (its summary travels in the event). */
  AttachEvidence: "ATTACH_EVIDENCE",
  /** A candidate goes into backtesting without evidence yet. */
  StartBacktest: "START_BACKTEST",
  /** Backtesting is done: the gates were evaluated (they must have passed). */
  Validate: "VALIDATE",
  /** Go live: the gates were evaluated again and the trading state read. */
  Activate: "ACTIVATE",
  /** Take an active strategy out of live trading. */
  Suspend: "SUSPEND",
  /** Put a suspended strategy back into live trading (the trading state read). */
  Resume: "RESUME",
  /** Withdraw the strategy for good. */
  Retire: "RETIRE",
  /** An active strategy's maturity phase changed. */
  Maturity: "MATURITY",
  /** A gate evaluation that failed, kept in the strategy's history; the state does not change. */
  RecordGates: "RECORD_GATES",
} as const;
export type LifecycleEventType = (typeof LifecycleEvents)[keyof typeof LifecycleEvents];

/** A gate evaluation as the lifecycle keeps it (the service's `GateEvaluation` with when and by whom). */
export interface GateRecord {
  passed: boolean;
  at: number;
  [field: string]: unknown;
}

/** An event sent to a strategy's lifecycle. */
export type LifecycleEvent =
  | { type: typeof LifecycleEvents.Update; behaviour?: boolean }
  | { type: typeof LifecycleEvents.AttachEvidence; evidence: Record<string, unknown> }
  | { type: typeof LifecycleEvents.StartBacktest }
  | { type: typeof LifecycleEvents.Validate; gates: GateRecord }
  | { type: typeof LifecycleEvents.Activate; gates: GateRecord; trading: TradingState | null }
  | { type: typeof LifecycleEvents.Suspend }
  | { type: typeof LifecycleEvents.Resume; trading: TradingState | null }
  | { type: typeof LifecycleEvents.Retire; reason?: string | undefined }
  | { type: typeof LifecycleEvents.Maturity; phase: MaturityPhase }
  | { type: typeof LifecycleEvents.RecordGates; gates: GateRecord };

/** One move in a strategy's history. */
export interface LifecycleHistoryEntry {
  at: number;
  /** Who asked for it (a user, a service, `risk-guard`). */
  by: string;
  event: LifecycleEventType;
  /** State before and after, with the phase of an active strategy (`active.growth`). */
  from: string;
  to: string;
  reason?: string;
}

/** What the lifecycle keeps besides its state. */
export interface LifecycleContext {
  /** The maturity phase an active strategy is (or a suspended one was) in. */
  phase?: MaturityPhase;
  /** The summary of the latest evidence attached. */
  evidence?: Record<string, unknown>;
  /** The latest gate evaluation. */
  gates?: GateRecord;
  /** The latest moves, oldest first (at most {@link HISTORY_MAX}). */
  history?: LifecycleHistoryEntry[];
  /** How many moves the strategy has made in all. */
  moves?: number;
  [field: string]: unknown;
}

/** Moves kept in a strategy's lifecycle context (older ones are counted, not kept). */
export const HISTORY_MAX = 32;

const PHASES = Object.values(MaturityPhases);

const S = LifecycleStates;
const E = LifecycleEvents;

/** The strategy lifecycle machine (pure: guards read the event, actions only assign to the context). */
export const strategyLifecycle = setup({
  types: {
    context: {} as LifecycleContext,
    events: {} as LifecycleEvent,
  },
  guards: {
    gatesPassed: ({ event }) => "gates" in event && event.gates.passed === true,
    tradingActive: ({ event }) => "trading" in event && event.trading === TradingStates.Active,
    changesBehaviour: ({ event }) => event.type === E.Update && event.behaviour === true,
    phaseIs: ({ event }, params: { phase: MaturityPhase }) => event.type === E.Maturity && event.phase === params.phase,
    wasInPhase: ({ context }, params: { phase: MaturityPhase }) => context.phase === params.phase,
  },
  actions: {
    keepEvidence: assign({ evidence: ({ event }) => (event.type === E.AttachEvidence ? event.evidence : undefined) }),
    keepGates: assign({ gates: ({ event }) => ("gates" in event ? event.gates : undefined) }),
    enterPhase: assign((_, params: { phase: MaturityPhase }) => ({ phase: params.phase })),
  },
}).createMachine({
  id: "strategy",
  initial: S.Candidate,
  context: {},
  states: {
    [S.Candidate]: {
      on: {
        [E.Update]: {},
        [E.StartBacktest]: { target: S.Backtesting },
        [E.AttachEvidence]: { target: S.Backtesting, actions: "keepEvidence" },
        [E.Retire]: { target: S.Retired },
      },
    },
    [S.Backtesting]: {
      on: {
        [E.Update]: {},
        [E.AttachEvidence]: { actions: "keepEvidence" },
        [E.Validate]: { guard: "gatesPassed", target: S.Validated, actions: "keepGates" },
        [E.RecordGates]: { actions: "keepGates" },
        [E.Retire]: { target: S.Retired },
      },
    },
    [S.Validated]: {
      on: {
        // New evidence, or a change to what the strategy does, voids the validation.
        [E.Update]: [{ guard: "changesBehaviour", target: S.Backtesting }, {}],
        [E.AttachEvidence]: { target: S.Backtesting, actions: "keepEvidence" },
        [E.Activate]: { guard: and(["gatesPassed", "tradingActive"]), target: S.Active, actions: "keepGates" },
        [E.RecordGates]: { actions: "keepGates" },
        [E.Retire]: { target: S.Retired },
      },
    },
    [S.Active]: {
      initial: MaturityPhases.Birth,
      states: Object.fromEntries(
        PHASES.map((phase) => [
          phase,
          {
            entry: { type: "enterPhase", params: { phase } },
            on: {
              [E.Maturity]: PHASES.filter((other) => other !== phase).map((other) => ({
                guard: { type: "phaseIs", params: { phase: other } },
                target: other,
              })),
            },
          },
        ]),
      ),
      on: {
        // What an active strategy does cannot change under it: retire it and register the new one.
        [E.Update]: { guard: not("changesBehaviour") },
        [E.Suspend]: { target: S.Suspended },
        [E.Retire]: { target: S.Retired },
      },
    },
    [S.Suspended]: {
      on: {
        [E.Update]: { guard: not("changesBehaviour") },
        [E.Resume]: [
          ...PHASES.map((phase) => ({
            guard: and(["tradingActive", { type: "wasInPhase", params: { phase } }]),
            target: `${S.Active}.${phase}`,
          })),
          { guard: "tradingActive", target: S.Active },
        ],
        [E.Retire]: { target: S.Retired },
      },
    },
    [S.Retired]: {
      type: "final",
    },
  },
});

/** The top-level state of a stored lifecycle value (`{ active: "growth" }` is `active`; a legacy `draft` is `candidate`). */
export function stateOfValue(value: StoredLifecycle["value"]): LifecycleState {
  const top = typeof value === "string" ? value : (Object.keys(value)[0] ?? S.Candidate);
  return (top === LEGACY_DRAFT ? S.Candidate : top) as LifecycleState;
}

/** The maturity phase in a stored lifecycle value, if the strategy is active. */
export function phaseOfValue(value: StoredLifecycle["value"]): MaturityPhase | undefined {
  return typeof value === "string" ? undefined : (value[S.Active] as MaturityPhase | undefined);
}

/** A lifecycle value as one name: `candidate`, `active.growth`. */
export function valueName(value: StoredLifecycle["value"]): string {
  const phase = phaseOfValue(value);
  const state = stateOfValue(value);
  return phase === undefined ? state : `${state}.${phase}`;
}

function stateNodeIds(value: StoredLifecycle["value"]): string[] {
  const state = stateOfValue(value);
  const phase = phaseOfValue(value);
  return phase === undefined ? [`strategy.${state}`] : [`strategy.${state}`, `strategy.${state}.${phase}`];
}

/** The events a strategy in `value` can take (guards aside), sorted. */
export function eventsAllowedIn(value: StoredLifecycle["value"]): LifecycleEventType[] {
  const events = new Set<string>();
  for (const id of stateNodeIds(value)) {
    // Every event the node has a transition for (ownEvents leaves out the ones that assign nothing).
    for (const type of strategyLifecycle.getStateNodeById(id).transitions.keys()) events.add(type);
  }
  return [...events].sort() as LifecycleEventType[];
}

/** Who asked for a move, and why. */
export interface TransitionMeta {
  at: number;
  by: string;
  reason?: string | undefined;
}

function resolve(current: StoredLifecycle) {
  const value = current.value === LEGACY_DRAFT ? S.Candidate : current.value;
  return strategyLifecycle.resolveState({ value, context: current.context as LifecycleContext });
}

/**
 * The lifecycle after `event`, as the machine's `{ value, context }`, or a
 * ConflictError (INVALID_TRANSITION) naming the state and the moves it allows
 * when the machine refuses. With `meta`, the move is added to the context's
 * history (updates are versions, not moves: they are not).
 */
export function nextLifecycle(current: StoredLifecycle, event: LifecycleEvent, meta?: TransitionMeta): StoredLifecycle {
  if (event.type !== E.Update || current.context === undefined) return runMachine(current, event, meta);
  // An update's outcome depends on the state and the event alone: the machine is asked once per pair.
  const key = `${valueName(current.value)}/${event.behaviour === true}`;
  const known = updateOutcomes.get(key);
  if (known !== undefined) return { value: known, context: { ...current.context } };
  // The machine answers (and a refused update always goes to it, which says why).
  const next = runMachine(current, event, meta);
  // Frozen: one value object is handed to every strategy that takes this update.
  updateOutcomes.set(key, Object.freeze(next.value));
  return { value: next.value, context: next.context };
}

/**
 * The value an update leads to from each state (by {@link valueName}, and
 * whether it changes behaviour), once the machine has allowed it there. Update
 * transitions assign nothing and their guards read only the event (the tests
 * hold every state, both kinds of update and several contexts to the machine),
 * so the machine is not run, and no actor is made, for every update.
 */
const updateOutcomes = new Map<string, StoredLifecycle["value"]>();

function runMachine(current: StoredLifecycle, event: LifecycleEvent, meta?: TransitionMeta): StoredLifecycle {
  const snapshot = resolve(current);
  // Not snapshot.can(): it counts a move that keeps the state and assigns nothing (an update) as none.
  if (strategyLifecycle.getTransitionData(snapshot, event).length === 0) {
    const state = valueName(snapshot.value as StoredLifecycle["value"]);
    const allowed = eventsAllowedIn(snapshot.value as StoredLifecycle["value"]);
    throw new ConflictError(
      ErrorCodes.InvalidTransition,
      allowed.includes(event.type)
        ? `a ${state} strategy cannot take ${event.type} now: a condition of that move does not hold`
        : `a ${state} strategy cannot take ${event.type}; it can take ${allowed.length === 0 ? "nothing" : allowed.join(", ")}`,
      { details: { state, event: event.type, allowed } },
    );
  }
  const [next] = transition(strategyLifecycle, snapshot, event);
  const value = next.value as StoredLifecycle["value"];
  const context = { ...(next.context ?? {}) } as LifecycleContext;
  if (meta !== undefined && event.type !== E.Update) {
    const entry: LifecycleHistoryEntry = {
      at: meta.at,
      by: meta.by,
      event: event.type,
      from: valueName(snapshot.value as StoredLifecycle["value"]),
      to: valueName(value),
    };
    if (meta.reason !== undefined) entry.reason = meta.reason;
    const history = [...(context.history ?? []), entry];
    context.history = history.length > HISTORY_MAX ? history.slice(history.length - HISTORY_MAX) : history;
    context.moves = (context.moves ?? 0) + 1;
  }
  return { value, context };
}

/** The state after `event` (see {@link nextLifecycle}). */
export function nextLifecycleState(state: LifecycleState | typeof LEGACY_DRAFT, event: LifecycleEvent): LifecycleState {
  return stateOfValue(nextLifecycle({ value: state, context: {} }, event).value);
}
