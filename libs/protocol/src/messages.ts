/**
 * Request and reply messages of every operation, and the versioned envelope
 * around them:
 *
 *   request  { v: 1, cid?: string, issued?: int, deadlineMs?: int, body: {...} }
 *   reply    { v: 1, ok: true, body: {...} }  |  { v: 1, ok: false, error: WireError }
 *
 * `cid` is the command id: a client-chosen unique string that makes a command
 * idempotent (it becomes the JetStream message id of the log append). `issued`
 * is when the client first issued the command (ms since the Unix epoch, the same
 * on every retry), so a shard can refuse a retry older than its de-duplication
 * window. Both are required on writes. `deadlineMs` is how long the caller will
 * still wait for the reply, from when it sent the request. Envelope fields this
 * build does not know are ignored (a newer client may send them); unknown fields
 * inside `body` are refused.
 */
import { type Static, type TObject, type TSchema, Type } from "@sinclair/typebox";
import type { WireError } from "./errors.js";
import { type BacktestEvidenceInput, LifecycleRequestBodies, TransitionActions } from "./gates.js";
import {
  HistoryQuerySchema,
  type HistoryReply,
  PerformanceLimits,
  type PerformanceReply,
  PerformanceReportSchema,
  RankingQuerySchema,
  type RankingReply,
  type ReportReply,
  type TopKPublication,
} from "./performance.js";
import { Limits, type Strategy, StrategyIdSchema, StrategyInputSchema, StrategyPatchSchema } from "./strategy.js";
import { type PartitionOp, PartitionOps } from "./subjects.js";

/** The protocol version this build speaks. */
export const PROTOCOL_VERSION = 1;

/** Command ids: 1-64 characters of `[A-Za-z0-9_-]`. */
export const CommandIdSchema = Type.String({ minLength: 1, maxLength: 64, pattern: "^[A-Za-z0-9_-]+$" });

/** The longest `deadlineMs` a request may carry: one hour. */
export const DEADLINE_MS_MAX = 3_600_000;

/** `issued`: ms since the Unix epoch when the client first issued the command (an integer JavaScript represents exactly). */
export const IssuedSchema = Type.Integer({ minimum: 0, maximum: Number.MAX_SAFE_INTEGER });

/** `deadlineMs`: how many ms the caller will still wait for the reply, counted from when it sent the request. */
export const DeadlineMsSchema = Type.Integer({ minimum: 1, maximum: DEADLINE_MS_MAX });

/** The operations that write a partition's log: their requests must carry `cid` and `issued`. */
/** Ids to add to and remove from one side of a strategy's edges. */
const EdgeChangeSchema = Type.Object(
  {
    add: Type.Optional(Type.Array(StrategyIdSchema, { maxItems: Limits.dependenciesMax })),
    remove: Type.Optional(Type.Array(StrategyIdSchema, { maxItems: Limits.dependenciesMax })),
  },
  { additionalProperties: false },
);

export const WRITE_OPS: ReadonlySet<PartitionOp> = new Set<PartitionOp>([
  PartitionOps.Register,
  PartitionOps.RegisterBatch,
  PartitionOps.Update,
  PartitionOps.Retire,
  PartitionOps.Report,
  PartitionOps.Transition,
  PartitionOps.AttachEvidence,
  PartitionOps.Link,
  PartitionOps.Cascade,
]);

/** Whether `op` writes (its requests must carry `cid` and `issued`). */
export function isWriteOp(op: PartitionOp): boolean {
  return WRITE_OPS.has(op);
}

/** Request bodies, by operation. */
export const RequestBodies = {
  [PartitionOps.Register]: Type.Object({ strategy: StrategyInputSchema }, { additionalProperties: false }),
  [PartitionOps.RegisterBatch]: Type.Object(
    { strategies: Type.Array(StrategyInputSchema, { minItems: 1, maxItems: Limits.batchMax }) },
    { additionalProperties: false },
  ),
  [PartitionOps.Get]: Type.Object({ id: StrategyIdSchema }, { additionalProperties: false }),
  [PartitionOps.GetBatch]: Type.Object(
    { ids: Type.Array(StrategyIdSchema, { minItems: 1, maxItems: Limits.batchMax }) },
    { additionalProperties: false },
  ),
  [PartitionOps.Update]: Type.Object(
    { id: StrategyIdSchema, expectedVersion: Type.Integer({ minimum: 1 }), patch: StrategyPatchSchema },
    { additionalProperties: false },
  ),
  [PartitionOps.Retire]: Type.Object(
    {
      id: StrategyIdSchema,
      expectedVersion: Type.Optional(Type.Integer({ minimum: 1 })),
      reason: Type.Optional(Type.String({ maxLength: 500 })),
      /** Who retires it (the history's actor; the owner when absent). */
      by: Type.Optional(Type.String({ minLength: 1, maxLength: Limits.labelMaxLength })),
    },
    { additionalProperties: false },
  ),
  [PartitionOps.List]: Type.Object(
    {
      cursor: Type.Optional(Type.Union([StrategyIdSchema, Type.Null()])),
      limit: Type.Optional(Type.Integer({ minimum: 1, maximum: Limits.listMax })),
    },
    { additionalProperties: false },
  ),
  [PartitionOps.Report]: Type.Object(
    { reports: Type.Array(PerformanceReportSchema, { minItems: 1, maxItems: PerformanceLimits.reportsMax }) },
    { additionalProperties: false },
  ),
  [PartitionOps.Perf]: Type.Object({ id: StrategyIdSchema }, { additionalProperties: false }),
  [PartitionOps.Ranking]: RankingQuerySchema,
  [PartitionOps.TopK]: Type.Object({}, { additionalProperties: false }),
  [PartitionOps.History]: HistoryQuerySchema,
  [PartitionOps.Transition]: LifecycleRequestBodies.transition,
  [PartitionOps.AttachEvidence]: LifecycleRequestBodies.attachEvidence,
  [PartitionOps.Evidence]: LifecycleRequestBodies.byId,
  [PartitionOps.Gates]: LifecycleRequestBodies.byId,
  [PartitionOps.Link]: Type.Object(
    {
      id: StrategyIdSchema,
      /** Edges out of `id` (what it depends on). */
      dependencies: Type.Optional(EdgeChangeSchema),
      /** Edges into `id` (what depends on it). */
      dependents: Type.Optional(EdgeChangeSchema),
      /** Who asked the graph service for the change. */
      by: Type.String({ minLength: 1, maxLength: Limits.labelMaxLength }),
    },
    { additionalProperties: false },
  ),
  [PartitionOps.Cascade]: Type.Object(
    {
      id: StrategyIdSchema,
      action: Type.Union([Type.Literal(TransitionActions.Suspend), Type.Literal(TransitionActions.Retire)]),
      by: Type.String({ minLength: 1, maxLength: Limits.labelMaxLength }),
      reason: Type.String({ minLength: 1, maxLength: 1000 }),
    },
    { additionalProperties: false },
  ),
} as const;

type Bodies = typeof RequestBodies;
/** The body type of each operation's request. */
export type RequestBody<Op extends keyof Bodies> = Static<Bodies[Op]>;

export type RegisterRequest = RequestBody<typeof PartitionOps.Register>;
export type RegisterBatchRequest = RequestBody<typeof PartitionOps.RegisterBatch>;
export type GetRequest = RequestBody<typeof PartitionOps.Get>;
export type GetBatchRequest = RequestBody<typeof PartitionOps.GetBatch>;
export type UpdateRequest = RequestBody<typeof PartitionOps.Update>;
export type RetireRequest = RequestBody<typeof PartitionOps.Retire>;
export type ListRequest = RequestBody<typeof PartitionOps.List>;
export type ReportRequest = RequestBody<typeof PartitionOps.Report>;

/**
 * The envelope schema around a request body. `cid` and `issued` are required
 * when `write`; other envelope fields are allowed (and ignored), unknown fields
 * inside the body are not.
 */
export function requestEnvelopeSchema<T extends TSchema>(body: T, write: boolean): TObject {
  return Type.Object(
    {
      v: Type.Integer(),
      cid: write ? CommandIdSchema : Type.Optional(CommandIdSchema),
      issued: write ? IssuedSchema : Type.Optional(IssuedSchema),
      deadlineMs: Type.Optional(DeadlineMsSchema),
      body,
    },
    { additionalProperties: true },
  );
}

/** The schema of a whole request (envelope and body) of `op`. */
export function requestSchema(op: PartitionOp): TObject {
  return requestEnvelopeSchema(RequestBodies[op], isWriteOp(op));
}

/** A decoded, validated request. `cid` and `issued` are always there on writes. */
export interface Request<B> {
  v: number;
  /** Command id (writes). */
  cid?: string;
  /** ms since the Unix epoch when the client first issued the command (writes). */
  issued?: number;
  /** How many ms the caller still waits for the reply, from when it sent the request. */
  deadlineMs?: number;
  body: B;
}

/** One strategy a register-batch did not register, by its index in the request. */
export interface BatchRejection {
  index: number;
  id: string;
  error: WireError;
}

/** Reply bodies, by operation. */
export interface ReplyBodies {
  [PartitionOps.Register]: { strategy: Strategy };
  [PartitionOps.RegisterBatch]: { registered: number; rejected: BatchRejection[] };
  /** `seq`: the partition's last applied log sequence when the shard answered. */
  [PartitionOps.Get]: { strategy: Strategy; seq?: number };
  [PartitionOps.GetBatch]: { strategies: Strategy[]; missing: string[] };
  [PartitionOps.Update]: { strategy: Strategy };
  [PartitionOps.Retire]: { strategy: Strategy };
  [PartitionOps.List]: { strategies: Strategy[]; nextCursor: string | null };
  [PartitionOps.Report]: ReportReply;
  [PartitionOps.Perf]: PerformanceReply;
  [PartitionOps.Ranking]: RankingReply;
  [PartitionOps.TopK]: TopKPublication;
  [PartitionOps.History]: HistoryReply;
  [PartitionOps.Transition]: { strategy: Strategy };
  [PartitionOps.Link]: { strategy: Strategy };
  [PartitionOps.Cascade]: { strategy: Strategy };
  [PartitionOps.AttachEvidence]: { strategy: Strategy; summary: Record<string, unknown> };
  [PartitionOps.Evidence]: { id: string; version: number; evidence: BacktestEvidenceInput; at: number; by: string };
  [PartitionOps.Gates]: GatesReply;
}

/** A gate dry run, and what a GATES_FAILED error carries in `details`. */
export interface GatesReply {
  id: string;
  version: number;
  state: string;
  passed: boolean;
  /** Every gate: its value, threshold, comparison and verdict. */
  gates: Array<{
    gate: string;
    value: number | null;
    threshold: number | null;
    comparison: string;
    passed: boolean;
    detail?: string;
  }>;
  /** The thresholds in force (seed defaults, then the operators' default, template and family settings). */
  thresholds: Record<string, number>;
  /** The trials recorded for the strategy's family, as the Deflated Sharpe Ratio used them. */
  trials: { trials: number; sharpeVariance: number | null };
  /** The trading state: activation also needs it ACTIVE. */
  trading: string | null;
}

/** A reply envelope. */
export type Reply<B> = { v: number; ok: true; body: B } | { v: number; ok: false; error: WireError };

/** The cluster config every shard serves on `<cluster>.cluster.info` and stores in the config bucket. */
export interface ClusterConfig {
  cluster: string;
  partitions: number;
  replicas: number;
  protocol: number;
  createdAt: number;
}
