/**
 * @stratreg/launcher: runs a whole stratreg cluster on one machine (the `npm start`
 * experience), and the sample strategies its demo and the benchmarks use.
 * @module
 */
export { type DemoReport, runDemo } from "./demo.js";
export { sampleId, sampleStrategies, sampleStrategy } from "./sample.js";
export { ShardSupervisor, shardEntry } from "./shards.js";
