/**
 * The risk guard on the wire: pre-trade checks, the order events that move
 * exposure (fills, cancels, position reports), the limits operators set, the
 * trading state every service follows, and the risk reports.
 *
 * Every order of every strategy is checked by the one active guard. A check is
 * idempotent by order id: a repeated check answers the first decision. A
 * denial is an answer (`allowed: false` with a reason), not an error.
 */
import { type Static, Type } from "@sinclair/typebox";
import { Limits, StrategyIdSchema } from "./strategy.js";

/** Operations of the active risk guard that trading services use: `<cluster>.risk.<op>`. */
export const RiskOps = {
  /** Pre-trade check of one order: allow or deny. */
  Check: "check",
  /** An order was (partly) filled. */
  Fill: "fill",
  /** An order was cancelled (or rejected by the venue): its reservation is released. */
  Cancel: "cancel",
  /** A strategy's position in a symbol, as its trading service holds it (reconciliation). */
  Position: "position",
  /** The trading state now. */
  State: "state",
  /** Exposures against limits, P&L, drawdown, VaR and ES. */
  Exposure: "exposure",
  /** The correlation matrix summary: most correlated pairs and clusters. */
  Correlation: "correlation",
  /** The limits in force and their audit trail. */
  Limits: "limits",
  /** The guard's own status (role, epoch, log, followers). */
  Status: "status",
} as const;
export type RiskOp = (typeof RiskOps)[keyof typeof RiskOps];

/** Operations only operators may send: `<cluster>.control.risk.<op>`. */
export const RiskControlOps = {
  /** Emergency shutdown: nothing but cancels pass. */
  Halt: "halt",
  /** Only position-reducing orders pass. */
  Reduce: "reduce",
  /** Back to ACTIVE (from REDUCING or HALTED). */
  Resume: "resume",
  /** Replace the limits (versioned, audited). */
  SetLimits: "set-limits",
} as const;
export type RiskControlOp = (typeof RiskControlOps)[keyof typeof RiskControlOps];

/** Name under which risk guards register with the NATS services framework. */
export const RISK_SERVICE_NAME = "stratreg-risk-guard";

/** The trading states. */
export const TradingStates = {
  /** Orders pass the limits. */
  Active: "ACTIVE",
  /** Only orders that reduce a position pass. */
  Reducing: "REDUCING",
  /** Nothing but cancels pass (and the lifecycle is to activate no strategy). */
  Halted: "HALTED",
} as const;
export type TradingState = (typeof TradingStates)[keyof typeof TradingStates];

/** The trading state as the guard broadcasts it and followers hold it. */
export interface TradingStatus {
  state: TradingState;
  /** Why it is in this state. */
  reason: string;
  /** Who moved it here (an operator's name, or `risk-guard` for an automatic move). */
  by: string;
  /** When, ms since the Unix epoch (the guard's clock). */
  at: number;
  /** One more on every change: followers keep the highest. */
  version: number;
  /** For a resume that needs a second operator: who asked first, while it waits. */
  pendingResume?: { by: string; at: number } | null;
}

/** What a follower answers to a trading-state broadcast. */
export interface TradingStateAck {
  /** The follower (a shard's member id, `ranker-1`, a trading service's name). */
  member: string;
  /** What kind of process (`shard`, `ranker`, `discovery`, `trader`, …). */
  kind: string;
  /** The version it now holds. */
  version: number;
}

/** Order sides. */
export const Sides = { Buy: "buy", Sell: "sell" } as const;
export type Side = (typeof Sides)[keyof typeof Sides];

/** Why a check denied an order. */
export const DenyReasons = {
  /** Trading is HALTED. */
  Halted: "HALTED",
  /** Trading is REDUCING and the order would not reduce a position. */
  Reducing: "REDUCING",
  /** A reduce-only order larger than the position it would reduce. */
  ReduceOnlyWouldIncrease: "REDUCE_ONLY_WOULD_INCREASE",
  /** Over a limit (see `limit`). */
  Limit: "LIMIT",
  /** The strategy is not registered. */
  UnknownStrategy: "UNKNOWN_STRATEGY",
  /** The strategy is retired. */
  StrategyRetired: "STRATEGY_RETIRED",
} as const;
export type DenyReason = (typeof DenyReasons)[keyof typeof DenyReasons];

/** Kinds of limit. */
export const LimitKinds = {
  /** Σ|position notional| plus every open order's notional, in the scope. */
  Gross: "gross",
  /** The signed sum of position notional, worst case over the open orders, in the scope. */
  Net: "net",
  /** One order's notional. */
  OrderNotional: "orderNotional",
  /** Checks per second of one strategy. */
  OrderRate: "orderRate",
  /** Orders of one strategy allowed and neither filled, cancelled nor expired. */
  OpenOrders: "openOrders",
} as const;
export type LimitKind = (typeof LimitKinds)[keyof typeof LimitKinds];

/** What a limit applies to. */
export const LimitScopes = {
  Total: "total",
  Symbol: "symbol",
  Venue: "venue",
  Strategy: "strategy",
  Family: "family",
  /** Strategies whose returns correlate above the configured ρ (the key is the cluster's first member). */
  Cluster: "cluster",
} as const;
export type LimitScope = (typeof LimitScopes)[keyof typeof LimitScopes];

/** One limit that applies to an order and how much room it leaves. */
export interface Headroom {
  kind: LimitKind;
  scope: LimitScope;
  /** The symbol, venue, strategy, family or cluster; "" for the total. */
  key: string;
  max: number;
  /** Used before this order (notional, orders, or checks in the last second). */
  used: number;
  /** max − used − this order's share (negative: this order would break it). */
  left: number;
}

const Name = Type.String({ minLength: 1, maxLength: Limits.labelMaxLength, pattern: "^[^\\s]+$" });
const OrderId = Type.String({ minLength: 1, maxLength: 128 });
const Positive = Type.Number({ exclusiveMinimum: 0, maximum: 1e15 });
const NonNegative = Type.Number({ minimum: 0, maximum: 1e18 });
const Operator = Type.String({ minLength: 1, maxLength: 64 });
const Reason = Type.String({ minLength: 1, maxLength: 500 });

/** A pre-trade check. */
export const CheckSchema = Type.Object(
  {
    /** The trading service's order id: a repeated check answers the first decision. */
    orderId: OrderId,
    strategy: StrategyIdSchema,
    venue: Name,
    symbol: Name,
    side: Type.Union([Type.Literal(Sides.Buy), Type.Literal(Sides.Sell)]),
    quantity: Positive,
    /** Limit price (or the price the order is expected to fill at). */
    price: Positive,
    /** The order may only reduce the strategy's position in the symbol at the venue. */
    reduceOnly: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type CheckRequest = Static<typeof CheckSchema>;

/** The answer to a check. */
export interface CheckReply {
  orderId: string;
  allowed: boolean;
  /** Why it was denied; null when allowed. */
  reason: DenyReason | null;
  /** The limit that denied it (reason LIMIT). */
  limit: Headroom | null;
  /** Every limit that applies to the order, with the room left after it. */
  headroom: Headroom[];
  /** The trading state the decision was made in. */
  state: TradingState;
  /** When the guard decided, ms since the Unix epoch. */
  decidedAt: number;
  /** When an allowed order's reservation expires unless filled or cancelled. */
  expiresAt: number | null;
  /** This order id was checked before: this is the first decision. */
  duplicate: boolean;
}

/** A fill of an allowed order. */
export const FillSchema = Type.Object(
  {
    orderId: OrderId,
    /** Unique per fill: a repeated fill id is applied once. */
    fillId: OrderId,
    quantity: Positive,
    price: Positive,
  },
  { additionalProperties: false },
);
export type FillRequest = Static<typeof FillSchema>;

/** A cancel (or a venue's rejection) of an allowed order. */
export const CancelSchema = Type.Object({ orderId: OrderId }, { additionalProperties: false });
export type CancelRequest = Static<typeof CancelSchema>;

/** A strategy's whole position in a symbol at a venue, signed (long > 0), and the price it is marked at. */
export const PositionSchema = Type.Object(
  {
    strategy: StrategyIdSchema,
    venue: Name,
    symbol: Name,
    quantity: Type.Number({ minimum: -1e15, maximum: 1e15 }),
    price: Positive,
  },
  { additionalProperties: false },
);
export type PositionRequest = Static<typeof PositionSchema>;

/** What a fill, cancel or position report answers. */
export interface OrderEventReply {
  /** False when this fill id or cancel was applied before (nothing changed now). */
  applied: boolean;
  /** The order's quantity still open (0 once closed). */
  openQuantity: number;
  /** The strategy's position in the symbol at the venue after the event. */
  position: number;
}

const ScopeLimitSchema = Type.Object(
  { gross: Type.Optional(NonNegative), net: Type.Optional(NonNegative) },
  { additionalProperties: false },
);
export type ScopeLimit = Static<typeof ScopeLimitSchema>;

const StrategyLimitSchema = Type.Object(
  {
    gross: Type.Optional(NonNegative),
    net: Type.Optional(NonNegative),
    orderNotional: Type.Optional(NonNegative),
    orderRate: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
    openOrders: Type.Optional(Type.Integer({ minimum: 0, maximum: 1_000_000 })),
  },
  { additionalProperties: false },
);
export type StrategyLimit = Static<typeof StrategyLimitSchema>;

/** The key `*` of a scope's table is the default for every key without its own entry. */
export const DEFAULT_LIMIT_KEY = "*";

const table = <T extends ReturnType<typeof Type.Object>>(entry: T) =>
  Type.Optional(
    Type.Record(Type.String({ minLength: 1, maxLength: Limits.labelMaxLength }), entry, { maxProperties: 10_000 }),
  );

/** The whole set of limits, as operators set it. Absent means no limit. */
export const RiskLimitsSchema = Type.Object(
  {
    total: Type.Optional(ScopeLimitSchema),
    symbols: table(ScopeLimitSchema),
    venues: table(ScopeLimitSchema),
    families: table(ScopeLimitSchema),
    /** Per strategy: exposure, order size, rate and open orders. */
    strategies: table(StrategyLimitSchema),
    /** Largest notional of one order, any strategy. */
    orderNotional: Type.Optional(NonNegative),
    /** Strategies whose returns correlate above `rho` share one exposure limit. */
    cluster: Type.Optional(
      Type.Object(
        {
          rho: Type.Number({ minimum: 0, maximum: 1 }),
          gross: Type.Optional(NonNegative),
          net: Type.Optional(NonNegative),
        },
        { additionalProperties: false },
      ),
    ),
    /** Portfolio drawdown (currency, from the peak of equity) that moves trading to REDUCING, and to HALTED. */
    drawdown: Type.Optional(
      Type.Object({ reduce: Type.Optional(Positive), halt: Type.Optional(Positive) }, { additionalProperties: false }),
    ),
    /** How long an allowed order's reservation lasts unless filled or cancelled, ms. */
    reservationTtlMs: Type.Optional(Type.Integer({ minimum: 100, maximum: 7 * 24 * 3_600_000 })),
  },
  { additionalProperties: false },
);
export type RiskLimits = Static<typeof RiskLimitsSchema>;

/** An operator's new limits. */
export const SetLimitsSchema = Type.Object(
  {
    limits: RiskLimitsSchema,
    /** The version being replaced: refused with CONFLICT if another change came first. */
    expectedVersion: Type.Optional(Type.Integer({ minimum: 0 })),
    by: Operator,
    note: Type.Optional(Reason),
  },
  { additionalProperties: false },
);
export type SetLimitsRequest = Static<typeof SetLimitsSchema>;

/** One change of the limits, as the audit trail keeps it. */
export interface LimitsChange {
  version: number;
  by: string;
  at: number;
  note: string | null;
  previous: RiskLimits;
  limits: RiskLimits;
}

/** What `limits` answers. */
export interface LimitsReply {
  version: number;
  limits: RiskLimits;
  /** The latest changes, newest first. */
  audit: LimitsChange[];
}

/** An operator's halt, reduce or resume. */
export const TradingCommandSchema = Type.Object(
  { by: Operator, reason: Type.Optional(Reason) },
  { additionalProperties: false },
);
export type TradingCommand = Static<typeof TradingCommandSchema>;

/** What halt, reduce and resume answer: the state, and which followers acknowledged it how fast. */
export interface TradingCommandReply {
  status: TradingStatus;
  /** Followers that acknowledged this version, with ms from the broadcast. */
  acks: Array<{ member: string; kind: string; ms: number }>;
  /** Followers heard from recently that did not acknowledge in time. */
  missing: string[];
  /** ms from the broadcast to the last acknowledgement (null: none expected). */
  lastAckMs: number | null;
  /** A resume that waits for a second operator's confirmation. */
  awaitingConfirmation: boolean;
}

/** The body of an `exposure` query. */
export const ExposureQuerySchema = Type.Object(
  {
    /** Only this strategy's positions and limits. */
    strategy: Type.Optional(StrategyIdSchema),
  },
  { additionalProperties: false },
);
export type ExposureQuery = Static<typeof ExposureQuerySchema>;

/** One scope's exposure against its limits. */
export interface ScopeExposure {
  scope: LimitScope;
  key: string;
  gross: number;
  net: number;
  /** Open orders' notional included in gross. */
  reserved: number;
  grossLimit: number | null;
  netLimit: number | null;
}

/** Value at risk and expected shortfall of the portfolio P&L over one period (currency, losses positive). */
export interface RiskFigures {
  var95: number;
  var99: number;
  es95: number;
  es99: number;
}

/** What `exposure` answers. */
export interface ExposureReply {
  status: TradingStatus;
  limitsVersion: number;
  /** Every scope with exposure or a limit, largest use of its limit first. */
  scopes: ScopeExposure[];
  openOrders: number;
  /** P&L since the first fill (cash flows plus positions at their last price), its peak, and the drawdown from it. */
  pnl: { equity: number; peak: number; drawdown: number };
  /** From the strategies' reported returns weighted by their exposure; null until enough history. */
  risk: {
    historical: RiskFigures;
    parametric: RiskFigures;
    periods: number;
    /** Each strategy's share of the parametric 99 % VaR (Euler; they sum to it). */
    contributions: Array<{ strategy: string; exposure: number; component: number; marginal: number }>;
    at: number;
  } | null;
}

/** What `correlation` answers. */
export interface CorrelationReply {
  /** The strategies in the matrix (those with exposure and reported returns). */
  strategies: string[];
  periods: number;
  /** Ledoit–Wolf shrinkage intensity applied (1: no information, 0: the sample matrix). */
  shrinkage: number;
  rho: number;
  pairs: Array<{ a: string; b: string; rho: number }>;
  clusters: Array<{ key: string; members: string[]; gross: number; net: number }>;
  at: number;
}

/** Request bodies of the guard's operations, trading side and control side. */
export const RiskRequestBodies = {
  [RiskOps.Check]: CheckSchema,
  [RiskOps.Fill]: FillSchema,
  [RiskOps.Cancel]: CancelSchema,
  [RiskOps.Position]: PositionSchema,
  [RiskOps.State]: Type.Object(
    {
      /** A follower asking at start names itself, so the guard waits for its acknowledgements from now on. */
      follower: Type.Optional(
        Type.Object(
          { member: Type.String({ minLength: 1, maxLength: 128 }), kind: Type.String({ minLength: 1, maxLength: 64 }) },
          { additionalProperties: false },
        ),
      ),
    },
    { additionalProperties: false },
  ),
  [RiskOps.Exposure]: ExposureQuerySchema,
  [RiskOps.Correlation]: Type.Object(
    { pairs: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })) },
    { additionalProperties: false },
  ),
  [RiskOps.Limits]: Type.Object(
    { audit: Type.Optional(Type.Integer({ minimum: 0, maximum: 1000 })) },
    { additionalProperties: false },
  ),
  [RiskOps.Status]: Type.Object({}, { additionalProperties: false }),
} as const;

/** Request bodies of the operators' control operations. */
export const RiskControlBodies = {
  [RiskControlOps.Halt]: TradingCommandSchema,
  [RiskControlOps.Reduce]: TradingCommandSchema,
  [RiskControlOps.Resume]: TradingCommandSchema,
  [RiskControlOps.SetLimits]: SetLimitsSchema,
} as const;
