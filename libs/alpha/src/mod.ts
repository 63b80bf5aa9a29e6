/**
 * @stratreg/alpha: the pattern language of discovery. Typed expressions over aligned bar data
 * whose root is a position in the traded asset; their canonical text and parser; a compiler to
 * straight-line code over typed arrays with a reference interpreter beside it. Pure: no I/O.
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
export { interpret } from "./interpret.js";
export { type AssetBars, assetReturns, checkMarket, FIELDS, type Field, type Market } from "./market.js";
export { Rng } from "./rng.js";
export { parse, print } from "./text.js";
export { assetsOf, check, depth, type Located, nodeAt, nodesOf, replaceAt, sameExpr, size, typeOf } from "./tree.js";
