#!/usr/bin/env node
/**
 * Process entry of a versions process:
 *   node services/versions/dist/main.js [--nats URL] [--cluster NAME] [--id MEMBER] [--log-level LEVEL]
 * Configured by env (NATS_URL, STRATREG_CLUSTER, STRATREG_VERSIONS_ID, …; see README.md).
 */
import { runService } from "@stratreg/process";
import { loadConfig } from "./config.js";
import { VersionsProcess } from "./versions.js";

void runService({
  command: "stratreg-versions",
  service: "versions",
  loadConfig: () => loadConfig(),
  start: (config, logger) => VersionsProcess.start(config, logger),
});
