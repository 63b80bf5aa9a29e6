/**
 * @stratreg/quant: performance metrics, Sharpe-ratio inference and forecasts, as pure
 * functions and online accumulators with no I/O.
 * @module
 */

// The normal distribution
export { normalCdf, normalQuantile } from "./normal.js";
