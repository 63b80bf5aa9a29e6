/**
 * The graph service's two writes (docs/adr/017): `link`, its projection of
 * dependency edges onto a strategy's `dependencies` and `dependents`, and
 * `cascade`, a suspension or retirement it makes as part of a cascade, which
 * alone may move a strategy others depend on. Clients change edges through the
 * graph service, never here; NATS permissions keep these two subjects to services.
 *
 * Both run in the partition's write queue with the graph's command ids, so a
 * retried projection or cascade step is applied once.
 */
import {
  ConflictError,
  ErrorCodes,
  LifecycleEvents,
  LifecycleStates,
  LogOps,
  lifecycleOf,
  nextLifecycle,
  PartitionOps,
  parseRequest,
  type Strategy,
  stateOfValue,
  TransitionActions,
} from "@stratreg/protocol";
import type { Partition } from "../partition.js";
import { move } from "./lifecycle.js";
import { checkPartition } from "./reads.js";
import { commitChange, stored, writeOnce } from "./writes.js";

/** `ids` with `change.add` appended (once each) and `change.remove` taken out. */
function changed(ids: readonly string[], change: { add?: string[]; remove?: string[] } | undefined): string[] {
  if (change === undefined) return [...ids];
  const remove = new Set(change.remove ?? []);
  const out = ids.filter((id) => !remove.has(id));
  for (const id of change.add ?? []) if (!out.includes(id) && !remove.has(id)) out.push(id);
  return out;
}

const sameList = (a: readonly string[], b: readonly string[]) => a.length === b.length && a.every((x, i) => x === b[i]);

/** States in which a change of dependencies sends a strategy back to be tested again, as an update of them does. */
const RETESTED = new Set<string>([LifecycleStates.Candidate, LifecycleStates.Backtesting, LifecycleStates.Validated]);

export function link(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const request = parseRequest(PartitionOps.Link, payload);
  const { id, dependencies, dependents, by } = request.body;
  checkPartition(partition, id, "body.id");
  return writeOnce(partition, request, async () => {
    const current = stored(partition, id);
    const nextDependencies = changed(current.dependencies, dependencies);
    const nextDependents = changed(current.dependents ?? [], dependents);
    const next: Strategy = {
      ...current,
      dependencies: nextDependencies,
      version: current.version + 1,
      updatedAt: Date.now(),
    };
    if (nextDependents.length > 0) next.dependents = nextDependents;
    else delete next.dependents;
    const lifecycle = lifecycleOf(current);
    if (!sameList(current.dependencies, nextDependencies) && RETESTED.has(stateOfValue(lifecycle.value))) {
      // What it does changed: like an update of its dependencies, a validated strategy is tested again.
      next.lifecycle = nextLifecycle(lifecycle, { type: LifecycleEvents.Update, behaviour: true });
      next.state = stateOfValue(next.lifecycle.value);
    }
    return commitChange(partition, LogOps.Update, request.cid, next, `dependency edges changed by ${by}`);
  });
}

export function cascade(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const request = parseRequest(PartitionOps.Cascade, payload);
  const { id, action, by, reason } = request.body;
  checkPartition(partition, id, "body.id");
  return writeOnce(partition, request, async () => {
    const current = stored(partition, id);
    if (action === TransitionActions.Suspend && stateOfValue(lifecycleOf(current).value) !== LifecycleStates.Active) {
      const state = stateOfValue(lifecycleOf(current).value);
      throw new ConflictError(
        ErrorCodes.InvalidTransition,
        `strategy ${id} is ${state}, not active: nothing to suspend`,
        {
          details: { id, state, event: LifecycleEvents.Suspend },
        },
      );
    }
    return move(partition, request.cid, action, current, { at: Date.now(), by, reason });
  });
}
