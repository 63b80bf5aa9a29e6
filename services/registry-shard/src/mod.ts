/**
 * @stratreg/registry-shard: the shard as a library, for embedding and tests.
 * @module
 */

export { type LoggedReport, PerformanceBook } from "@stratreg/replica";
export { loadConfig, type ShardConfig } from "./config.js";
export { PartitionRankings } from "./performance/rankings.js";
export { SHARD_VERSION, Shard } from "./shard.js";
/** The cluster's strategy templates (KV `<cluster>-templates`): versions by id, each stored once. */
export { type PutOptions, TemplateStore } from "./templates/store.js";
