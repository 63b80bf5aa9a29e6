/**
 * What genealogy queries count as having passed the quality gates, read from
 * a stored lifecycle alone (docs/protocol.md, Genealogy): a strategy passed
 * when its lifecycle reached `validated` (the VALIDATE move is the one the
 * gates guard) or went beyond it.
 */
import { type LifecycleContext, stateOfValue } from "./lifecycle.js";
import { LifecycleStates, lifecycleOf, type Strategy } from "./strategy.js";

const BEYOND_GATES: ReadonlySet<string> = new Set([
  LifecycleStates.Validated,
  LifecycleStates.Active,
  LifecycleStates.Suspended,
]);

/**
 * Whether a strategy passed the gates: it is validated, active or suspended,
 * or it is retired and its lifecycle shows it had passed them before (it kept
 * a maturity phase, which only going live sets; its kept history has a move
 * into validated, active or suspended; or its latest gate evaluation passed).
 */
export function passedGates(strategy: Pick<Strategy, "state" | "lifecycle">): boolean {
  const lifecycle = lifecycleOf(strategy);
  const state = stateOfValue(lifecycle.value);
  if (BEYOND_GATES.has(state)) return true;
  if (state !== LifecycleStates.Retired) return false;
  const context = lifecycle.context as LifecycleContext;
  if (context.phase !== undefined || context.gates?.passed === true) return true;
  return (context.history ?? []).some((move) => BEYOND_GATES.has(move.to.split(".")[0] as string));
}

/**
 * Whether the gates were evaluated on a strategy: it passed them, or its
 * lifecycle keeps a gate evaluation (a refused validation records one).
 */
export function gatesEvaluated(strategy: Pick<Strategy, "state" | "lifecycle">): boolean {
  return passedGates(strategy) || (lifecycleOf(strategy).context as LifecycleContext).gates !== undefined;
}
