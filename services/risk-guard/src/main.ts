#!/usr/bin/env node
/**
 * Process entry of a risk guard (run two or more: one leads, the others stand by):
 *   node services/risk-guard/dist/main.js [--nats URL] [--cluster NAME] [--id MEMBER] [--log-level LEVEL]
 * Configured by env (NATS_URL, STRATREG_CLUSTER, STRATREG_RISK_GUARD_ID, …; see README.md).
 */
import { runService } from "@stratreg/process";
import { loadConfig } from "./config.js";
import { Guard } from "./guard.js";

void runService({
  command: "stratreg-risk-guard",
  service: "risk-guard",
  loadConfig: () => loadConfig(),
  start: (config, logger) => Guard.start(config, logger),
});
