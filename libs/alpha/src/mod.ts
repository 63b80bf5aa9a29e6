/**
 * @stratreg/alpha: the pattern language of discovery. Typed expressions over aligned bar data
 * whose root is a position in the traded asset; their canonical text and parser; a compiler to
 * straight-line code over typed arrays with a reference interpreter beside it; the backtest of a
 * position series; the genetic operators (random typed trees, crossover, mutations, parsimony,
 * behavioural novelty) and one seeded generation step whose fitness the caller supplies.
 * Pure: no I/O.
 * @module
 */

export {
  type Expr,
  LAGS,
  type NodeType,
  NodeTypes,
  OP_NAMES,
  OPS,
  type Op,
  type OpSpec,
  type ParamKind,
  WINDOWS,
} from "./ast.js";
export { backtest, type Costs, evaluatePositions, type PositionEvaluation } from "./backtest.js";
export { COMPILE_CACHE_SIZE, type CompiledExpr, compile, compileCacheSize, generateSource } from "./compile.js";
export { ExpressionError, type ExpressionErrorCode, ExpressionErrorCodes } from "./errors.js";
export {
  type Evaluation,
  type EvolveOptions,
  evolve,
  type FitnessFunction,
  type Generation,
  type GenerationStats,
  type Scored,
} from "./evolve.js";
export {
  eligibleOps,
  type GrammarOptions,
  MIN_DEPTH,
  rampedHalfAndHalf,
  randomExpr,
  thresholdsFor,
} from "./generate.js";
export { interpret } from "./interpret.js";
export { type AssetBars, assetReturns, checkMarket, FIELDS, type Field, type Market } from "./market.js";
export {
  type Behaviour,
  behaviouralDistance,
  behaviourDistance,
  EMPTY_ARCHIVE,
  type NoveltyArchive,
  noveltyScore,
  prepareBehaviour,
} from "./novelty.js";
export { Rng } from "./rng.js";
export { parse, print } from "./text.js";
export { assetsOf, check, depth, type Located, nodeAt, nodesOf, replaceAt, sameExpr, size, typeOf } from "./tree.js";
export {
  constantMutation,
  crossover,
  DEFAULT_MUTATION_WEIGHTS,
  hoistMutation,
  type MutationWeights,
  mutate,
  pointMutation,
  subtreeMutation,
} from "./variation.js";
