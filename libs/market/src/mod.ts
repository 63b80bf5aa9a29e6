/**
 * @stratreg/market: market data for discovery, as pure functions over typed arrays with no I/O.
 * Bars and columnar series, alignment on a common time grid, CSV import, a seeded synthetic
 * market with regimes and planted patterns (the truth a miner's findings are checked against),
 * trading rules as data that replay on any aligned series, and the scanner's features: regimes
 * found without supervision (a Gaussian hidden Markov model), anomalies by robust z-score,
 * lead-lag, spreads and co-movement across markets, and returns by hour and weekday.
 * @module
 */

export { type AlignOptions, type AlignPolicy, align, type MarketData } from "./align.js";
export {
  type Anomaly,
  type AnomalyField,
  AnomalyFields,
  type AnomalyOptions,
  anomalies,
  anomalyValues,
  robustZScores,
} from "./anomalies.js";
export { type Bar, type BarColumns, BarSeries, seriesFromBars, seriesKey } from "./bars.js";
export { DAY_MS, dayOfWeek, HOUR_MS, hourOfDay } from "./calendar.js";
export {
  type LeadLag,
  type LeadLagOptions,
  leadLag,
  rollingCorrelation,
  type SpreadOptions,
  spreadZScore,
} from "./cross.js";
export {
  CSV_OPTIONAL_COLUMNS,
  CSV_REQUIRED_COLUMNS,
  type CsvOptions,
  type CsvProblem,
  type ParsedBars,
  parseBarsCsv,
} from "./csv.js";
export {
  generateMarket,
  isTrending,
  isVolatile,
  type MarketOptions,
  REGIME_NAMES,
  type Regime,
  Regimes,
  type SyntheticMarket,
} from "./generator.js";
export {
  baumWelchStep,
  type HmmParameters,
  hmmLogLikelihood,
  hmmPosterior,
  type Observations,
  toObservations,
  viterbi,
} from "./hmm.js";
export {
  type ActiveIn,
  MAX_EDGE,
  type PatternKind,
  PatternKinds,
  type PlantedPattern,
} from "./planted.js";
export { seededNormal, seededUniform } from "./random.js";
export { fitRegimes, type RegimeFit, type RegimeOptions } from "./regimes.js";
export {
  checkRule,
  evaluateRule,
  featureAt,
  type PatternRule,
  type RuleEvaluation,
  type RuleEvaluationOptions,
  type RuleFeature,
  RuleFeatures,
  rulePositions,
  type VenueFees,
} from "./rules.js";
export { type CalendarBucket, type CalendarProfile, calendarProfile } from "./temporal.js";
