/**
 * What the active guard does while it leads: decides checks, applies order
 * events and operators' commands to the book at once and answers each once its
 * record is in the log; renews the lease; expires stale reservations; moves
 * trading to REDUCING or HALTED on a drawdown; broadcasts the trading state.
 * Everything goes through one ordered pipeline (pipeline.ts).
 */
import { performance } from "node:perf_hooks";
import type { Lease, LeaseTable } from "@stratreg/fencing";
import {
  type CancelRequest,
  type CheckReply,
  type CheckRequest,
  ConflictError,
  DenyReasons,
  ErrorCodes,
  type FillRequest,
  type LimitsReply,
  NotFoundError,
  nextTradingStatus,
  type OrderEventReply,
  type PositionRequest,
  RiskControlOps,
  type RiskLogKind,
  RiskLogKinds,
  type SetLimitsRequest,
  StratregError,
  type TradingCommand,
  type TradingCommandReply,
  type TradingEvent,
  TradingEvents,
  TradingStates,
  type TradingStatus,
  UnavailableError,
} from "@stratreg/protocol";
import type { Logger } from "pino";
import { RiskBook } from "./book/book.js";
import { type CheckRecord, RecordKinds, type RiskRecord } from "./book/records.js";
import type { StateBroadcast } from "./broadcast.js";
import type { GuardConfig } from "./config.js";
import type { CommitPipeline } from "./pipeline.js";
import { DROPPED, REPLYING, type Replier } from "./service.js";
import type { StrategyCache } from "./strategies.js";

/** Who the guard says moved the trading state when it did so itself. */
export const GUARD_ACTOR = "risk-guard";

/** Most expirations appended per tick. */
const EXPIRE_BATCH = 1000;

export class ActiveGuard {
  private readonly timers: NodeJS.Timeout[] = [];
  /** Order ids decided whose decision is not stored yet. */
  private readonly pending = new Set<string>();
  private readonly limitsReplies = new Map<string, LimitsReply>();
  private stopped = false;

  constructor(
    readonly epoch: number,
    private readonly book: RiskBook,
    readonly pipeline: CommitPipeline,
    readonly lease: Lease,
    private readonly leases: LeaseTable,
    private readonly broadcast: StateBroadcast,
    private readonly strategies: StrategyCache,
    private readonly config: GuardConfig,
    private readonly logger: Logger,
    /** Called once when the lease is lost or the log refuses an append. */
    private readonly onFenced: (reason: string) => void,
  ) {}

  /** Starts the timers and broadcasts the state this leader inherited. */
  start(): void {
    const every = (ms: number, run: () => void) => {
      const timer = setInterval(run, ms);
      timer.unref();
      this.timers.push(timer);
    };
    every(Math.max(50, Math.floor(this.config.leaseMs / 3)), () => void this.renew());
    every(100, () => this.expire());
    every(this.config.rebroadcastMs, () => this.broadcast.publish(this.book.status));
    this.broadcast.publish(this.book.status);
  }

  stop(): void {
    this.stopped = true;
    for (const timer of this.timers) clearInterval(timer);
  }

  /** Reads and writes are answered only while the lease is young enough (a paused leader wakes up silent). */
  private ensureFresh(): void {
    if (this.stopped || !this.lease.fresh()) {
      throw new UnavailableError(ErrorCodes.NotOwner, "this risk guard is not the active one right now", {
        retryable: true,
      });
    }
  }

  private ensureRoom(): void {
    if (this.pipeline.full) {
      throw new StratregError(ErrorCodes.Overloaded, "the risk guard's queue to its log is full", {
        retryable: true,
        details: { retryAfterMs: 20 },
      });
    }
  }

  private async renew(): Promise<void> {
    if (this.stopped) return;
    try {
      if (!(await this.leases.renew(this.lease))) this.onFenced("the leader lease was taken by another guard");
    } catch (err) {
      this.logger.warn({ err }, "lease renewal failed; will retry");
    }
  }

  /**
   * Resolves once everything applied so far is in the log; throws when the pipeline failed
   * meanwhile (what the book shows may then never have been stored: never answer from it).
   */
  private async stored(): Promise<void> {
    await this.pipeline.barrier();
    this.ensureFresh();
  }

  /** Applies `record` now and stores it; resolves once it is in the log. */
  private commit(record: RiskRecord, kind: RiskLogKind = RiskLogKinds.Entries): Promise<number> {
    this.book.apply(record);
    return this.pipeline.submit(record, kind);
  }

  /**
   * A pre-trade check. The usual path (the strategy is cached) decides at once and answers through
   * `reply` when the decision's entry is stored; the others return a promise of the answer.
   */
  check(check: CheckRequest, deadline: number, reply: Replier): unknown {
    this.ensureFresh();
    // Decided before (or being stored now): the first decision, once stored.
    if (this.pending.has(check.orderId) || this.book.decisionOf(check.orderId) !== undefined) {
      return this.repeat(check, check.orderId);
    }
    this.ensureRoom();
    const known = this.strategies.cached(check.strategy);
    if (known !== null) return this.decide(check, known, deadline, reply);
    return this.strategies.get(check.strategy).then(
      (strategy) =>
        new Promise((resolve, reject) => {
          // Another request for this order id may have been decided while we asked.
          if (this.pending.has(check.orderId) || this.book.decisionOf(check.orderId) !== undefined) {
            this.repeat(check, check.orderId).then(resolve, reject);
            return;
          }
          const answer = this.decide(check, strategy, deadline, { ok: resolve, fail: reject });
          if (answer === DROPPED) resolve(DROPPED);
        }),
    );
  }

  private decide(
    check: CheckRequest,
    strategy: { family: string; retired: boolean } | undefined,
    deadline: number,
    reply: Replier,
  ): typeof REPLYING | typeof DROPPED {
    this.ensureFresh();
    // Nobody waits for this answer any more: deciding it would only reserve capacity for an order never sent.
    if (performance.now() > deadline) return DROPPED;
    let decision: CheckRecord;
    if (strategy === undefined || strategy.retired) {
      decision = {
        ...this.book.decide(check, strategy?.family ?? "", Date.now()),
        allowed: false,
        reason: strategy === undefined ? DenyReasons.UnknownStrategy : DenyReasons.StrategyRetired,
        limit: null,
        headroom: [],
        expiresAt: null,
      };
    } else {
      decision = this.book.decide(check, strategy.family, Date.now());
    }
    this.book.apply(decision);
    this.pending.add(decision.orderId);
    this.pipeline.enqueue(
      decision,
      RiskLogKinds.Entries,
      () => {
        this.pending.delete(decision.orderId);
        reply.ok(RiskBook.replyOf(decision, false));
      },
      (err) => {
        this.pending.delete(decision.orderId);
        reply.fail(err);
      },
    );
    return REPLYING;
  }

  /** The first decision on an order id, once it is stored; the same id for another order is refused. */
  private async repeat(check: CheckRequest, orderId: string): Promise<CheckReply> {
    await this.stored();
    const first = this.book.decisionOf(orderId);
    if (first === undefined) {
      throw new UnavailableError(ErrorCodes.Unavailable, `the decision on order ${orderId} is being stored`, {
        retryable: true,
      });
    }
    const same =
      first.strategy === check.strategy &&
      first.venue === check.venue &&
      first.symbol === check.symbol &&
      first.side === check.side &&
      first.quantity === check.quantity &&
      first.price === check.price &&
      first.reduceOnly === (check.reduceOnly === true);
    if (!same) {
      throw new ConflictError(ErrorCodes.Conflict, `order id ${orderId} was checked before for another order`, {
        field: "body.orderId",
        details: { first: RiskBook.replyOf(first, true) },
      });
    }
    return RiskBook.replyOf(first, true);
  }

  /** A fill of a checked order. */
  async fill(fill: FillRequest): Promise<OrderEventReply> {
    this.ensureFresh();
    if (this.book.decisionOf(fill.orderId) === undefined) {
      throw new NotFoundError(`no check of order ${fill.orderId} is known`, {
        field: "body.orderId",
      });
    }
    this.ensureRoom();
    const record = { t: RecordKinds.Fill, ...fill, at: Date.now() } as const;
    const outcome = this.book.apply(record) as OrderEventReply;
    if (!outcome.applied) {
      await this.stored();
      return outcome;
    }
    await this.pipeline.submit(record);
    this.watchDrawdown();
    return outcome;
  }

  /** A cancel of a checked order. */
  async cancel(cancel: CancelRequest): Promise<OrderEventReply> {
    this.ensureFresh();
    if (this.book.decisionOf(cancel.orderId) === undefined) {
      throw new NotFoundError(`no check of order ${cancel.orderId} is known`, {
        field: "body.orderId",
      });
    }
    this.ensureRoom();
    const record = { t: RecordKinds.Cancel, orderId: cancel.orderId, at: Date.now() } as const;
    const outcome = this.book.apply(record) as OrderEventReply;
    if (outcome.applied) await this.pipeline.submit(record);
    else await this.stored();
    return outcome;
  }

  /** A strategy's position as its trading service holds it. */
  async position(report: PositionRequest): Promise<OrderEventReply> {
    this.ensureFresh();
    this.ensureRoom();
    const strategy = await this.strategies.get(report.strategy);
    if (strategy === undefined) {
      throw new NotFoundError(`strategy ${report.strategy} is not registered`, {
        field: "body.strategy",
      });
    }
    const record = { t: RecordKinds.Position, ...report, family: strategy.family, at: Date.now() } as const;
    const outcome = this.book.apply(record) as OrderEventReply;
    await this.pipeline.submit(record);
    this.watchDrawdown();
    return outcome;
  }

  /** Reservations whose time ran out are released (and logged, so every guard agrees). */
  private expire(): void {
    if (this.stopped || !this.lease.fresh() || this.pipeline.full) return;
    const at = Date.now();
    for (const orderId of this.book.expired(at, EXPIRE_BATCH)) {
      const record = { t: RecordKinds.Expire, orderId, at } as const;
      this.book.apply(record);
      this.pipeline.submit(record).catch(() => undefined);
    }
  }

  /** Moves trading to REDUCING or HALTED when the portfolio's drawdown crossed a configured level. */
  private watchDrawdown(): void {
    const levels = this.book.limits.drawdown;
    if (levels === undefined) return;
    const drawdown = this.book.peakEquity - this.book.equity;
    const level =
      levels.halt !== undefined && drawdown >= levels.halt
        ? "halt"
        : levels.reduce !== undefined && drawdown >= levels.reduce
          ? "reduce"
          : undefined;
    if (level === undefined) return;
    const reason = `portfolio drawdown ${drawdown.toFixed(2)} reached the ${level} level ${level === "halt" ? levels.halt : levels.reduce}`;
    const event: TradingEvent = { type: TradingEvents.Drawdown, level, by: GUARD_ACTOR, reason, at: Date.now() };
    if (nextTradingStatus(this.book.status, event) === this.book.status) return;
    this.logger.warn({ drawdown, level }, reason);
    void this.changeState(event).catch((err: unknown) =>
      this.logger.error({ err }, "could not record the drawdown's trading-state change"),
    );
  }

  /** An operator's halt, reduce or resume. */
  async command(op: string, command: TradingCommand): Promise<TradingCommandReply> {
    this.ensureFresh();
    const base = { by: command.by, at: Date.now() };
    let event: TradingEvent;
    switch (op) {
      case RiskControlOps.Halt:
        event = { type: TradingEvents.Halt, reason: command.reason ?? "emergency halt", ...base };
        break;
      case RiskControlOps.Reduce:
        event = { type: TradingEvents.Reduce, reason: command.reason ?? "reduce only", ...base };
        break;
      default:
        event = {
          type: TradingEvents.Resume,
          reason: command.reason ?? "resumed",
          confirmations: this.config.resumeConfirmations,
          ...base,
        };
    }
    return this.changeState(event);
  }

  /** Applies a trading-state event, stores it, then broadcasts and waits for the followers. */
  private async changeState(event: TradingEvent): Promise<TradingCommandReply> {
    const before = this.book.status;
    const next = nextTradingStatus(before, event);
    if (next === before) {
      // Nothing to change (halting a halted platform, or the same operator asking for a resume
      // again): say where things stand, and make sure everyone knows.
      return {
        status: before,
        ...(await this.broadcast.publishAndWait(before, this.config.ackTimeoutMs)),
        awaitingConfirmation: event.type === TradingEvents.Resume && before.pendingResume != null,
      };
    }
    // In force for every check decided from now on, before the log even has it.
    await this.commit({ t: RecordKinds.Trading, event }, RiskLogKinds.State);
    const status = this.book.status;
    this.logger.warn(
      { state: status.state, by: status.by, reason: status.reason, version: status.version },
      `trading ${status.state}`,
    );
    const acks = await this.broadcast.publishAndWait(status, this.config.ackTimeoutMs);
    return {
      status,
      ...acks,
      awaitingConfirmation: event.type === TradingEvents.Resume && status.state !== TradingStates.Active,
    };
  }

  /** An operator's new limits. */
  async setLimits(request: SetLimitsRequest, cid: string | undefined): Promise<LimitsReply> {
    this.ensureFresh();
    if (cid !== undefined) {
      const first = this.limitsReplies.get(cid);
      if (first !== undefined) return first;
    }
    if (request.expectedVersion !== undefined && request.expectedVersion !== this.book.limitsVersion) {
      throw new ConflictError(
        ErrorCodes.Conflict,
        `the limits are at version ${this.book.limitsVersion}, not ${request.expectedVersion}`,
        { details: { expected: request.expectedVersion, actual: this.book.limitsVersion } },
      );
    }
    const record = {
      t: RecordKinds.Limits,
      version: this.book.limitsVersion + 1,
      limits: request.limits,
      by: request.by,
      note: request.note ?? null,
      at: Date.now(),
    } as const;
    await this.commit(record);
    this.logger.info({ version: record.version, by: record.by }, "limits changed");
    const reply = this.limitsReply(10);
    if (cid !== undefined) this.limitsReplies.set(cid, reply);
    return reply;
  }

  /** The limits in force and the latest changes. */
  limitsReply(audit: number): LimitsReply {
    return { version: this.book.limitsVersion, limits: this.book.limits, audit: this.book.audit.slice(0, audit) };
  }

  /** The trading state (as stored); a follower asking names itself and is expected to acknowledge from now on. */
  async state(follower?: { member: string; kind: string }): Promise<TradingStatus> {
    this.ensureFresh();
    if (follower !== undefined) this.broadcast.hello(follower.member, follower.kind);
    await this.stored();
    return this.book.status;
  }

  /** Stores the correlation clusters the exposure limits use from now on. */
  async recordClusters(clusters: Record<string, string>, rho: number): Promise<void> {
    if (this.stopped) return;
    await this.commit({ t: RecordKinds.Clusters, clusters, rho, at: Date.now() });
  }
}
