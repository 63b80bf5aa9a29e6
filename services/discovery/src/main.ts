#!/usr/bin/env node
/**
 * Process entry of discovery:
 *   node services/discovery/dist/main.js [--nats URL] [--cluster NAME] [--id MEMBER] [--log-level LEVEL]
 * Configured by env (NATS_URL, STRATREG_CLUSTER, STRATREG_DISCOVERY_ID, …; see README.md).
 */
import { runService } from "@stratreg/process";
import { loadConfig } from "./config.js";
import { Discovery } from "./discovery.js";

void runService({
  command: "stratreg-discovery",
  service: "discovery",
  loadConfig: () => loadConfig(),
  start: (config, logger) => Discovery.start(config, logger),
});
