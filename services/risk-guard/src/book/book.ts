/**
 * The risk guard's state: positions, open orders and their reservations,
 * exposure totals per scope, limits, the trading state, correlation clusters,
 * and the portfolio's equity. Pure and synchronous: `decide` reads it, `apply`
 * changes it, one record at a time, the same way on the leader (right after it
 * decides) and on a standby (following the log).
 *
 * Exposure is notional: a position's quantity times the last price seen for
 * it (its last fill or position report), an open order's quantity times its
 * price. Totals are kept per scope and changed by the difference an event
 * makes, so a check costs O(scopes), not O(positions).
 */
import {
  allowsIncreasing,
  type CheckReply,
  type CheckRequest,
  DenyReasons,
  initialTradingStatus,
  type LimitScope,
  LimitScopes,
  type LimitsChange,
  nextTradingStatus,
  type OrderEventReply,
  type RiskLimits,
  TradingStates,
  type TradingStatus,
} from "@stratreg/protocol";
import BTreeModule from "sorted-btree";
import { emptyTotals, headroomOf, type OrderScope, type ScopeTotals } from "./limits.js";
import {
  type CancelRecord,
  type CheckRecord,
  type FillRecord,
  type PositionRecord,
  type RecordKind,
  RecordKinds,
  type RiskRecord,
} from "./records.js";

// sorted-btree is CommonJS: under Node its class is the module's `default` property.
const BTree =
  (BTreeModule as unknown as { default?: typeof BTreeModule.default }).default ??
  (BTreeModule as unknown as typeof BTreeModule.default);

/** Default life of an allowed order's reservation when the limits set none. */
export const DEFAULT_RESERVATION_TTL_MS = 60_000;
/** Window of the order-rate limit. */
const RATE_WINDOW_MS = 1000;
/** Limits changes the audit trail keeps in memory (the log keeps all). */
const AUDIT_KEPT = 100;

interface Position {
  strategy: string;
  family: string;
  venue: string;
  symbol: string;
  quantity: number;
  notional: number;
  /** Open reduce orders' remaining quantity, by side. */
  reducingBuy: number;
  reducingSell: number;
  /**
   * Notional reserved in the scopes for reducing orders the position can no longer absorb
   * (see {@link RiskBook.reserveExcess}); absent in states written before it was kept.
   */
  excessBuy?: number;
  excessSell?: number;
}

interface Order {
  decision: CheckRecord;
  /** Quantity neither filled nor cancelled (0 once closed). */
  remaining: number;
  open: boolean;
  fills: Set<string>;
}

/** How long closed orders are remembered for de-duplicating their checks. */
export interface Retention {
  closedMs: number;
  closedMax: number;
}

const positionKey = (strategy: string, venue: string, symbol: string) => `${strategy}\u0000${venue}\u0000${symbol}`;
const scopeKey = (scope: LimitScope, key: string) => `${scope}\u0000${key}`;

/** The whole book as plain data (msgpack-able): what a snapshot stores. */
export interface BookState {
  v: 1;
  status: TradingStatus;
  limits: RiskLimits;
  limitsVersion: number;
  audit: LimitsChange[];
  epoch: number;
  clusterRho: number;
  cash: number;
  peakEquity: number;
  notionalSum: number;
  positions: Position[];
  totals: Array<[string, ScopeTotals]>;
  orders: Array<{ decision: CheckRecord; remaining: number; open: boolean; fills: string[] }>;
  openByStrategy: Array<[string, number]>;
  recent: Array<[string, number[]]>;
  closed: Array<{ orderId: string; at: number }>;
  clusters: Array<[string, string]>;
  applied: Partial<Record<RecordKind, number>>;
}

/** The book's answer to an order event: what changed and what the reply says. */
export type EventOutcome = OrderEventReply;

export class RiskBook {
  status: TradingStatus = initialTradingStatus();
  limits: RiskLimits = {};
  limitsVersion = 0;
  readonly audit: LimitsChange[] = [];
  /** Epoch of the last leader whose entries were applied. */
  epoch = 0;
  clusterRho = 0;
  cash = 0;
  peakEquity = 0;
  private notionalSum = 0;
  private readonly positions = new Map<string, Position>();
  private readonly totals = new Map<string, ScopeTotals>();
  private readonly orders = new Map<string, Order>();
  /** Open reducing orders per position. */
  private readonly reducing = new Map<string, Set<Order>>();
  private readonly openByStrategy = new Map<string, number>();
  private readonly recent = new Map<string, number[]>();
  private readonly closed: Array<{ orderId: string; at: number }> = [];
  private closedHead = 0;
  private readonly expiries = new BTree<string, number>(undefined, (a: string, b: string) =>
    a < b ? -1 : a > b ? 1 : 0,
  );
  private clusters = new Map<string, string>();
  /** Records applied, by kind. */
  readonly applied: Partial<Record<RecordKind, number>> = {};

  constructor(private readonly retention: Retention = { closedMs: 86_400_000, closedMax: 1_000_000 }) {}

  /** The whole book as plain data; {@link RiskBook.fromState} gives the same book back. */
  toState(): BookState {
    return {
      v: 1,
      status: this.status,
      limits: this.limits,
      limitsVersion: this.limitsVersion,
      audit: this.audit,
      epoch: this.epoch,
      clusterRho: this.clusterRho,
      cash: this.cash,
      peakEquity: this.peakEquity,
      notionalSum: this.notionalSum,
      positions: [...this.positions.values()],
      totals: [...this.totals],
      orders: [...this.orders.values()].map((o) => ({
        decision: o.decision,
        remaining: o.remaining,
        open: o.open,
        fills: [...o.fills],
      })),
      openByStrategy: [...this.openByStrategy],
      recent: [...this.recent],
      closed: this.closed.slice(this.closedHead),
      clusters: [...this.clusters],
      applied: this.applied,
    };
  }

  /** The book `state` describes (from {@link RiskBook.toState}, possibly through msgpack). */
  static fromState(state: BookState, retention?: Retention): RiskBook {
    if (state.v !== 1)
      throw new TypeError(`a risk book state of version ${String(state.v)} is not one this guard reads`);
    const book = new RiskBook(retention);
    book.status = state.status;
    book.limits = state.limits;
    book.limitsVersion = state.limitsVersion;
    book.audit.push(...state.audit);
    book.epoch = state.epoch;
    book.clusterRho = state.clusterRho;
    book.cash = state.cash;
    book.peakEquity = state.peakEquity;
    book.notionalSum = state.notionalSum;
    for (const p of state.positions) book.positions.set(positionKey(p.strategy, p.venue, p.symbol), { ...p });
    for (const [key, totals] of state.totals) book.totals.set(key, { ...totals });
    for (const o of state.orders) {
      const order: Order = { decision: o.decision, remaining: o.remaining, open: o.open, fills: new Set(o.fills) };
      book.orders.set(o.decision.orderId, order);
      if (o.open && o.decision.reduces) book.reducingOf(o.decision).add(order);
      if (o.open && o.decision.expiresAt !== null) {
        book.expiries.set(`${o.decision.expiresAt}\u0000${o.decision.orderId}`, o.decision.expiresAt);
      }
    }
    for (const [strategy, n] of state.openByStrategy) book.openByStrategy.set(strategy, n);
    for (const [strategy, times] of state.recent) book.recent.set(strategy, [...times]);
    book.closed.push(...state.closed);
    book.clusters = new Map(state.clusters);
    Object.assign(book.applied, state.applied);
    return book;
  }

  get equity(): number {
    return this.cash + this.notionalSum;
  }

  get openOrders(): number {
    let n = 0;
    for (const count of this.openByStrategy.values()) n += count;
    return n;
  }

  /** The reservation life in force. */
  get reservationTtlMs(): number {
    return this.limits.reservationTtlMs ?? DEFAULT_RESERVATION_TTL_MS;
  }

  /** The first decision on `orderId`, if it is remembered. */
  decisionOf(orderId: string): CheckRecord | undefined {
    return this.orders.get(orderId)?.decision;
  }

  /**
   * The scopes an order or position of `strategy` in `symbol` at `venue` counts in, from the
   * total inwards. Reading (`create` false) adds nothing to the book, so a denied order leaves
   * no trace a replay would not leave too.
   */
  scopesOf(strategy: string, family: string, venue: string, symbol: string, create = true): OrderScope[] {
    const scopes: Array<[LimitScope, string]> = [
      [LimitScopes.Total, ""],
      [LimitScopes.Symbol, symbol],
      [LimitScopes.Venue, venue],
      [LimitScopes.Strategy, strategy],
    ];
    if (family !== "") scopes.push([LimitScopes.Family, family]);
    const cluster = this.clusters.get(strategy);
    if (cluster !== undefined) scopes.push([LimitScopes.Cluster, cluster]);
    return scopes.map(([scope, key]) => ({ scope, key, totals: this.totalsOf(scope, key, create) }));
  }

  private totalsOf(scope: LimitScope, key: string, create = true): ScopeTotals {
    const k = scopeKey(scope, key);
    let totals = this.totals.get(k);
    if (totals === undefined) {
      totals = emptyTotals();
      if (create) this.totals.set(k, totals);
    }
    return totals;
  }

  /** The totals of one scope, if anything ever counted in it. */
  scopeTotals(scope: LimitScope, key: string): Readonly<ScopeTotals> | undefined {
    return this.totals.get(scopeKey(scope, key));
  }

  /** Open orders of `strategy`. */
  openOrdersOf(strategy: string): number {
    return this.openByStrategy.get(strategy) ?? 0;
  }

  /** Every scope's totals, for reports. */
  *allTotals(): IterableIterator<{ scope: LimitScope; key: string; totals: ScopeTotals }> {
    for (const [k, totals] of this.totals) {
      const at = k.indexOf("\u0000");
      yield { scope: k.slice(0, at) as LimitScope, key: k.slice(at + 1), totals };
    }
  }

  /** Strategy → cluster key, as last recorded. */
  clusterMap(): ReadonlyMap<string, string> {
    return this.clusters;
  }

  /** Allowed orders of `strategy` in the rate window ending at `at`. */
  private recentOrders(strategy: string, at: number): number {
    const times = this.recent.get(strategy);
    if (times === undefined) return 0;
    let drop = 0;
    while (drop < times.length && (times[drop] as number) <= at - RATE_WINDOW_MS) drop++;
    if (drop > 0) times.splice(0, drop);
    return times.length;
  }

  /**
   * Decides a check (changes nothing: `apply` the record to make it so). `family`
   * is the strategy's family as the registry says ("" for none).
   */
  decide(check: CheckRequest, family: string, at: number): CheckRecord {
    const reduceOnly = check.reduceOnly === true;
    const position = this.positions.get(positionKey(check.strategy, check.venue, check.symbol));
    const reduces = this.wouldReduce(position, check.side, check.quantity);
    const record: CheckRecord = {
      t: RecordKinds.Check,
      orderId: check.orderId,
      strategy: check.strategy,
      family,
      venue: check.venue,
      symbol: check.symbol,
      side: check.side,
      quantity: check.quantity,
      price: check.price,
      reduceOnly,
      reduces,
      allowed: false,
      reason: null,
      limit: null,
      headroom: [],
      state: this.status.state,
      at,
      expiresAt: null,
    };
    if (this.status.state === TradingStates.Halted) return { ...record, reason: DenyReasons.Halted };
    if (reduceOnly && !reduces) return { ...record, reason: DenyReasons.ReduceOnlyWouldIncrease };
    if (!reduces && !allowsIncreasing(this.status.state)) return { ...record, reason: DenyReasons.Reducing };
    const { headroom, broken } = headroomOf(
      this.limits,
      {
        strategy: check.strategy,
        side: check.side,
        notional: check.quantity * check.price,
        reduces,
        recentOrders: this.recentOrders(check.strategy, at),
        openOrders: this.openByStrategy.get(check.strategy) ?? 0,
      },
      reduces ? [] : this.scopesOf(check.strategy, family, check.venue, check.symbol, false),
    );
    if (broken !== null) return { ...record, reason: DenyReasons.Limit, limit: broken, headroom };
    return { ...record, allowed: true, headroom, expiresAt: at + this.reservationTtlMs };
  }

  /** Whether an order would only reduce the position, counting the reducing orders already open. */
  private wouldReduce(position: Position | undefined, side: "buy" | "sell", quantity: number): boolean {
    if (position === undefined) return false;
    if (side === "sell") return position.quantity > 0 && quantity <= position.quantity - position.reducingSell;
    return position.quantity < 0 && quantity <= -position.quantity - position.reducingBuy;
  }

  /** The reply to a check, from its decision. */
  static replyOf(decision: CheckRecord, duplicate: boolean): CheckReply {
    return {
      orderId: decision.orderId,
      allowed: decision.allowed,
      reason: decision.reason,
      limit: decision.limit,
      headroom: decision.headroom,
      state: decision.state,
      decidedAt: decision.at,
      expiresAt: decision.expiresAt,
      duplicate,
    };
  }

  /** Open orders whose reservation ran out by `now`, earliest first. */
  expired(now: number, max: number): string[] {
    const out: string[] = [];
    for (const [key, expiresAt] of this.expiries.entries()) {
      if (expiresAt > now || out.length >= max) break;
      out.push(key.slice(key.indexOf("\u0000") + 1));
    }
    return out;
  }

  /** Changes the book by one record. Returns what an order event's reply says (undefined for others). */
  apply(record: RiskRecord): EventOutcome | undefined {
    this.applied[record.t] = (this.applied[record.t] ?? 0) + 1;
    switch (record.t) {
      case RecordKinds.Epoch:
        this.epoch = Math.max(this.epoch, record.epoch);
        return undefined;
      case RecordKinds.Check:
        this.applyCheck(record);
        return undefined;
      case RecordKinds.Fill:
        return this.applyFill(record);
      case RecordKinds.Cancel:
      case RecordKinds.Expire:
        return this.applyCancel(record);
      case RecordKinds.Position:
        return this.applyPosition(record);
      case RecordKinds.Limits:
        this.audit.unshift({
          version: record.version,
          by: record.by,
          at: record.at,
          note: record.note,
          previous: this.limits,
          limits: record.limits,
        });
        if (this.audit.length > AUDIT_KEPT) this.audit.pop();
        this.limits = record.limits;
        this.limitsVersion = record.version;
        return undefined;
      case RecordKinds.Trading:
        this.status = nextTradingStatus(this.status, record.event);
        return undefined;
      case RecordKinds.Clusters:
        this.regroup(new Map(Object.entries(record.clusters)), record.rho);
        return undefined;
    }
  }

  private applyCheck(decision: CheckRecord): void {
    this.orders.set(decision.orderId, { decision, remaining: 0, open: false, fills: new Set() });
    if (!decision.allowed) {
      this.remember(decision.orderId, decision.at);
      return;
    }
    const order = this.orders.get(decision.orderId) as Order;
    order.remaining = decision.quantity;
    order.open = true;
    if (decision.reduces) this.reducingOf(decision).add(order);
    this.openByStrategy.set(decision.strategy, (this.openByStrategy.get(decision.strategy) ?? 0) + 1);
    const times = this.recent.get(decision.strategy);
    if (times === undefined) this.recent.set(decision.strategy, [decision.at]);
    else {
      times.push(decision.at);
      // A standby never decides: applying is where its windows are kept short.
      this.recentOrders(decision.strategy, decision.at);
    }
    if (decision.expiresAt !== null)
      this.expiries.set(`${decision.expiresAt}\u0000${decision.orderId}`, decision.expiresAt);
    this.reserve(decision, decision.quantity);
  }

  /** The open reducing orders of the position `decision` is about. */
  private reducingOf(decision: CheckRecord): Set<Order> {
    const key = positionKey(decision.strategy, decision.venue, decision.symbol);
    let orders = this.reducing.get(key);
    if (orders === undefined) {
      orders = new Set();
      this.reducing.set(key, orders);
    }
    return orders;
  }

  /**
   * Reducing orders are left out of the scopes' reservations only while the position can
   * absorb them: a long of 10 with a reducing sell of 10 open, then another sell of 30
   * filled, leaves a short of 20 that the first sell would take to 30. Whatever reducing
   * quantity a side has open beyond what the position holds on the other side is reserved
   * in every scope, at the highest price among those orders, like an increasing order's
   * notional, so worst-case gross keeps bounding what open orders can add. Called after
   * anything that moves a position or its reducing orders; the same records give the same
   * reservations on every replica.
   */
  private reserveExcess(position: Position): void {
    const orders = this.reducing.get(positionKey(position.strategy, position.venue, position.symbol));
    let buyPrice = 0;
    let sellPrice = 0;
    if (orders !== undefined) {
      for (const { decision } of orders) {
        if (decision.side === "buy") buyPrice = Math.max(buyPrice, decision.price);
        else sellPrice = Math.max(sellPrice, decision.price);
      }
    }
    const excessBuy = Math.max(0, position.reducingBuy - Math.max(0, -position.quantity)) * buyPrice;
    const excessSell = Math.max(0, position.reducingSell - Math.max(0, position.quantity)) * sellPrice;
    const dBuy = excessBuy - (position.excessBuy ?? 0);
    const dSell = excessSell - (position.excessSell ?? 0);
    if (dBuy === 0 && dSell === 0) return;
    position.excessBuy = excessBuy;
    position.excessSell = excessSell;
    for (const { totals } of this.scopesOf(position.strategy, position.family, position.venue, position.symbol)) {
      totals.buyReserved = clampZero(totals.buyReserved + dBuy);
      totals.sellReserved = clampZero(totals.sellReserved + dSell);
    }
  }

  /** Adds `quantity` of the order to its reservation (negative: releases it). */
  private reserve(decision: CheckRecord, quantity: number): void {
    if (decision.reduces) {
      const position = this.positionOf(decision.strategy, decision.family, decision.venue, decision.symbol);
      if (decision.side === "buy") position.reducingBuy = Math.max(0, position.reducingBuy + quantity);
      else position.reducingSell = Math.max(0, position.reducingSell + quantity);
      return;
    }
    const notional = quantity * decision.price;
    for (const { totals } of this.scopesOf(decision.strategy, decision.family, decision.venue, decision.symbol)) {
      if (decision.side === "buy") totals.buyReserved = clampZero(totals.buyReserved + notional);
      else totals.sellReserved = clampZero(totals.sellReserved + notional);
    }
  }

  private positionOf(strategy: string, family: string, venue: string, symbol: string): Position {
    const key = positionKey(strategy, venue, symbol);
    let position = this.positions.get(key);
    if (position === undefined) {
      position = { strategy, family, venue, symbol, quantity: 0, notional: 0, reducingBuy: 0, reducingSell: 0 };
      this.positions.set(key, position);
    }
    return position;
  }

  /** Sets a position's quantity and mark, moving every scope's totals and the equity by the difference. */
  private move(position: Position, quantity: number, price: number, cashFlow: number): void {
    const notional = quantity * price;
    const dGross = Math.abs(notional) - Math.abs(position.notional);
    const dNet = notional - position.notional;
    for (const { totals } of this.scopesOf(position.strategy, position.family, position.venue, position.symbol)) {
      totals.gross = clampZero(totals.gross + dGross);
      totals.net += dNet;
    }
    this.notionalSum += dNet;
    this.cash += cashFlow;
    position.quantity = quantity;
    position.notional = notional;
    this.peakEquity = Math.max(this.peakEquity, this.equity);
  }

  private applyFill(fill: FillRecord): EventOutcome {
    const order = this.orders.get(fill.orderId);
    if (order === undefined) return { applied: false, openQuantity: 0, position: 0 };
    const d = order.decision;
    const position = this.positionOf(d.strategy, d.family, d.venue, d.symbol);
    if (order.fills.has(fill.fillId)) {
      return { applied: false, openQuantity: order.remaining, position: position.quantity };
    }
    order.fills.add(fill.fillId);
    const signed = d.side === "buy" ? fill.quantity : -fill.quantity;
    if (order.open) {
      const released = Math.min(order.remaining, fill.quantity);
      this.reserve(d, -released);
      order.remaining -= released;
    }
    this.move(position, position.quantity + signed, fill.price, -signed * fill.price);
    if (order.open && order.remaining <= 0) this.close(order, fill.at);
    this.reserveExcess(position);
    return { applied: true, openQuantity: order.remaining, position: position.quantity };
  }

  private applyCancel(cancel: CancelRecord): EventOutcome {
    const order = this.orders.get(cancel.orderId);
    if (order === undefined) return { applied: false, openQuantity: 0, position: 0 };
    const d = order.decision;
    const position = this.positions.get(positionKey(d.strategy, d.venue, d.symbol));
    const quantity = position?.quantity ?? 0;
    if (!order.open) return { applied: false, openQuantity: 0, position: quantity };
    this.reserve(d, -order.remaining);
    order.remaining = 0;
    this.close(order, cancel.at);
    if (position !== undefined) this.reserveExcess(position);
    return { applied: true, openQuantity: 0, position: quantity };
  }

  private applyPosition(report: PositionRecord): EventOutcome {
    const position = this.positionOf(report.strategy, report.family, report.venue, report.symbol);
    // Re-based at the report's price: equity moves only by the mark of what was held.
    this.move(position, report.quantity, report.price, -(report.quantity - position.quantity) * report.price);
    this.reserveExcess(position);
    return { applied: true, openQuantity: 0, position: position.quantity };
  }

  private close(order: Order, at: number): void {
    const d = order.decision;
    order.open = false;
    order.remaining = 0;
    if (d.reduces) {
      const key = positionKey(d.strategy, d.venue, d.symbol);
      const orders = this.reducing.get(key);
      orders?.delete(order);
      if (orders?.size === 0) this.reducing.delete(key);
    }
    const open = (this.openByStrategy.get(d.strategy) ?? 1) - 1;
    if (open > 0) this.openByStrategy.set(d.strategy, open);
    else this.openByStrategy.delete(d.strategy);
    if (d.expiresAt !== null) this.expiries.delete(`${d.expiresAt}\u0000${d.orderId}`);
    this.remember(d.orderId, at);
  }

  /** Remembers a closed order for de-duplication, forgetting the oldest past the retention. */
  private remember(orderId: string, at: number): void {
    this.closed.push({ orderId, at });
    while (this.closedHead < this.closed.length) {
      const oldest = this.closed[this.closedHead] as { orderId: string; at: number };
      const live = this.closed.length - this.closedHead;
      if (live <= this.retention.closedMax && oldest.at > at - this.retention.closedMs) break;
      const order = this.orders.get(oldest.orderId);
      if (order !== undefined && !order.open) this.orders.delete(oldest.orderId);
      this.closedHead++;
    }
    if (this.closedHead > 4096 && this.closedHead * 2 > this.closed.length) {
      this.closed.splice(0, this.closedHead);
      this.closedHead = 0;
    }
  }

  /** Moves every strategy to its new cluster and rebuilds the clusters' totals from the strategies'. */
  private regroup(clusters: Map<string, string>, rho: number): void {
    for (const [k] of this.totals) if (k.startsWith(`${LimitScopes.Cluster}\u0000`)) this.totals.delete(k);
    this.clusters = clusters;
    this.clusterRho = rho;
    for (const [strategy, cluster] of clusters) {
      const own = this.totals.get(scopeKey(LimitScopes.Strategy, strategy));
      if (own === undefined) continue;
      const totals = this.totalsOf(LimitScopes.Cluster, cluster);
      totals.gross += own.gross;
      totals.net += own.net;
      totals.buyReserved += own.buyReserved;
      totals.sellReserved += own.sellReserved;
    }
  }
}

/** Rounding must not leave a total a hair below zero. */
function clampZero(x: number): number {
  return x < 1e-9 ? Math.max(0, x) : x;
}
