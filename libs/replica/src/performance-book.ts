/**
 * The performance of one partition's strategies: per strategy, online
 * accumulators of its returns (overall and per regime) and closed trades, the
 * last report number applied and the numbers skipped. Reports reach it only
 * through the log (so replay rebuilds it exactly), and it travels in snapshots.
 */

import {
  decode,
  decodeStrategy,
  encode,
  LifecycleStates,
  METRICS,
  type Metric,
  type MetricVector,
  type PerformanceReport,
  phaseOfValue,
} from "@stratreg/protocol";
import {
  DEFAULT_CONVENTIONS,
  DEFAULT_MATURITY,
  maturityPhase,
  type PerformanceMetrics,
  type Phase,
  ReturnAccumulator,
  TradeAccumulator,
  TrendAccumulator,
} from "@stratreg/quant";

/** Report numbers remembered as missing, per strategy (the most recent). */
export const MISSING_MAX = 32;

/** What a report applies to its strategy's performance: the report as logged (its id, when there, is the entry's). */
export type LoggedReport = Omit<PerformanceReport, "id"> & { id?: string };

/** The fields of a strategy that place it in ranking scopes. */
export interface ScopeAttributes {
  family: string | null;
  state: string;
  /** The maturity phase of an active strategy, as stored. */
  phase: string | undefined;
  tags: string[];
  venues: string[];
}

/** A metric vector from accumulated returns and trades; NaN and infinities become null. */
export function metricVector(metrics: PerformanceMetrics, trades: TradeAccumulator | undefined): MetricVector {
  return METRICS.map((metric: Metric) => {
    let value: number;
    if (metric === "winRate") value = trades === undefined ? Number.NaN : trades.winRate();
    else if (metric === "profitFactor") value = trades === undefined ? Number.NaN : trades.profitFactor();
    else value = metrics[metric];
    return Number.isFinite(value) ? value : null;
  });
}

/** One strategy's performance. */
export class StrategyPerformance {
  seq = 0;
  missing: number[] = [];
  since = Number.NaN;
  lastAt = Number.NaN;
  returns = new ReturnAccumulator(DEFAULT_CONVENTIONS);
  /** The recent returns' trend, for the maturity phase. */
  trend = new TrendAccumulator();
  trades = new TradeAccumulator();
  readonly regimes = new Map<string, ReturnAccumulator>();
  /** Scope fields, read from the stored strategy; undefined until first needed after a change. */
  attributes: ScopeAttributes | undefined;
  private vectors: { overall: MetricVector; regimes: Record<string, MetricVector> } | undefined;

  /** Applies a report (already checked to be the next one, or past a gap). Returns whether the maturity phase is due for a look. */
  apply(report: LoggedReport): boolean {
    const before = this.returns.count;
    if (report.seq > this.seq + 1) {
      for (let s = Math.max(this.seq + 1, report.seq - MISSING_MAX); s < report.seq; s++) this.missing.push(s);
      if (this.missing.length > MISSING_MAX) this.missing.splice(0, this.missing.length - MISSING_MAX);
    }
    this.seq = report.seq;
    const { returns, times, trades, regime } = report;
    if (returns !== undefined && returns.length > 0) {
      let inRegime: ReturnAccumulator | undefined;
      if (regime !== undefined) {
        inRegime = this.regimes.get(regime);
        if (inRegime === undefined) {
          inRegime = new ReturnAccumulator(DEFAULT_CONVENTIONS);
          this.regimes.set(regime, inRegime);
        }
      }
      for (const r of returns) {
        this.returns.add(r);
        this.trend.add(r);
        inRegime?.add(r);
      }
      if (times !== undefined && times.length > 0) {
        if (Number.isNaN(this.since)) this.since = times[0] as number;
        this.lastAt = times[times.length - 1] as number;
      }
    }
    if (trades !== undefined) for (const pnl of trades) this.trades.add(pnl);
    this.vectors = undefined;
    const every = DEFAULT_MATURITY.everyPeriods;
    return Math.floor(this.returns.count / every) !== Math.floor(before / every);
  }

  /** The maturity phase its live record shows now (`current`: the phase it is in, for hysteresis). */
  phase(current: Phase | undefined): Phase {
    return maturityPhase({
      periods: this.returns.count,
      sharpe: this.returns.metrics().sharpe,
      recentSharpe: this.trend.sharpe(DEFAULT_CONVENTIONS),
      current,
    });
  }

  /** The overall metric vector, and one per regime. */
  metricVectors(): { overall: MetricVector; regimes: Record<string, MetricVector> } {
    if (this.vectors === undefined) {
      const tradesKnown = this.trades.count > 0 ? this.trades : undefined;
      const regimes: Record<string, MetricVector> = {};
      for (const [name, acc] of this.regimes) regimes[name] = metricVector(acc.metrics(), tradesKnown);
      this.vectors = { overall: metricVector(this.returns.metrics(), tradesKnown), regimes };
    }
    return this.vectors;
  }
}

/** Snapshot form of one strategy: `[id, seq, missing, since, lastAt, returns, trades, [[regime, returns]…], trend?]`. */
type SavedPerformance = [
  string,
  number,
  number[],
  number,
  number,
  Uint8Array,
  Uint8Array,
  Array<[string, Uint8Array]>,
  Uint8Array?,
];

function stateBytes(state: Float64Array): Uint8Array {
  return new Uint8Array(state.buffer, state.byteOffset, state.byteLength);
}

function stateOf(bytes: Uint8Array): Float64Array {
  const copy = new Uint8Array(bytes.byteLength);
  copy.set(bytes);
  return new Float64Array(copy.buffer);
}

/** Every strategy of a partition that has reported. */
export class PerformanceBook {
  private readonly strategies = new Map<string, StrategyPerformance>();
  /** Strategies whose performance or scope changed since {@link takeChanged}. */
  private changed = new Set<string>();
  /** Strategies whose maturity phase is due for a look since {@link takeMaturityDue}. */
  private maturityDue = new Set<string>();

  constructor(private readonly stored: (id: string) => Uint8Array | undefined) {}

  get size(): number {
    return this.strategies.size;
  }

  get(id: string): StrategyPerformance | undefined {
    return this.strategies.get(id);
  }

  /** Applies logged reports (a `report` log entry's ids and records). */
  applyReports(ids: string[], reports: LoggedReport[]): void {
    ids.forEach((id, i) => {
      let perf = this.strategies.get(id);
      if (perf === undefined) {
        perf = new StrategyPerformance();
        this.strategies.set(id, perf);
      }
      if (perf.apply(reports[i] as LoggedReport)) this.maturityDue.add(id);
      this.changed.add(id);
    });
  }

  /** A strategy's stored form changed (update, retire): its scope may have. */
  touch(id: string): void {
    const perf = this.strategies.get(id);
    if (perf === undefined) return;
    perf.attributes = undefined;
    this.changed.add(id);
  }

  /** The scope fields of a strategy with performance, read from its stored form when they changed. */
  attributes(id: string, perf: StrategyPerformance): ScopeAttributes {
    if (perf.attributes === undefined) {
      const bytes = this.stored(id);
      const strategy = bytes === undefined ? undefined : decodeStrategy(bytes);
      perf.attributes = {
        family: strategy?.family ?? null,
        state: strategy?.state ?? LifecycleStates.Retired,
        phase: strategy?.lifecycle === undefined ? undefined : phaseOfValue(strategy.lifecycle.value),
        tags: strategy?.tags ?? [],
        venues: strategy?.venues.map((variant) => variant.venue) ?? [],
      };
    }
    return perf.attributes;
  }

  /** The ids whose maturity phase is due for a look since the last call, and forgets them. */
  takeMaturityDue(): Set<string> {
    const due = this.maturityDue;
    // Called after every report entry: most have nothing due, and keep the set they had.
    if (due.size > 0) this.maturityDue = new Set();
    return due;
  }

  /** The ids changed since the last call, and forgets them. */
  takeChanged(): Set<string> {
    const changed = this.changed;
    this.changed = new Set();
    return changed;
  }

  entries(): IterableIterator<[string, StrategyPerformance]> {
    return this.strategies.entries();
  }

  /** The snapshot form of the whole book. */
  save(): Uint8Array {
    const saved: SavedPerformance[] = [];
    for (const [id, perf] of this.strategies) {
      saved.push([
        id,
        perf.seq,
        perf.missing,
        perf.since,
        perf.lastAt,
        stateBytes(perf.returns.toState()),
        stateBytes(perf.trades.toState()),
        [...perf.regimes].map(([name, acc]) => [name, stateBytes(acc.toState())]),
        stateBytes(perf.trend.toState()),
      ]);
    }
    return encode(saved);
  }

  /** Replaces the book with a saved one. */
  restore(bytes: Uint8Array): void {
    this.strategies.clear();
    for (const [id, seq, missing, since, lastAt, returns, trades, regimes, trend] of decode(
      bytes,
    ) as SavedPerformance[]) {
      const perf = new StrategyPerformance();
      perf.seq = seq;
      perf.missing = missing;
      perf.since = since;
      perf.lastAt = lastAt;
      perf.returns = ReturnAccumulator.fromState(stateOf(returns), DEFAULT_CONVENTIONS);
      perf.trades = TradeAccumulator.fromState(stateOf(trades));
      // Snapshots written before the trend was kept start it afresh.
      if (trend !== undefined) perf.trend = new TrendAccumulator(undefined, stateOf(trend));
      for (const [name, state] of regimes) {
        perf.regimes.set(name, ReturnAccumulator.fromState(stateOf(state), DEFAULT_CONVENTIONS));
      }
      this.strategies.set(id, perf);
      this.changed.add(id);
    }
  }
}
