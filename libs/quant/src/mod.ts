/**
 * @stratreg/quant: performance metrics, Sharpe-ratio inference and forecasts, as pure
 * functions and online accumulators with no I/O. Shards, the ranker, the risk guard and
 * discovery all compute their figures here, under the conventions of DESIGN.md
 * (docs/adr/008-quant-conventions.md). Every Sharpe ratio in and out is annualised; every
 * undefined value is NaN, except in evidence summaries (null there: they travel as data).
 * @module
 */

export { ReturnAccumulator } from "./accumulator.js";
export {
  cagr,
  calmar,
  downsideRisk,
  kurtosis,
  maxDrawdown,
  mean,
  metricsOf,
  sharpe,
  skewness,
  sortino,
  volatility,
} from "./batch.js";
export { type Conventions, DEFAULT_CONVENTIONS } from "./conventions.js";
export { correlation } from "./correlation.js";
export {
  type BacktestEvidence,
  checkEvidence,
  type EvidenceOptions,
  type EvidenceProblem,
  type EvidenceSummary,
  summariseEvidence,
} from "./evidence.js";
export { type Forecast, type ForecastOptions, forecastSharpe, type OwnEstimate } from "./forecast.js";
export {
  DEFAULT_GATES,
  evaluateGates,
  type FamilyTrials,
  GATE_DIGITS,
  type GateComparison,
  type GateEvaluation,
  type GateName,
  GateNames,
  type GateResult,
  type GateThresholds,
  passesGate,
} from "./gates.js";
export { expectedMaxSharpe } from "./inference.js";
export {
  DEFAULT_MATURITY,
  type MaturityInput,
  type MaturityOptions,
  maturityPhase,
  type Phase,
  Phases,
  TrendAccumulator,
} from "./maturity.js";
export { normalCdf, normalQuantile } from "./normal.js";
export type { PerformanceMetrics } from "./performance.js";
export {
  type CorrelatedPair,
  correlationClusters,
  covarianceMatrix,
  historicalES,
  historicalVaR,
  mostCorrelatedPairs,
  type PortfolioRisk,
  parametricES,
  parametricVaR,
  portfolioPnl,
  portfolioRisk,
  type ShrunkCorrelation,
  shrunkCorrelation,
} from "./portfolio.js";
export { linearPercentile } from "./quantile.js";
export {
  deflatedSharpe,
  minTrackRecordLength,
  probabilisticSharpe,
  type SharpeEstimate,
  sharpeStandardError,
} from "./sharpe-inference.js";
export { profitFactor, TradeAccumulator, winRate } from "./trades.js";
