/**
 * The `exposure` report: every scope's exposure against its limits, largest
 * use first, with the portfolio's P&L and drawdown and the latest VaR and ES.
 */
import { type ExposureQuery, type ExposureReply, LimitScopes, type ScopeExposure } from "@stratreg/protocol";
import type { RiskBook } from "./book/book.js";
import { scopeLimit, worstGross, worstNet } from "./book/limits.js";

/** How much of its tightest limit a scope uses (0 without limits). */
function use(scope: ScopeExposure): number {
  const gross = scope.grossLimit === null ? 0 : scope.gross / Math.max(scope.grossLimit, 1e-12);
  const net = scope.netLimit === null ? 0 : Math.abs(scope.net) / Math.max(scope.netLimit, 1e-12);
  return Math.max(gross, net);
}

export function exposureReply(book: RiskBook, risk: ExposureReply["risk"], query: ExposureQuery): ExposureReply {
  const scopes: ScopeExposure[] = [];
  for (const { scope, key, totals } of book.allTotals()) {
    if (query.strategy !== undefined && !(scope === LimitScopes.Strategy && key === query.strategy)) continue;
    const limit = scopeLimit(book.limits, scope, key);
    const gross = worstGross(totals);
    if (gross === 0 && totals.net === 0 && limit === undefined) continue;
    scopes.push({
      scope,
      key,
      gross,
      net: worstNet(totals) * Math.sign(totals.net || 1),
      reserved: totals.buyReserved + totals.sellReserved,
      grossLimit: limit?.gross ?? null,
      netLimit: limit?.net ?? null,
    });
  }
  scopes.sort(
    (a, b) => use(b) - use(a) || b.gross - a.gross || a.scope.localeCompare(b.scope) || a.key.localeCompare(b.key),
  );
  return {
    status: book.status,
    limitsVersion: book.limitsVersion,
    scopes,
    openOrders: book.openOrders,
    pnl: {
      equity: book.equity,
      peak: book.peakEquity,
      drawdown: book.peakEquity - book.equity,
    },
    risk,
  };
}
