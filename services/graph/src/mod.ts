/**
 * @stratreg/graph-service: the dependency graph's one writer (docs/adr/017).
 * @module
 */
export { type GraphConfig, loadConfig } from "./config.js";
export { DependencyGraph } from "./graph.js";
export { GraphLeader } from "./leader.js";
export { type GraphEntry, GraphLog } from "./log.js";
export { GraphEvents, GraphStates, graphMachine } from "./machine.js";
export { GRAPH_VERSION, GraphProcess } from "./process.js";
export { GraphState } from "./state.js";
