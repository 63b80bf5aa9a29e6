/**
 * The wire side of the lifecycle's quality gates: the moves a client asks for,
 * the backtest evidence it attaches, the gate thresholds operators configure,
 * and the lifecycle events shards publish. The statistics themselves (evidence
 * summaries, gate evaluation) are in libs/quant.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Limits, StrategyIdSchema } from "./strategy.js";

/** Moves a client asks for on `<cluster>.part.<p>.transition`, each a lifecycle event. */
export const TransitionActions = {
  /** candidate → backtesting. */
  Backtest: "backtest",
  /** backtesting → validated, if the gates pass. */
  Validate: "validate",
  /** validated → active, if the gates pass and trading is not halted. */
  Activate: "activate",
  /** active → suspended. */
  Suspend: "suspend",
  /** suspended → active, unless trading is halted. */
  Resume: "resume",
  /** any → retired. */
  Retire: "retire",
} as const;
export type TransitionAction = (typeof TransitionActions)[keyof typeof TransitionActions];

/** Evidence size limits (a request is at most 1 MiB anyway). */
export const EvidenceLimits = {
  returnsMax: 100_000,
  tradesMax: 100_000,
  foldsMax: 1_000,
  perturbationsMax: 1_000,
  trialSharpesMax: 10_000,
  regimeLabelMaxLength: 64,
} as const;

const Label = Type.String({ minLength: 1, maxLength: Limits.labelMaxLength });
const Reason = Type.String({ minLength: 1, maxLength: 500 });
const Fraction = Type.Number({ minimum: -1e6, maximum: 1e6 });

/** Backtest evidence as a client attaches it (see libs/quant's `BacktestEvidence`). */
export const BacktestEvidenceSchema = Type.Object(
  {
    returns: Type.Array(Fraction, { minItems: 2, maxItems: EvidenceLimits.returnsMax }),
    periodsPerYear: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1e6 })),
    trades: Type.Optional(Type.Array(Fraction, { maxItems: EvidenceLimits.tradesMax })),
    oosStart: Type.Optional(Type.Integer({ minimum: 0, maximum: EvidenceLimits.returnsMax })),
    folds: Type.Optional(
      Type.Array(
        Type.Array(Type.Integer({ minimum: 0, maximum: EvidenceLimits.returnsMax }), { minItems: 2, maxItems: 2 }),
        { maxItems: EvidenceLimits.foldsMax },
      ),
    ),
    perturbations: Type.Optional(
      Type.Array(
        Type.Object(
          { param: Type.String({ minLength: 1, maxLength: 64 }), change: Fraction, sharpe: Fraction },
          { additionalProperties: false },
        ),
        { maxItems: EvidenceLimits.perturbationsMax },
      ),
    ),
    regimes: Type.Optional(
      Type.Array(Type.String({ minLength: 1, maxLength: EvidenceLimits.regimeLabelMaxLength }), {
        maxItems: EvidenceLimits.returnsMax,
      }),
    ),
    trials: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e12 })),
    trialSharpes: Type.Optional(Type.Array(Fraction, { maxItems: EvidenceLimits.trialSharpesMax })),
  },
  { additionalProperties: false },
);
export type BacktestEvidenceInput = Static<typeof BacktestEvidenceSchema>;

/** Gate thresholds an operator sets for a scope: any subset; the rest come from the wider scope. */
export const GateThresholdsSchema = Type.Object(
  {
    minTrades: Type.Optional(Type.Integer({ minimum: 0, maximum: 1e12 })),
    minSharpe: Type.Optional(Type.Number({ minimum: -100, maximum: 100 })),
    maxDrawdown: Type.Optional(Type.Number({ exclusiveMinimum: 0, maximum: 1 })),
    minOutOfSampleRatio: Type.Optional(Type.Number({ minimum: 0, maximum: 10 })),
    minPositiveFolds: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    minMonteCarloP5Sharpe: Type.Optional(Type.Number({ minimum: -100, maximum: 100 })),
    maxPerturbationDrop: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    regimeMinPeriods: Type.Optional(Type.Integer({ minimum: 1, maximum: 1e9 })),
    minDeflatedSharpe: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
  },
  { additionalProperties: false },
);
export type GateThresholdsInput = Static<typeof GateThresholdsSchema>;

/** Where thresholds apply: every strategy (`{}`), a family's, or a template's instances. */
export const GateScopeSchema = Type.Union([
  Type.Object({}, { additionalProperties: false }),
  Type.Object({ family: Label }, { additionalProperties: false }),
  Type.Object({ template: Label }, { additionalProperties: false }),
]);
export type GateScope = Static<typeof GateScopeSchema>;

/** Request bodies of the lifecycle's partition operations. */
export const LifecycleRequestBodies = {
  transition: Type.Object(
    {
      id: StrategyIdSchema,
      action: Type.Union(Object.values(TransitionActions).map((action) => Type.Literal(action))),
      by: Label,
      reason: Reason,
      expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
  attachEvidence: Type.Object(
    {
      id: StrategyIdSchema,
      by: Label,
      evidence: BacktestEvidenceSchema,
      expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })),
    },
    { additionalProperties: false },
  ),
  byId: Type.Object({ id: StrategyIdSchema }, { additionalProperties: false }),
} as const;

/** Request bodies of the gate configuration endpoints. */
export const GateConfigBodies = {
  /** `<cluster>.gates.get`: the thresholds in force for a scope, and what each scope set. */
  get: Type.Object({ scope: GateScopeSchema }, { additionalProperties: false }),
  /** `<cluster>.control.gates.set` (operators): replace a scope's thresholds. */
  set: Type.Object(
    {
      scope: GateScopeSchema,
      thresholds: GateThresholdsSchema,
      by: Label,
      note: Type.Optional(Type.String({ maxLength: 500 })),
      expectedRevision: Type.Optional(Type.Integer({ minimum: 0 })),
    },
    { additionalProperties: false },
  ),
} as const;

/** Kinds of lifecycle event, each its own subject `<cluster>.lifecycle.<kind>.<partition>`. */
export const LifecycleEventKinds = {
  /** Strategies registered (one event per log entry, with every id). */
  Created: "created",
  /** A strategy's fields changed. */
  Updated: "updated",
  /** A lifecycle move (state, evidence attached). */
  StateChanged: "state",
  /** A gate evaluation refused a validation or activation. */
  GateFailed: "gate-failed",
  /** An active strategy's maturity phase changed. */
  MaturityChanged: "maturity",
} as const;
export type LifecycleEventKind = (typeof LifecycleEventKinds)[keyof typeof LifecycleEventKinds];

/** A lifecycle event as published (standard msgpack). */
export interface LifecycleEventMessage {
  v: number;
  kind: LifecycleEventKind;
  partition: number;
  /** The partition log sequence of the entry that made it: with `partition`, its identity. */
  seq: number;
  at: number;
  ids: string[];
  /** The strategy's version after the entry (single-strategy events). */
  version?: number;
  /** For moves: the event, the states before and after, who and why. */
  event?: string;
  from?: string;
  to?: string;
  by?: string;
  reason?: string;
  /** For gate failures: every gate with its value, threshold and verdict. */
  gates?: unknown;
}
