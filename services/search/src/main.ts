#!/usr/bin/env node
/**
 * Process entry of a search process:
 *   node services/search/dist/main.js [--nats URL] [--cluster NAME] [--id MEMBER] [--log-level LEVEL]
 * Configured by env (NATS_URL, STRATREG_CLUSTER, STRATREG_SEARCH_ID, …; see README.md).
 */
import { runService } from "@stratreg/process";
import { loadConfig } from "./config.js";
import { SearchProcess } from "./search.js";

void runService({
  command: "stratreg-search",
  service: "search",
  loadConfig: () => loadConfig(),
  start: (config, logger) => SearchProcess.start(config, logger),
});
