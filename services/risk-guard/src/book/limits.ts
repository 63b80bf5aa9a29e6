/**
 * Which limits apply to an order and how much room each leaves. Pure: the book
 * hands in its totals, this answers the headroom list in a fixed order, the
 * first limit it breaks being the one that denies the order.
 */
import {
  DEFAULT_LIMIT_KEY,
  type Headroom,
  type LimitKind,
  LimitKinds,
  type LimitScope,
  LimitScopes,
  type RiskLimits,
  type ScopeLimit,
  type StrategyLimit,
} from "@stratreg/protocol";

/** Exposure of one scope: positions' notional and the open orders' reservations. */
export interface ScopeTotals {
  /** Σ |position notional|. */
  gross: number;
  /** Σ position notional, signed (long > 0). */
  net: number;
  /** Notional of open buy orders that would add exposure. */
  buyReserved: number;
  /** Notional of open sell orders that would add exposure. */
  sellReserved: number;
}

export const emptyTotals = (): ScopeTotals => ({ gross: 0, net: 0, buyReserved: 0, sellReserved: 0 });

/** Gross exposure if every open order filled. */
export const worstGross = (t: ScopeTotals): number => t.gross + t.buyReserved + t.sellReserved;

/** |net| if every open order on the worse side filled. */
export const worstNet = (t: ScopeTotals): number =>
  Math.max(Math.abs(t.net + t.buyReserved), Math.abs(t.net - t.sellReserved));

/** A scope an order counts in, with its totals. */
export interface OrderScope {
  scope: LimitScope;
  key: string;
  totals: ScopeTotals;
}

/** The order being decided, as limits see it. */
export interface LimitedOrder {
  strategy: string;
  side: "buy" | "sell";
  notional: number;
  /** A position-reducing order is held to the order size, the strategy's rate and open orders only. */
  reduces: boolean;
  /** Allowed orders of the strategy in the last second. */
  recentOrders: number;
  openOrders: number;
}

/** Absolute slack for rounding: an order that fills a limit exactly must pass. */
const EPSILON = 1e-9;

/** The limit of `key` in a scope's table, or its default entry. */
function entryOf<T>(table: Record<string, T> | undefined, key: string): T | undefined {
  if (table === undefined) return undefined;
  return Object.hasOwn(table, key) ? table[key] : table[DEFAULT_LIMIT_KEY];
}

/** The gross and net limits of a scope. */
export function scopeLimit(limits: RiskLimits, scope: LimitScope, key: string): ScopeLimit | undefined {
  switch (scope) {
    case LimitScopes.Total:
      return limits.total;
    case LimitScopes.Symbol:
      return entryOf(limits.symbols, key);
    case LimitScopes.Venue:
      return entryOf(limits.venues, key);
    case LimitScopes.Strategy:
      return entryOf(limits.strategies, key);
    case LimitScopes.Family:
      return entryOf(limits.families, key);
    case LimitScopes.Cluster:
      return limits.cluster;
  }
}

function strategyLimit(limits: RiskLimits, strategy: string): StrategyLimit | undefined {
  return entryOf(limits.strategies, strategy);
}

function room(kind: LimitKind, scope: LimitScope, key: string, max: number, used: number, after: number): Headroom {
  return { kind, scope, key, max, used, left: max - after };
}

/**
 * Every limit that applies to `order`, in a fixed order (order notional, order
 * rate, open orders, then gross and net of each scope from the total inwards),
 * with the room each leaves after the order; and the first one it breaks.
 */
export function headroomOf(
  limits: RiskLimits,
  order: LimitedOrder,
  scopes: readonly OrderScope[],
): { headroom: Headroom[]; broken: Headroom | null } {
  const headroom: Headroom[] = [];
  const own = strategyLimit(limits, order.strategy);
  const orderNotional = own?.orderNotional ?? limits.orderNotional;
  // A fat-finger bound: it holds for reducing orders too.
  if (orderNotional !== undefined) {
    headroom.push(
      room(LimitKinds.OrderNotional, LimitScopes.Strategy, order.strategy, orderNotional, 0, order.notional),
    );
  }
  if (own?.orderRate !== undefined) {
    headroom.push(
      room(
        LimitKinds.OrderRate,
        LimitScopes.Strategy,
        order.strategy,
        own.orderRate,
        order.recentOrders,
        order.recentOrders + 1,
      ),
    );
  }
  if (own?.openOrders !== undefined) {
    headroom.push(
      room(
        LimitKinds.OpenOrders,
        LimitScopes.Strategy,
        order.strategy,
        own.openOrders,
        order.openOrders,
        order.openOrders + 1,
      ),
    );
  }
  if (!order.reduces) {
    for (const { scope, key, totals } of scopes) {
      const limit = scopeLimit(limits, scope, key);
      if (limit === undefined) continue;
      if (limit.gross !== undefined) {
        const used = worstGross(totals);
        headroom.push(room(LimitKinds.Gross, scope, key, limit.gross, used, used + order.notional));
      }
      if (limit.net !== undefined) {
        const after =
          order.side === "buy"
            ? Math.max(
                Math.abs(totals.net + totals.buyReserved + order.notional),
                Math.abs(totals.net - totals.sellReserved),
              )
            : Math.max(
                Math.abs(totals.net + totals.buyReserved),
                Math.abs(totals.net - totals.sellReserved - order.notional),
              );
        headroom.push(room(LimitKinds.Net, scope, key, limit.net, worstNet(totals), after));
      }
    }
  }
  // Over a limit and making it worse: an order that leaves an already exceeded worst case no worse
  // (a sell against a net long that a lowered limit left too high) is let through.
  const broken =
    headroom.find((h) => h.left < -EPSILON * Math.max(1, h.max) && h.max - h.left > h.used + EPSILON) ?? null;
  return { headroom, broken };
}
