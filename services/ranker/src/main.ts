#!/usr/bin/env node
/**
 * Process entry of a ranker:
 *   node services/ranker/dist/main.js [--nats URL] [--cluster NAME] [--id MEMBER] [--log-level LEVEL]
 * Configured by env (NATS_URL, STRATREG_CLUSTER, STRATREG_RANKER_ID, …; see README.md).
 */
import { runService } from "@stratreg/process";
import { loadConfig } from "./config.js";
import { Ranker } from "./ranker.js";

void runService({
  command: "stratreg-ranker",
  service: "ranker",
  loadConfig: () => loadConfig(),
  start: (config, logger) => Ranker.start(config, logger),
});
