/**
 * The lifecycle's partition operations: moves (`transition`), evidence
 * (`attach-evidence`, `evidence`) and the gates' dry run (`gates`).
 *
 * A move runs in the partition's write queue like every write: it reads the
 * stored strategy, asks the pure machine (libs/protocol) for the next state,
 * and logs the strategy with its new `{ value, context }` and a record of the
 * move. Validation and activation evaluate the gates first; a refusal is logged
 * too (the strategy's history shows why it was refused) and answered with
 * GATES_FAILED listing every gate. Activation and resumption obey the trading
 * state: refused unless the risk guard says ACTIVE, and undone at once if a
 * halt arrived while the move was being written.
 */
import {
  ConflictError,
  ErrorCodes,
  type GateRecord,
  type GatesReply,
  hashString,
  type LifecycleEvent,
  LifecycleEvents,
  LifecycleStates,
  type LogMove,
  LogOps,
  lifecycleOf,
  type MaturityPhase,
  NotFoundError,
  nextLifecycle,
  PartitionOps,
  parseRequest,
  phaseOfValue,
  type Strategy,
  stateOfValue,
  TradingStates,
  type TransitionAction,
  TransitionActions,
  type TransitionMeta,
  UnavailableError,
  ValidationError,
  valueName,
} from "@stratreg/protocol";
import { type BacktestEvidence, checkEvidence, summariseEvidence } from "@stratreg/quant";
import { type EvidenceRecord, evaluateStrategy, type LifecycleServices } from "../lifecycle/gates.js";
import type { Partition } from "../partition.js";
import { checkPartition } from "./reads.js";
import { okReply } from "./reply.js";
import { checkVersion, commitChange, gatesFailed, moved, stored, writeOnce } from "./writes.js";

/** Who the history names for moves the registry makes itself. */
export const REGISTRY_ACTOR = "registry";
/** Who the history names for a move undone by a halt. */
export const RISK_GUARD_ACTOR = "risk-guard";

function servicesOf(partition: Partition): LifecycleServices {
  const services = partition.context.lifecycle;
  if (services === undefined) {
    throw new UnavailableError(ErrorCodes.Unavailable, "this shard has no lifecycle services");
  }
  return services;
}

/** Logs a move of `current` to what `event` makes of it. */
function commitMove(
  partition: Partition,
  cid: string | undefined,
  current: Strategy,
  event: LifecycleEvent,
  meta: TransitionMeta,
  extra: Partial<LogMove> = {},
  op: typeof LogOps.Transition | typeof LogOps.AttachEvidence = LogOps.Transition,
): Promise<Uint8Array> {
  const from = lifecycleOf(current);
  const next = nextLifecycle(from, event, meta);
  const move: LogMove = { event: event.type, from: valueName(from.value), to: valueName(next.value), by: meta.by };
  if (meta.reason !== undefined) move.reason = meta.reason;
  return commitChange(partition, op, cid, moved(current, next, meta.at), meta.reason, { ...move, ...extra });
}

/**
 * Suspending or retiring a strategy others depend on must suspend them too: that is a cascade,
 * which only the graph service runs (exactly once, through its log). Asked directly, it is refused
 * with HAS_DEPENDENTS listing them.
 */
export function checkNoDependents(current: Strategy, action: TransitionAction): void {
  const dependents = current.dependents ?? [];
  if (dependents.length === 0) return;
  throw new ConflictError(
    ErrorCodes.HasDependents,
    `${dependents.length} strateg${dependents.length === 1 ? "y depends" : "ies depend"} on ${current.id} (${dependents.slice(0, 10).join(", ")}${dependents.length > 10 ? ", …" : ""}): ${action} it with a cascade, which suspends them too (stratreg ${action} --cascade)`,
    { details: { id: current.id, action, dependents } },
  );
}

/** Throws INVALID_TRANSITION unless the strategy's state has a move for `type` at all. */
function checkAllowed(current: Strategy, event: LifecycleEvent): void {
  // A move the state has may still be refused by its guards (gates, trading state): those are checked
  // by the caller, which names the reason; the machine's own refusal names the allowed moves.
  nextLifecycle(lifecycleOf(current), event);
}

function tradingHalted(current: Strategy, state: string | null, undone: boolean): ConflictError {
  return new ConflictError(
    ErrorCodes.TradingHalted,
    undone
      ? `trading turned ${state} while strategy ${current.id} was being activated: it was suspended again`
      : `trading is ${state ?? "not yet announced by the risk guard"}: strategy ${current.id} cannot go live now`,
    { details: { id: current.id, trading: state, undone } },
  );
}

/** The gate evaluation as the lifecycle keeps it. */
function gateRecord(evaluation: GatesReply, at: number): GateRecord {
  return {
    passed: evaluation.passed,
    at,
    gates: evaluation.gates,
    thresholds: evaluation.thresholds,
    trials: evaluation.trials,
  };
}

/**
 * Evaluates the gates; if they fail, logs the refusal (RECORD_GATES, with the
 * command id: a retry gets the same refusal) and throws GATES_FAILED.
 */
async function passGates(
  partition: Partition,
  cid: string | undefined,
  current: Strategy,
  services: LifecycleServices,
  meta: TransitionMeta,
): Promise<GateRecord> {
  const evaluation = await evaluateStrategy(current, services);
  const record = gateRecord(evaluation, meta.at);
  if (!evaluation.passed) {
    await commitMove(partition, cid, current, { type: LifecycleEvents.RecordGates, gates: record }, meta, {
      gates: evaluation,
    });
    throw gatesFailed(evaluation);
  }
  return record;
}

/**
 * Activation and resumption: refused unless trading is ACTIVE; once logged, if
 * a halt (or any newer trading state) arrived meanwhile, the strategy is
 * suspended again by a second entry and the caller told TRADING_HALTED.
 */
async function goLive(
  partition: Partition,
  cid: string | undefined,
  current: Strategy,
  services: LifecycleServices,
  meta: TransitionMeta,
  event: (trading: typeof TradingStates.Active) => LifecycleEvent,
): Promise<Uint8Array> {
  const trading = services.trading();
  if (trading?.state !== TradingStates.Active) throw tradingHalted(current, trading?.state ?? null, false);
  const reply = await commitMove(partition, cid, current, event(TradingStates.Active), meta);
  const now = services.trading();
  if (now?.state === TradingStates.Active) return reply;
  const live = stored(partition, current.id);
  await commitMove(
    partition,
    undefined,
    live,
    { type: LifecycleEvents.Suspend },
    {
      at: Date.now(),
      by: RISK_GUARD_ACTOR,
      reason: `trading turned ${now?.state ?? "unknown"} while the strategy was being activated`,
    },
  );
  throw tradingHalted(current, now?.state ?? null, true);
}

/** Makes the move `action` asks of `current` (checking nothing about who depends on it: callers do). */
export async function move(
  partition: Partition,
  cid: string | undefined,
  action: TransitionAction,
  current: Strategy,
  meta: TransitionMeta,
): Promise<Uint8Array> {
  const services = servicesOf(partition);
  switch (action) {
    case TransitionActions.Backtest:
      return commitMove(partition, cid, current, { type: LifecycleEvents.StartBacktest }, meta);
    case TransitionActions.Suspend:
      return commitMove(partition, cid, current, { type: LifecycleEvents.Suspend }, meta);
    case TransitionActions.Retire:
      return commitMove(
        partition,
        cid,
        current,
        { type: LifecycleEvents.Retire, reason: meta.reason },
        meta,
        {},
        LogOps.Transition,
      );
    case TransitionActions.Validate: {
      checkAllowed(current, { type: LifecycleEvents.Validate, gates: { passed: true, at: meta.at } });
      const gates = await passGates(partition, cid, current, services, meta);
      return commitMove(partition, cid, current, { type: LifecycleEvents.Validate, gates }, meta);
    }
    case TransitionActions.Activate: {
      const probe: LifecycleEvent = {
        type: LifecycleEvents.Activate,
        gates: { passed: true, at: meta.at },
        trading: TradingStates.Active,
      };
      checkAllowed(current, probe);
      const trading = services.trading();
      if (trading?.state !== TradingStates.Active) throw tradingHalted(current, trading?.state ?? null, false);
      const gates = await passGates(partition, cid, current, services, meta);
      return goLive(partition, cid, current, services, meta, (state) => ({
        type: LifecycleEvents.Activate,
        gates,
        trading: state,
      }));
    }
    case TransitionActions.Resume:
      checkAllowed(current, { type: LifecycleEvents.Resume, trading: TradingStates.Active });
      return goLive(partition, cid, current, services, meta, (state) => ({
        type: LifecycleEvents.Resume,
        trading: state,
      }));
  }
}

export function transition(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const request = parseRequest(PartitionOps.Transition, payload);
  const { id, action, by, reason, expectedVersion } = request.body;
  checkPartition(partition, id, "body.id");
  const live = action === TransitionActions.Activate || action === TransitionActions.Resume;
  const work = writeOnce(partition, request, async () => {
    const current = stored(partition, id);
    checkVersion(current, expectedVersion);
    if (action === TransitionActions.Suspend || action === TransitionActions.Retire) checkNoDependents(current, action);
    return move(partition, request.cid, action as TransitionAction, current, { at: Date.now(), by, reason });
  });
  if (live) {
    // A halt is acknowledged only once the activations in flight have settled (see shard.ts).
    const activations = partition.context.lifecycle?.activations;
    activations?.add(work);
    const forget = () => activations?.delete(work);
    work.then(forget, forget);
  }
  return work;
}

export function attachEvidence(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const request = parseRequest(PartitionOps.AttachEvidence, payload);
  const { id, by, evidence, expectedVersion } = request.body;
  checkPartition(partition, id, "body.id");
  const problem = checkEvidence(evidence as BacktestEvidence);
  if (problem !== undefined) {
    throw new ValidationError(ErrorCodes.InvalidField, `body.evidence.${problem.field}: ${problem.message}`, {
      field: `body.evidence.${problem.field}`,
    });
  }
  const services = servicesOf(partition);
  return writeOnce(partition, request, async () => {
    const current = stored(partition, id);
    checkVersion(current, expectedVersion);
    const at = Date.now();
    // Seeded by strategy and version: the same evidence summarises the same way on every shard.
    const summary = summariseEvidence(evidence as BacktestEvidence, { seed: (hashString(id) + current.version) >>> 0 });
    // Refused moves store nothing: ask the machine before writing the evidence anywhere.
    checkAllowed(current, { type: LifecycleEvents.AttachEvidence, evidence: {} });
    const revision = await services.evidence.put({ id, version: current.version + 1, evidence, at, by });
    // Counted before the move is logged: a failure in between counts a trial twice, never none.
    if (current.family !== null) {
      await services.trials.add(
        current.family,
        summary.trials,
        evidence.trialSharpes ?? (summary.sharpe === null ? [] : [summary.sharpe]),
      );
    }
    const record: EvidenceRecord = { summary, at, by, revision };
    const reply = await commitMove(
      partition,
      request.cid,
      current,
      { type: LifecycleEvents.AttachEvidence, evidence: record },
      { at, by },
      {},
      LogOps.AttachEvidence,
    );
    return reply;
  });
}

/** Strategies of the partition whose maturity move is queued: one at a time each. */
const maturityQueued = new WeakMap<Partition, Set<string>>();

/**
 * Looks at the maturity phase of strategies whose reports made it due, and logs
 * a MATURITY move (by the registry, with the figures as its reason) for each
 * active one whose phase changed. Runs in the partition's write queue like any
 * move; a failure is logged and the next reports look again.
 */
export function settleMaturity(partition: Partition, ids: Iterable<string>): void {
  let queued = maturityQueued.get(partition);
  if (queued === undefined) {
    queued = new Set();
    maturityQueued.set(partition, queued);
  }
  for (const id of ids) {
    const perf = partition.performance.get(id);
    if (perf === undefined || queued.has(id)) continue;
    const attributes = partition.performance.attributes(id, perf);
    if (attributes.state !== LifecycleStates.Active) continue;
    const current = attributes.phase as MaturityPhase | undefined;
    const phase = perf.phase(current);
    if (phase === current) continue;
    queued.add(id);
    const done = () => queued.delete(id);
    partition
      .write(async () => {
        const strategy = stored(partition, id);
        const lifecycle = lifecycleOf(strategy);
        if (stateOfValue(lifecycle.value) !== LifecycleStates.Active) return;
        const now = perf.phase(phaseOfValue(lifecycle.value));
        if (now === phaseOfValue(lifecycle.value)) return;
        const metrics = perf.returns.metrics();
        const reason = `${metrics.periods} returns: recent Sharpe ${perf.trend.sharpe().toFixed(2)} against ${metrics.sharpe.toFixed(2)} over the whole live record`;
        await commitMove(
          partition,
          undefined,
          strategy,
          { type: LifecycleEvents.Maturity, phase: now },
          {
            at: Date.now(),
            by: REGISTRY_ACTOR,
            reason,
          },
        );
      })
      .then(done, (err: unknown) => {
        done();
        partition.context.logger.debug({ err, id }, "maturity move not logged");
      });
  }
}

/** The gates' dry run: every gate with its value, threshold and verdict; nothing is written. */
export async function gates(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const { id } = parseRequest(PartitionOps.Gates, payload).body;
  checkPartition(partition, id, "body.id");
  const evaluation = await evaluateStrategy(stored(partition, id), servicesOf(partition));
  return okReply({ ...evaluation });
}

/** The evidence last attached to a strategy, as it was sent. */
export async function evidence(partition: Partition, payload: Uint8Array): Promise<Uint8Array> {
  const { id } = parseRequest(PartitionOps.Evidence, payload).body;
  checkPartition(partition, id, "body.id");
  stored(partition, id);
  const kept = await servicesOf(partition).evidence.get(id);
  if (kept === undefined) throw new NotFoundError(`strategy ${id} has no evidence attached`, { details: { id } });
  return okReply({ ...kept });
}
