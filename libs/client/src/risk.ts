/**
 * The risk guard from the SDK: pre-trade checks and order events for trading
 * services, reports for anyone, and the operators' controls. Every call is
 * retried with the same payload until its deadline (a check by its order id, a
 * fill by its fill id, a limits change by its command id), so a takeover
 * between two guards costs a wait, never a second decision.
 */
import { performance } from "node:perf_hooks";
import { type NatsConnection, nuid } from "@nats-io/transport-node";
import {
  type CancelRequest,
  type CheckReply,
  type CheckRequest,
  type ClusterSubjects,
  type CorrelationReply,
  clusterSubjects,
  DEADLINE_MS_MAX,
  DEFAULT_CLUSTER,
  type ExposureQuery,
  type ExposureReply,
  encode,
  type FillRequest,
  type LimitsReply,
  type OrderEventReply,
  type PositionRequest,
  PROTOCOL_VERSION,
  type RiskControlOp,
  RiskControlOps,
  type RiskOp,
  RiskOps,
  type SetLimitsRequest,
  type TradingCommand,
  type TradingCommandReply,
  type TradingStatus,
} from "@stratreg/protocol";
import { callWithRetry, DEFAULT_RETRY, type RetryPolicy } from "./call.js";

/** Options of a {@link RiskClient}. */
export interface RiskClientOptions {
  cluster?: string;
  /** Default deadline of a call, ms (5000). */
  timeoutMs?: number;
  retry?: Partial<RetryPolicy>;
}

/** The risk guard's operations; needs no registry config, only the cluster name. */
export class RiskClient {
  readonly subjects: ClusterSubjects;
  private readonly timeoutMs: number;
  private readonly retry: RetryPolicy;

  constructor(
    readonly nc: NatsConnection,
    options: RiskClientOptions = {},
  ) {
    this.subjects = clusterSubjects(options.cluster ?? DEFAULT_CLUSTER);
    this.timeoutMs = options.timeoutMs ?? 5000;
    // An attempt waits briefly: a check is answered in about a millisecond, and during a takeover
    // the next attempt should reach the new leader soon after it starts answering.
    this.retry = { ...DEFAULT_RETRY, attemptTimeoutMs: 1000, ...options.retry };
  }

  private call<B>(
    subject: string,
    body: unknown,
    timeoutMs = this.timeoutMs,
    cid?: string,
    retry: RetryPolicy = this.retry,
  ): Promise<B> {
    const envelope: Record<string, unknown> = { v: PROTOCOL_VERSION, body };
    if (cid !== undefined) envelope.cid = cid;
    return callWithRetry<B>(
      this.nc,
      subject,
      (attemptMs) => {
        envelope.deadlineMs = Math.min(Math.max(1, Math.ceil(attemptMs)), DEADLINE_MS_MAX);
        return encode(envelope);
      },
      performance.now() + timeoutMs,
      retry,
    );
  }

  private ask<B>(op: RiskOp, body: unknown, timeoutMs?: number): Promise<B> {
    return this.call<B>(this.subjects.risk(op), body, timeoutMs);
  }

  /**
   * An operator's command waits for every follower's acknowledgement (up to the guard's
   * STRATREG_RISK_ACK_TIMEOUT_MS, 1 s) before it answers: one attempt gets the whole deadline,
   * so a slow follower does not turn into resends. (A resend is harmless, only wasted: halting a
   * halted platform changes nothing, the same operator's resume counts once, and a limits change
   * carries its command id.)
   */
  private control<B>(op: RiskControlOp, body: unknown, timeoutMs = this.timeoutMs, cid?: string): Promise<B> {
    return this.call<B>(this.subjects.riskControl(op), body, timeoutMs, cid, {
      ...this.retry,
      attemptTimeoutMs: timeoutMs,
    });
  }

  /** Pre-trade check: allowed or denied with the reason and the headroom under every limit that applies. */
  check(order: CheckRequest, options: { timeoutMs?: number } = {}): Promise<CheckReply> {
    return this.ask(RiskOps.Check, order, options.timeoutMs);
  }

  /** Reports a fill (applied once per fill id). */
  fill(fill: FillRequest, options: { timeoutMs?: number } = {}): Promise<OrderEventReply> {
    return this.ask(RiskOps.Fill, fill, options.timeoutMs);
  }

  /** Reports a cancel: the order's reservation is released. */
  cancel(cancel: CancelRequest, options: { timeoutMs?: number } = {}): Promise<OrderEventReply> {
    return this.ask(RiskOps.Cancel, cancel, options.timeoutMs);
  }

  /** Reports a strategy's whole position in a symbol at a venue. */
  position(position: PositionRequest, options: { timeoutMs?: number } = {}): Promise<OrderEventReply> {
    return this.ask(RiskOps.Position, position, options.timeoutMs);
  }

  /** The trading state now. */
  state(options: { timeoutMs?: number } = {}): Promise<TradingStatus> {
    return this.ask(RiskOps.State, {}, options.timeoutMs);
  }

  /** Exposures against limits, P&L, drawdown, VaR and ES. */
  exposure(query: ExposureQuery = {}, options: { timeoutMs?: number } = {}): Promise<ExposureReply> {
    return this.ask(RiskOps.Exposure, query, options.timeoutMs);
  }

  /** The most correlated pairs and the clusters. */
  correlation(pairs = 20, options: { timeoutMs?: number } = {}): Promise<CorrelationReply> {
    return this.ask(RiskOps.Correlation, { pairs }, options.timeoutMs);
  }

  /** The limits in force and the latest changes. */
  limits(audit = 10, options: { timeoutMs?: number } = {}): Promise<LimitsReply> {
    return this.ask(RiskOps.Limits, { audit }, options.timeoutMs);
  }

  /** The active guard's status (or one guard's, by member id). */
  status(member?: string, options: { timeoutMs?: number } = {}): Promise<Record<string, unknown>> {
    const subject = member === undefined ? this.subjects.risk(RiskOps.Status) : this.subjects.riskGuardStatus(member);
    return this.call(subject, {}, options.timeoutMs);
  }

  /** Operators: emergency shutdown. Resolves once stored and acknowledged by the followers (or their wait ran out). */
  halt(command: TradingCommand, options: { timeoutMs?: number } = {}): Promise<TradingCommandReply> {
    return this.control(RiskControlOps.Halt, command, options.timeoutMs);
  }

  /** Operators: only position-reducing orders pass. */
  reduce(command: TradingCommand, options: { timeoutMs?: number } = {}): Promise<TradingCommandReply> {
    return this.control(RiskControlOps.Reduce, command, options.timeoutMs);
  }

  /** Operators: back to ACTIVE (a second operator may have to confirm: see `awaitingConfirmation`). */
  resume(command: TradingCommand, options: { timeoutMs?: number } = {}): Promise<TradingCommandReply> {
    return this.control(RiskControlOps.Resume, command, options.timeoutMs);
  }

  /** Operators: replace the limits (refused with CONFLICT when `expectedVersion` is not the current one). */
  setLimits(request: SetLimitsRequest, options: { timeoutMs?: number; cid?: string } = {}): Promise<LimitsReply> {
    return this.control(RiskControlOps.SetLimits, request, options.timeoutMs, options.cid ?? nuid.next());
  }
}
