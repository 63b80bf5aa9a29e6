/**
 * Correlation and aggregate risk, recomputed by the active guard every
 * `STRATREG_RISK_INTERVAL_MS`: the strategies with exposure, their reported
 * returns (from the registry's history), aligned on common period end times;
 * a correlation matrix shrunk towards the identity (Ledoit–Wolf) where history
 * is short; clusters of strategies correlated above the operators' ρ (which,
 * once changed, are logged so every guard applies the same cluster limits);
 * and the portfolio's P&L distribution with each strategy's exposure as its
 * weight: historical and parametric VaR and ES at 95 % and 99 %, and each
 * strategy's Euler contribution to the 99 % parametric VaR.
 */
import type { StratregClient } from "@stratreg/client";
import { type CorrelationReply, type ExposureReply, LimitScopes, PerformanceLimits } from "@stratreg/protocol";
import {
  correlationClusters,
  covarianceMatrix,
  historicalES,
  historicalVaR,
  mostCorrelatedPairs,
  portfolioPnl,
  portfolioRisk,
  shrunkCorrelation,
} from "@stratreg/quant";
import type { Logger } from "pino";
import type { RiskBook } from "./book/book.js";
import { worstGross } from "./book/limits.js";
import type { GuardConfig } from "./config.js";

/** ρ used to report clusters when the operators set no cluster limit. */
export const DEFAULT_CLUSTER_RHO = 0.7;
/** Fewest common periods for a correlation or a VaR. */
export const MIN_PERIODS = 20;
/** Most history requests in flight at once. */
const CONCURRENCY = 8;

/** Aligned returns of strategies over their common periods. */
export interface AlignedReturns {
  strategies: string[];
  /** series[i][t]: strategy i's return in common period t. */
  series: Float64Array[];
  times: number[];
}

/** One point of a strategy's history: its wealth at the start and end of the period ending at `t`. */
export interface WealthPoint {
  t: number;
  open: number;
  close: number;
}

/**
 * Aligns per-strategy return series (each point's close / open − 1: one period's return when the
 * history is not downsampled) on the period end times all of them have, keeping the last
 * `periods` of those. Strategies without points are left out.
 */
export function alignReturns(histories: Map<string, WealthPoint[]>, periods: number): AlignedReturns {
  const returns = new Map<string, Map<number, number>>();
  for (const [id, points] of histories) {
    if (points.length === 0) continue;
    const byTime = new Map<number, number>();
    for (const point of points) if (point.open > 0) byTime.set(point.t, point.close / point.open - 1);
    returns.set(id, byTime);
  }
  const strategies = [...returns.keys()].sort();
  if (strategies.length === 0) return { strategies, series: [], times: [] };
  const first = returns.get(strategies[0] as string) as Map<number, number>;
  let times = [...first.keys()].filter((t) => strategies.every((id) => returns.get(id)?.has(t)));
  times.sort((a, b) => a - b);
  times = times.slice(-periods);
  const series = strategies.map((id) => {
    const byTime = returns.get(id) as Map<number, number>;
    return Float64Array.from(times, (t) => byTime.get(t) as number);
  });
  return { strategies, series, times };
}

interface Computed {
  correlation: CorrelationReply;
  risk: ExposureReply["risk"];
  /** The matrix behind `correlation`, row-major. */
  matrix: Float64Array;
}

export class Analytics {
  private timer: NodeJS.Timeout | undefined;
  private running = false;
  private computed: Computed | undefined;
  /** Runs and failures, for status. */
  readonly runs = { done: 0, failed: 0 };

  constructor(
    private readonly client: StratregClient,
    private readonly book: () => RiskBook,
    private readonly config: Pick<GuardConfig, "riskIntervalMs" | "riskPeriods">,
    private readonly logger: Logger,
    private readonly recordClusters: (clusters: Record<string, string>, rho: number) => Promise<void>,
  ) {}

  start(): void {
    this.stop();
    this.timer = setInterval(() => void this.run(), this.config.riskIntervalMs);
    this.timer.unref();
    void this.run();
  }

  stop(): void {
    clearInterval(this.timer);
    this.timer = undefined;
  }

  /** The latest aggregate risk (null until computed with enough history). */
  get latest(): ExposureReply["risk"] {
    return this.computed?.risk ?? null;
  }

  /** Recomputes now (also what the timer calls); resolves when done. */
  async run(): Promise<void> {
    if (this.running) return;
    this.running = true;
    try {
      this.computed = await this.compute();
      await this.applyClusters();
      this.runs.done++;
    } catch (err) {
      this.runs.failed++;
      this.logger.warn({ err }, "correlation and VaR could not be computed");
    } finally {
      this.running = false;
    }
  }

  /** Strategies with exposure and their gross exposure. */
  private exposures(): Map<string, number> {
    const out = new Map<string, number>();
    for (const { scope, key, totals } of this.book().allTotals()) {
      if (scope === LimitScopes.Strategy && worstGross(totals) > 0) out.set(key, worstGross(totals));
    }
    return out;
  }

  private async histories(ids: string[]): Promise<Map<string, WealthPoint[]>> {
    const out = new Map<string, WealthPoint[]>();
    let next = 0;
    const worker = async () => {
      while (next < ids.length) {
        const id = ids[next++] as string;
        try {
          const reply = await this.client.history(
            { id, points: PerformanceLimits.historyPointsMax },
            { timeoutMs: 5000 },
          );
          out.set(id, reply.points);
        } catch (err) {
          this.logger.debug({ err, id }, "no history for a strategy with exposure");
        }
      }
    };
    await Promise.all(Array.from({ length: Math.min(CONCURRENCY, ids.length) }, worker));
    return out;
  }

  private async compute(): Promise<Computed> {
    const exposures = this.exposures();
    const aligned = alignReturns(await this.histories([...exposures.keys()]), this.config.riskPeriods);
    const rho = this.book().limits.cluster?.rho ?? DEFAULT_CLUSTER_RHO;
    const at = Date.now();
    const k = aligned.strategies.length;
    const periods = aligned.times.length;
    if (k === 0 || periods < MIN_PERIODS) {
      return {
        correlation: { strategies: aligned.strategies, periods, shrinkage: 1, rho, pairs: [], clusters: [], at },
        risk: null,
        matrix: new Float64Array(0),
      };
    }
    const { matrix, shrinkage } = shrunkCorrelation(aligned.series);
    const labels = correlationClusters(matrix, k, rho);
    const groups = new Map<number, string[]>();
    labels.forEach((label, i) => {
      const members = groups.get(label);
      if (members === undefined) groups.set(label, [aligned.strategies[i] as string]);
      else members.push(aligned.strategies[i] as string);
    });
    const book = this.book();
    const clusters = [...groups.values()]
      .filter((members) => members.length > 1)
      .map((members) => {
        let gross = 0;
        let net = 0;
        for (const member of members) {
          const totals = book.scopeTotals(LimitScopes.Strategy, member);
          gross += totals?.gross ?? 0;
          net += totals?.net ?? 0;
        }
        return { key: members[0] as string, members, gross, net };
      });
    const pairs = mostCorrelatedPairs(matrix, k, 1000).map(({ i, j, rho: r }) => ({
      a: aligned.strategies[i] as string,
      b: aligned.strategies[j] as string,
      rho: r,
    }));
    const weights = Float64Array.from(aligned.strategies, (id) => exposures.get(id) ?? 0);
    const pnl = portfolioPnl(weights, aligned.series);
    const covariance = covarianceMatrix(aligned.series);
    const means = Float64Array.from(aligned.series, (s) => s.reduce((a, b) => a + b, 0) / s.length);
    const p95 = portfolioRisk(weights, covariance, means, 0.95);
    const p99 = portfolioRisk(weights, covariance, means, 0.99);
    return {
      matrix,
      correlation: { strategies: aligned.strategies, periods, shrinkage, rho, pairs, clusters, at },
      risk: {
        historical: {
          var95: historicalVaR(pnl, 0.95),
          var99: historicalVaR(pnl, 0.99),
          es95: historicalES(pnl, 0.95),
          es99: historicalES(pnl, 0.99),
        },
        parametric: { var95: p95.var, var99: p99.var, es95: p95.es, es99: p99.es },
        periods,
        contributions: aligned.strategies.map((strategy, i) => ({
          strategy,
          exposure: weights[i] as number,
          component: p99.component[i] as number,
          marginal: p99.marginal[i] as number,
        })),
        at,
      },
    };
  }

  /** Logs the clusters when a cluster limit is set and they changed, so every guard enforces the same ones. */
  private async applyClusters(): Promise<void> {
    const book = this.book();
    if (book.limits.cluster === undefined || this.computed === undefined) return;
    const wanted: Record<string, string> = {};
    for (const cluster of this.computed.correlation.clusters)
      for (const member of cluster.members) wanted[member] = cluster.key;
    const current = book.clusterMap();
    const same =
      book.clusterRho === book.limits.cluster.rho &&
      current.size === Object.keys(wanted).length &&
      Object.entries(wanted).every(([id, key]) => current.get(id) === key);
    if (!same) await this.recordClusters(wanted, book.limits.cluster.rho);
  }

  /** What `correlation` answers. */
  correlationReply(pairs: number): CorrelationReply {
    const correlation = this.computed?.correlation;
    if (correlation === undefined) {
      return { strategies: [], periods: 0, shrinkage: 1, rho: DEFAULT_CLUSTER_RHO, pairs: [], clusters: [], at: 0 };
    }
    return { ...correlation, pairs: correlation.pairs.slice(0, pairs) };
  }
}
