#!/usr/bin/env node
/**
 * Process entry of a graph process:
 *   node services/graph/dist/main.js [--nats URL] [--cluster NAME] [--id MEMBER] [--log-level LEVEL]
 * Configured by env (NATS_URL, STRATREG_CLUSTER, STRATREG_GRAPH_ID, …; see README.md).
 */
import { runService } from "@stratreg/process";
import { loadConfig } from "./config.js";
import { GraphProcess } from "./process.js";

void runService({
  command: "stratreg-graph",
  service: "graph",
  loadConfig: () => loadConfig(),
  start: (config, logger) => GraphProcess.start(config, logger),
});
