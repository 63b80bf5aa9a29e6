/**
 * The strategy model: what a quant registers, and what the registry stores and
 * returns. Schemas are TypeBox (JSON Schema) so they compile to fast validators
 * and double as the documentation of each field.
 */
import { type Static, Type } from "@sinclair/typebox";
import { ErrorCodes, ValidationError } from "./errors.js";

/** Size limits of a strategy's fields. */
export const Limits = {
  idMaxLength: 128,
  nameMaxLength: 200,
  descriptionMaxLength: 4000,
  labelMaxLength: 128,
  tagsMax: 32,
  tagMaxLength: 64,
  parentsMax: 16,
  dependenciesMax: 64,
  venuesMax: 16,
  symbolsMax: 64,
  paramsMax: 64,
  paramStringMaxLength: 256,
  /** Most strategies in one register-batch or get-batch request. */
  batchMax: 1000,
  /** Most strategies one list request returns. */
  listMax: 1000,
  /** Largest request payload a shard accepts, in bytes (NATS's default max_payload). */
  payloadMaxBytes: 1024 * 1024,
} as const;

/**
 * Strategy ids: 1-128 characters of `[A-Za-z0-9._:-]`, starting with a letter or digit.
 * Ids are case-sensitive and never reused after retirement.
 */
export const STRATEGY_ID_PATTERN = "^[A-Za-z0-9][A-Za-z0-9._:-]*$";

/** A strategy id. */
export const StrategyIdSchema = Type.String({
  minLength: 1,
  maxLength: Limits.idMaxLength,
  pattern: STRATEGY_ID_PATTERN,
});

const Label = Type.String({ minLength: 1, maxLength: Limits.labelMaxLength });

/** Parameter values: numbers, short strings, booleans. */
export const ParamValueSchema = Type.Union([
  Type.Number(),
  Type.String({ maxLength: Limits.paramStringMaxLength }),
  Type.Boolean(),
]);
export type ParamValue = Static<typeof ParamValueSchema>;

/** Named parameters, e.g. `{ lookback: 20, threshold: 1.5 }`. */
export const ParamsSchema = Type.Record(
  // TypeBox checks record keys by pattern only, so the 1-64 length is in the pattern.
  Type.String({ pattern: "^[\\s\\S]{1,64}$" }),
  ParamValueSchema,
  { maxProperties: Limits.paramsMax, additionalProperties: false },
);
export type Params = Static<typeof ParamsSchema>;

/** The template a strategy instantiates, with its parameters. */
export const TemplateRefSchema = Type.Object(
  {
    id: Label,
    version: Type.Optional(Type.Integer({ minimum: 1 })),
    params: ParamsSchema,
  },
  { additionalProperties: false },
);
export type TemplateRef = Static<typeof TemplateRefSchema>;

/** One venue (exchange) variant: where the strategy trades, with per-venue parameter overrides. */
export const VenueVariantSchema = Type.Object(
  {
    venue: Label,
    symbols: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: Limits.symbolsMax }),
    params: Type.Optional(ParamsSchema),
  },
  { additionalProperties: false },
);
export type VenueVariant = Static<typeof VenueVariantSchema>;

/** Lifecycle states a strategy can be in (see lifecycle.ts for the moves between them). */
export const LifecycleStates = {
  /** Registered, not yet being tested. */
  Candidate: "candidate",
  /** Evidence is being gathered (backtests attached). */
  Backtesting: "backtesting",
  /** Its evidence passed the quality gates; it may be activated. */
  Validated: "validated",
  /** Trading live, in one of the maturity phases. */
  Active: "active",
  /** Taken out of live trading; may be resumed. */
  Suspended: "suspended",
  /** Withdrawn for good. */
  Retired: "retired",
} as const;
export type LifecycleState = (typeof LifecycleStates)[keyof typeof LifecycleStates];

/**
 * The state strategies were registered in before the lifecycle had quality
 * gates. A stored `draft` is read as a `candidate` by every lifecycle move; its
 * next change stores it as one.
 */
export const LEGACY_DRAFT = "draft";

/** A state as it may be stored: one of {@link LifecycleStates}, or a legacy `draft`. */
export type StoredState = LifecycleState | typeof LEGACY_DRAFT;

/** Phases of an active strategy, derived from the trend of its live performance. */
export const MaturityPhases = {
  /** Too short a live record to tell. */
  Birth: "birth",
  /** Recent performance above its long-run level. */
  Growth: "growth",
  /** Recent performance in line with its long-run level. */
  Maturity: "maturity",
  /** Recent performance well below its long-run level, or a deep drawdown. */
  Decline: "decline",
} as const;
export type MaturityPhase = (typeof MaturityPhases)[keyof typeof MaturityPhases];

/**
 * How a strategy was made from its parents (docs/protocol.md, Genealogy):
 * a variation of one parent, a crossover of two, or by hand (any parents).
 */
export const Origins = {
  /** Made from one parent (parameters or rules varied). */
  Variation: "variation",
  /** Made from exactly two parents. */
  Crossover: "crossover",
  /** Written by hand; may name any parents, or none. */
  Manual: "manual",
} as const;
export type Origin = (typeof Origins)[keyof typeof Origins];

/** The descriptive fields a quant sets and may later change. */
const mutableFields = {
  name: Type.String({ minLength: 1, maxLength: Limits.nameMaxLength }),
  description: Type.String({ maxLength: Limits.descriptionMaxLength }),
  tags: Type.Array(Type.String({ minLength: 1, maxLength: Limits.tagMaxLength }), { maxItems: Limits.tagsMax }),
  owner: Label,
  family: Type.Union([Label, Type.Null()]),
  parents: Type.Array(StrategyIdSchema, { maxItems: Limits.parentsMax }),
  origin: Type.Union([Type.Literal(Origins.Variation), Type.Literal(Origins.Crossover), Type.Literal(Origins.Manual)]),
  template: Type.Union([TemplateRefSchema, Type.Null()]),
  venues: Type.Array(VenueVariantSchema, { maxItems: Limits.venuesMax }),
  dependencies: Type.Array(StrategyIdSchema, { maxItems: Limits.dependenciesMax }),
};

/** What a client sends to register a strategy. Only `id`, `name` and `owner` are required. */
export const StrategyInputSchema = Type.Object(
  {
    id: StrategyIdSchema,
    name: mutableFields.name,
    owner: mutableFields.owner,
    description: Type.Optional(mutableFields.description),
    tags: Type.Optional(mutableFields.tags),
    family: Type.Optional(mutableFields.family),
    parents: Type.Optional(mutableFields.parents),
    origin: Type.Optional(mutableFields.origin),
    template: Type.Optional(mutableFields.template),
    venues: Type.Optional(mutableFields.venues),
    dependencies: Type.Optional(mutableFields.dependencies),
  },
  { additionalProperties: false },
);
export type StrategyInput = Static<typeof StrategyInputSchema>;

/** A change to a registered strategy's descriptive fields (at least one). */
export const StrategyPatchSchema = Type.Object(
  {
    name: Type.Optional(mutableFields.name),
    owner: Type.Optional(mutableFields.owner),
    description: Type.Optional(mutableFields.description),
    tags: Type.Optional(mutableFields.tags),
    family: Type.Optional(mutableFields.family),
    parents: Type.Optional(mutableFields.parents),
    origin: Type.Optional(mutableFields.origin),
    template: Type.Optional(mutableFields.template),
    venues: Type.Optional(mutableFields.venues),
    dependencies: Type.Optional(mutableFields.dependencies),
  },
  { additionalProperties: false, minProperties: 1 },
);
export type StrategyPatch = Static<typeof StrategyPatchSchema>;

/**
 * A strategy's lifecycle as the machine's own snapshot: its state value and
 * context (see lifecycle.ts). Stored so that a richer lifecycle (more states,
 * a context) needs no migration of stored strategies.
 */
export interface StoredLifecycle {
  /** A state name, or `{ active: <phase> }` for an active strategy. */
  value: string | Record<string, string>;
  context: Record<string, unknown>;
}

/** A registered strategy as the registry stores and returns it. */
export interface Strategy {
  id: string;
  name: string;
  description: string;
  tags: string[];
  owner: string;
  family: string | null;
  parents: string[];
  /**
   * How it was made. Strategies stored before it existed (and those registered
   * without it) lack it: read it with {@link originOf}.
   */
  origin?: Origin;
  template: TemplateRef | null;
  venues: VenueVariant[];
  /** What it depends on: set by the graph service only (`link`), which keeps the graph acyclic. */
  dependencies: string[];
  /** What depends on it, the other side of those edges (absent when nothing does). */
  dependents?: string[];
  /** Starts at 1; every accepted change adds 1. Updates name the version they expect. */
  version: number;
  /** Lifecycle state (see lifecycle.ts): the top of `lifecycle.value`, for readers that need no more. */
  state: StoredState;
  /**
   * The lifecycle machine's `{ value, context }`. Strategies stored before it
   * existed lack it: read it as `{ value: state, context: {} }` ({@link lifecycleOf}).
   */
  lifecycle?: StoredLifecycle;
  /** Milliseconds since the Unix epoch (UTC), set by the shard. */
  createdAt: number;
  updatedAt: number;
}

/** The stored form of a newly registered strategy: the input with defaults, version 1, candidate. */
export function newStrategy(input: StrategyInput, now: number): Strategy {
  return {
    id: input.id,
    name: input.name,
    description: input.description ?? "",
    tags: input.tags ?? [],
    owner: input.owner,
    family: input.family ?? null,
    parents: input.parents ?? [],
    ...(input.origin === undefined ? {} : { origin: input.origin }),
    template: input.template ?? null,
    venues: input.venues ?? [],
    dependencies: input.dependencies ?? [],
    version: 1,
    state: LifecycleStates.Candidate,
    lifecycle: { value: LifecycleStates.Candidate, context: {} },
    createdAt: now,
    updatedAt: now,
  };
}

/** The lifecycle of a stored strategy, also of one stored before `lifecycle` existed. */
export function lifecycleOf(strategy: Pick<Strategy, "state" | "lifecycle">): StoredLifecycle {
  return strategy.lifecycle ?? { value: strategy.state, context: {} };
}

/**
 * How a strategy was made: its stored `origin`, or for one that has none, what
 * its parents say (none: manual, one: a variation, two: a crossover, more: manual).
 */
export function originOf(strategy: Pick<Strategy, "origin" | "parents">): Origin {
  if (strategy.origin !== undefined) return strategy.origin;
  const parents = strategy.parents.length;
  return parents === 1 ? Origins.Variation : parents === 2 ? Origins.Crossover : Origins.Manual;
}

/** Parents each origin needs (manual: any). */
const ORIGIN_PARENTS: Readonly<Record<Origin, number | undefined>> = {
  variation: 1,
  crossover: 2,
  manual: undefined,
};

/**
 * Why `origin` cannot go with `parents` (a variation has exactly one parent, a
 * crossover exactly two), or undefined when it can.
 */
export function originProblem(origin: Origin | undefined, parents: readonly string[]): string | undefined {
  if (origin === undefined) return undefined;
  const needed = ORIGIN_PARENTS[origin];
  if (needed === undefined || parents.length === needed) return undefined;
  return `origin ${origin} needs exactly ${needed === 1 ? "one parent" : `${needed} parents`}; parents has ${parents.length}`;
}

/**
 * `current` with `patch` applied, the version bumped and `updatedAt` set.
 * Throws INVALID_FIELD when the result's origin does not fit its parents (a
 * patch that changes parents must change a stored origin with them).
 */
export function patchStrategy(current: Strategy, patch: StrategyPatch, now: number): Strategy {
  const next = { ...current, ...patch, version: current.version + 1, updatedAt: now };
  const problem = originProblem(next.origin, next.parents);
  if (problem !== undefined) {
    const field = patch.origin !== undefined ? "body.patch.origin" : "body.patch.parents";
    throw new ValidationError(
      ErrorCodes.InvalidField,
      `${field}: ${problem}${patch.origin === undefined ? " (the stored origin; give origin with the new parents)" : ""}`,
      { field, details: { origin: next.origin, parents: next.parents.length } },
    );
  }
  return next;
}
