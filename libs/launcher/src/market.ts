/**
 * A synthetic market for the demo and the benchmarks: every strategy has a true
 * Sharpe ratio (drawn around its family's), a volatility, and a sensitivity to
 * the market regime; each simulated day the market is `calm` or `high-vol`
 * (regimes persist for weeks) and every strategy earns one daily return and
 * closes a few trades. Deterministic for a seed, so runs are comparable.
 */
import { seededNormal, seededUniform } from "@stratreg/market";
import type { PerformanceReport } from "@stratreg/protocol";

/** The regimes the synthetic market moves between. */
export const REGIMES = ["calm", "high-vol"] as const;

/** True annual Sharpe around which each family's strategies are drawn, per regime. */
const FAMILY_SHARPE: Record<string, Record<(typeof REGIMES)[number], number>> = {
  momentum: { calm: 0.4, "high-vol": 1.4 },
  "mean-reversion": { calm: 1.2, "high-vol": -0.3 },
  carry: { calm: 0.9, "high-vol": -0.8 },
  "market-making": { calm: 1.5, "high-vol": 0.6 },
};
const DAY_MS = 86_400_000;
const PERIODS_PER_YEAR = 252;

/** Deterministic pseudo-random numbers in [0, 1) (mulberry32), as libs/market draws them. */
export const uniform: (seed: number) => () => number = seededUniform;

/** Standard normal draws from `next` (Box–Muller), as libs/market draws them. */
export const gaussian: (next: () => number) => () => number = seededNormal;

interface Simulated {
  id: string;
  family: string;
  venue: string | undefined;
  /** True annual Sharpe per regime. */
  sharpe: Record<(typeof REGIMES)[number], number>;
  /** Daily volatility in calm markets (doubled in high-vol). */
  vol: number;
  seq: number;
}

/** A market that produces one report per strategy per simulated day. */
export class SyntheticMarket {
  private readonly strategies: Simulated[];
  private readonly normal: () => number;
  private readonly next: () => number;
  private day = 0;
  /** The regime in force. */
  regime: (typeof REGIMES)[number] = "calm";

  constructor(
    strategies: Array<{ id: string; family?: string | null; venues?: Array<{ venue: string }> }>,
    seed = 1,
    private readonly start = Date.UTC(2026, 0, 1),
  ) {
    this.next = uniform(seed);
    this.normal = gaussian(this.next);
    this.strategies = strategies.map((s) => {
      const family = s.family ?? "momentum";
      const base = FAMILY_SHARPE[family] ?? { calm: 0.5, "high-vol": 0.5 };
      const skill = this.normal() * 0.6;
      return {
        id: s.id,
        family,
        venue: s.venues?.[0]?.venue,
        sharpe: { calm: base.calm + skill, "high-vol": base["high-vol"] + skill },
        vol: 0.005 + this.next() * 0.015,
        seq: 0,
      };
    });
  }

  /** How many strategies it simulates. */
  get size(): number {
    return this.strategies.length;
  }

  /**
   * The next simulated day: one report per strategy (`periods` daily returns each,
   * ending on that day), the regime switching now and then.
   */
  nextDay(periods = 1): PerformanceReport[] {
    const reports: PerformanceReport[] = [];
    if (this.next() < 0.03 * periods) this.regime = this.regime === "calm" ? "high-vol" : "calm";
    const regime = this.regime;
    const firstDay = this.day;
    this.day += periods;
    for (const s of this.strategies) {
      const vol = regime === "high-vol" ? s.vol * 2 : s.vol;
      const mean = (s.sharpe[regime] / Math.sqrt(PERIODS_PER_YEAR)) * vol;
      const times: number[] = [];
      const returns: number[] = [];
      const trades: number[] = [];
      for (let d = 0; d < periods; d++) {
        const r = Math.max(-0.99, mean + vol * this.normal());
        times.push(this.start + (firstDay + d + 1) * DAY_MS);
        returns.push(r);
        // A trade closes on about half the days, its PnL following the day's return.
        if (this.next() < 0.5) trades.push(Math.round(r * 1_000_000) / 100);
      }
      s.seq++;
      const report: PerformanceReport = { id: s.id, seq: s.seq, regime, times, returns, trades };
      if (s.venue !== undefined) report.venue = s.venue;
      reports.push(report);
    }
    return reports;
  }
}
